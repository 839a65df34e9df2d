"""A user's role on one repo (``set_repo_role``) caps what its tokens may read there, as on GitHub:
a token whose user administers every other repo reads this one as a writer (``permissions.admin``
false, classic protection 404 "Not Found", a ruleset's ``bypass_actors`` withheld), through
PyGithub and plain HTTP; an App installation token is no user and keeps its permissions."""

from __future__ import annotations

import pytest
import requests
from github import GithubException

from drift_pipeline.sandbox.github.state import DEFAULT_TOKEN, SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client

RULESET = {
    "name": "main",
    "target": "branch",
    "enforcement": "active",
    "bypass_actors": [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
    "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
    "rules": [{"type": "deletion"}],
}


def build(st: SandboxState) -> None:
    st.add_org("acme")
    st.add_token("fine", login="drift-bot", kind="fine_grained", admin=True)
    st.add_token("app", login="drift-app[bot]", kind="app", admin=True)
    for name in ("open", "kept"):
        path = st.create_repo("acme", name)
        commit_files(path, "main", {"README.md": "x\n"}, "init", DEV, day(1))
        st.set_branch_protection("acme", name, "main", {"enforce_admins": True})
        st.add_ruleset("acme", name, dict(RULESET))
    st.set_repo_role("acme", "kept", "drift-bot", "write")  # the default token's user


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


def _get(world, path: str, token: str = DEFAULT_TOKEN) -> requests.Response:
    return requests.get(f"{world[0].url}{path}", headers={"Authorization": f"token {token}"}, timeout=10)


def test_a_write_role_on_one_repo_renders_its_permissions_and_the_listing_agrees(world):
    g = github_client(world[0].url)
    assert g.get_repo("acme/open").permissions.admin is True
    kept = g.get_repo("acme/kept").permissions
    assert (kept.admin, kept.maintain, kept.push, kept.pull) == (False, False, True, True)
    listed = {r["name"]: r["permissions"]["admin"] for r in _get(world, "/orgs/acme/repos").json()}
    assert listed == {"open": True, "kept": False}


def test_classic_protection_is_404_not_found_on_that_repo_only(world):
    g = github_client(world[0].url)
    assert g.get_repo("acme/open").get_branch("main").get_protection().enforce_admins is True
    with pytest.raises(GithubException) as exc:
        g.get_repo("acme/kept").get_branch("main").get_protection()
    assert (exc.value.status, exc.value.data["message"]) == (404, "Not Found")
    sub = _get(world, "/repos/acme/kept/branches/main/protection/enforce_admins")
    assert sub.status_code == 404
    assert g.get_repo("acme/kept").get_branch("main").protected is True  # the branch itself says so


def test_the_rulesets_bypass_list_is_withheld_on_that_repo_only(world):
    ids = {n: _get(world, f"/repos/acme/{n}/rulesets").json()[0]["id"] for n in ("open", "kept")}
    assert "bypass_actors" in _get(world, f"/repos/acme/open/rulesets/{ids['open']}").json()
    kept = _get(world, f"/repos/acme/kept/rulesets/{ids['kept']}").json()
    assert "bypass_actors" not in kept and kept["rules"] == [{"type": "deletion"}]


def test_a_fine_grained_token_of_that_user_gets_its_403_and_an_app_token_keeps_its_permissions(world):
    fine = _get(world, "/repos/acme/kept/branches/main/protection", "fine")
    assert (fine.status_code, fine.json()["message"]) == (403, "Resource not accessible by personal access token")
    assert _get(world, "/repos/acme/open/branches/main/protection", "fine").status_code == 200
    assert _get(world, "/repos/acme/kept/branches/main/protection", "app").status_code == 200


def test_an_unknown_role_is_refused_by_name(tmp_path):
    st = SandboxState.open(tmp_path)
    st.add_org("acme")
    st.create_repo("acme", "svc")
    with pytest.raises(ValueError, match=r"repo role 'owner' not one of \('read', 'triage', 'write'"):
        st.set_repo_role("acme", "svc", "drift-bot", "owner")
