"""Pull requests on the GitHub sandbox through PyGithub over HTTP: listings, one PR, reviews,
files, the PRs of a commit, and pull requests inside issue listings and search."""

from __future__ import annotations

import pytest
import requests
from github import GithubException

from drift_pipeline.sandbox.github import pulls
from drift_pipeline.sandbox.github.openapi import load_subset
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import Author, commit_files, rev_parse
from drift_pipeline_tests.sandbox.conftest import day, github_client

ALICE = Author("Alice A", "alice@acme.example")
BOB = Author("Bob B", "bob@acme.example")


def build(st: SandboxState) -> None:
    st.add_org("acme")
    st.add_user("alice", emails=[ALICE.email])
    st.add_user("bob", emails=[BOB.email])
    path = st.create_repo("acme", "svc")
    commit_files(path, "main", {"README.md": "x\n", "src/a.py": "a = 1\n"}, "init", ALICE, day(1))
    pr1 = pulls.open_pull(
        st,
        "acme",
        "svc",
        head="feat/ABC-1-login",
        title="feat: login",
        user="alice",
        author=ALICE,
        when=day(2),
        files={"src/login.py": "def login():\n    return True\n", "src/a.py": None},
        body="Closes #9",
    )
    pulls.add_review(st, "acme", "svc", pr1["number"], user="bob", review_state="CHANGES_REQUESTED", when=day(2, 13))
    pulls.add_review(st, "acme", "svc", pr1["number"], user="bob", review_state="APPROVED", when=day(2, 14))
    pulls.merge_pull(st, "acme", "svc", pr1["number"], by="alice", committer=ALICE, when=day(2, 15))
    pr2 = pulls.open_pull(
        st,
        "acme",
        "svc",
        head="fix/ABC-2",
        title="fix: readme",
        user="bob",
        author=BOB,
        when=day(3),
        files={"README.md": "y\n"},
    )
    pulls.add_review(st, "acme", "svc", pr2["number"], user="alice", review_state="APPROVED", when=day(3, 13))
    pulls.merge_pull(st, "acme", "svc", pr2["number"], by="bob", committer=BOB, when=day(3, 14), method="squash")
    commit_files(path, "main", {"hotfix.txt": "now\n"}, "direct push", ALICE, day(4))
    pulls.open_pull(
        st,
        "acme",
        "svc",
        head="feat/open",
        title="wip",
        user="bob",
        author=BOB,
        when=day(5),
        files={"wip.txt": "1\n2\n3\n"},
    )
    pr4 = pulls.open_pull(
        st,
        "acme",
        "svc",
        head="feat/dropped",
        title="dropped",
        user="bob",
        author=BOB,
        when=day(6),
        files={"x.txt": "x\n"},
    )
    pulls.close_pull(st, "acme", "svc", pr4["number"], when=day(6, 13))
    st.create_issue("acme", "svc", title="a bug", user="alice", when=day(7))


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


@pytest.fixture(scope="module")
def repo(world):
    return github_client(world[0].url).get_repo("acme/svc")


@pytest.fixture(scope="module")
def schemas():
    return load_subset()["components"]["schemas"]  # the vendored part of GitHub's description


def _raw(world, path: str) -> requests.Response:
    return requests.get(f"{world[0].url}{path}", headers={"Authorization": "token sandbox-token"}, timeout=10)


def test_list_pulls_filters_by_state_base_head_and_sorts(repo):
    assert [p.number for p in repo.get_pulls()] == [3]
    assert [p.number for p in repo.get_pulls(state="closed", base="main")] == [4, 2, 1]
    assert [p.number for p in repo.get_pulls(state="all", sort="created", direction="asc")] == [1, 2, 3, 4]
    assert [p.number for p in repo.get_pulls(state="all", head="acme:feat/ABC-1-login")] == [1]
    assert [p.number for p in repo.get_pulls(state="all", head="other:feat/ABC-1-login")] == []
    assert list(repo.get_pulls(state="closed", base="develop")) == []
    first = repo.get_pulls(state="all")[0]
    assert first.head.ref == "feat/dropped" and first.base.ref == "main" and first.head.repo.full_name == "acme/svc"


def test_list_pulls_pages_with_link_header(world):
    r = _raw(world, "/repos/acme/svc/pulls?state=all&per_page=3")
    assert r.status_code == 200 and len(r.json()) == 3
    assert 'rel="next"' in r.headers["Link"] and "page=2" in r.headers["Link"]
    r2 = _raw(world, "/repos/acme/svc/pulls?state=all&per_page=3&page=2")
    assert [p["number"] for p in r2.json()] == [1]
    assert _raw(world, "/repos/acme/svc/pulls?state=bogus").status_code == 422


def test_get_merged_pull_records_merge_commit_size_and_merger(world, repo):
    _, st = world
    pr = repo.get_pull(1)
    assert pr.merged and pr.state == "closed" and pr.merged_by.login == "alice"
    assert pr.merged_at is not None and pr.body == "Closes #9" and pr.user.login == "alice"
    merge = repo.get_commit(pr.merge_commit_sha)
    assert len(merge.parents) == 2 and merge.parents[1].sha == pr.head.sha
    assert (pr.additions, pr.deletions, pr.changed_files, pr.commits) == (2, 1, 2, 1)
    squash = repo.get_pull(2)
    assert len(repo.get_commit(squash.merge_commit_sha).parents) == 1
    main_tip = rev_parse(st.repo_git_dir("acme", "svc"), "refs/heads/main")
    assert repo.get_commit("main").parents[0].sha == squash.merge_commit_sha and main_tip
    dropped = repo.get_pull(4)
    assert not dropped.merged and dropped.merged_by is None and dropped.merge_commit_sha is None


def test_reviews_and_files(repo):
    reviews = list(repo.get_pull(1).get_reviews())
    assert [(r.user.login, r.state) for r in reviews] == [("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED")]
    assert reviews[1].commit_id == repo.get_pull(1).head.sha and reviews[1].submitted_at.day == 2
    files = {f.filename: f for f in repo.get_pull(1).get_files()}
    assert {n: (f.status, f.additions, f.deletions, f.changes) for n, f in files.items()} == {
        "src/a.py": ("removed", 0, 1, 1),
        "src/login.py": ("added", 2, 0, 2),
    }


def test_issue_number_that_is_not_a_pull_is_404(world, repo):
    with pytest.raises(GithubException) as err:
        repo.get_pull(5)
    assert err.value.status == 404 and err.value.data["message"] == "Not Found"
    assert _raw(world, "/repos/acme/svc/pulls/x").status_code == 404


def test_commit_pulls_give_the_pr_that_brought_a_commit(repo):
    pr1 = repo.get_pull(1)
    assert [p.number for p in repo.get_commit(pr1.merge_commit_sha).get_pulls()] == [1]
    assert [p.number for p in repo.get_commit(pr1.head.sha).get_pulls()] == [1]
    assert [p.number for p in repo.get_commit(repo.get_pull(2).merge_commit_sha).get_pulls()] == [2]
    assert list(repo.get_commit("main").get_pulls()) == []  # the direct push
    assert [p.number for p in repo.get_commit(repo.get_pull(3).head.sha).get_pulls()] == [3]  # open, off main


def test_issue_listings_and_search_include_pulls(world, repo):
    items = {i.number: i for i in repo.get_issues(state="all")}
    assert set(items) == {1, 2, 3, 4, 5}
    assert items[5].pull_request is None and items[1].pull_request is not None
    assert items[1].pull_request.html_url.endswith("/acme/svc/pull/1")
    raw = _raw(world, "/repos/acme/svc/issues/1").json()
    assert raw["pull_request"]["merged_at"] and raw["pull_request"]["url"].endswith("/repos/acme/svc/pulls/1")
    g = github_client(world[0].url)
    assert sorted(i.number for i in g.search_issues("repo:acme/svc is:pr")) == [1, 2, 3, 4]
    assert [i.number for i in g.search_issues("repo:acme/svc is:issue")] == [5]
    assert sorted(i.number for i in g.search_issues("repo:acme/svc is:pr is:merged")) == [1, 2]


def _missing(schema: dict, body: dict) -> list[str]:
    return [k for k in schema["required"] if k not in body]


def test_shapes_have_the_openapi_required_keys_and_nulls(world, schemas):
    listing = _raw(world, "/repos/acme/svc/pulls?state=all").json()
    assert all(not _missing(schemas["pull-request-simple"], p) for p in listing)
    one = _raw(world, "/repos/acme/svc/pulls/4").json()
    assert not _missing(schemas["pull-request"], one)
    assert one["merged_at"] is None and one["merge_commit_sha"] is None and one["merged_by"] is None
    assert one["auto_merge"] is None and one["milestone"] is None
    for side in ("head", "base"):
        assert not _missing(schemas["pull-request-simple"]["properties"][side], one[side])
    reviews = _raw(world, "/repos/acme/svc/pulls/1/reviews").json()
    assert reviews and all(not _missing(schemas["pull-request-review"], r) for r in reviews)
    files = _raw(world, "/repos/acme/svc/pulls/1/files").json()
    assert files and all(not _missing(schemas["diff-entry"], f) for f in files)
    issue = _raw(world, "/repos/acme/svc/issues/1").json()
    assert not _missing(schemas["issue"]["properties"]["pull_request"], issue["pull_request"])


def test_shas_are_deterministic(tmp_path):
    a, b = SandboxState.open(tmp_path / "a"), SandboxState.open(tmp_path / "b")
    build(a)
    build(b)
    assert [p["pull"]["merge_commit_sha"] for p in pulls.pulls_of(a, "acme", "svc")] == [
        p["pull"]["merge_commit_sha"] for p in pulls.pulls_of(b, "acme", "svc")
    ]
