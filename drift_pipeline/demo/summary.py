"""What the demo prints for a person once the store is filled: one count of repos, the latest
day's findings by category and severity, how many of the product's rule ids the history shows, the
issues filed, where the DuckDB file is, and queries."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.store import DriftStore

SHOWN_ISSUES = 5
SEVERITIES = ("error", "warning", "info")
# Each runs as `drift sql --db <file> "<query>"` (the demo's test runs every one).
EXAMPLE_QUERIES = (
    # the trend views (drift_pipeline.store.views): NULL on a day a domain was not observed, never 0
    "SELECT scan_date, category, sum(findings) AS findings FROM trend_findings_daily GROUP BY ALL ORDER BY ALL",
    "SELECT repo, team, findings, distinct_findings, rank FROM trend_top_repos(30) ORDER BY rank, repo LIMIT 10",
    "SELECT repo, category, number, url FROM filed_issues WHERE number IS NOT NULL ORDER BY repo, category",
)


def repo_counts(store: DriftStore, org: str, day: date) -> tuple[int, int]:
    """(repos listed, repos in scope) of ``org`` in the inventory of ``day``."""
    row = store.rows(
        "SELECT count(*) AS listed, count(*) FILTER (in_scope) AS in_scope FROM repo_inventory "
        "WHERE org = ? AND scan_date = ?",
        [org, day],
    )[0]
    return int(row["listed"]), int(row["in_scope"])


def repos_line(org: str, listed: int, in_scope: int) -> str:
    """The one way the demo counts repos (the seed line and the inventory line use it)."""
    return f"{listed} repos listed in {org}, {in_scope} in scope"


def coverage_lines(store: DriftStore, org: str) -> list[str]:
    """Per domain, on how many of the stored days it was observed (``trend_coverage``)."""
    rows = store.rows(
        "SELECT domain, count(*) AS days, count(*) FILTER (observed) AS observed, "
        "min(scan_date) FILTER (observed) AS first FROM trend_coverage WHERE org = ? GROUP BY domain ORDER BY domain",
        [org],
    )
    lines = []
    for r in rows:
        days, observed = int(r["days"]), int(r["observed"])
        if observed == days:
            lines.append(f"{r['domain']}: observed on all {days} days")
        else:
            since = f", from {r['first']}" if observed else ""
            lines.append(f"{r['domain']}: observed on {observed} of {days} days{since} (the rest NULL, not observed)")
    return lines


def rules_seen(store: DriftStore, org: str) -> set[str]:
    """The rule ids of ``org``'s stored findings, over every stored day."""
    return {r["rule"] for r in store.rows("SELECT DISTINCT rule FROM drift_findings WHERE org = ?", [org])}


def rules_line(seen: set[str]) -> str:
    """``N of M rule ids seen``: M is every rule id of the product's rule families (``rules.findings.RULES``)."""
    known = [rule for rule in RULES if rule in seen]
    missing = [rule for rule in RULES if rule not in seen]
    line = f"{len(known)} of {len(RULES)} rule ids seen (drift_findings, every day; the cases: SCENARIO.md)"
    return line + (f"; not seen: {', '.join(missing)}" if missing else "")


def example_commands(db: Path) -> list[str]:
    return [f"drift sql --db {shlex.quote(str(db))} {shlex.quote(q)}" for q in EXAMPLE_QUERIES]


def api_url(html_url: str) -> str:
    """An issue's API URL from its web address (``/{owner}/{repo}/issues/{n}``): the sandbox serves
    GitHub's API only, so the API URL is the one a person can open."""
    parts = urlsplit(html_url)
    return urlunsplit((parts.scheme, parts.netloc, "/repos" + parts.path, "", ""))


def print_summary(db: Path, org: str, day: date, token: str, say: Callable[[str], None]) -> None:
    with DriftStore(db, read_only=True) as store:
        listed, in_scope = repo_counts(store, org, day)
        cells = store.rows(
            "SELECT category, severity, count(*) AS n FROM drift_findings WHERE org = ? AND scan_date = ? GROUP BY ALL",
            [org, day],
        )
        issues = store.rows(
            "SELECT repo, category, min(number) AS number, arg_min(url, number) AS url FROM filed_issues "
            "WHERE org = ? AND scan_date = ? AND number IS NOT NULL GROUP BY repo, category ORDER BY repo, category",
            [org, day],
        )
        coverage = coverage_lines(store, org)
        seen = rules_seen(store, org)
    say(f"repos on {day}: {repos_line(org, listed, in_scope)} (repo_inventory)")
    say("history per domain (trend_coverage): " + "; ".join(coverage))
    say(rules_line(seen))
    table: dict[str, dict[str, int]] = {}
    for c in cells:
        table.setdefault(c["category"], {})[c["severity"]] = int(c["n"])
    severities = [s for s in SEVERITIES if any(s in t for t in table.values())]
    severities += sorted({s for t in table.values() for s in t} - set(severities))
    total = sum(sum(t.values()) for t in table.values())
    say(f"findings on {day}: {total}" + (" (by category and severity)" if total else ""))
    if total:
        print("         " + f"{'category':<10}" + "".join(f"{s:>9}" for s in severities) + f"{'total':>9}")
        for category in sorted(table):
            row = table[category]
            counts = "".join(f"{row.get(s, 0):>9}" for s in severities)
            print("         " + f"{category:<10}" + counts + f"{sum(row.values()):>9}")
    say(f"issues filed in the GitHub sandbox for {day}: {len(issues)}")
    if issues:
        print(f"         (its API answers with the token: curl -H 'Authorization: token {token}' URL)")
    for i in issues[:SHOWN_ISSUES]:
        print(f"         {org}/{i['repo']} [{i['category']}] #{i['number']}  {api_url(i['url'])}")
    if len(issues) > SHOWN_ISSUES:
        print(f"         ... and {len(issues) - SHOWN_ISSUES} more (the third query below lists them all)")
    say(f"DuckDB file: {db}")
    say("example queries (findings per day and category, the repos drifting most, the issues filed):")
    for command in example_commands(db):
        print(f"         {command}")
    print(f"         drift trends --db {shlex.quote(str(db))} --days 30 --by category --chart trend.html")
