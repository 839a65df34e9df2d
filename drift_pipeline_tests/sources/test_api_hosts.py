"""The token is only ever sent to the API's origin, under ``python -O`` too, and every request has
a whole-request deadline.

PyGithub's only check that a ``next`` link stays on the API host is an ``assert``: under
``python -O`` it is gone. Here a hostile API (127.0.0.1) links its next page to a second server
(``localhost``, another port); the client runs in a real ``python -O`` subprocess and the second
server must never see a request with an Authorization header.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.http_bounds import ENV_REQUEST_DEADLINE, DeadlineExceeded
from drift_pipeline_tests.sources.hostile import Answer, Seen, hostile_api

REPO = {"name": "ok", "owner": {"login": "acme"}, "default_branch": "main"}
TOKEN = "ghp_" + "B" * 36

CLIENT = r"""
import json, sys
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sources.github import GitHubSource
api, other, how = sys.argv[1], sys.argv[2], sys.argv[3]
src = GitHubSource(api, sys.argv[4])
try:
    if how == "source":
        src.list_repos("acme")
    elif how == "issues":
        list(IssueClient(src.github).paginate("/repos/acme/r/issues", {"state": "all"}))
    else:  # PyGithub itself asked for a URL on another host
        src.github.requester.requestJsonAndCheck("GET", other + "/api/steal")
    print(json.dumps({"error": None}))
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "status": getattr(exc, "status", None)}))
"""


@pytest.mark.parametrize("how", ["source", "issues", "requester"])
def test_a_next_link_to_another_host_never_gets_the_token_under_python_O(how):
    with hostile_api(lambda r, n: Answer(200, {"stolen": True}), host="localhost") as other:

        def answer(request: Seen, count: int) -> Answer:
            return Answer(200, [REPO], {"Link": f'<{other.url}/orgs/acme/repos?page=2>; rel="next"'})

        with hostile_api(answer) as api:
            proc = subprocess.run(
                [sys.executable, "-O", "-c", CLIENT, api.url, other.url, how, TOKEN],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] == "OffHost"
    assert not any("authorization" in s.headers for s in other.seen)
    assert other.seen == []  # not even asked without the token
    assert TOKEN not in proc.stdout + proc.stderr


def test_a_trickling_answer_ends_at_the_whole_request_deadline(monkeypatch):
    monkeypatch.setenv(ENV_REQUEST_DEADLINE, "1")
    body = b"[" + b" " * 58 + b"]"  # valid JSON, one byte every 0.25 s: 15 s in all

    with hostile_api(lambda r, n: Answer(200, body, trickle=0.25)) as api:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as err:
            GitHubSource(api.url, "t", retries=3, backoff=0).list_repos("acme")
        elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed  # the per-read timeout (30 s) never fires on a trickle; the deadline does
    assert api.hits() == 1  # the deadline covers retries too: nothing sent after it
    assert err.value.status is None and ENV_REQUEST_DEADLINE in str(err.value)
