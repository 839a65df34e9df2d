"""Commit authors and committers: GitHub users by email (simple-user), ``null`` for nobody's email."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import Author, commit_files
from drift_pipeline_tests.sandbox.conftest import day, github_client

TOM = Author("Tom Becker", "Tom.Becker@acme.example")  # registered as tom.becker@acme.example
STRANGER = Author("Sam Stranger", "sam@elsewhere.example")  # nobody's email
NOREPLY = Author("Mei Chen", "meichen@users.noreply.github.com")
SIMPLE_USER_KEYS = {
    "login",
    "id",
    "node_id",
    "avatar_url",
    "gravatar_id",
    "url",
    "html_url",
    "followers_url",
    "following_url",
    "gists_url",
    "starred_url",
    "subscriptions_url",
    "organizations_url",
    "repos_url",
    "events_url",
    "received_events_url",
    "type",
    "site_admin",
}


@pytest.fixture(scope="module")
def world(start_github):
    shas: dict[str, str] = {}

    def build(st: SandboxState) -> None:
        st.add_org("acme")
        st.add_user("tbecker", name="Tom Becker", emails=["tom.becker@acme.example"])
        st.add_user("meichen")
        st.add_user("sam")  # a login equal to the stranger's local part: still not his email
        repo = st.create_repo("acme", "svc", created_at=datetime(2024, 1, 1))
        shas["tom"] = commit_files(repo, "main", {"a.txt": "1\n"}, "by tom", TOM, day(1))
        shas["stranger"] = commit_files(repo, "main", {"a.txt": "2\n"}, "by a stranger", STRANGER, day(2))
        shas["noreply"] = commit_files(repo, "main", {"a.txt": "3\n"}, "by mei", NOREPLY, day(3))

    gh, state = start_github(build)
    return gh, state, shas


@pytest.fixture(scope="module")
def repo(world):
    return github_client(world[0].url).get_repo("acme/svc")


def test_list_commits_names_the_user_of_each_email_and_none_for_unknown_emails(world, repo) -> None:
    _, _, shas = world
    by_sha = {c.sha: c for c in repo.get_commits()}
    assert by_sha[shas["tom"]].author.login == "tbecker"
    assert by_sha[shas["tom"]].committer.login == "tbecker"
    assert by_sha[shas["noreply"]].author.login == "meichen"
    assert by_sha[shas["stranger"]].author is None and by_sha[shas["stranger"]].committer is None
    assert by_sha[shas["stranger"]].commit.author.name == "Sam Stranger"


def test_get_commit_compare_and_branch_render_the_same_users(world, repo) -> None:
    gh, state, shas = world
    assert repo.get_commit(shas["tom"]).author.login == "tbecker"
    assert repo.get_commit(shas["stranger"]).author is None
    cmp = repo.compare(shas["tom"], "main")
    assert [c.author.login if c.author else None for c in cmp.commits] == [None, "meichen"]
    assert cmp.base_commit.author.login == "tbecker"
    assert repo.get_branch("main").commit.author.login == "meichen"


def test_commit_user_has_githubs_simple_user_shape(world) -> None:
    gh, state, shas = world
    body = requests.get(
        f"{gh.url}/repos/acme/svc/commits/{shas['tom']}", headers={"Authorization": "token sandbox-token"}, timeout=5
    ).json()
    author = body["author"]
    assert set(author) >= SIMPLE_USER_KEYS
    assert author["login"] == "tbecker" and author["type"] == "User" and author["site_admin"] is False
    assert author["id"] == state.data["users"]["tbecker"]["id"]
    assert author["url"] == f"{gh.url}/users/tbecker" and author["html_url"] == f"{gh.url}/tbecker"


def test_author_filter_takes_a_login_or_an_email(world, repo) -> None:
    _, _, shas = world
    assert [c.sha for c in repo.get_commits(author="tbecker")] == [shas["tom"]]
    assert [c.sha for c in repo.get_commits(author="sam@elsewhere.example")] == [shas["stranger"]]
    assert list(repo.get_commits(author="sam")) == []


@pytest.mark.parametrize(
    ("email", "login"),
    [
        ("tom.becker@acme.example", "tbecker"),
        ("TOM.BECKER@ACME.EXAMPLE", "tbecker"),
        ("meichen@users.noreply.github.com", "meichen"),
        ("tbecker@acme.example", None),  # the login is not an email
        ("1+meichen@users.noreply.github.com", None),  # a no-reply id that is not the user's
        ("nobody@users.noreply.github.com", None),
        ("", None),
    ],
)
def test_user_for_email(world, email: str, login: str | None) -> None:
    assert world[1].user_for_email(email) == login


def test_user_for_email_accepts_the_noreply_address_with_the_users_id(world) -> None:
    state = world[1]
    ident = state.data["users"]["meichen"]["id"]
    assert state.user_for_email(f"{ident}+meichen@users.noreply.github.com") == "meichen"
