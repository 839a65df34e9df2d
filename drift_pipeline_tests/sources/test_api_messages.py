"""A server's message is capped and made one printable line wherever it is printed, logged or
stored: a 403 with a 5 MB message, through the real source and issue client."""

from __future__ import annotations

import pytest
from github import GithubException

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.redaction import MESSAGE_CAP, cap_message
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline_tests.sources.hostile import Answer, hostile_api

HUGE = "denied\n\x1b[31m" + "x" * 5_000_000


def test_a_5_mb_message_is_one_short_line_in_the_source_error():
    with hostile_api(lambda r, n: Answer(403, {"message": HUGE})) as api:
        with pytest.raises(SourceError) as err:
            GitHubSource(api.url, "t").get_repo("acme", "r")
    assert err.value.status == 403
    for text in (str(err.value), err.value.api_message or ""):
        assert len(text) < MESSAGE_CAP + 200 and "\n" not in text and "\x1b" not in text
    assert (err.value.api_message or "").startswith("denied")


def test_a_5_mb_message_is_capped_in_the_issue_client_error():
    # 26 MB in all: under DRIFT_GITHUB_MAX_BODY_BYTES (a larger body is refused before parsing, test_api_bodies)
    errors = [{"code": "custom", "message": "y" * 100_000, "blob": ["z" * 100_000]}] * 100
    with hostile_api(lambda r, n: Answer(422, {"message": HUGE, "errors": errors, "extra": "w" * 10**6})) as api:
        client = IssueClient(GitHubSource(api.url, "t").github)
        with pytest.raises(GithubException) as err:
            client.call("GET", "/repos/acme/r/labels/x")
    assert err.value.status == 422 and len(str(err.value)) < 20 * (MESSAGE_CAP + 200)
    assert err.value.data["errors"][0]["code"] == "custom"  # the fields decisions are taken on stay


def test_cap_message_says_how_much_was_cut():
    assert cap_message("a\r\nb") == "a b"
    assert cap_message("x" * 1000, 10) == "x" * 10 + " ... [990 more characters]"
