"""Trend views of the DuckDB store: the questions users ask, answered in SQL, created with the schema.

``store_schema.schema_changes`` appends :func:`view_changes`, so every store that prepares the file (any
pipeline write) creates or updates these views; a reader of an up-to-date file never writes. A
DuckLake catalog keeps the views but not macros: there each session creates the table macros as
temporary ones (:func:`macro_statements`). Each
view carries a comment with the hash of its definition, so a changed definition is replaced once and
an unchanged one is left alone. Column names are stable (extend, never rename): README queries,
``drift trends`` and dashboards use them.

Domains and "not observed". A finding belongs to one *domain*: ``code``, ``process_activity``
(the process rules of :data:`ACTIVITY_RULES`, backfilled exactly), ``process_settings`` (every other
process rule: live-only) or ``infra`` (live-only). A *scanned day* of an org is a day with an
inventory or a ``coverage`` row. Code is observed on a day with an inventory, process activity on a
day with ``process_scan_status`` rows, process settings and infra when ``coverage`` says so (no row:
not observed). On a day a domain was not observed, its counts are NULL, never 0.

``trend_coverage`` — one row per scanned day, org and domain:
    scan_date, org, domain, category, observed (BOOLEAN, never NULL), reason (why not observed, or
    the coverage row's reason), findings (that domain's findings that day; NULL when not observed)
``trend_findings_daily`` — one row per scanned day, org and (category, rule, severity) the org ever had:
    scan_date, org, category, rule, severity, domain, observed, findings (NULL when the rule's domain
    was not observed, else the count, 0 included), repos (distinct repos with it; NULL likewise)
``trend_findings_by_repo`` — one row per scanned day, org, repo (that day's inventory, plus any repo
with findings) and domain, joined with that day's inventory:
    scan_date, org, repo, team, tier, in_scope, domain, category, observed, findings, errors,
    warnings (the three counts NULL when the domain was not observed)
``trend_resolution`` — one row per org and fingerprint:
    org, fingerprint, repo, project, category, rule, domain, severity (latest), first_seen,
    last_seen, days_seen, is_open (seen on the latest day its domain was observed), resolved_on
    (first observed day of its domain after last_seen; NULL while open), days_to_resolution
    (resolved_on - first_seen in days; NULL while open)
``trend_issues_weekly`` — one row per week (Monday, of the findings' scan date), org and category:
    week, org, category, filed (distinct issues created), still_open (of those, issues with at least
    one fingerprint still open in ``trend_resolution``; the ledger does not record closing)
``trend_top_repos(days)`` — table macro: repos drifting most over the last ``days`` scanned-calendar
days ending at the org's latest scanned day:
    org, repo, team, tier (latest in the window), findings (finding-days), distinct_findings,
    days_with_findings, first_day, last_day (the window), rank (1 = most findings, per org)
"""

from __future__ import annotations

import hashlib

import duckdb

from drift_pipeline.rules.process.common import ACTIVITY_RULES

__all__ = ["ACTIVITY_RULES", "DOMAINS", "MACROS", "VIEWS", "macro_statements", "view_changes"]

# domain -> category of its findings
DOMAINS = {"code": "code", "process_activity": "process", "process_settings": "process", "infra": "infra"}

_ACTIVITY = ", ".join(f"'{r}'" for r in ACTIVITY_RULES)
_DOMAIN_OF = (
    f"CASE WHEN category = 'process' THEN CASE WHEN rule IN ({_ACTIVITY}) THEN 'process_activity' "
    "ELSE 'process_settings' END ELSE category END"
)
_DOMAIN_ROWS = ", ".join(f"('{d}', '{c}')" for d, c in DOMAINS.items())

VIEWS: dict[str, str] = {
    "trend_coverage": f"""
        WITH days AS (
            SELECT DISTINCT scan_date, org FROM repo_inventory
            UNION SELECT DISTINCT scan_date, org FROM coverage
        ),
        domains(domain, category) AS (VALUES {_DOMAIN_ROWS}),
        inv AS (SELECT DISTINCT scan_date, org FROM repo_inventory),
        act AS (SELECT DISTINCT scan_date, org FROM process_scan_status),
        cov AS (
            SELECT scan_date, org, domain, bool_and(observed) AS observed,
                   string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
            FROM coverage GROUP BY ALL
        ),
        f AS (SELECT scan_date, org, {_DOMAIN_OF} AS domain, count(*) AS n FROM drift_findings GROUP BY ALL),
        obs AS (
            SELECT d.scan_date, d.org, m.domain, m.category,
                CASE m.domain
                    WHEN 'code' THEN inv.org IS NOT NULL
                    WHEN 'process_activity' THEN act.org IS NOT NULL
                    ELSE coalesce(cov.observed, false)
                END AS observed,
                CASE m.domain
                    WHEN 'code' THEN CASE WHEN inv.org IS NULL THEN 'no inventory this day' END
                    WHEN 'process_activity' THEN CASE WHEN act.org IS NULL THEN 'process not scanned this day' END
                    ELSE coalesce(cov.reason, CASE WHEN cov.org IS NULL THEN 'not scanned this day' END)
                END AS reason
            FROM days d CROSS JOIN domains m
            LEFT JOIN inv ON inv.scan_date = d.scan_date AND inv.org = d.org
            LEFT JOIN act ON act.scan_date = d.scan_date AND act.org = d.org
            LEFT JOIN cov ON cov.scan_date = d.scan_date AND cov.org = d.org AND cov.domain = m.domain
        )
        SELECT o.scan_date, o.org, o.domain, o.category, o.observed, o.reason,
               CASE WHEN o.observed THEN coalesce(f.n, 0) END AS findings
        FROM obs o
        LEFT JOIN f ON f.scan_date = o.scan_date AND f.org = o.org AND f.domain = o.domain
    """,
    "trend_findings_daily": f"""
        WITH f AS (SELECT *, {_DOMAIN_OF} AS domain FROM drift_findings),
        groups AS (SELECT DISTINCT org, category, rule, severity, domain FROM f),
        counts AS (
            SELECT scan_date, org, category, rule, severity, count(*) AS n, count(DISTINCT repo) AS repos
            FROM f GROUP BY ALL
        )
        SELECT c.scan_date, c.org, g.category, g.rule, g.severity, g.domain, c.observed,
               CASE WHEN c.observed THEN coalesce(n.n, 0) END AS findings,
               CASE WHEN c.observed THEN coalesce(n.repos, 0) END AS repos
        FROM groups g
        JOIN trend_coverage c ON c.org = g.org AND c.domain = g.domain
        LEFT JOIN counts n ON n.scan_date = c.scan_date AND n.org = g.org AND n.category = g.category
            AND n.rule = g.rule AND n.severity = g.severity
    """,
    "trend_findings_by_repo": f"""
        WITH f AS (
            SELECT scan_date, org, repo, {_DOMAIN_OF} AS domain, count(*) AS n,
                   count(*) FILTER (WHERE severity = 'error') AS errors,
                   count(*) FILTER (WHERE severity = 'warning') AS warnings
            FROM drift_findings GROUP BY ALL
        ),
        repos AS (
            SELECT DISTINCT scan_date, org, repo FROM repo_inventory
            UNION SELECT DISTINCT scan_date, org, repo FROM drift_findings
        ),
        inv AS (
            SELECT scan_date, org, repo, any_value(team) AS team, any_value(tier) AS tier,
                   any_value(in_scope) AS in_scope
            FROM repo_inventory GROUP BY ALL
        )
        SELECT r.scan_date, r.org, r.repo, i.team, i.tier, i.in_scope, c.domain, c.category, c.observed,
               CASE WHEN c.observed THEN coalesce(f.n, 0) END AS findings,
               CASE WHEN c.observed THEN coalesce(f.errors, 0) END AS errors,
               CASE WHEN c.observed THEN coalesce(f.warnings, 0) END AS warnings
        FROM repos r
        JOIN trend_coverage c ON c.scan_date = r.scan_date AND c.org = r.org
        LEFT JOIN inv i ON i.scan_date = r.scan_date AND i.org = r.org AND i.repo = r.repo
        LEFT JOIN f ON f.scan_date = r.scan_date AND f.org = r.org AND f.repo = r.repo AND f.domain = c.domain
    """,
    "trend_resolution": f"""
        WITH f AS (SELECT *, {_DOMAIN_OF} AS domain FROM drift_findings),
        seen AS (
            SELECT org, fingerprint, any_value(repo) AS repo, any_value(project) AS project,
                   any_value(category) AS category, any_value(rule) AS rule, any_value(domain) AS domain,
                   arg_max(severity, scan_date) AS severity, min(scan_date) AS first_seen,
                   max(scan_date) AS last_seen, count(DISTINCT scan_date) AS days_seen
            FROM f GROUP BY org, fingerprint
        ),
        observed AS (SELECT org, domain, scan_date FROM trend_coverage WHERE observed),
        latest AS (SELECT org, domain, max(scan_date) AS latest FROM observed GROUP BY ALL),
        resolved AS (
            SELECT s.org, s.fingerprint, min(o.scan_date) AS resolved_on
            FROM seen s JOIN observed o ON o.org = s.org AND o.domain = s.domain AND o.scan_date > s.last_seen
            GROUP BY ALL
        )
        SELECT s.org, s.fingerprint, s.repo, s.project, s.category, s.rule, s.domain, s.severity,
               s.first_seen, s.last_seen, s.days_seen,
               r.resolved_on IS NULL AS is_open, r.resolved_on,
               CAST(r.resolved_on - s.first_seen AS INTEGER) AS days_to_resolution
        FROM seen s
        LEFT JOIN resolved r ON r.org = s.org AND r.fingerprint = s.fingerprint
    """,
    "trend_issues_weekly": """
        WITH created AS (
            SELECT CAST(date_trunc('week', scan_date) AS DATE) AS week, org, category,
                   coalesce(url, coalesce(target_repo, repo) || '#' || number) AS issue,
                   coalesce(json_extract_string(fingerprints, '$[*]'), []) AS fps
            FROM filed_issues WHERE action = 'created'
        ),
        issues AS (
            SELECT week, org, category, issue,
                   bool_or(EXISTS (
                       SELECT 1 FROM trend_resolution r
                       WHERE r.org = c.org AND r.is_open AND list_contains(c.fps, r.fingerprint)
                   )) AS still_open
            FROM created c GROUP BY ALL
        )
        SELECT week, org, category, count(*) AS filed, count(*) FILTER (WHERE still_open) AS still_open
        FROM issues GROUP BY ALL
    """,
}

# table macros: name -> (parameters, body)
MACROS: dict[str, tuple[str, str]] = {
    "trend_top_repos": (
        "days",
        """
        WITH win AS (
            SELECT org, last_day, last_day - (CAST(days AS INTEGER) - 1) AS first_day
            FROM (SELECT org, max(scan_date) AS last_day FROM trend_coverage GROUP BY org)
        ),
        win_rows AS (
            SELECT f.*, w.first_day, w.last_day FROM drift_findings f
            JOIN win w ON w.org = f.org AND f.scan_date BETWEEN w.first_day AND w.last_day
        ),
        inv AS (
            SELECT i.org, i.repo, arg_max(i.team, i.scan_date) AS team, arg_max(i.tier, i.scan_date) AS tier
            FROM repo_inventory i JOIN win w ON w.org = i.org AND i.scan_date BETWEEN w.first_day AND w.last_day
            GROUP BY ALL
        ),
        totals AS (
            SELECT org, repo, count(*) AS findings, count(DISTINCT fingerprint) AS distinct_findings,
                   count(DISTINCT scan_date) AS days_with_findings, any_value(first_day) AS first_day,
                   any_value(last_day) AS last_day
            FROM win_rows GROUP BY ALL
        )
        SELECT t.org, t.repo, i.team, i.tier, t.findings, t.distinct_findings, t.days_with_findings,
               t.first_day, t.last_day, CAST(rank() OVER (PARTITION BY t.org ORDER BY t.findings DESC) AS INTEGER)
               AS rank
        FROM totals t LEFT JOIN inv i ON i.org = t.org AND i.repo = t.repo
        ORDER BY t.org, rank, t.repo
        """,
    ),
}


def _signature(text: str) -> str:
    return "drift-view " + hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def _statements(*, macros: bool = True) -> list[tuple[str, str, list[str]]]:
    """(kind, name, statements creating it) in dependency order (views before the macros that use them)."""
    out = []
    for name, body in VIEWS.items():
        sig = _signature(body)
        out.append(("view", name, [f"CREATE OR REPLACE VIEW {name} AS {body}", f"COMMENT ON VIEW {name} IS '{sig}'"]))
    if macros:
        for name, (params, body) in MACROS.items():
            sig = _signature(params + body)
            out.append(
                (
                    "macro",
                    name,
                    [
                        f"CREATE OR REPLACE MACRO {name}({params}) AS TABLE {body}",
                        f"COMMENT ON MACRO TABLE {name} IS '{sig}'",
                    ],
                )
            )
    return out


def macro_statements() -> list[str]:
    """The table macros as temporary ones, for a session on a catalog that keeps no macros (DuckLake)."""
    return [f"CREATE OR REPLACE TEMP MACRO {name}({params}) AS TABLE {body}" for name, (params, body) in MACROS.items()]


def view_changes(con: duckdb.DuckDBPyConnection, *, macros: bool = True) -> list[str]:
    """The statements that create the trend views (and, with ``macros``, the table macros) that are
    missing or defined differently in the current database."""
    have = {
        ("view", name): comment
        for name, comment in con.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND database_name = current_database()"
        ).fetchall()
    }
    have.update(
        (("macro", name), comment)
        for name, comment in con.execute(
            "SELECT function_name, comment FROM duckdb_functions() WHERE function_type = 'table_macro' AND NOT internal"
        ).fetchall()
    )
    changes: list[str] = []
    stale = False  # a view replaced: the ones defined after it are replaced too (they may depend on it)
    for kind, name, statements in _statements(macros=macros):
        sig = statements[1].rsplit(" IS ", 1)[1].strip("'")
        if stale or have.get((kind, name)) != sig:
            stale = True
            changes += statements
    return changes
