"""Classic branch protection as GitHub answers it per token kind, ``protected`` from rulesets, and
the protection sub-resources, through PyGithub over HTTP."""

from __future__ import annotations

import pytest
import requests
from github import GithubException

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, branch_from, day, github_client

PROTECTION = {
    "required_status_checks": {"strict": True, "contexts": ["lint", "test"]},
    "enforce_admins": True,
    "required_pull_request_reviews": {"required_approving_review_count": 2},
    "restrictions": {"users": ["alice"], "teams": ["platform"], "apps": []},
}


def build(st: SandboxState) -> None:
    st.add_org("acme")
    st.add_user("alice")
    st.add_token("classic-reader", login="alice", admin=False, kind="classic")
    st.add_token("app-token", login="drift-app[bot]", admin=False, kind="app")
    path = st.create_repo("acme", "svc")
    sha = commit_files(path, "main", {"README.md": "x\n"}, "init", DEV, day(1))
    for b in ("dev", "release/1.0", "bare"):
        branch_from(path, b, sha)
    st.set_branch_protection("acme", "svc", "main", PROTECTION)
    st.set_branch_protection("acme", "svc", "bare", {"enforce_admins": False})
    st.add_ruleset(
        "acme",
        "svc",
        {
            "name": "releases",
            "target": "branch",
            "enforcement": "active",
            "conditions": {"ref_name": {"include": ["refs/heads/release/**"], "exclude": []}},
            "rules": [{"type": "deletion"}],
        },
    )
    st.add_ruleset(
        "acme",
        "svc",
        {
            "name": "dry run",
            "target": "branch",
            "enforcement": "evaluate",
            "conditions": {"ref_name": {"include": ["refs/heads/dev"], "exclude": []}},
            "rules": [{"type": "deletion"}],
        },
    )
    other = st.create_repo("acme", "web")
    commit_files(other, "main", {"README.md": "y\n"}, "init", DEV, day(1))
    st.add_org_ruleset(
        "acme",
        {
            "name": "web reviews",
            "target": "branch",
            "enforcement": "active",
            "conditions": {
                "ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
                "repository_name": {"include": ["web"], "exclude": []},
            },
            "rules": [{"type": "pull_request", "parameters": {"required_approving_review_count": 1}}],
        },
    )


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


def _get(world, path: str, token: str = "sandbox-token") -> requests.Response:
    return requests.get(f"{world[0].url}{path}", headers={"Authorization": f"token {token}"}, timeout=10)


def _error(call) -> tuple[int, str]:
    with pytest.raises(GithubException) as exc:
        call()
    return exc.value.status, exc.value.data["message"]


def test_admin_token_reads_protection_and_unprotected_is_branch_not_protected(world):
    repo = github_client(world[0].url).get_repo("acme/svc")
    prot = repo.get_branch("main").get_protection()
    assert prot.required_status_checks.contexts == ["lint", "test"]
    assert prot.required_pull_request_reviews.required_approving_review_count == 2
    assert _error(lambda: repo.get_branch("dev").get_protection()) == (404, "Branch not protected")


def test_non_admin_classic_token_gets_404_not_found_even_when_protected(world):
    repo = github_client(world[0].url, "classic-reader").get_repo("acme/svc")
    assert _error(lambda: repo.get_branch("main").get_protection()) == (404, "Not Found")
    assert _error(lambda: repo.get_branch("dev").get_protection()) == (404, "Not Found")
    r = _get(world, "/repos/acme/svc/branches/main/protection", "classic-reader")
    assert r.json()["documentation_url"].startswith("https://docs.github.com/rest/branches/branch-protection")
    assert repo.permissions.admin is False  # what tells a reader that this 404 proves nothing


def test_app_token_gets_403_resource_not_accessible_by_integration(world):
    repo = github_client(world[0].url, "app-token").get_repo("acme/svc")
    assert _error(lambda: repo.get_branch("main").get_protection()) == (
        403,
        "Resource not accessible by integration",
    )
    for sub in ("required_status_checks", "required_status_checks/contexts", "restrictions/users"):
        assert _get(world, f"/repos/acme/svc/branches/main/protection/{sub}", "app-token").status_code == 403


def test_branch_is_protected_by_a_ruleset_or_an_org_ruleset_not_only_classic(world):
    g = github_client(world[0].url)
    svc = g.get_repo("acme/svc")
    assert svc.get_branch("release/1.0").protected is True  # repo ruleset only
    assert svc.get_branch("dev").protected is False  # an evaluate-mode ruleset does not protect
    assert svc.get_branch("main").protected is True
    assert g.get_repo("acme/web").get_branch("main").protected is True  # org ruleset only
    assert {b.name for b in svc.get_branches() if b.protected} == {"main", "bare", "release/1.0"}
    listed = _get(world, "/repos/acme/svc/branches?protected=true").json()
    assert {b["name"] for b in listed} == {"main", "bare", "release/1.0"}
    rules_only = _get(world, "/repos/acme/svc/branches/release/1.0/protection")
    assert (rules_only.status_code, rules_only.json()["message"]) == (404, "Branch not protected")


def test_protection_sub_resources_answer_as_github(world):
    base = "/repos/acme/svc/branches/main/protection"
    contexts = _get(world, f"{base}/required_status_checks/contexts")
    assert contexts.status_code == 200 and contexts.json() == ["lint", "test"]
    users = _get(world, f"{base}/restrictions/users")
    assert users.status_code == 200 and [u["login"] for u in users.json()] == ["alice"]
    teams = _get(world, f"{base}/restrictions/teams")
    assert teams.status_code == 200 and [t["slug"] for t in teams.json()] == ["platform"]
    apps = _get(world, f"{base}/restrictions/apps")
    assert apps.status_code == 200 and apps.json() == []
    bare = "/repos/acme/svc/branches/bare/protection"
    for sub, message in (
        ("required_status_checks/contexts", "Required status checks not enabled"),
        ("restrictions/users", "Push restrictions not enabled"),
        ("restrictions/teams", "Push restrictions not enabled"),
    ):
        r = _get(world, f"{bare}/{sub}")
        assert (r.status_code, r.json()["message"]) == (404, message)
    unprotected = _get(world, "/repos/acme/svc/branches/dev/protection/required_status_checks/contexts")
    assert (unprotected.status_code, unprotected.json()["message"]) == (404, "Branch not protected")
    nested = _get(world, "/repos/acme/svc/branches/release/1.0/protection/restrictions/apps")
    assert (nested.status_code, nested.json()["message"]) == (404, "Branch not protected")
