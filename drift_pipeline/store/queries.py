"""The README's trend questions, in SQL over the trend views (``store.views``): one list, one home.

The README's SQL block shows exactly these statements (``test_demo`` checks the set), their rows on a
hand-built store are checked by ``test_trends``, and ``make bench`` times each over a year of findings.
Each is ``(title, sql)``; the SQL reads only the views' stable columns.
"""

from __future__ import annotations

README_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "findings per day by rule (NULL: not observed that day, 0: observed, none)",
        "SELECT scan_date, rule, findings FROM trend_findings_daily "
        "WHERE rule IN ('invalid_config', 'branch_protection_missing') ORDER BY rule, scan_date",
    ),
    (
        "which teams' production repos drifted most (finding-days, team as of each day)",
        "SELECT team, sum(findings) AS findings FROM trend_findings_by_repo WHERE tier = 'production' "
        "GROUP BY team ORDER BY findings DESC, team",
    ),
    (
        "time to resolution per category",
        "SELECT category, count(*) AS resolved, avg(days_to_resolution) AS avg_days, "
        "max(days_to_resolution) AS max_days FROM trend_resolution WHERE NOT is_open GROUP BY category ORDER BY category",
    ),
    (
        "repos drifting most over the last 30 days",
        "SELECT repo, team, findings, distinct_findings, rank FROM trend_top_repos(30) ORDER BY rank, repo LIMIT 10",
    ),
    (
        "issues filed and still open per week",
        "SELECT week, category, filed, still_open FROM trend_issues_weekly ORDER BY week, category",
    ),
    (
        "coverage: days each domain was not observed",
        "SELECT domain, count(*) FILTER (WHERE NOT observed) AS not_observed, count(*) AS days "
        "FROM trend_coverage GROUP BY domain ORDER BY domain",
    ),
)
