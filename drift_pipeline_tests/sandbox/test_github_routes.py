"""The route table: its order is what routes ``.../branches/feature/x/protection``, and it is held."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from drift_pipeline.sandbox.github.routes import (
    ROUTES,
    TABLE,
    branches,
    compile_table,
    match,
    sample_paths,
    shadowed,
)
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, branch_from, day

AUTH = {"Authorization": "token sandbox-token"}
PROTECTION = {
    "required_status_checks": {"strict": False, "contexts": ["ci/test"]},
    "enforce_admins": False,
    "required_pull_request_reviews": None,
    "restrictions": None,
}


def test_protection_of_a_branch_with_a_slash_is_routed_to_protection_not_to_the_branch() -> None:
    route, params, _ = match("GET", "/repos/o/r/branches/feature/x/protection")
    assert route is not None and route.handler is branches.get_protection and params["branch"] == "feature/x"
    route, params, _ = match("GET", "/repos/o/r/branches/feature/x/protection/required_status_checks")
    assert route is not None and route.handler is branches.get_status_checks and params["branch"] == "feature/x"
    route, params, _ = match("GET", "/repos/o/r/branches/feature/x")
    assert route is not None and route.handler is branches.get_branch and params["branch"] == "feature/x"


def test_every_route_of_the_table_is_reachable() -> None:
    assert shadowed(ROUTES) == []
    for r in ROUTES:
        for path in sample_paths(r):
            assert match(r.method, path)[0] is r, (r.key, path)


def test_the_order_matters_branch_route_first_would_hide_every_protection_route() -> None:
    moved = [row for row in TABLE if row[2] is branches.get_branch]
    reordered = compile_table(moved + [row for row in TABLE if row[2] is not branches.get_branch])
    hidden = {(r.handler.__name__, got.handler.__name__ if got else None) for r, _path, got in shadowed(reordered)}
    assert ("get_protection", "get_branch") in hidden
    assert ("get_status_checks", "get_branch") in hidden
    route, _, _ = match("GET", "/repos/o/r/branches/feature/x/protection", reordered)
    assert route is not None and route.handler is branches.get_branch


def test_every_table_row_has_a_summary_and_a_unique_key() -> None:
    assert all(r.summary for r in ROUTES)
    assert len({r.key for r in ROUTES}) == len(ROUTES)


@pytest.fixture(scope="module")
def served(start_github):
    def build(st: SandboxState) -> None:
        st.add_org("acme")
        repo = st.create_repo("acme", "svc", created_at=datetime(2024, 1, 1))
        main = commit_files(repo, "main", {"README.md": "hi\n"}, "init", DEV, day(1))
        branch_from(repo, "feature/x", main)
        st.set_branch_protection("acme", "svc", "feature/x", PROTECTION)

    gh, _ = start_github(build)
    return gh


def test_over_http_branch_and_its_protection_are_told_apart(served) -> None:
    base = f"{served.url}/repos/acme/svc/branches/feature/x"
    branch = requests.get(base, headers=AUTH, timeout=5)
    assert branch.status_code == 200 and branch.json()["name"] == "feature/x" and branch.json()["protected"]
    prot = requests.get(f"{base}/protection", headers=AUTH, timeout=5)
    assert prot.status_code == 200 and prot.json()["required_status_checks"]["contexts"] == ["ci/test"]
    assert "name" not in prot.json()
    checks = requests.get(f"{base}/protection/required_status_checks", headers=AUTH, timeout=5)
    assert checks.status_code == 200 and checks.json()["contexts"] == ["ci/test"]
