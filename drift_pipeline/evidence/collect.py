"""The facts a change-evidence report is built from, read from the store through a query function.

Pure: no Dagster, no GitHub, no file access. ``query(sql, params)`` runs one read-only statement on
the store (a DuckDB file or a DuckLake session) and returns its rows as dicts; the CLI passes a
sandboxed read session, the asset ``DriftStore.rows``. Every statement reads the store's own tables
(``store_schema.TABLES``): nothing is fetched from an API, so a report of a past period reads the
same whenever it is produced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

Query = Callable[[str, Sequence[Any]], list[dict[str, Any]]]

# The tables a report reads: a store without one of them cannot give evidence (an older or cut file).
TABLES = (
    "process_activity",
    "process_scan_status",
    "process_settings",
    "repo_inventory",
    "coverage",
    "drift_findings",
    "filed_issues",
)
SETTINGS_DOMAIN = "process_settings"

_ACTIVITY = """
    SELECT scan_date, repo, commit_sha, commit_url, subject, author, committer, is_merge, direct_push,
           pr_number, pr_url, pr_title, merged_by, merged_at, approvals,
           CAST(approved_by AS VARCHAR) AS approved_by
    FROM process_activity WHERE org = ? AND scan_date BETWEEN ? AND ?
    ORDER BY scan_date, repo, merged_at NULLS FIRST, commit_sha
"""
# required approvals per repo and day, as the repo's config declared them that day
_REQUIRED = """
    SELECT scan_date, repo, TRY_CAST(json_extract(expected, '$.required_reviews') AS INTEGER) AS required
    FROM process_scan_status WHERE org = ? AND scan_date BETWEEN ? AND ?
"""
_INVENTORY = """
    SELECT scan_date, repo, tier, team, in_scope FROM repo_inventory
    WHERE org = ? AND scan_date BETWEEN ? AND ?
"""
# what the pipeline recorded as a bypass of review: subject = the commit sha, or pr#<number>
_BYPASSES = """
    SELECT scan_date, repo, subject, fingerprint, json_extract_string(details, '$.actor') AS actor, message
    FROM drift_findings
    WHERE org = ? AND scan_date BETWEEN ? AND ? AND category = 'process' AND rule = 'review_bypassed'
"""
_ISSUES = """
    SELECT scan_date, repo, action, number, url, CAST(fingerprints AS VARCHAR) AS fingerprints
    FROM filed_issues WHERE org = ? AND scan_date >= ? AND number IS NOT NULL
    ORDER BY scan_date, recorded_at
"""
_COVERAGE = """
    SELECT scan_date, bool_and(observed) AS observed, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
    FROM coverage WHERE org = ? AND domain = ? AND scan_date BETWEEN ? AND ? GROUP BY scan_date
"""
# the verdicts of the expected branch settings (rule set: one row per expected setting and day)
_SETTINGS = """
    SELECT scan_date, repo, setting, state FROM process_settings
    WHERE org = ? AND scan_date BETWEEN ? AND ? AND rule IS NOT NULL
"""


@dataclass(frozen=True)
class Facts:
    """Everything the report needs from the store for one org and period (rows as the store has them)."""

    org: str
    start: date
    end: date
    activity: list[dict[str, Any]]
    required: list[dict[str, Any]]
    inventory: list[dict[str, Any]]
    bypasses: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    settings_coverage: list[dict[str, Any]]
    settings: list[dict[str, Any]]


def missing_tables(query: Query) -> list[str]:
    """The report's tables the store lacks (an older schema, or a file cut short)."""
    names = ", ".join(f"'{t}'" for t in TABLES)
    have = {
        r["table_name"]
        for r in query(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            f"AND table_name IN ({names})",
            [],
        )
    }
    return [t for t in TABLES if t not in have]


def orgs(query: Query) -> list[str]:
    """The orgs with process activity or an inventory in the store."""
    rows = query("SELECT DISTINCT org FROM repo_inventory UNION SELECT DISTINCT org FROM process_scan_status", [])
    return sorted(str(r["org"]) for r in rows)


def collect(query: Query, org: str, start: date, end: date) -> Facts:
    """Read the period's facts of ``org`` (``start`` .. ``end``, both included)."""
    span = [org, start, end]
    return Facts(
        org=org,
        start=start,
        end=end,
        activity=query(_ACTIVITY, span),
        required=query(_REQUIRED, span),
        inventory=query(_INVENTORY, span),
        bypasses=query(_BYPASSES, span),
        issues=query(_ISSUES, [org, start]),
        settings_coverage=query(_COVERAGE, [org, SETTINGS_DOMAIN, start, end]),
        settings=query(_SETTINGS, span),
    )
