"""The code slice end to end: sandbox GitHub over HTTP -> real Dagster runs -> real DuckDB."""

from __future__ import annotations

import json

from drift_pipeline_tests.pipeline.orgfixture import DAY0, DAY1, DAY2, DAY3, DAY4


def test_backfill_range_gives_exact_findings_per_day(pipeline, org):
    result = pipeline.run(DAY0, DAY4)
    assert result.success

    # day 0 is the baseline: only state findings
    assert pipeline.findings(DAY0) == []
    # day 1: a source-only change in web is not drift
    assert pipeline.findings(DAY1) == []
    # day 2: eslint changed twice in web; broken's check.toml became invalid TOML
    assert pipeline.findings(DAY2) == [
        ("broken", ".", "check_toml_changed"),
        ("broken", ".", "invalid_config"),
        ("web", ".", "dependency_changed"),
    ]
    # day 3: mono's ui package lost its config, a new package has none; broken stays invalid
    assert pipeline.findings(DAY3) == [
        ("broken", ".", "invalid_config"),
        ("mono", "packages/jobs", "project_without_standards"),
        ("mono", "packages/ui", "check_toml_removed"),
        ("mono", "packages/ui", "project_without_standards"),
    ]
    # day 4: web's tier went to production while it extends typescript-internal
    assert ("web", ".", "tier_ruleset_mismatch") in pipeline.findings(DAY4)
    assert ("web", ".", "metadata_changed") in pipeline.findings(DAY4)
    # drift_findings is the union of the domains: today, code only
    for day in (DAY0, DAY1, DAY2, DAY3, DAY4):
        assert pipeline.findings(day, "drift_findings") == pipeline.findings(day)
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert all(checks.values()) and len(checks) == 6


def test_a_backfill_reads_each_repos_history_once_not_once_a_day(pipeline, sandbox):
    pipeline.run(DAY0, DAY4)
    routes = sandbox.request_counts()["by_route"]
    listed = 7  # every listed repo; archived "old" too, as it is in scope on day 0 (its last push)
    registry = 2  # config_snapshots resolves [extends] from acme/standards-community with its own source
    path_lookups = 4  # web eslint + metadata, broken check.toml, mono packages/ui/check.toml
    # per repo: its head before the window and one listing of the window's commits, whatever the days
    assert routes["GET /repos/{owner}/{repo}/commits"] <= 2 * listed + registry + path_lookups
    assert routes["GET /orgs/{org}/repos"] == 1


def test_dependency_change_carries_diff_and_every_commit_of_the_day(pipeline, org):
    pipeline.run(DAY1, DAY2)
    [row] = pipeline.rows("SELECT * FROM code_drift WHERE scan_date = ? AND rule = 'dependency_changed'", [DAY2])
    details = json.loads(row["details"])
    assert details["tool"] == "eslint" and details["path"] == "eslint.config.js"
    assert [c["sha"] for c in details["commits"]] == [org.shas["eslint_2"], org.shas["eslint_1"]]
    assert row["commit_sha"] == org.shas["eslint_2"]
    assert row["commit_url"].endswith(f"/acme/web/commit/{org.shas['eslint_2']}")
    [snap] = pipeline.rows(
        "SELECT commit_url, commit_author, commit_date FROM config_snapshots WHERE scan_date = ? AND path = 'check.toml' "
        "AND repo = 'web'",
        [DAY2],
    )
    assert snap["commit_url"].endswith(f"/acme/web/commit/{org.shas['eslint_2']}")
    assert "/repos/" not in snap["commit_url"]  # a page for people, not an API URL
    assert snap["commit_author"] == "Bob Roe" and snap["commit_date"].hour == 15
    assert "+  { rules: { 'no-console': 'error', 'no-var': 'error' } }," in details["diff"]
    assert "-  { rules: { 'no-console': 'error' } }," in details["diff"]


def test_rerunning_a_day_changes_nothing(pipeline):
    pipeline.run(DAY1, DAY3)
    tables = ("repo_inventory", "config_snapshots", "code_drift", "drift_findings")
    before = {
        t: pipeline.rows(f"SELECT * EXCLUDE (scan_date) FROM {t} WHERE scan_date = ? ORDER BY ALL", [DAY2])
        for t in tables
    }
    pipeline.run(DAY2)
    after = {
        t: pipeline.rows(f"SELECT * EXCLUDE (scan_date) FROM {t} WHERE scan_date = ? ORDER BY ALL", [DAY2])
        for t in tables
    }
    assert after == before
    assert all(before[t] for t in ("repo_inventory", "config_snapshots", "code_drift"))


def test_quiet_repos_are_carried_forward_without_tree_or_blob_requests(pipeline, sandbox):
    pipeline.run(DAY2)
    sandbox.reset_counts()
    pipeline.run(DAY3)  # only mono changed on day 3
    counts = sandbox.request_counts()["by_route"]
    assert counts.get("GET /repos/{owner}/{repo}/git/trees/{sha}", 0) == 1
    status = {
        r["repo"]: r["mode"]
        for r in pipeline.rows("SELECT repo, mode FROM config_scan_status WHERE scan_date = ?", [DAY3])
    }
    assert status == {"broken": "carried_forward", "mono": "read", "quiet": "carried_forward", "web": "carried_forward"}
    carried = pipeline.rows(
        "SELECT DISTINCT carried_forward FROM config_snapshots WHERE scan_date = ? AND repo = 'quiet'", [DAY3]
    )
    assert carried == [{"carried_forward": True}]


def test_inventory_scope_excludes_archived_and_repos_without_metadata(pipeline):
    pipeline.run(DAY1)
    scope = {
        r["repo"]: (r["in_scope"], r["scope_reason"])
        for r in pipeline.rows("SELECT repo, in_scope, scope_reason FROM repo_inventory WHERE scan_date = ?", [DAY1])
    }
    assert scope["old"] == (False, "archived")
    assert scope["nometa"][0] is False and "metadata" in scope["nometa"][1]
    assert scope["standards-community"][0] is False
    assert {r for r, (ok, _) in scope.items() if ok} == {"broken", "mono", "quiet", "web"}


def test_server_errors_during_a_scan_are_retried_with_identical_rows(pipeline, sandbox, tmp_path):
    from drift_pipeline_tests.pipeline.conftest import Pipeline

    pipeline.run(DAY1, DAY2)
    clean = pipeline.rows("SELECT * FROM code_drift WHERE scan_date = ? ORDER BY fingerprint", [DAY2])
    flaky = Pipeline(sandbox, tmp_path / "flaky.duckdb")
    sandbox.set_faults({"errors": {"count": 4, "status": [502, 503]}})  # within the retry budget
    flaky.run(DAY1, DAY2)
    assert sandbox.request_counts()["faults"] == 4
    assert flaky.rows("SELECT * FROM code_drift WHERE scan_date = ? ORDER BY fingerprint", [DAY2]) == clean


def test_a_repo_that_cannot_be_read_is_recorded_and_the_rest_is_scanned(pipeline, sandbox):
    pipeline.run(DAY2)
    sandbox.set_faults({"fail_path": {"pattern": "/repos/acme/mono/git/", "status": 500}})
    result = pipeline.run(DAY3, raise_on_error=False)
    status = {
        r["repo"]: (r["mode"], r["error"])
        for r in pipeline.rows("SELECT repo, mode, error FROM config_scan_status WHERE scan_date = ?", [DAY3])
    }
    assert status["mono"][0] == "failed" and "500" in status["mono"][1]
    assert {r: m for r, (m, _) in status.items() if r != "mono"} == {
        "broken": "carried_forward",
        "quiet": "carried_forward",
        "web": "carried_forward",
    }
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["no_repo_failed_to_scan"] is False
    assert checks["inventory_not_empty"] is True
    assert ("broken", ".", "invalid_config") in pipeline.findings(DAY3)
