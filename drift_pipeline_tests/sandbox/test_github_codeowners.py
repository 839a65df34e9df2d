"""``/codeowners/errors`` as GitHub answers it, through PyGithub's requester over HTTP: owners that
are no user or team with access are "Unknown owner" (with GitHub's suggestion), a pattern without
owners is valid, malformed owners are "Invalid owner"."""

from __future__ import annotations

import pytest
from github import GithubException

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client

CODEOWNERS = """# owners
*            @acme/platform
/docs/       @alice docs@acme.example
/src/        @acme/ghosts
/vendor/
/api/        @nobody-here
/web/        @acme/web-team
/ops/        @other/platform
/x/          @acme
/lib/        alice
"""


def build(st: SandboxState) -> None:
    st.add_org("acme")
    st.add_org("other")
    st.add_user("alice")
    st.add_team("acme", "platform", members=["alice"])
    st.add_team("acme", "web-team", repos=["web"])  # no access to svc
    path = st.create_repo("acme", "svc")
    commit_files(path, "main", {".github/CODEOWNERS": CODEOWNERS}, "init", DEV, day(1))
    commit_files(st.create_repo("acme", "bare"), "main", {"README.md": "x\n"}, "init", DEV, day(1))
    st.add_org("solo")  # an org that records no teams: team owners are not resolved
    loose = st.create_repo("solo", "app")
    commit_files(loose, "main", {"CODEOWNERS": "* @solo/anyone\n/a/\n"}, "init", DEV, day(1))


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


def _errors(world, repo: str) -> list[dict]:
    g = github_client(world[0].url)
    _, data = g.requester.requestJsonAndCheck("GET", f"{world[0].url}/repos/{repo}/codeowners/errors")
    return data["errors"]


def test_unknown_owners_and_invalid_owners_with_line_column_and_suggestion(world):
    errors = _errors(world, "acme/svc")
    got = [(e["line"], e["column"], e["kind"], e["source"].split()[-1]) for e in errors]
    assert got == [
        (4, 14, "Unknown owner", "@acme/ghosts"),  # no such team
        (6, 14, "Unknown owner", "@nobody-here"),  # no such user
        (7, 14, "Unknown owner", "@acme/web-team"),  # a team without access to this repo
        (8, 14, "Unknown owner", "@other/platform"),  # another org's team
        (9, 14, "Unknown owner", "@acme"),  # an organization is no owner
        (10, 14, "Invalid owner", "alice"),
    ]
    ghost = errors[0]
    assert ghost["suggestion"] == "Make sure @acme/ghosts exists and has write access to the repository"
    assert ghost["message"].startswith("Unknown owner on line 4: Make sure @acme/ghosts exists")
    assert ghost["message"].endswith("\n\n  /src/        @acme/ghosts\n               ^")
    assert errors[-1]["suggestion"] == "Did you mean @alice?"
    assert all(e["path"] == ".github/CODEOWNERS" for e in errors)
    # line 5 (/vendor/ without owners) is valid on GitHub; line 3's user and email are fine
    assert not [e for e in errors if e["line"] in (2, 3, 5)]


def test_an_org_without_teams_does_not_resolve_owners(world):
    assert _errors(world, "solo/app") == []


def test_no_codeowners_is_404(world):
    g = github_client(world[0].url)
    with pytest.raises(GithubException) as exc:
        g.requester.requestJsonAndCheck("GET", f"{world[0].url}/repos/acme/bare/codeowners/errors")
    assert exc.value.status == 404 and exc.value.data["message"] == "Not Found"
