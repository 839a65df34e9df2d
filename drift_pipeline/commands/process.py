"""``drift process scan``: the process drift of one org, for people and CI.

Runs the pipeline's own scans and rules (``scans.inventory.scan_inventory`` then
``scans.process.scan_process``, as the assets do) against GitHub, with no Dagster; without
``--dry-run`` the findings are filed as issues (``commands._filing``).
The JSON shape and the exit codes are those of ``drift code scan``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from drift_pipeline.commands._filing import Evaluation, auto_close_option, db_option, file_scan
from drift_pipeline.commands._output import json_option, progress
from drift_pipeline.commands._progress import no_progress_option, progress_bars, wanted
from drift_pipeline.commands._scan import (
    MAX_CONCURRENCY,
    check_repos,
    finish,
    parse_concurrency,
    parse_since,
    scan_instants,
    scan_source,
)
from drift_pipeline.core.errors import UsageError
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.process import scan_process
from drift_pipeline.sources.github import GitHubSource


@click.group("process")
def process_group() -> None:
    """Process drift: GitHub settings and what reached the default branch, against [process.*]."""


@process_group.command("scan")
@click.option("--org", help="GitHub org (or user) to scan; needs GITHUB_TOKEN (GITHUB_API_URL for GHES).")
@click.option("--repo", "repos", multiple=True, help="Only this repo (repeatable).")
@click.option("--date", "scan_date", help="Scan the end of this UTC day (YYYY-MM-DD). Default: now.")
@click.option(
    "--since",
    "since_text",
    default="24",
    show_default=True,
    metavar="HOURS",
    help="Activity window: the commits that reached the default branch in the HOURS before the scan instant.",
)
@click.option(
    "--all",
    "all_repos",
    is_flag=True,
    help="Report the settings findings of every in-scope repo, not only of repos pushed in the window.",
)
@click.option(
    "--concurrency",
    "concurrency_text",
    default="8",
    show_default=True,
    metavar="N",
    help=f"GitHub requests in flight at most (1..{MAX_CONCURRENCY}).",
)
@click.option("--dry-run", is_flag=True, help="Print the issues that would be filed; file none.")
@db_option
@auto_close_option
@json_option
@no_progress_option
def scan(
    org: str | None,
    repos: tuple[str, ...],
    scan_date: str | None,
    since_text: str,
    all_repos: bool,
    concurrency_text: str,
    dry_run: bool,
    db: str,
    auto_close: bool,
    as_json: bool,
    no_progress: bool,
) -> int:
    """Scan for process drift and print the findings.

    Settings (branch protection, rulesets, CODEOWNERS, required files...) are live-only: a --date
    that ended more than a day ago reports activity only, and says settings were not observed.
    """
    if org is None:
        raise UsageError("--org ORG is required (process settings are read from GitHub)")
    since_hours = parse_since(since_text)
    concurrency = parse_concurrency(concurrency_text)
    at, start, day = scan_instants(scan_date, since_hours)
    source, owner = scan_source(None, org, concurrency)
    assert isinstance(source, GitHubSource)
    owner, repos = check_repos(source, owner, repos, None)
    progress(f"scanning {owner} process at {at:%Y-%m-%d %H:%M} UTC, activity since {start:%Y-%m-%d %H:%M} UTC")
    with progress_bars(wanted(as_json=as_json, no_progress=no_progress)) as phase:
        inventory = scan_inventory(source, owner, at, only=repos or None, progress=phase("inventory"))
        result = scan_process(source, owner, day, inventory.rows, window=(start, at), progress=phase("process"))
    active = {s["repo"] for s in result.tables["process_scan_status"] if s.get("activity_read")}
    findings = [f for f in result.findings() if all_repos or f.repo in active]
    listed = {e["repo"] for e in inventory.errors}
    errors = inventory.errors + [e for e in result.errors if e["repo"] not in listed]
    payload: dict[str, Any] = {
        "findings": [f.row() for f in findings],
        "summary": {
            "org": owner,
            "scan_date": day,
            "at": at,
            "since_hours": since_hours,
            "repos": len(inventory.rows),
            "repos_in_scope": sum(bool(r["in_scope"]) for r in inventory.rows),
            "repos_changed": len(active),
            "findings": len(findings),
            "by_rule": dict(Counter(f.rule for f in findings)),
            "api_requests": sum(source.requests.values()),
            "settings_observed": result.observed_settings,
            "settings_not_observed_reason": result.reason,
        },
        "errors": errors,
    }
    status = result.tables["process_scan_status"]
    evaluation = Evaluation(owner, "process", status, [result.coverage()], result.findings()) if auto_close else None
    filing = file_scan(findings, source=source, day=day, db=db, dry_run=dry_run, auto_close=evaluation)
    notes = [] if result.observed_settings else [f"settings not observed: {result.reason}"]
    return finish(payload, as_json=as_json, findings=findings, errors=errors, filing=filing, notes=notes)
