"""History honesty: an archived repo stays in the days up to and including its last push."""

from __future__ import annotations

from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.orgfixture import DAY1, DAY2, DAY3, DAY4
from drift_pipeline_tests.scans.conftest import clones, rules, scan_json

KEPT = "archived (in scope up to its last push on 2026-03-03)"  # DAY2


def test_a_backfill_keeps_an_archived_repo_up_to_its_last_push(archive, fresh, tmp_path):
    pipeline = Pipeline(fresh("archive_github"), tmp_path / "drift.duckdb")
    assert pipeline.run(DAY1, DAY4).success
    scope = {
        (r["repo"], str(r["scan_date"])): (r["in_scope"], r["scope_reason"])
        for r in pipeline.rows("SELECT repo, scan_date, in_scope, scope_reason FROM repo_inventory")
    }
    assert [scope[("shelved", str(d))] for d in (DAY1, DAY2, DAY3, DAY4)] == [
        (True, KEPT),
        (True, KEPT),
        (False, "archived"),
        (False, "archived"),
    ]
    assert all(scope[("live", str(d))] == (True, None) for d in (DAY1, DAY2, DAY3, DAY4))
    scanned = {
        (r["repo"], str(r["scan_date"])) for r in pipeline.rows("SELECT repo, scan_date FROM config_scan_status")
    }
    assert {("shelved", str(DAY1)), ("shelved", str(DAY2))} <= scanned
    assert not {("shelved", str(DAY3)), ("shelved", str(DAY4))} & scanned
    assert ("shelved", ".", "check_toml_changed") in pipeline.findings(DAY2)
    assert [f for f in pipeline.findings(DAY3) + pipeline.findings(DAY4) if f[0] == "shelved"] == []


def test_the_cli_reports_an_archived_repos_last_change_on_its_day(archive, fresh, use_sandbox, capsys):
    use_sandbox(fresh("archive_github"))
    code, remote = scan_json(capsys, "--dry-run", "--org", "acme", "--date", DAY2.isoformat())
    _, local = scan_json(capsys, "--path", str(clones(archive)), "--date", DAY2.isoformat())
    assert code == 1 and rules(remote) == [("shelved", ".", "check_toml_changed")]
    _, later = scan_json(capsys, "--dry-run", "--org", "acme", "--date", DAY3.isoformat(), "--all")
    assert not any(f["repo"] == "shelved" for f in later["findings"])
    assert remote["summary"]["repos_in_scope"] == 2 and later["summary"]["repos_in_scope"] == 1
    assert local["summary"]["repos_in_scope"] == 2  # local clones are never archived: still in scope
