"""The process assets over the demo org: Dagster runs find exactly what the seed's oracle says.

The demo's window is in the past, so its activity is judged by a backfill (settings not observed),
and its settings as they are now, in the newest partition (yesterday).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drift_pipeline.sandbox.github import pulls
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.seed import SeedReport, seed_org
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.test_process_settings import PROCESS, resources

ORACLE_ACTIVITY = {
    "review_bypassed",
    "pr_too_large",
    "pr_missing_issue_reference",
    "branch_name_violated",
    "ticket_reference_missing",
}
YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SeedReport, GitHubSandbox]]:
    root = tmp_path_factory.mktemp("demo")
    report = seed_org(root, org="acme", repos=12, days=14)
    with GitHubSandbox(root) as server:
        yield report, server


def test_a_backfill_of_the_demo_window_finds_exactly_the_oracles_activity_findings(demo, tmp_path: Path):
    report, server = demo
    pipe = Pipeline(server, tmp_path / "drift.duckdb")
    result = pipe.run(report.start_date, report.end_date, assets=PROCESS, resources=resources(pipe))
    assert result.success
    rows = pipe.rows("SELECT scan_date, repo, rule, subject FROM process_drift ORDER BY ALL")
    got = sorted((r["scan_date"], r["repo"], r["rule"], r["subject"]) for r in rows if r["rule"] in ORACLE_ACTIVITY)
    assert got == sorted((f.day, f.repo, f.rule, f.subject) for f in report.process_activity)
    assert {r["repo"] for r in rows if r["rule"] == "commit_convention_violated"} <= {"inventory-service"}
    # a past window: settings never observed, so no settings finding on any day
    assert {r["rule"] for r in rows} <= ORACLE_ACTIVITY | {"commit_convention_violated", "ticket_reference_missing"}
    coverage = pipe.rows("SELECT DISTINCT observed FROM coverage")
    assert coverage == [{"observed": False}]
    # every PR merged into a repo that stays in scope is in the history, with the commit that merged it
    state = SandboxState.open(report.state_dir)
    want_prs = {
        (r.name, p["number"], p["pull"]["merge_commit_sha"])
        for r in report.repos
        if r.in_scope
        for p in pulls.pulls_of(state, "acme", r.name)
        if p["pull"]["merged_at"]
    }
    seen = pipe.rows("SELECT repo, pr_number, commit_sha FROM process_activity WHERE pr_number IS NOT NULL")
    assert want_prs and want_prs <= {(r["repo"], r["pr_number"], r["commit_sha"]) for r in seen}


def test_todays_settings_of_the_demo_org_are_exactly_the_oracles(demo, tmp_path: Path):
    report, server = demo
    pipe = Pipeline(server, tmp_path / "drift.duckdb")
    assert pipe.run(YESTERDAY, assets=PROCESS, resources=resources(pipe)).success
    found: dict[str, set[str]] = {}
    for r in pipe.rows("SELECT repo, rule FROM process_drift WHERE scan_date = ?", [YESTERDAY]):
        found.setdefault(r["repo"], set()).add(r["rule"])
    want = {
        repo: set(rules) - {"commit_convention_violated"}  # history: judged on the days it happened
        for repo, rules in report.process_expectations.items()
    }
    assert found == {repo: rules for repo, rules in want.items() if rules}
