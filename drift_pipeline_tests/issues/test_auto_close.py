"""Opt-in auto_close through the real file_drift_issues job, on the sandbox, decided from a real DuckDB file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from drift_pipeline.issues.closing import evaluated_repos
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.issues.conftest import DAY1, DAY2, code_finding, day_rows, issues_of, process_finding, run_job


def write_day(db: Path, day: date, findings: list[dict[str, Any]], **status: Any) -> None:
    """The day's findings with the scan status and coverage rows the assets store next to them."""
    code = status.get("code", {"svc": "read", "web": "read"})
    process_observed = status.get("process_observed", True)
    tables: dict[str, Sequence[dict[str, Any]]] = {
        "drift_findings": [{**r, "scan_date": day} for r in findings],
        "config_scan_status": [
            {"repo": repo, "mode": mode, "error": "boom" if mode == "failed" else None} for repo, mode in code.items()
        ],
        "process_scan_status": [
            {"repo": repo, "mode": "read", "error": None, "settings_observed": process_observed}
            for repo in ("svc", "web")
        ],
        "coverage": [{"domain": "process_settings", "observed": process_observed, "reason": None}],
    }
    with DriftStore(db) as store:
        store.replace_day(day, "acme", tables)


def states(gh, repo: str, label: str) -> list[str]:
    return [i.state for i in issues_of(gh, repo, label)]


def test_auto_close_closes_only_evaluated_repos_whose_findings_are_gone_and_only_when_asked(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_day(db, DAY1, day_rows(DAY1))  # code + process findings for svc and web
    assert run_job(sandbox, db, DAY1).success
    # the next day svc's code and process findings are gone, web's are still there
    write_day(db, DAY2, [code_finding(DAY2, "web"), process_finding(DAY2, "web")])

    # off (the default): nothing is closed
    assert run_job(sandbox, db, DAY2).success
    assert states(gh, "svc", "drift:code") == ["open"] and states(gh, "svc", "drift:process") == ["open"]

    # on: svc's code issue closes with a comment; web's stay open
    result = run_job(sandbox, db, DAY2, auto_close=True)
    assert result.success
    [svc_code] = issues_of(gh, "svc", "drift:code")
    assert svc_code.state == "closed"
    assert "no longer present in the scan of 2026-03-06" in [c.body for c in svc_code.get_comments()][-1]
    assert states(gh, "web", "drift:code") == ["open"] and states(gh, "web", "drift:process") == ["open"]
    assert states(gh, "svc", "drift:process") == ["closed"]
    with DriftStore(db) as store:
        closed = store.rows("SELECT repo, category, number FROM filed_issues WHERE action = 'closed' ORDER BY ALL")
    assert [(r["repo"], r["category"]) for r in closed] == [("svc", "code"), ("svc", "process")]


def test_auto_close_leaves_repos_that_were_not_evaluated(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_day(db, DAY1, day_rows(DAY1))
    assert run_job(sandbox, db, DAY1).success
    # svc's code scan failed that day and process settings were not observed: absence proves nothing
    write_day(db, DAY2, [], code={"svc": "failed", "web": "read"}, process_observed=False)
    assert run_job(sandbox, db, DAY2, auto_close=True).success
    assert states(gh, "svc", "drift:code") == ["open"]
    assert states(gh, "svc", "drift:process") == ["open"] and states(gh, "web", "drift:process") == ["open"]
    assert states(gh, "web", "drift:code") == ["closed"]  # web was read and its finding is gone


def test_a_not_evaluated_finding_or_a_missing_status_row_keeps_a_repo_out():
    status = [{"repo": r, "mode": "read", "error": None} for r in ("a", "b")] + [{"repo": "c", "mode": "no_infra"}]
    not_evaluated = [{"repo": "a", "category": "infra", "rule": "infra_not_evaluated"}]
    observed = [{"domain": "infra", "observed": True}]
    assert evaluated_repos("infra", status, observed, not_evaluated) == {"b"}
    assert evaluated_repos("infra", status, [], []) == set()  # live-only domain, no coverage row: nothing
    assert evaluated_repos("code", [{"repo": "x", "mode": "carried_forward", "error": None}], [], []) == {"x"}
    assert evaluated_repos("code", [{"repo": "x", "mode": "read"}, {"repo": "x", "mode": "failed"}], [], []) == set()
