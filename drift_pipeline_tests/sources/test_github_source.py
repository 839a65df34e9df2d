"""GitHubSource over real HTTP against the sandbox: pagination, caches, retries, limits."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from drift_pipeline.errors import NotFound, SourceError
from drift_pipeline.gitutil import Author, commit_files
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.github import GitHubSource

WHEN = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
ME = Author("Dev", "dev@example.com")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = SandboxState.open(tmp_path_factory.mktemp("gh"))
    state.add_org("acme")
    for i in range(5):
        repo = state.create_repo("acme", f"r{i}")
        commit_files(repo, "main", {"check.toml": f"# {i}\n", "a/b.txt": "x\n"}, "init", ME, WHEN)
    state.create_repo("acme", "empty")
    solo = state.create_repo("someone", "tool")
    commit_files(solo, "main", {"README.md": "hi\n"}, "init", ME, WHEN)
    state.save()
    with GitHubSandbox(state.root) as gh:
        yield gh


@pytest.fixture
def gh(server):
    server.clear_faults()
    server.reset_counts()
    server.reset_rate_limits()
    return server


def source(gh, **kw) -> GitHubSource:
    return GitHubSource(gh.url, "sandbox-token", backoff=0, **kw)


def test_repos_are_listed_across_pages(gh):
    src = source(gh, per_page=2)
    names = sorted(r.name for r in src.list_repos("acme"))
    assert names == ["empty", "r0", "r1", "r2", "r3", "r4"]
    assert src.requests["repos"] == 3 == gh.request_counts()["by_route"]["GET /orgs/{org}/repos"]


def test_a_user_is_listed_when_the_name_is_not_an_org(gh):
    assert [r.full_name for r in source(gh).list_repos("someone")] == ["someone/tool"]


def test_an_unchanged_answer_is_a_304_served_from_the_cache(gh):
    cache: dict[str, str] = {}
    first = source(gh, cache=cache).list_repos("acme")
    again = source(gh, cache=cache)
    assert again.list_repos("acme") == first
    assert again.not_modified == 1 and gh.request_counts()["not_modified"] == 1


def test_trees_and_blobs_by_sha_are_read_once(gh):
    cache: dict[str, str] = {}
    src = source(gh, cache=cache)
    repo = src.get_repo("acme", "r1")
    head = src.head_at(repo, WHEN)
    tree = src.tree(repo.full_name, head.sha)
    assert {e.path for e in tree} == {"check.toml", "a/b.txt"}
    blob = next(e for e in tree if e.path == "check.toml")
    assert src.blob_text(repo.full_name, blob.sha) == "# 1\n"
    before = gh.request_counts()["total"]
    other = source(gh, cache=cache)
    assert other.tree(repo.full_name, head.sha) == tree
    assert other.blob_text(repo.full_name, blob.sha) == "# 1\n"
    assert gh.request_counts()["total"] == before and sum(other.requests.values()) == 0


def test_head_before_the_first_commit_and_of_an_empty_repo_is_none(gh):
    src = source(gh)
    assert src.head_at(src.get_repo("acme", "r0"), datetime(2026, 5, 1, tzinfo=timezone.utc)) is None
    assert src.head_at(src.get_repo("acme", "empty"), WHEN) is None


def test_a_missing_repo_is_not_found(gh):
    with pytest.raises(NotFound, match="404"):
        source(gh).get_repo("acme", "nope")


def test_a_rate_limited_answer_is_waited_out(gh):
    gh.set_faults(rate_limit=1)
    assert len(source(gh, max_rate_limit_wait=10).list_repos("acme")) == 6
    assert gh.request_counts()["faults"] == 1


def test_a_rate_limit_longer_than_allowed_fails_with_a_clear_error(gh):
    gh.set_faults(rate_limit=5)
    with pytest.raises(SourceError, match="(?i)rate limit"):
        source(gh, max_rate_limit_wait=0.1).list_repos("acme")


def test_a_secondary_limit_with_retry_after_is_retried(gh):
    gh.set_faults(secondary_rate_limit={"count": 1, "status": 429})
    assert len(source(gh).list_repos("acme")) == 6


def test_bad_credentials_never_echo_the_token(gh):
    token = "ghp_" + "A" * 36
    with pytest.raises(SourceError) as err:
        GitHubSource(gh.url, token, backoff=0).list_repos("acme")
    assert "401" in str(err.value) and token not in str(err.value)
