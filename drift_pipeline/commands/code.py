"""``drift code scan``: the code drift of one window, for people and CI.

Runs the pipeline's own scans and rules (``scans.window.scan_window``) against GitHub (``--org``)
or local clones (``--path``), with no Dagster; without ``--dry-run`` an org's findings are filed as issues
(``commands._filing``, the ``filed_issues`` bookkeeping in ``--db``).
"""

from __future__ import annotations

from collections import Counter

import click

from drift_pipeline.commands._filing import (
    Evaluation,
    auto_close_option,
    db_option,
    file_scan,
)
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
from drift_pipeline.scans.window import scan_window


@click.group("code")
def code_group() -> None:
    """Code drift: standards configs and the files they track."""


@code_group.command("scan")
@click.option("--path", help="A git clone, or a folder of clones.")
@click.option("--org", help="GitHub org (or user) to scan; needs GITHUB_TOKEN (GITHUB_API_URL for GHES).")
@click.option("--repo", "repos", multiple=True, help="Only this repo (repeatable).")
@click.option(
    "--since",
    "since_text",
    default="24",
    show_default=True,
    metavar="HOURS",
    help="Compare with the state this many hours before the scan instant.",
)
@click.option(
    "--all",
    "all_repos",
    is_flag=True,
    help="Report standing findings (invalid configs, mismatches) of quiet repos too.",
)
@click.option("--date", "scan_date", help="Scan the state at the end of this UTC day (YYYY-MM-DD). Default: now.")
@click.option(
    "--concurrency",
    "concurrency_text",
    default="8",
    show_default=True,
    metavar="N",
    help=f"GitHub requests in flight at most (1..{MAX_CONCURRENCY}); local clones are read one by one.",
)
@click.option("--dry-run", is_flag=True, help="Print the issues that would be filed; file none.")
@db_option
@auto_close_option
@json_option
@no_progress_option
def scan(
    path: str | None,
    org: str | None,
    repos: tuple[str, ...],
    since_text: str,
    all_repos: bool,
    scan_date: str | None,
    concurrency_text: str,
    dry_run: bool,
    db: str,
    auto_close: bool,
    as_json: bool,
    no_progress: bool,
) -> int:
    """Scan for code drift and print the findings.

    Compares each repo's standards files (check.toml / standards.toml, repo metadata, workflows and
    the tool configs they track) at the scan instant with the state --since hours earlier.
    """
    if repos and org is None and path is None:
        raise UsageError("--repo needs --org or --path")
    since_hours = parse_since(since_text)
    concurrency = parse_concurrency(concurrency_text)
    at, baseline_at, day = scan_instants(scan_date, since_hours)
    source, owner = scan_source(path, org, concurrency)
    owner, repos = check_repos(source, owner, repos, path)
    progress(f"scanning {owner} at {at:%Y-%m-%d %H:%M} UTC against {since_hours:g}h before")
    with progress_bars(wanted(as_json=as_json, no_progress=no_progress)) as phase:
        result = scan_window(source, owner, at, baseline_at, day, only=repos or None, progress=phase)
    active = {s["repo"] for s in result.scan.tables["config_scan_status"] if s["mode"] == "read"}
    findings = [f for f in result.findings if all_repos or f.repo in active]
    payload = {
        "findings": [f.row() for f in findings],
        "summary": {
            "org": owner,
            "scan_date": day,
            "at": at,
            "since_hours": since_hours,
            "repos": len(result.inventory),
            "repos_in_scope": sum(bool(r["in_scope"]) for r in result.inventory),
            "repos_changed": len(active),
            "findings": len(findings),
            "by_rule": dict(Counter(f.rule for f in findings)),
            "api_requests": sum(source.requests.values()),
        },
        "errors": result.errors,
    }
    status = result.scan.tables["config_scan_status"]
    evaluation = Evaluation(owner, "code", status, [], result.findings) if auto_close else None
    filing = file_scan(findings, source=source, day=day, db=db, dry_run=dry_run, auto_close=evaluation)
    return finish(payload, as_json=as_json, findings=findings, errors=result.errors, filing=filing)
