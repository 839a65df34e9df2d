"""Trend views and ``drift trends`` on a real DuckDB file written through the store, four scanned days.

Days (weeks of Monday 2026-03-02 and 2026-03-09): D1 and D3 are backfilled days (process settings not
observed; infra not observed on D1 and never scanned on D3), D2 and D4 are full scans. Findings:
  c1 code invalid_config error     repo a  D1 D2 D3     (resolved on D4)
  c2 code dependency_changed warn  repo b  D2           (resolved on D3)
  c3 code workflow_changed info    repo a  D4           (open)
  p1 process review_bypassed error repo b  D1 D4        (activity; open)
  s1 process branch_protection err repo a  D2 D4        (settings; open)
  s2 process required_reviews warn repo b  D2           (settings; resolved on D4: D3 not observed)
  i1 infra resource_missing error  repo c  D2           (resolved on D4: D3 not observed)
Repo a is team red until D4, green on D4; b blue development; c blue production.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from drift_pipeline.cli import main
from drift_pipeline.issues.ledger import Entry, record
from drift_pipeline.store import DriftStore
from drift_pipeline.store.queries import README_QUERIES as PRODUCT_QUERIES
from drift_pipeline.store.views import MACROS, VIEWS, view_changes
from drift_pipeline_tests.test_store_lock import holding

ORG = "acme"
D1, D2, D3, D4 = date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 10)
W1, W2 = date(2026, 3, 2), date(2026, 3, 9)
FINDINGS = {  # fingerprint -> (repo, category, rule, severity, days)
    "c1": ("a", "code", "invalid_config", "error", (D1, D2, D3)),
    "c2": ("b", "code", "dependency_changed", "warning", (D2,)),
    "c3": ("a", "code", "workflow_changed", "info", (D4,)),
    "p1": ("b", "process", "review_bypassed", "error", (D1, D4)),
    "s1": ("a", "process", "branch_protection_missing", "error", (D2, D4)),
    "s2": ("b", "process", "required_reviews_too_low", "warning", (D2,)),
    "i1": ("c", "infra", "resource_missing", "error", (D2,)),
}
SETTINGS_OBSERVED = {D1: False, D2: True, D3: False, D4: True}
INFRA_OBSERVED = {D1: False, D2: True, D4: True}  # D3: no coverage row at all

# The rows each of the README's trend questions (drift_pipeline.store.queries) returns here.
EXPECTED_ROWS: dict[str, list[dict[str, Any]]] = {
    "findings per day by rule (NULL: not observed that day, 0: observed, none)": [
        {"scan_date": str(d), "rule": "branch_protection_missing", "findings": n}
        for d, n in ((D1, None), (D2, 1), (D3, None), (D4, 1))
    ]
    + [{"scan_date": str(d), "rule": "invalid_config", "findings": n} for d, n in ((D1, 1), (D2, 1), (D3, 1), (D4, 0))],
    "which teams' production repos drifted most (finding-days, team as of each day)": [
        {"team": "red", "findings": 4},
        {"team": "green", "findings": 2},
        {"team": "blue", "findings": 1},
    ],
    "time to resolution per category": [
        {"category": "code", "resolved": 2, "avg_days": 4.0, "max_days": 5},
        {"category": "infra", "resolved": 1, "avg_days": 4.0, "max_days": 4},
        {"category": "process", "resolved": 1, "avg_days": 4.0, "max_days": 4},
    ],
    "repos drifting most over the last 30 days": [
        {"repo": "a", "team": "green", "findings": 6, "distinct_findings": 3, "rank": 1},
        {"repo": "b", "team": "blue", "findings": 4, "distinct_findings": 3, "rank": 2},
        {"repo": "c", "team": "blue", "findings": 1, "distinct_findings": 1, "rank": 3},
    ],
    "issues filed and still open per week": [
        {"week": str(W1), "category": "code", "filed": 1, "still_open": 0},
        {"week": str(W1), "category": "infra", "filed": 1, "still_open": 0},
        {"week": str(W1), "category": "process", "filed": 1, "still_open": 1},
        {"week": str(W2), "category": "process", "filed": 1, "still_open": 1},
    ],
    "coverage: days each domain was not observed": [
        {"domain": "code", "not_observed": 0, "days": 4},
        {"domain": "infra", "not_observed": 2, "days": 4},
        {"domain": "process_activity", "not_observed": 0, "days": 4},
        {"domain": "process_settings", "not_observed": 2, "days": 4},
    ],
}
README_QUERIES: list[tuple[str, str, list[dict[str, Any]]]] = [
    (title, sql, EXPECTED_ROWS[title]) for title, sql in PRODUCT_QUERIES
]


def _inventory(day: date) -> list[dict[str, Any]]:
    return [
        {"repo": "a", "team": "green" if day == D4 else "red", "tier": "production", "in_scope": True},
        {"repo": "b", "team": "blue", "tier": "development", "in_scope": True},
        {"repo": "c", "team": "blue", "tier": "production", "in_scope": True},
    ]


def _findings(day: date) -> list[dict[str, Any]]:
    return [
        {
            "repo": repo,
            "project": ".",
            "category": category,
            "rule": rule,
            "severity": severity,
            "message": f"{rule} in {repo}",
            "subject": fp,
            "fingerprint": fp,
        }
        for fp, (repo, category, rule, severity, days) in FINDINGS.items()
        if day in days
    ]


def _coverage(day: date) -> list[dict[str, Any]]:
    rows = [{"domain": "process_settings", "observed": SETTINGS_OBSERVED[day], "reason": "live-only"}]
    if day in INFRA_OBSERVED:
        rows.append({"domain": "infra", "observed": INFRA_OBSERVED[day], "reason": "live-only"})
    return rows


def fill_trend_store(store: DriftStore) -> None:
    """The four days of the trend tests and their issue ledger, written through the store interface
    (a DuckDB file here, a DuckLake in ``test_cli_sql_lake``)."""
    for day in (D1, D2, D3, D4):
        store.replace_day(
            day,
            ORG,
            {
                "repo_inventory": _inventory(day),
                "process_scan_status": [{"repo": r, "mode": "read"} for r in "abc"],
                "coverage": _coverage(day),
                "drift_findings": _findings(day),
            },
        )
    record(
        store,
        [
            Entry(D1, ORG, "a", "code", "created", 1, "https://gh/acme/a/issues/1", ("c1",)),
            Entry(D2, ORG, "a", "process", "created", 2, "https://gh/acme/a/issues/2", ("s1",)),
            Entry(D2, ORG, "b", "process", "found", 3, "https://gh/acme/b/issues/3", ("s2",)),
            Entry(D2, ORG, "c", "infra", "created", 4, "https://gh/acme/c/issues/4", ("i1",)),
            Entry(D4, ORG, "b", "process", "created", 5, "https://gh/acme/b/issues/5", ("p1",)),
            Entry(D4, ORG, "c", "code", "failed"),
        ],
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trends") / "drift.duckdb"
    with DriftStore(path) as store:
        fill_trend_store(store)
    return path


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def drift(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_coverage_is_null_never_zero_on_days_not_observed(db):
    got = _rows(db, "SELECT scan_date, domain, observed, findings, reason FROM trend_coverage ORDER BY ALL")
    expected: dict[date, dict[str, int | None]] = {
        D1: {"code": 1, "infra": None, "process_activity": 1, "process_settings": None},
        D2: {"code": 2, "infra": 1, "process_activity": 0, "process_settings": 2},
        D3: {"code": 1, "infra": None, "process_activity": 0, "process_settings": None},
        D4: {"code": 1, "infra": 0, "process_activity": 1, "process_settings": 1},
    }
    assert [(r[0], r[1], r[3]) for r in got] == [(d, dom, n) for d, by in expected.items() for dom, n in by.items()]
    assert all(r[2] is (r[3] is not None) for r in got)  # observed exactly where counted
    reasons = {(r[0], r[1]): r[4] for r in got if not r[2]}
    assert reasons == {
        (D1, "infra"): "live-only",
        (D1, "process_settings"): "live-only",
        (D3, "infra"): "not scanned this day",
        (D3, "process_settings"): "live-only",
    }


def test_findings_daily_is_dense_with_null_for_unobserved_domains(db):
    got = _rows(db, "SELECT rule, scan_date, domain, findings, repos FROM trend_findings_daily ORDER BY ALL")
    by_rule: dict[str, list[Any]] = {}
    for rule, _day, domain, n, repos in got:
        by_rule.setdefault(rule, []).append((domain, n, repos))
    assert by_rule == {
        "branch_protection_missing": [("process_settings", n, n) for n in (None, 1, None, 1)],
        "dependency_changed": [("code", n, n) for n in (0, 1, 0, 0)],
        "invalid_config": [("code", n, n) for n in (1, 1, 1, 0)],
        "required_reviews_too_low": [("process_settings", n, n) for n in (None, 1, None, 0)],
        "resource_missing": [("infra", n, n) for n in (None, 1, None, 0)],
        "review_bypassed": [("process_activity", n, n) for n in (1, 0, 0, 1)],
        "workflow_changed": [("code", n, n) for n in (0, 0, 0, 1)],
    }


def test_findings_by_repo_join_that_days_inventory(db):
    got = _rows(
        db,
        "SELECT scan_date, repo, team, tier, domain, findings, errors, warnings FROM trend_findings_by_repo "
        "WHERE repo = 'a' AND domain IN ('code', 'process_settings') ORDER BY ALL",
    )
    assert got == [
        (D1, "a", "red", "production", "code", 1, 1, 0),
        (D1, "a", "red", "production", "process_settings", None, None, None),
        (D2, "a", "red", "production", "code", 1, 1, 0),
        (D2, "a", "red", "production", "process_settings", 1, 1, 0),
        (D3, "a", "red", "production", "code", 1, 1, 0),
        (D3, "a", "red", "production", "process_settings", None, None, None),
        (D4, "a", "green", "production", "code", 1, 0, 0),
        (D4, "a", "green", "production", "process_settings", 1, 1, 0),
    ]
    assert _rows(db, "SELECT count(*) FROM trend_findings_by_repo") == [(4 * 3 * 4,)]  # days x repos x domains


def test_resolution_first_to_last_seen_open_on_the_domains_latest_day(db):
    got = _rows(
        db,
        "SELECT fingerprint, domain, first_seen, last_seen, days_seen, is_open, resolved_on, days_to_resolution "
        "FROM trend_resolution ORDER BY fingerprint",
    )
    assert got == [
        ("c1", "code", D1, D3, 3, False, D4, 5),
        ("c2", "code", D2, D2, 1, False, D3, 3),
        ("c3", "code", D4, D4, 1, True, None, None),
        ("i1", "infra", D2, D2, 1, False, D4, 4),
        ("p1", "process_activity", D1, D4, 2, True, None, None),
        ("s1", "process_settings", D2, D4, 2, True, None, None),
        ("s2", "process_settings", D2, D2, 1, False, D4, 4),
    ]


def test_top_repos_over_a_window_and_issues_per_week(db):
    got = _rows(db, "SELECT * FROM trend_top_repos(2)")
    assert got == [
        ("acme", "a", "green", "production", 3, 3, 2, D3, D4, 1),
        ("acme", "b", "blue", "development", 1, 1, 1, D3, D4, 2),
    ]
    assert _rows(db, "SELECT * FROM trend_issues_weekly ORDER BY week, category") == [
        (W1, ORG, "code", 1, 0),
        (W1, ORG, "infra", 1, 0),
        (W1, ORG, "process", 1, 1),
        (W2, ORG, "process", 1, 1),
    ]


def test_views_are_created_once_and_replaced_when_their_definition_changes(db, tmp_path):
    with duckdb.connect(str(db), read_only=True) as con:
        assert view_changes(con) == []  # an up-to-date file: a reader never writes
    copy = tmp_path / "old.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("CREATE OR REPLACE VIEW trend_resolution AS SELECT 1 AS stale")
        changes = view_changes(con)
    # the stale view and every view or macro defined after it (they may read it) are replaced
    names = list(VIEWS) + list(MACROS)
    replaced = names[names.index("trend_resolution") :]
    assert [s.split()[4].split("(")[0] for s in changes if s.startswith("CREATE")] == replaced
    with DriftStore(copy) as store:
        assert store.rows("SELECT count(*) AS n FROM trend_resolution") == [{"n": 7}]


@pytest.mark.parametrize(("title", "sql", "expected"), README_QUERIES, ids=[q[0] for q in README_QUERIES])
def test_readme_queries_run_through_drift_sql(capsys, db, title, sql, expected):
    code, out, _ = drift(capsys, "sql", sql, "--db", str(db), "--json")
    assert code == 0, title
    assert json.loads(out)["rows"] == expected


def test_trends_by_category_table_json_and_csv(capsys, db):
    code, out, _ = drift(capsys, "trends", "--db", str(db), "--json")
    payload = json.loads(out)
    assert code == 0 and payload["by"] == "category" and payload["groups"] == ["code", "infra", "process"]
    assert (payload["from"], payload["to"]) == (str(D1), str(D4))
    assert payload["rows"] == [
        {
            "scan_date": str(D1),
            "counts": {"code": 1, "infra": None, "process": None},
            "not_observed": ["infra", "process_settings"],
        },
        {"scan_date": str(D2), "counts": {"code": 2, "infra": 1, "process": 2}, "not_observed": []},
        {
            "scan_date": str(D3),
            "counts": {"code": 1, "infra": None, "process": None},
            "not_observed": ["infra", "process_settings"],
        },
        {"scan_date": str(D4), "counts": {"code": 1, "infra": 0, "process": 2}, "not_observed": []},
    ]

    code, out, _ = drift(capsys, "trends", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["scan_date", "code", "infra", "process", "not_observed"]
    assert lines[2].split("  ")[0] == str(D1) and lines[2].count("not observed") == 2
    assert lines[2].rstrip().endswith("infra, process_settings")
    assert lines[3].split() == [str(D2), "2", "1", "2"] and lines[-1] == "(4 rows)"

    code, out, _ = drift(capsys, "trends", "--db", str(db), "--csv", "--days", "2")
    assert code == 0 and list(csv.reader(io.StringIO(out))) == [
        ["scan_date", "code", "infra", "process", "not_observed"],
        [str(D3), "1", "", "", "infra;process_settings"],
        [str(D4), "1", "0", "2", ""],
    ]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("severity", {"error": [2, 3, 1, 2], "info": [0, 0, 0, 1], "warning": [0, 2, 0, 0]}),
        ("rule", {"branch_protection_missing": [None, 1, None, 1], "review_bypassed": [1, 0, 0, 1]}),
        ("team", {"blue": [1, 3, 0, 1], "green": [0, 0, 0, 2], "red": [1, 2, 1, 0]}),
        ("tier", {"development": [1, 2, 0, 1], "production": [1, 3, 1, 2]}),
        ("repo", {"a": [1, 2, 1, 2], "b": [1, 2, 0, 1], "c": [0, 1, 0, 0]}),
    ],
)
def test_trends_by_other_groups(capsys, db, by, expected):
    code, out, _ = drift(capsys, "trends", "--db", str(db), "--by", by, "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and [r["scan_date"] for r in rows] == [str(d) for d in (D1, D2, D3, D4)]
    for group, counts in expected.items():
        assert [r["counts"][group] for r in rows] == counts, group


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_chart_is_drawn_with_matplotlib_next_to_the_table(capsys, db, tmp_path, suffix):
    chart = tmp_path / "charts" / f"trend{suffix}"
    code, out, err = drift(capsys, "trends", "--db", str(db), "--by", "category", "--chart", str(chart))
    assert code == 0 and "scan_date" in out and f"chart: {chart}" in err
    data = chart.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000
    else:
        text = data.decode()
        assert "<svg" in text and "drift findings by category" in text
        assert "code" in text and "process" in text  # the legend names the groups drawn
        if suffix == ".html":
            assert text.startswith("<!doctype html>") and "not observed" in text


def test_chart_to_a_directory_or_unwritable_place_exits_2(capsys, db, tmp_path):
    code, _, err = drift(capsys, "trends", "--db", str(db), "--chart", str(tmp_path))
    assert code == 2 and ".png" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = drift(capsys, "trends", "--db", str(db), "--chart", str(blocker / "trend.svg"))
    assert code == 2 and "cannot write it" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--days", "0"], "--days"),
        (["--days", "3651"], "--days"),
        (["--by", "owner"], "--by"),
        (["--chart", "trend.jpg"], ".png, .svg, .html"),
        (["--chart", "trend"], ".png, .svg, .html"),
        (["--json", "--csv"], "choose one"),
    ],
)
def test_hostile_flags_exit_2(capsys, db, args, says):
    code, out, err = drift(capsys, "trends", "--db", str(db), *args)
    assert code == 2 and says in err and out == ""


def test_a_missing_file_or_one_without_views_exits_2(capsys, tmp_path):
    missing = tmp_path / "nope.duckdb"
    code, _, err = drift(capsys, "trends", "--db", str(missing))
    assert code == 2 and str(missing) in err and not missing.exists()
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute("CREATE TABLE drift_findings (scan_date DATE)")
    code, _, err = drift(capsys, "trends", "--db", str(old))
    assert code == 2 and "trend_coverage" in err and "next pipeline run" in err


def test_a_writer_holding_the_file_is_waited_for_then_exit_3(capsys, db):
    with holding(db, "rw") as holder:
        code, out, err = drift(capsys, "trends", "--db", str(db), "--wait", "0.3")
    assert code == 3 and str(db) in err and f"PID {holder.proc.pid}" in err and out == ""
