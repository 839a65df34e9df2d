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


# -- a cold scan of the newest day, every asset: every request class pinned (issue #21) ------------
BRANCH_RULES = "GET /repos/{owner}/{repo}/rules/branches/{branch}"
PROTECTION = "GET /repos/{owner}/{repo}/branches/{branch}/protection"
RULESETS = "GET /repos/{owner}/{repo}/rulesets"
RULESET = "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}"
CODEOWNERS_ERRORS = "GET /repos/{owner}/{repo}/codeowners/errors"


def _cold_newest_day(tmp_path):
    """Every asset of the real yesterday over a fresh store, one group after the other, the requests of each."""
    import dagster as dg

    from drift_pipeline.definitions import ASSETS
    from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource, ScanScopeResource
    from drift_pipeline.sandbox.seed import seed_org

    day = datetime.now(UTC).date() - timedelta(days=1)
    report = seed_org(tmp_path / "gh", repos=8, days=2, end_date=day)
    instance, by_group, meta = dg.DagsterInstance.ephemeral(), {}, {}
    with GitHubSandbox(tmp_path / "gh") as gh:
        resources = {
            "github": GitHubResource(
                api_url=gh.url, token="sandbox-token", backoff_seconds=0, seconds_between_writes=0
            ),
            "scope": ScanScopeResource(orgs="acme"),
            "store": DriftStoreResource(database=str(tmp_path / "drift.duckdb")),
            "aws": AwsResource(accounts={}),
        }
        for group in ("inventory", "code", "process", "infra", "findings"):
            gh.reset_counts()
            result = dg.materialize(
                ASSETS,
                partition_key=day.isoformat(),
                selection=dg.AssetSelection.groups(group),
                resources=resources,
                instance=instance,
            )
            assert result.success
            by_group[group] = gh.request_counts()["by_route"]
            for event in result.get_asset_materialization_events():
                mat = event.event_specific_data.materialization
                if mat.asset_key == dg.AssetKey("process_settings"):
                    meta = {k: v.value for k, v in mat.metadata.items()}
    from drift_pipeline.store import DriftStore

    with DriftStore(tmp_path / "drift.duckdb") as store:
        skipped = store.rows("SELECT repo, setting, readable, reason FROM process_settings WHERE state = 'skipped'")
        unreadable = store.rows("SELECT count(*) AS n FROM process_settings WHERE readable = false")[0]["n"]
    assert meta["settings_skipped"] == len(skipped) > 0  # the UI counts the reads left out apart
    assert meta["settings_not_readable"] == unreadable  # ... from the settings the token could not read
    return sum(r.in_scope for r in report.repos), by_group, skipped


ACTIVITY = {  # the day's commits and the pull requests that merged them: as many as the day holds
    "GET /repos/{owner}/{repo}/commits",
    "GET /repos/{owner}/{repo}/commits/{sha}/pulls",
    "GET /repos/{owner}/{repo}/pulls/{number}",
    "GET /repos/{owner}/{repo}/pulls/{number}/files",
    "GET /repos/{owner}/{repo}/pulls/{number}/reviews",
}


def test_a_cold_newest_day_reads_only_what_each_repos_expectations_need(tmp_path):
    """Pinned per request class (the old code made a second branch read per repo in the process scan,
    a tag ruleset listing per repo and read the full ruleset of every branch rule); every read left
    out is a process_settings row of state 'skipped' with its reason, never a pass."""
    in_scope, by_group, skipped = _cold_newest_day(tmp_path)
    assert in_scope == 7
    tags = [r for r in skipped if r["setting"] == "tag_rulesets"]
    assert len(tags) == 5 and all(r["readable"] is None and "no tag protection" in r["reason"] for r in tags)
    assert by_group["inventory"] == {  # 11 repos listed (registries and out-of-scope ones included)
        "GET /orgs/{org}/repos": 1,
        "GET /repos/{owner}/{repo}": 1,
        BRANCH: 11,
        TREE: 11,
        "GET /repos/{owner}/{repo}/git/blobs/{sha}": 27,
    }
    assert by_group["code"] == {  # the trees come from the cache; the tracked files' blobs are new
        "GET /repos/{owner}/{repo}": 1,
        BRANCH: 1,
        TREE: 1,
        "GET /repos/{owner}/{repo}/git/blobs/{sha}": 22,
    }
    settings = {k: v for k, v in by_group["process"].items() if k not in ACTIVITY}
    assert settings == {
        "GET /orgs/{org}/repos": 1,  # the token's admin right on every repo
        "GET /orgs/{org}/rulesets/{ruleset_id}": 1,  # the org ruleset, once per run
        "GET /repos/{owner}/{repo}": 1,
        BRANCH: 1,  # the config repo's: every in-scope repo's comes from the inventory
        PROTECTION: 7,
        BRANCH_RULES: 7,
        RULESETS: 2,  # only the two repos that expect tag protection
        RULESET: 4,  # only where the branch rules alone do not settle the expected settings
        CODEOWNERS_ERRORS: 6,  # a repo with a CODEOWNERS file and a CODEOWNERS expectation
        "GET /repos/{owner}/{repo}/git/blobs/{sha}": 5,
    }
    assert by_group["process"].keys() - settings.keys() <= ACTIVITY
    assert by_group["infra"] == {"GET /repos/{owner}/{repo}": 1, BRANCH: 1}
    assert by_group["findings"] == {}
