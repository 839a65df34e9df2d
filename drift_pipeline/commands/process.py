"""``drift process scan``: the process drift of one org, for people and CI.

Runs the pipeline's own scans and rules (``scans.inventory.scan_inventory`` then
``scans.process.scan_process``, as the assets do) against GitHub, with no Dagster; without
``--dry-run`` the findings are filed as issues (``commands._filing``).
The JSON shape and the exit codes are those of ``drift code scan``.
"""

from __future__ import annotations

import click

from drift_pipeline.commands._filing import Evaluation
from drift_pipeline.commands._output import progress
from drift_pipeline.commands._progress import progress_bars
from drift_pipeline.commands._scan import (
    MAX_CONCURRENCY,
    ScanOutput,
    Window,
    concurrency_option,
    file_and_finish,
    filing_options,
    merged_errors,
    open_window,
    repo_option,
    scan_payload,
    since_option,
)
from drift_pipeline.core.errors import UsageError
from drift_pipeline.scans.inventory import InventoryResult, scan_inventory
from drift_pipeline.scans.process import ProcessScan, scan_process
from drift_pipeline.sources.github import GitHubSource


@click.group("process")
def process_group() -> None:
    """Process drift: GitHub settings and what reached the default branch, against [process.*]."""


@process_group.command("scan")
@click.option("--org", help="GitHub org (or user) to scan; needs GITHUB_TOKEN (GITHUB_API_URL for GHES).")
@repo_option
@click.option("--date", "scan_date", help="Scan the end of this UTC day (YYYY-MM-DD). Default: now.")
@since_option("Activity window: the commits that reached the default branch in the HOURS before the scan instant.")
@click.option(
    "--all",
    "all_repos",
    is_flag=True,
    help="Report the settings findings of every in-scope repo, not only of repos pushed in the window.",
)
@concurrency_option(f"GitHub requests in flight at most (1..{MAX_CONCURRENCY}).")
@filing_options
def scan(
    org: str | None,
    repos: tuple[str, ...],
    scan_date: str | None,
    since_text: str,
    all_repos: bool,
    concurrency_text: str,
    out: ScanOutput,
) -> int:
    """Scan for process drift and print the findings.

    Settings (branch protection, rulesets, CODEOWNERS, required files...) are live-only: a --date
    that ended more than a day ago reports activity only, and says settings were not observed.
    """
    if org is None:
        raise UsageError("--org ORG is required (process settings are read from GitHub)")
    w = open_window(None, org, repos, since_text=since_text, concurrency_text=concurrency_text, scan_date=scan_date)
    inventory, result = _read(w, show=out.show_progress)
    active = {s["repo"] for s in result.tables["process_scan_status"] if s.get("activity_read")}
    findings = [f for f in result.findings() if all_repos or f.repo in active]
    errors = merged_errors(inventory.errors, result.errors)
    payload = scan_payload(
        w.source, w.owner, day=w.day, at=w.at, since_hours=w.since_hours, inventory=inventory.rows,
        changed=len(active), findings=findings, errors=errors,
        settings_observed=result.observed_settings, settings_not_observed_reason=result.reason,
    )  # fmt: skip

    def evaluation() -> Evaluation:
        status = result.tables["process_scan_status"]
        return Evaluation(w.owner, "process", status, [result.coverage()], result.findings())

    notes = [] if result.observed_settings else [f"settings not observed: {result.reason}"]
    return file_and_finish(payload, out, w.source, w.day, evaluation, findings=findings, errors=errors, notes=notes)


def _read(w: Window, *, show: bool) -> tuple[InventoryResult, ProcessScan]:
    """The inventory, then the process scan of its repos over the window (with progress bars when ``show``)."""
    assert isinstance(w.source, GitHubSource)  # --org: always GitHub
    progress(
        f"scanning {w.owner} process at {w.at:%Y-%m-%d %H:%M} UTC, activity since {w.baseline_at:%Y-%m-%d %H:%M} UTC"
    )
    with progress_bars(show) as phase:
        inventory = scan_inventory(w.source, w.owner, w.at, only=w.repos or None, progress=phase("inventory"))
        result = scan_process(
            w.source, w.owner, w.day, inventory.rows, window=(w.baseline_at, w.at), progress=phase("process")
        )
    return inventory, result
