"""``IssueClient.ensure_label`` over the sandbox: a 422 is "already there" only when GitHub's
``errors[].code`` says ``already_exists``; any other refusal reaches the caller."""

from __future__ import annotations

import pytest
import requests
from github import Github, GithubException

from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sandbox.github.server import GitHubSandbox

AUTH = {"Authorization": "token sandbox-token"}


def test_a_label_refused_for_its_colour_is_an_error_not_a_label_that_exists(sandbox: GitHubSandbox, gh: Github):
    client = IssueClient(gh)
    with pytest.raises(GithubException) as exc:
        client.ensure_label("acme/svc", "drift:code", "not-a-colour", "drift findings")
    assert exc.value.status == 422
    assert [e["code"] for e in exc.value.data["errors"]] == ["invalid"]
    missing = requests.get(f"{sandbox.url}/repos/acme/svc/labels/drift:code", headers=AUTH, timeout=10)
    assert missing.status_code == 404  # nothing was created: the refusal was real


def test_a_label_created_meanwhile_422_already_exists_is_success(sandbox: GitHubSandbox, gh: Github):
    made = requests.post(
        f"{sandbox.url}/repos/acme/svc/labels", json={"name": "drift:code", "color": "d73a4a"}, headers=AUTH, timeout=10
    )
    assert made.status_code == 201
    # the GET sees no label (as if another run created it just after), the POST answers already_exists
    sandbox.set_faults(fail_path={"pattern": "/labels/drift:code$", "status": 404})
    IssueClient(gh).ensure_label("acme/svc", "drift:code", "d73a4a", "drift findings")
    assert sandbox.request_counts()["by_status"].get("422") == 1
