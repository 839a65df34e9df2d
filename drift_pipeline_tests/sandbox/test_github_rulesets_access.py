"""Rulesets as GitHub answers them: bypass_actors only with write access, ``targets`` filters, the
org ruleset endpoints (``_links.self`` resolves), org rules in ``/rules/branches``; over HTTP
through PyGithub's requester (PyGithub has no ruleset objects)."""

from __future__ import annotations

import pytest
from github import GithubException

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client

PR_PARAMS = {
    "required_approving_review_count": 2,
    "dismiss_stale_reviews_on_push": True,
    "require_code_owner_review": False,
    "require_last_push_approval": False,
    "required_review_thread_resolution": False,
}
BYPASS = [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]


def build(st: SandboxState) -> None:
    st.add_org("acme")
    st.add_token("classic-reader", login="reader", admin=False, kind="classic")
    st.add_token("app-token", login="app[bot]", admin=False, kind="app")
    commit_files(st.create_repo("acme", "svc"), "main", {"README.md": "x\n"}, "init", DEV, day(1))
    main = {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}}
    st.add_ruleset(
        "acme",
        "svc",
        {
            "name": "main",
            "target": "branch",
            "enforcement": "active",
            "conditions": main,
            "rules": [{"type": "pull_request", "parameters": PR_PARAMS}],
            "bypass_actors": BYPASS,
        },
    )
    st.add_ruleset(
        "acme",
        "svc",
        {
            "name": "tags",
            "target": "tag",
            "enforcement": "active",
            "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
            "rules": [{"type": "deletion"}],
            "bypass_actors": [],
        },
    )
    st.add_org_ruleset(
        "acme",
        {
            "name": "baseline",
            "target": "branch",
            "enforcement": "active",
            "conditions": {**main, "repository_name": {"include": ["*"], "exclude": []}},
            "rules": [{"type": "non_fast_forward"}],
            "bypass_actors": [{"actor_id": 1, "actor_type": "OrganizationAdmin", "bypass_mode": "always"}],
        },
    )


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


def _get(world, path: str, token: str = "sandbox-token", **params: str):
    g = github_client(world[0].url, token)
    _, data = g.requester.requestJsonAndCheck("GET", f"{world[0].url}{path}", parameters=params or None)
    return data


def _status(world, path: str, token: str) -> tuple[int, str]:
    with pytest.raises(GithubException) as exc:
        _get(world, path, token)
    return exc.value.status, exc.value.data["message"]


def _ids(world, **params: str) -> dict[str, int]:
    return {rs["name"]: rs["id"] for rs in _get(world, "/repos/acme/svc/rulesets", **params)}


def test_targets_filter_repo_rulesets(world):
    assert set(_ids(world)) == {"main", "tags", "baseline"}
    assert set(_ids(world, targets="branch")) == {"main", "baseline"}
    assert set(_ids(world, targets="tag")) == {"tags"}
    assert set(_ids(world, targets="branch,tag")) == {"main", "tags", "baseline"}
    assert _ids(world, targets="push") == {}
    assert set(_ids(world, targets="tag", includes_parents="false")) == {"tags"}
    assert _ids(world, targets="bogus") == {}


def test_bypass_actors_only_with_write_access(world):
    rid = _ids(world)["main"]
    admin = _get(world, f"/repos/acme/svc/rulesets/{rid}")
    assert admin["bypass_actors"] == BYPASS
    for token in ("classic-reader", "app-token"):
        read = _get(world, f"/repos/acme/svc/rulesets/{rid}", token)
        assert "bypass_actors" not in read  # missing means unknown, not empty
        assert read["rules"] == admin["rules"] and read["conditions"] == admin["conditions"]
    org_rid = _ids(world)["baseline"]
    assert "bypass_actors" not in _get(world, f"/repos/acme/svc/rulesets/{org_rid}", "classic-reader")


def test_org_rulesets_are_served_and_links_resolve(world):
    listed = _get(world, "/orgs/acme/rulesets")
    assert [rs["name"] for rs in listed] == ["baseline"] and listed[0]["source_type"] == "Organization"
    assert _get(world, "/orgs/acme/rulesets", targets="tag") == []
    one = _get(world, f"/orgs/acme/rulesets/{listed[0]['id']}")
    assert one["conditions"]["repository_name"] == {"include": ["*"], "exclude": []}
    assert one["bypass_actors"][0]["actor_type"] == "OrganizationAdmin"
    rid = _ids(world)["baseline"]
    via_repo = _get(world, f"/repos/acme/svc/rulesets/{rid}")
    g = github_client(world[0].url)
    _, followed = g.requester.requestJsonAndCheck("GET", via_repo["_links"]["self"]["href"])
    assert followed["id"] == rid and followed["source"] == "acme"
    assert _status(world, f"/orgs/acme/rulesets/{rid}", "classic-reader") == (404, "Not Found")
    assert _status(world, "/orgs/acme/rulesets", "app-token") == (403, "Resource not accessible by integration")
    assert _status(world, "/orgs/acme/rulesets/999999", "sandbox-token") == (404, "Not Found")


def test_branch_rules_include_org_rules_with_their_source(world):
    rules = _get(world, "/repos/acme/svc/rules/branches/main", "classic-reader")
    by_type = {r["type"]: r for r in rules}
    assert by_type["non_fast_forward"]["ruleset_source_type"] == "Organization"
    assert by_type["non_fast_forward"]["ruleset_source"] == "acme"
    assert by_type["pull_request"]["ruleset_source_type"] == "Repository"
    assert by_type["pull_request"]["parameters"]["required_approving_review_count"] == 2
