"""Trend views of the DuckDB store: the questions users ask, answered in SQL, created with the schema.

``schema.schema_changes`` appends :func:`view_changes`, so every store that prepares the file (any
pipeline write) creates or updates these views; a reader of an up-to-date file never writes. A
DuckLake catalog keeps the views but not macros: there each session creates the table macros as
temporary ones (:func:`macro_statements`). Each
view carries a comment with the hash of its definition, so a changed definition is replaced once and
an unchanged one is left alone. Column names are stable (extend, never rename): README queries,
``drift trends`` and dashboards use them. ``trend_findings_daily`` and ``trend_findings_by_repo``
read the per-day summaries of ``store.summary`` (counts only, kept by the write that replaces a
day); what was observed is decided here, from the daily tables, for every view.

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
``trend_reviews_weekly`` — one row per week (Monday, of the change's scan date), org and tier with changes:
    week, org, tier (that day's inventory), changes (merged PRs and commits pushed without one, on default
    branches), reviewed (through a PR with at least max(required, 1) approvals at merge, required as the
    repo's config said that day), share_reviewed (reviewed / changes); ``drift evidence`` has the details
``trend_top_repos(days)`` — table macro: repos drifting most over the last ``days`` scanned-calendar
days ending at the org's latest scanned day:
    org, repo, team, tier (latest in the window), findings (finding-days), distinct_findings,
    days_with_findings, first_day, last_day (the window), rank (1 = most findings, per org)
"""

from __future__ import annotations

import hashlib

import duckdb

from drift_pipeline.core.rules.process.common import ACTIVITY_RULES

__all__ = ["ACTIVITY_RULES", "DOMAINS", "MACROS", "VIEWS", "domain_of", "macro_statements", "signature", "view_changes"]

# domain -> category of its findings
DOMAINS = {"code": "code", "process_activity": "process", "process_settings": "process", "infra": "infra"}

_ACTIVITY = ", ".join(f"'{r}'" for r in ACTIVITY_RULES)


def domain_of(alias: str = "") -> str:
    """The domain of a finding from its ``category`` and ``rule`` (columns of ``alias``, if given)."""
    a = f"{alias}." if alias else ""
    return (
        f"CASE WHEN {a}category = 'process' THEN CASE WHEN {a}rule IN ({_ACTIVITY}) THEN 'process_activity' "
        f"ELSE 'process_settings' END ELSE {a}category END"
    )


_DOMAIN_OF = domain_of()
_DOMAIN_ROWS = ", ".join(f"('{d}', '{c}')" for d, c in DOMAINS.items())


def _per_domain(prefix: str) -> str:
    """``r.<prefix>_<domain>`` of the domain ``c.domain`` (the pivoted counts of trend_findings_by_repo)."""
    return "CASE c.domain " + " ".join(f"WHEN '{d}' THEN r.{prefix}_{d}" for d in DOMAINS) + " END"


# Performance (365 days x 1,000 repos, benchmarks/pipeline.py --trends-only): every view reads the
# tables once where it can, and no view uses a CTE twice: DuckDB materializes such a CTE, which
# stops both filter pushdown (``WHERE rule IN (...)`` reaching the scan) and the pruning of
# aggregates a query does not use (``count(DISTINCT scan_date)`` when ``days_seen`` is not read).
# Findings per day and rule, and per day and repo (pivoted per domain, with the inventory), are read
# from the summaries (``store.summary``: about 3,650 and 365,000 rows against 710,000 findings and
# 365,000 inventory rows regrouped on every query before); resolution is an ASOF join; "still open"
# compares each filed fingerprint's last day with its domain's latest observed day.

# CTEs: scanned days x domains, observed or not and why (no counts): ``obs``. Shared text, not a view,
# so that each view's query plans it with its own filters.
_OBSERVED = f"""
    days AS (
        SELECT DISTINCT scan_date, org FROM repo_inventory
        UNION SELECT DISTINCT scan_date, org FROM coverage
    ),
    domains(domain, category) AS (VALUES {_DOMAIN_ROWS}),
    inv_days AS (SELECT DISTINCT scan_date, org FROM repo_inventory),
    act_days AS (SELECT DISTINCT scan_date, org FROM process_scan_status),
    cov AS (
        SELECT scan_date, org, domain, bool_and(observed) AS observed,
               string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
        FROM coverage GROUP BY ALL
    ),
    obs AS (
        SELECT d.scan_date, d.org, m.domain, m.category,
            CASE m.domain
                WHEN 'code' THEN inv_days.org IS NOT NULL
                WHEN 'process_activity' THEN act_days.org IS NOT NULL
                ELSE coalesce(cov.observed, false)
            END AS observed,
            CASE m.domain
                WHEN 'code' THEN CASE WHEN inv_days.org IS NULL THEN 'no inventory this day' END
                WHEN 'process_activity' THEN CASE WHEN act_days.org IS NULL THEN 'process not scanned this day' END
                ELSE coalesce(cov.reason, CASE WHEN cov.org IS NULL THEN 'not scanned this day' END)
            END AS reason
        FROM days d CROSS JOIN domains m
        LEFT JOIN inv_days ON inv_days.scan_date = d.scan_date AND inv_days.org = d.org
        LEFT JOIN act_days ON act_days.scan_date = d.scan_date AND act_days.org = d.org
        LEFT JOIN cov ON cov.scan_date = d.scan_date AND cov.org = d.org AND cov.domain = m.domain
    )"""

VIEWS: dict[str, str] = {
    "trend_coverage": f"""
        WITH {_OBSERVED},
        f AS (
            SELECT scan_date, org, {_DOMAIN_OF} AS domain, CAST(sum(n) AS BIGINT) AS n
            FROM (SELECT scan_date, org, category, rule, count(*) AS n FROM drift_findings GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT o.scan_date, o.org, o.domain, o.category, o.observed, o.reason,
               CASE WHEN o.observed THEN coalesce(f.n, 0) END AS findings
        FROM obs o
        LEFT JOIN f ON f.scan_date = o.scan_date AND f.org = o.org AND f.domain = o.domain
    """,
    # the dense grid (groups x the domain's scanned days) and the day's counts (summary_rule_days) meet in
    # one GROUP BY, not a LEFT JOIN, so a filter on a group column reaches both
    "trend_findings_daily": f"""
        WITH {_OBSERVED},
        groups AS (SELECT DISTINCT org, category, rule, severity FROM summary_rule_days),
        grid AS (
            SELECT c.scan_date, c.org, g.category, g.rule, g.severity, c.domain, c.observed
            FROM groups g JOIN obs c ON c.org = g.org AND c.domain = {domain_of("g")}
        ),
        cells AS (
            SELECT scan_date, org, category, rule, severity, domain, observed, NULL AS n, NULL AS repos FROM grid
            UNION ALL
            SELECT scan_date, org, category, rule, severity, NULL, NULL, findings, repos FROM summary_rule_days
        )
        SELECT scan_date, org, category, rule, severity, any_value(domain) AS domain,
               any_value(observed) AS observed,
               CASE WHEN any_value(observed) THEN CAST(coalesce(sum(n), 0) AS BIGINT) END AS findings,
               CASE WHEN any_value(observed) THEN CAST(coalesce(sum(repos), 0) AS BIGINT) END AS repos
        FROM cells GROUP BY scan_date, org, category, rule, severity
        HAVING count(domain) > 0
    """,
    # the day's team, tier, scope and counts pivoted per domain (summary_repo_days); then one row per domain
    "trend_findings_by_repo": f"""
        WITH {_OBSERVED}
        SELECT r.scan_date, r.org, r.repo, r.team, r.tier, r.in_scope, c.domain, c.category, c.observed,
               CASE WHEN c.observed THEN {_per_domain("n")} END AS findings,
               CASE WHEN c.observed THEN {_per_domain("e")} END AS errors,
               CASE WHEN c.observed THEN {_per_domain("w")} END AS warnings
        FROM summary_repo_days r JOIN obs c ON c.scan_date = r.scan_date AND c.org = r.org
    """,
    "trend_resolution": f"""
        WITH {_OBSERVED},
        seen AS (
            SELECT org, fingerprint, any_value(repo) AS repo, any_value(project) AS project,
                   any_value(category) AS category, any_value(rule) AS rule,
                   arg_max(severity, scan_date) AS severity, min(scan_date) AS first_seen,
                   max(scan_date) AS last_seen, count(DISTINCT scan_date) AS days_seen
            FROM drift_findings GROUP BY org, fingerprint
        ),
        s AS (SELECT *, {_DOMAIN_OF} AS domain FROM seen),
        observed AS (SELECT org, domain, scan_date FROM obs WHERE observed)
        SELECT s.org, s.fingerprint, s.repo, s.project, s.category, s.rule, s.domain, s.severity,
               s.first_seen, s.last_seen, s.days_seen,
               o.scan_date IS NULL AS is_open, o.scan_date AS resolved_on,
               CAST(o.scan_date - s.first_seen AS INTEGER) AS days_to_resolution
        FROM s
        ASOF LEFT JOIN observed o ON o.org = s.org AND o.domain = s.domain AND o.scan_date > s.last_seen
    """,
    # open (as in trend_resolution): no observed day of its domain after its last day
    "trend_issues_weekly": f"""
        WITH {_OBSERVED},
        created AS (
            SELECT CAST(date_trunc('week', scan_date) AS DATE) AS week, org, category,
                   coalesce(url, coalesce(target_repo, repo) || '#' || number) AS issue,
                   coalesce(json_extract_string(fingerprints, '$[*]'), []) AS fps
            FROM filed_issues WHERE action = 'created'
        ),
        wanted AS (SELECT DISTINCT org, unnest(fps) AS fingerprint FROM created),
        seen AS (
            SELECT f.org, f.fingerprint, any_value(f.category) AS category, any_value(f.rule) AS rule,
                   max(f.scan_date) AS last_seen
            FROM drift_findings f SEMI JOIN wanted w ON w.org = f.org AND w.fingerprint = f.fingerprint
            GROUP BY f.org, f.fingerprint
        ),
        latest AS (SELECT org, domain, max(scan_date) AS latest FROM obs WHERE observed GROUP BY ALL),
        open_fps AS (
            SELECT s.org, s.fingerprint FROM seen s
            LEFT JOIN latest l ON l.org = s.org AND l.domain = {domain_of("s")}
            WHERE l.latest IS NULL OR s.last_seen >= l.latest
        ),
        issues AS (
            SELECT c.week, c.org, c.category, c.issue, bool_or(o.fingerprint IS NOT NULL) AS still_open
            FROM (
                SELECT week, org, category, issue,
                       unnest(CASE WHEN len(fps) = 0 THEN [NULL::VARCHAR] ELSE fps END) AS fingerprint
                FROM created
            ) c
            LEFT JOIN open_fps o ON o.org = c.org AND o.fingerprint = c.fingerprint
            GROUP BY ALL
        )
        SELECT week, org, category, count(*) AS filed, count(*) FILTER (WHERE still_open) AS still_open
        FROM issues GROUP BY ALL
    """,
    # change evidence per week and tier (drift_pipeline.evidence decides the same "reviewed"): a change is a
    # merged PR or a commit without one; reviewed = through a PR with max(required, 1) approvals at merge
    "trend_reviews_weekly": """
        WITH a AS (
            SELECT scan_date, org, repo, pr_number, coalesce(approvals, 0) AS approvals,
                   CASE WHEN pr_number IS NULL THEN commit_sha ELSE 'pr#' || pr_number END AS change
            FROM process_activity
        ),
        c AS (
            SELECT org, repo, change, max(scan_date) AS scan_date, any_value(pr_number) AS pr_number,
                   max(approvals) AS approvals
            FROM a GROUP BY org, repo, change
        ),
        j AS (
            SELECT c.*, i.tier, TRY_CAST(json_extract(s.expected, '$.required_reviews') AS INTEGER) AS required
            FROM c
            LEFT JOIN repo_inventory i ON i.org = c.org AND i.scan_date = c.scan_date AND i.repo = c.repo
            LEFT JOIN process_scan_status s ON s.org = c.org AND s.scan_date = c.scan_date AND s.repo = c.repo
        )
        SELECT CAST(date_trunc('week', scan_date) AS DATE) AS week, org, tier, count(*) AS changes,
               count(*) FILTER (WHERE pr_number IS NOT NULL AND approvals >= greatest(coalesce(required, 0), 1))
               AS reviewed,
               round(reviewed / changes, 4) AS share_reviewed
        FROM j GROUP BY ALL
    """,
}

# table macros: name -> (parameters, body)
MACROS: dict[str, tuple[str, str]] = {
    "trend_top_repos": (
        "days",
        """
        WITH win AS (
            SELECT org, last_day, last_day - (CAST(days AS INTEGER) - 1) AS first_day
            FROM (
                SELECT org, max(scan_date) AS last_day
                FROM (SELECT org, scan_date FROM repo_inventory UNION ALL SELECT org, scan_date FROM coverage)
                GROUP BY org
            )
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


def signature(text: str, kind: str = "drift-view") -> str:
    """``kind`` and a short hash of ``text`` (whitespace-insensitive): the comment that dates a definition."""
    return f"{kind} " + hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def _statements(*, macros: bool = True) -> list[tuple[str, str, list[str]]]:
    """(kind, name, statements creating it) in dependency order (views before the macros that use them)."""
    out = []
    for name, body in VIEWS.items():
        sig = signature(body)
        out.append(("view", name, [f"CREATE OR REPLACE VIEW {name} AS {body}", f"COMMENT ON VIEW {name} IS '{sig}'"]))
    if macros:
        for name, (params, body) in MACROS.items():
            sig = signature(params + body)
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
