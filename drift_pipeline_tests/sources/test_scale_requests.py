"""Request counts the scale benchmark relies on (issue #13), pinned over real HTTP against the sandbox.

Counts, not times: the head of a day comes from the branch answer the process scan also needs;
the persistent cache keeps one tree per repo (the last one read), not every tree ever read; a
listing bounded by dates keeps no ETag entry; the token's admin right comes from the org listing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.github_process import ProcessReader
from drift_pipeline.sources.gitutil import Author, commit_files

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
ME = Author("Dev", "dev@example.com")
BRANCH = "GET /repos/{owner}/{repo}/branches/{branch}"
COMMITS = "GET /repos/{owner}/{repo}/commits"
TREE = "GET /repos/{owner}/{repo}/git/trees/{sha}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = SandboxState.open(tmp_path_factory.mktemp("gh"))
    state.add_org("acme")
    for name in ("a", "b"):
        repo = state.create_repo("acme", name)
        commit_files(repo, "main", {"check.toml": f"# {name}\n"}, "one", ME, T0)
        commit_files(repo, "main", {"check.toml": f"# {name} 2\n"}, "two", ME, T0 + timedelta(days=1))
    state.save()
    with GitHubSandbox(state.root) as gh:
        yield gh


@pytest.fixture
def gh(server):
    server.clear_faults()
    server.reset_counts()
    return server


def source(gh, cache=None) -> GitHubSource:
    return GitHubSource(gh.url, "sandbox-token", backoff=0, cache=cache)


def test_a_head_no_older_than_the_tip_costs_one_branch_read_shared_with_protected(gh):
    src = source(gh)
    repo = src.get_repo("acme", "a")
    head = src.head_at(repo, T0 + timedelta(days=2))
    assert head is not None and head.message == "two"
    assert ProcessReader(src).branch_protected("acme/a", "main") is False
    routes = gh.request_counts()["by_route"]
    assert routes.get(BRANCH) == 1 and COMMITS not in routes


def test_a_head_older_than_the_tip_is_asked_of_the_commits(gh):
    src = source(gh)
    head = src.head_at(src.get_repo("acme", "a"), T0 + timedelta(hours=1))
    assert head is not None and head.message == "one"
    routes = gh.request_counts()["by_route"]
    assert routes.get(BRANCH) == 1 and routes.get(COMMITS) == 1


def test_the_cache_keeps_a_repos_recent_trees_in_one_entry_and_no_dated_listing(gh):
    cache: dict[str, str] = {}
    src = source(gh, cache)
    repo = src.get_repo("acme", "b")
    old = src.head_at(repo, T0 + timedelta(hours=1))
    new = src.head_at(repo, T0 + timedelta(days=2))
    assert old is not None and new is not None
    src.tree("acme/b", old.sha)
    src.tree("acme/b", new.sha)
    src.tree("acme/b", old.sha)  # read again in the same run: no request
    src.path_commits("acme/b", new.sha, "check.toml", None, T0 + timedelta(days=2))
    assert gh.request_counts()["by_route"][TREE] == 2
    assert [k for k in cache if k.startswith("tree:")] == ["tree:acme/b"]
    assert not [k for k in cache if "until=" in k]

    again = source(gh, cache)  # another asset of the run, or the next day: both trees from the cache
    gh.reset_counts()
    assert again.tree("acme/b", new.sha) == src.tree("acme/b", new.sha)
    assert again.tree("acme/b", old.sha) == src.tree("acme/b", old.sha)
    assert gh.request_counts()["total"] == 0
    assert [t["sha"] for t in json.loads(cache["tree:acme/b"])["trees"]] == [old.sha, new.sha]


def test_admin_rights_come_from_one_org_listing(gh):
    src = source(gh)
    reader = ProcessReader(src)
    assert reader.admin("acme/a") is True and reader.admin("acme/b") is True
    routes = gh.request_counts()["by_route"]
    assert routes == {"GET /orgs/{org}/repos": 1}


def test_a_repos_etag_answers_share_one_cache_entry_and_come_back_as_304s(gh):
    cache: dict[str, str] = {}
    reader = ProcessReader(source(gh, cache))
    first = (reader.branch_protected("acme/a", "main"), reader.branch_rules("acme/a", "main"))
    assert [k for k in cache if k.startswith("etag")] == [f"etags:{gh.url}/repos/acme/a"]

    gh.reset_counts()
    again = ProcessReader(source(gh, cache))  # the next day
    assert (again.branch_protected("acme/a", "main"), again.branch_rules("acme/a", "main")) == first
    counts = gh.request_counts()
    assert counts["total"] == counts["not_modified"] == 2
