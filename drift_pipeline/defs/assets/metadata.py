"""Materialisation metadata and check results: the same keys every run, so the UI can plot them.

A range run (single-run backfill) materialises many days at once. Dagster records one
materialisation event per partition; :func:`record_day` gives each day its own numbers
(``context.add_asset_metadata(..., partition_key=day)``), and :func:`check_every_day` turns
each day's faults into one check result that names every day and row at fault.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg

from drift_pipeline.core.rules.base import CATEGORIES
from drift_pipeline.core.rules.findings import contract_violations
from drift_pipeline.issues import inert
from drift_pipeline.sources.github import GitHubSource

MAX_ROWS_PER_DAY = 20
MD_CELL_CAP = 300  # characters of one table cell in the UI's previews


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = 15) -> dg.MetadataValue:
    """A markdown table the UI renders; every cell is inert (a code span nothing inside can close:
    a finding's message quotes commit subjects, paths and config values, which must never become
    links, images or HTML in the operator's browser). Numbers stay plain."""
    rows = list(rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows[:limit]:
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    if not rows:
        lines.append("| " + " | ".join("–" for _ in headers) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def _md_cell(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return inert.cell(value, cap=MD_CELL_CAP) or "–"


def findings_metadata(findings: Sequence[Mapping[str, Any]]) -> dict[str, dg.MetadataValue]:
    by_rule = Counter(f["rule"] for f in findings)
    return {
        "dagster/row_count": dg.MetadataValue.int(len(findings)),
        "errors": dg.MetadataValue.int(sum(f["severity"] == "error" for f in findings)),
        "warnings": dg.MetadataValue.int(sum(f["severity"] == "warning" for f in findings)),
        "infos": dg.MetadataValue.int(sum(f["severity"] == "info" for f in findings)),
        # one number per category, every run (0 when none): the UI plots each across partitions
        **{
            f"{category}_findings": dg.MetadataValue.int(sum(f["category"] == category for f in findings))
            for category in CATEGORIES
        },
        "repos_with_drift": dg.MetadataValue.int(len({f["repo"] for f in findings})),
        "findings_by_rule": dg.MetadataValue.json(dict(sorted(by_rule.items()))),
        "top_rules": md_table(("rule", "findings"), by_rule.most_common(10)),
        "preview": md_table(
            ("repo", "project", "category", "severity", "rule", "message"),
            [(f["repo"], f["project"], f["category"], f["severity"], f["rule"], f["message"]) for f in findings],
        ),
    }


def requests_metadata(requests: Mapping[str, int], not_modified: int) -> dict[str, dg.MetadataValue]:
    return {
        "api_requests": dg.MetadataValue.int(sum(requests.values())),
        "api_not_modified": dg.MetadataValue.int(not_modified),
        "api_requests_by_kind": dg.MetadataValue.json(dict(sorted(requests.items()))),
    }


class RequestMeter:
    """The API requests a source made since the last reading: each day of a run gets its own.

    The first day of a range also carries what the run did once for the whole window (listing
    each repo's history); the days' figures add up to the run's.
    """

    def __init__(self, source: GitHubSource):
        self._source = source
        self._requests: Counter[str] = Counter()
        self._not_modified = 0

    def since_last(self) -> dict[str, dg.MetadataValue]:
        now, not_modified = Counter(self._source.requests), self._source.not_modified
        delta = now - self._requests
        meta = requests_metadata(delta, not_modified - self._not_modified)
        self._requests, self._not_modified = now, not_modified
        return meta


def record_day(context: dg.AssetExecutionContext, day: date, metadata: Mapping[str, Any]) -> None:
    """Attach ``metadata`` to the materialisation of ``day`` alone."""
    context.add_asset_metadata(dict(metadata), partition_key=day.isoformat())


def check_every_day(
    check_name: str,
    days: Sequence[date],
    faults: Mapping[date, Sequence[Mapping[str, Any]]],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """One result for every day of the run: passes when no day has a fault, else names each day.

    ``faults`` maps a day to its rows at fault (each a small JSON-able mapping); metadata keeps
    the first :data:`MAX_ROWS_PER_DAY` rows of each failing day and the count of all of them.
    """
    failing = [d for d in days if faults.get(d)]
    if failing:
        description = f"{len(failing)} of {len(days)} day(s) at fault: " + ", ".join(
            f"{d.isoformat()} ({len(faults[d])} row(s))" for d in failing
        )
    else:
        description = f"every day passes ({days[0].isoformat()} .. {days[-1].isoformat()})"
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not failing,
        severity=severity,
        description=description,
        metadata={
            "days_checked": dg.MetadataValue.int(len(days)),
            "failing_days": dg.MetadataValue.json([d.isoformat() for d in failing]),
            "rows_at_fault": dg.MetadataValue.int(sum(len(faults[d]) for d in failing)),
            "at_fault": dg.MetadataValue.json(
                {d.isoformat(): [dict(r) for r in faults[d][:MAX_ROWS_PER_DAY]] for d in failing}
            ),
        },
    )


def contract_faults(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The finding rows that break the findings contract, each with what is wrong (for a check)."""
    return [
        {
            "org": r.get("org"),
            "repo": r.get("repo"),
            "rule": r.get("rule"),
            "fingerprint": r.get("fingerprint"),
            "violations": v,
        }
        for r in rows
        if (v := contract_violations(dict(r)))
    ]
