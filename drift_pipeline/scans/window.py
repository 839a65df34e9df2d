"""Scan dates and windows.

One partition is the state of the world at the end of that UTC day. :func:`scan_window` computes
the code drift between two instants in memory (the CLI's path; the assets store each day instead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from drift_pipeline.core.rules import code as code_rules
from drift_pipeline.core.rules.code import RepoCode
from drift_pipeline.scans.code import Baseline, ConfigScan, repo_code_states, scan_configs
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.perrepo import Progress
from drift_pipeline.scans.reading import CodeSource


def day_end(day: date) -> datetime:
    """The last second of ``day`` in UTC: a commit at or before it belongs to the day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def _states(org: str, scan: ConfigScan, blobs: Mapping[str, str | None]) -> dict[str, RepoCode]:
    t = scan.tables
    return repo_code_states(
        org,
        t["config_snapshots"],
        t["config_projects"],
        t["config_problems"],
        t["config_scan_status"],
        t["config_file_commits"],
        blobs,
    )


@dataclass(frozen=True)
class WindowResult:
    findings: list[Any]
    inventory: list[dict[str, Any]]
    scan: ConfigScan
    errors: list[dict[str, Any]]


def scan_window(
    source: CodeSource,
    org: str,
    at: datetime,
    baseline_at: datetime,
    scan_date: date,
    only: Sequence[str] | None = None,
    *,
    progress: Callable[[str], Progress | None] | None = None,
) -> WindowResult:
    """Code drift between ``baseline_at`` and ``at``, computed without a store.

    ``progress``, given a phase's name, gives that phase's progress hook (``scans.perrepo``)."""
    phase = progress or (lambda _: None)
    base_inv = scan_inventory(source, org, baseline_at, only=only, progress=phase("baseline inventory"))
    base = scan_configs(source, org, baseline_at, base_inv.rows, progress=phase("baseline configs"))
    inventory = scan_inventory(
        source, org, at, {r["repo"]: r for r in base_inv.rows}, baseline_at, only=only, progress=phase("inventory")
    )
    baseline = Baseline.from_rows(
        baseline_at,
        *(base.tables[t] for t in ("config_scan_status", "config_snapshots", "config_projects", "config_problems")),
    )
    scan = scan_configs(source, org, at, inventory.rows, baseline, progress=phase("configs"))
    blobs = {**base.blobs, **scan.blobs}
    today = _states(org, scan, blobs)
    before = _states(org, base, blobs)
    findings = code_rules.evaluate(scan_date, today, before)
    errors = inventory.errors + [
        {"repo": e["repo"], "error": e["error"]}
        for e in scan.errors
        if e["repo"] not in {i["repo"] for i in inventory.errors}
    ]
    return WindowResult(findings, inventory.rows, scan, errors)
