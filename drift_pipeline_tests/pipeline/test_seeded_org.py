"""The demo generator's org through the real pipeline: what the seed scripted is what is found."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import pytest

from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.seed import seed_org
from drift_pipeline_tests.pipeline.conftest import Pipeline

STANDING = {"invalid_config", "project_without_standards", "tier_ruleset_mismatch", "registry_unresolved"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeded")
    report = seed_org(root / "state", org="acme", repos=8, days=7, seed=3, end_date=date(2026, 4, 30))
    with GitHubSandbox(root / "state") as server:
        pipeline = Pipeline(server, root / "drift.duckdb")
        assert pipeline.run(report.start_date, report.end_date).success
        yield report, pipeline


def test_every_scripted_change_is_found_on_its_day_with_its_commits(seeded):
    report, pipeline = seeded
    found = defaultdict(set)
    commits = {}
    for row in pipeline.rows("SELECT * FROM code_drift"):
        found[row["scan_date"]].add((row["repo"], row["project"], row["rule"]))
        details = json.loads(row["details"])
        commits[(row["scan_date"], row["repo"], row["rule"])] = {c["sha"] for c in details.get("commits", [])}
    changes = defaultdict(set)
    for event in report.events:
        key = (event.repo, event.project, event.kind)
        assert key in found[event.day], f"{event.day}: expected {key} ({event.description})"
        if event.kind not in STANDING:
            changes[event.day].add(key)
            assert set(event.commit_shas) <= commits[(event.day, event.repo, event.kind)]
    for day in found:
        assert {k for k in found[day] if k[2] not in STANDING} == changes[day], day


def test_out_of_scope_repos_match_the_seed_report(seeded):
    report, pipeline = seeded
    scope = {
        r["repo"]: r["in_scope"]
        for r in pipeline.rows("SELECT repo, in_scope FROM repo_inventory WHERE scan_date = ?", [report.end_date])
    }
    expected = {r.name: r.in_scope for r in report.repos}
    assert {k: scope[k] for k in expected} == expected
