"""What the demo prints for a person once the store is filled: one count of repos, the latest
day's findings by category and severity, the issues filed, where the DuckDB file is, and queries."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import date
from pathlib import Path

from drift_pipeline.store import DriftStore

SHOWN_ISSUES = 5
SEVERITIES = ("error", "warning", "info")
# Each runs as `drift sql --db <file> "<query>"` (the demo's test runs every one).
EXAMPLE_QUERIES = (
    "SELECT scan_date, category, count(*) AS findings FROM drift_findings GROUP BY ALL ORDER BY ALL",
    "SELECT repo, count(*) AS findings FROM drift_findings WHERE scan_date = (SELECT max(scan_date) "
    "FROM drift_findings) GROUP BY repo ORDER BY findings DESC, repo",
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


def example_commands(db: Path) -> list[str]:
    return [f"drift sql --db {shlex.quote(str(db))} {shlex.quote(q)}" for q in EXAMPLE_QUERIES]


def print_summary(db: Path, org: str, day: date, say: Callable[[str], None]) -> None:
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
    say(f"repos on {day}: {repos_line(org, listed, in_scope)} (repo_inventory)")
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
    for i in issues[:SHOWN_ISSUES]:
        print(f"         {org}/{i['repo']} [{i['category']}] #{i['number']}  {i['url']}")
    if len(issues) > SHOWN_ISSUES:
        print(f"         ... and {len(issues) - SHOWN_ISSUES} more (the third query below lists them all)")
    say(f"DuckDB file: {db}")
    say("example queries:")
    for command in example_commands(db):
        print(f"         {command}")
