"""The trend views against straightforward reference queries on generated data.

The views are written for speed (``store_views``: no CTE used twice, pivots, an ASOF join); these
references say the same thing the plain way (correlated subqueries, one question per column), so
equivalence is tested, not assumed. Two orgs, three weeks, random findings in every domain, plus the
edge cases: a fingerprint resolved and seen again, days a domain was not observed (coverage FALSE,
no coverage row, no inventory, no process scan), a day with findings but not scanned, a repo with
findings but no inventory row, a fingerprint twice on one day, issues with no fingerprints (``[]``
and NULL), with several, filed twice, and not created (``found``).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from drift_pipeline.core.rules.process.common import ACTIVITY_RULES
from drift_pipeline.store import DriftStore

START = date(2026, 2, 2)  # a Monday
DAYS = [START + timedelta(days=i) for i in range(21)]
ORGS = ("acme", "beta")
REPOS = [f"r{i}" for i in range(6)]
RULES = [  # (category, rule)
    ("code", "invalid_config"),
    ("code", "workflow_changed"),
    ("process", "review_bypassed"),
    ("process", "branch_protection_missing"),
    ("infra", "resource_missing"),
]
SEVERITIES = ("error", "warning", "info")
NO_INVENTORY = {DAYS[4]}  # coverage rows only: code not observed
NO_PROCESS_SCAN = {DAYS[6], DAYS[7]}  # process activity not observed
UNSCANNED = DAYS[9]  # findings written, but no inventory and no coverage: not a scanned day
REAPPEARS = "acme:r0:invalid_config:back"  # seen D0-D2, absent (observed) D3, seen again D10-D11


def _generate(path: Path, seed: int = 7) -> None:
    with DriftStore(path) as store:
        fill(store, seed)


def fill(store: DriftStore, seed: int = 7) -> None:
    """Write the generated days through ``replace_day`` (and the filed issues) into ``store``."""
    rng = random.Random(seed)
    severity: dict[tuple[str, date], str] = {}  # one severity per fingerprint and day: "latest" is defined
    for org in ORGS:
        for day in DAYS:
            tables: dict[str, list[dict[str, Any]]] = {}
            if day != UNSCANNED and day not in NO_INVENTORY:
                tables["repo_inventory"] = [
                    {"repo": r, "team": rng.choice(["red", "blue"]), "tier": rng.choice(["production", "internal"])}
                    for r in REPOS[:5]  # r5 has findings but never an inventory row
                ]
            if day != UNSCANNED and day not in NO_PROCESS_SCAN:
                tables["process_scan_status"] = [{"repo": r, "mode": "read"} for r in REPOS[:5]]
            if day != UNSCANNED:
                cov = [{"domain": "process_settings", "observed": rng.random() < 0.6, "reason": "live-only"}]
                if rng.random() < 0.7:  # else: no infra row at all
                    cov.append({"domain": "infra", "observed": rng.random() < 0.7, "reason": rng.choice("ab")})
                tables["coverage"] = cov
            findings = []
            for _ in range(rng.randrange(3, 12)):
                repo, (category, rule) = rng.choice(REPOS), rng.choice(RULES)
                fp = f"{org}:{repo}:{rule}:{rng.randrange(3)}"
                sev = severity.setdefault((fp, day), rng.choice(SEVERITIES))
                findings.append(finding(repo, category, rule, sev, fp))
            if org == "acme" and day in (DAYS[0], DAYS[1], DAYS[2], DAYS[10], DAYS[11]):
                findings.append(finding("r0", "code", "invalid_config", "error", REAPPEARS))
                if day == DAYS[1]:  # the same fingerprint twice on one day: one day seen
                    findings.append(finding("r0", "code", "invalid_config", "error", REAPPEARS))
            tables["drift_findings"] = findings
            store.replace_day(day, org, tables)
    fps = sorted(store.rows("SELECT DISTINCT org, fingerprint FROM drift_findings"), key=str)
    issues: list[tuple[Any, ...]] = []
    for n, row in enumerate(rng.sample(fps, 25)):
        day = rng.choice(DAYS)
        more = [row["fingerprint"]] + ([rng.choice(fps)["fingerprint"]] if n % 3 == 0 else [])
        issues.append((day, row["org"], "r1", "code", "created", n, f"https://gh/{n}", json.dumps(more), None))
    issues += [
        (DAYS[3], "acme", "r2", "process", "created", 100, None, "[]", "acme/drift-config"),  # no fingerprints
        (DAYS[12], "acme", "r2", "infra", "created", 101, "https://gh/101", None, None),  # NULL fingerprints
        (DAYS[5], "beta", "r3", "code", "created", 102, "https://gh/102", json.dumps([REAPPEARS]), None),
        (DAYS[6], "beta", "r3", "code", "created", 102, "https://gh/102", "[]", None),  # same issue again
        (DAYS[11], "acme", "r0", "code", "created", 103, "https://gh/103", json.dumps([REAPPEARS]), None),
        (DAYS[12], "acme", "r0", "code", "found", 103, "https://gh/103", json.dumps([REAPPEARS]), None),
    ]
    with store.transaction() as con:
        con.executemany(
            "INSERT INTO filed_issues (scan_date, org, repo, category, action, number, url, fingerprints, "
            "target_repo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            issues,
        )


def finding(repo: str, category: str, rule: str, severity: str, fp: str) -> dict[str, Any]:
    """A row of ``drift_findings`` (project ``.``) for ``replace_day``."""
    return {
        "repo": repo,
        "project": ".",
        "category": category,
        "rule": rule,
        "severity": severity,
        "message": rule,
        "subject": fp,
        "fingerprint": fp,
    }


_ACTIVITY = "[" + ", ".join(f"'{r}'" for r in ACTIVITY_RULES) + "]"
REFERENCE = [
    f"""CREATE TEMP MACRO ref_domain(c, r) AS
        CASE WHEN c <> 'process' THEN c WHEN list_contains({_ACTIVITY}, r) THEN 'process_activity'
             ELSE 'process_settings' END""",
    """CREATE TEMP VIEW ref_coverage AS
        SELECT d.scan_date, d.org, m.domain, m.category, x.observed, x.reason,
               CASE WHEN x.observed THEN (
                   SELECT count(*) FROM drift_findings f WHERE f.scan_date = d.scan_date AND f.org = d.org
                   AND ref_domain(f.category, f.rule) = m.domain) END AS findings
        FROM (SELECT scan_date, org FROM repo_inventory UNION SELECT scan_date, org FROM coverage) d,
             (VALUES ('code', 'code'), ('process_activity', 'process'), ('process_settings', 'process'),
                     ('infra', 'infra')) m(domain, category),
        LATERAL (SELECT
            CASE m.domain
                WHEN 'code' THEN EXISTS (SELECT 1 FROM repo_inventory i WHERE i.scan_date = d.scan_date AND i.org = d.org)
                WHEN 'process_activity' THEN EXISTS (
                    SELECT 1 FROM process_scan_status p WHERE p.scan_date = d.scan_date AND p.org = d.org)
                ELSE coalesce((SELECT bool_and(observed) FROM coverage c
                               WHERE c.scan_date = d.scan_date AND c.org = d.org AND c.domain = m.domain), false)
            END AS observed,
            CASE m.domain
                WHEN 'code' THEN CASE WHEN NOT EXISTS (SELECT 1 FROM repo_inventory i
                    WHERE i.scan_date = d.scan_date AND i.org = d.org) THEN 'no inventory this day' END
                WHEN 'process_activity' THEN CASE WHEN NOT EXISTS (SELECT 1 FROM process_scan_status p
                    WHERE p.scan_date = d.scan_date AND p.org = d.org) THEN 'process not scanned this day' END
                ELSE coalesce((SELECT string_agg(DISTINCT reason, '; ' ORDER BY reason) FROM coverage c
                               WHERE c.scan_date = d.scan_date AND c.org = d.org AND c.domain = m.domain),
                              CASE WHEN NOT EXISTS (SELECT 1 FROM coverage c WHERE c.scan_date = d.scan_date
                                  AND c.org = d.org AND c.domain = m.domain) THEN 'not scanned this day' END)
            END AS reason) x""",
    """CREATE TEMP VIEW ref_findings_daily AS
        SELECT c.scan_date, g.org, g.category, g.rule, g.severity, c.domain, c.observed,
               CASE WHEN c.observed THEN (SELECT count(*) FROM drift_findings f WHERE f.scan_date = c.scan_date
                   AND f.org = g.org AND f.category = g.category AND f.rule = g.rule AND f.severity = g.severity)
               END AS findings,
               CASE WHEN c.observed THEN (SELECT count(DISTINCT repo) FROM drift_findings f
                   WHERE f.scan_date = c.scan_date AND f.org = g.org AND f.category = g.category AND f.rule = g.rule
                   AND f.severity = g.severity) END AS repos
        FROM (SELECT DISTINCT org, category, rule, severity FROM drift_findings) g
        JOIN ref_coverage c ON c.org = g.org AND c.domain = ref_domain(g.category, g.rule)""",
    """CREATE TEMP VIEW ref_findings_by_repo AS
        SELECT r.scan_date, r.org, r.repo, i.team, i.tier, i.in_scope, c.domain, c.category, c.observed,
               CASE WHEN c.observed THEN (SELECT count(*) FROM drift_findings f WHERE f.scan_date = r.scan_date
                   AND f.org = r.org AND f.repo = r.repo AND ref_domain(f.category, f.rule) = c.domain) END AS findings,
               CASE WHEN c.observed THEN (SELECT count(*) FROM drift_findings f WHERE f.scan_date = r.scan_date
                   AND f.org = r.org AND f.repo = r.repo AND ref_domain(f.category, f.rule) = c.domain
                   AND f.severity = 'error') END AS errors,
               CASE WHEN c.observed THEN (SELECT count(*) FROM drift_findings f WHERE f.scan_date = r.scan_date
                   AND f.org = r.org AND f.repo = r.repo AND ref_domain(f.category, f.rule) = c.domain
                   AND f.severity = 'warning') END AS warnings
        FROM (SELECT scan_date, org, repo FROM repo_inventory UNION SELECT scan_date, org, repo FROM drift_findings) r
        JOIN ref_coverage c ON c.scan_date = r.scan_date AND c.org = r.org
        LEFT JOIN repo_inventory i ON i.scan_date = r.scan_date AND i.org = r.org AND i.repo = r.repo""",
    """CREATE TEMP VIEW ref_resolution AS
        SELECT *, resolved_on IS NULL AS is_open, CAST(resolved_on - first_seen AS INTEGER) AS days_to_resolution
        FROM (
            SELECT s.*, (SELECT any_value(f.severity) FROM drift_findings f WHERE f.org = s.org
                         AND f.fingerprint = s.fingerprint AND f.scan_date = s.last_seen) AS severity,
                   (SELECT min(c.scan_date) FROM ref_coverage c WHERE c.org = s.org AND c.domain = s.domain
                         AND c.observed AND c.scan_date > s.last_seen) AS resolved_on
            FROM (
                SELECT org, fingerprint, min(repo) AS repo, min(project) AS project, min(category) AS category,
                       min(rule) AS rule, ref_domain(min(category), min(rule)) AS domain,
                       min(scan_date) AS first_seen, max(scan_date) AS last_seen,
                       count(DISTINCT scan_date) AS days_seen
                FROM drift_findings GROUP BY org, fingerprint
            ) s
        )""",
    """CREATE TEMP VIEW ref_issues_weekly AS
        SELECT week, org, category, count(*) AS filed, count(*) FILTER (WHERE still_open) AS still_open
        FROM (
            SELECT CAST(date_trunc('week', i.scan_date) AS DATE) AS week, i.org, i.category,
                   coalesce(i.url, coalesce(i.target_repo, i.repo) || '#' || i.number) AS issue,
                   bool_or(EXISTS (
                       SELECT 1 FROM ref_resolution r WHERE r.org = i.org AND r.is_open
                       AND r.fingerprint IN (SELECT unnest(json_extract_string(i.fingerprints, '$[*]')))
                   )) AS still_open
            FROM filed_issues i WHERE i.action = 'created' GROUP BY ALL
        )
        GROUP BY ALL""",
]
COLUMNS = {
    "trend_coverage": "scan_date, org, domain, category, observed, reason, findings",
    "trend_findings_daily": "scan_date, org, category, rule, severity, domain, observed, findings, repos",
    "trend_findings_by_repo": "scan_date, org, repo, team, tier, in_scope, domain, category, observed, findings, "
    "errors, warnings",
    "trend_resolution": "org, fingerprint, repo, project, category, rule, domain, severity, first_seen, last_seen, "
    "days_seen, is_open, resolved_on, days_to_resolution",
    "trend_issues_weekly": "week, org, category, filed, still_open",
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("views") / "drift.duckdb"
    _generate(path)
    with duckdb.connect(str(path)) as connection:
        for statement in REFERENCE:
            connection.execute(statement)
        yield connection


def view_and_reference(con: duckdb.DuckDBPyConnection, view: str) -> tuple[list[tuple], list[tuple]]:
    """The rows of ``view`` and of its reference (``REFERENCE`` created in ``con``), ordered."""
    cols = COLUMNS[view]
    assert [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()] == [c.strip() for c in cols.split(",")]
    ref = view.replace("trend_", "ref_")
    got = con.execute(f"SELECT {cols} FROM {view} ORDER BY ALL").fetchall()
    want = con.execute(f"SELECT {cols} FROM {ref} ORDER BY ALL").fetchall()
    return got, want


@pytest.mark.parametrize("view", list(COLUMNS))
def test_view_equals_its_reference(con, view):
    got, want = view_and_reference(con, view)
    assert len(got) > 5 and got == want


def test_the_edge_cases_are_in_the_data(con):
    """The generated data holds what the comparison is meant to cover (else it proves little)."""
    row = con.execute(
        "SELECT first_seen, last_seen, days_seen, is_open, resolved_on FROM trend_resolution WHERE fingerprint = ?",
        [REAPPEARS],
    ).fetchone()
    assert row is not None and row[:3] == (DAYS[0], DAYS[11], 5)  # seen 5 days (twice on one), back after D3
    # not observed: each reason occurs; the unscanned day is in no view
    reasons = {r[0] for r in con.execute("SELECT reason FROM trend_coverage WHERE NOT observed").fetchall()}
    assert {"no inventory this day", "process not scanned this day", "not scanned this day", "live-only"} <= reasons
    assert con.execute("SELECT count(*) FROM trend_coverage WHERE scan_date = ?", [UNSCANNED]).fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM trend_findings_daily WHERE findings IS NULL").fetchone()[0] > 0
    assert (
        con.execute("SELECT count(*) FROM trend_findings_by_repo WHERE repo = 'r5' AND team IS NULL").fetchone()[0] > 0
    )
    resolved = con.execute(
        "SELECT count(*) FILTER (WHERE is_open), count(*) FILTER (NOT is_open) FROM trend_resolution"
    )
    assert all(n > 0 for n in resolved.fetchone())
    # the issue with no fingerprints is filed, never still open; some issues are still open, some not
    weekly = con.execute(
        "SELECT filed, still_open FROM trend_issues_weekly WHERE org = 'acme' AND category = 'process'"
    ).fetchall()
    assert weekly == [(1, 0)]
    filed, still_open = con.execute("SELECT sum(filed), sum(still_open) FROM trend_issues_weekly").fetchone()
    assert filed == 25 + 4 and 0 < still_open < filed  # issue 102 twice in one week: one issue


def test_top_repos_window_ends_on_each_orgs_latest_scanned_day(con):
    got = con.execute("SELECT DISTINCT org, first_day, last_day FROM trend_top_repos(3) ORDER BY org").fetchall()
    want = con.execute(
        "SELECT org, max(scan_date) - 2, max(scan_date) FROM ref_coverage GROUP BY org ORDER BY org"
    ).fetchall()
    assert got == want
    totals = con.execute(
        "SELECT org, repo, count(*), count(DISTINCT fingerprint) FROM drift_findings f "
        "WHERE scan_date > (SELECT max(scan_date) FROM ref_coverage c WHERE c.org = f.org) - 3 GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert (
        con.execute("SELECT org, repo, findings, distinct_findings FROM trend_top_repos(3) ORDER BY ALL").fetchall()
        == totals
    )
