"""``drift code scan``: the code drift of one window, for people and CI.

Runs the pipeline's own scans and rules (``scans.window.scan_window``) against GitHub (``--org``)
or local clones (``--path``), with no Dagster; without ``--dry-run`` an org's findings are filed as issues
(``commands._filing``, the ``filed_issues`` bookkeeping in ``--db``).
"""

from __future__ import annotations

import click

from drift_pipeline.commands._filing import Evaluation
from drift_pipeline.commands._output import progress
from drift_pipeline.commands._progress import progress_bars
from drift_pipeline.commands._scan import (
    MAX_CONCURRENCY,
    ScanOutput,
    concurrency_option,
    file_and_finish,
    filing_options,
    open_window,
    repo_option,
    scan_payload,
    since_option,
)
from drift_pipeline.core.errors import UsageError
from drift_pipeline.scans.window import scan_window


@click.group("code")
def code_group() -> None:
    """Code drift: standards configs and the files they track."""


@code_group.command("scan")
@click.option("--path", help="A git clone, or a folder of clones.")
@click.option("--org", help="GitHub org (or user) to scan; needs GITHUB_TOKEN (GITHUB_API_URL for GHES).")
@repo_option
@since_option("Compare with the state this many hours before the scan instant.")
@click.option(
    "--all",
    "all_repos",
    is_flag=True,
    help="Report standing findings (invalid configs, mismatches) of quiet repos too.",
)
@click.option("--date", "scan_date", help="Scan the state at the end of this UTC day (YYYY-MM-DD). Default: now.")
@concurrency_option(f"GitHub requests in flight at most (1..{MAX_CONCURRENCY}); local clones are read one by one.")
@filing_options
def scan(
    path: str | None,
    org: str | None,
    repos: tuple[str, ...],
    since_text: str,
    all_repos: bool,
    scan_date: str | None,
    concurrency_text: str,
    out: ScanOutput,
) -> int:
    """Scan for code drift and print the findings.

    Compares each repo's standards files (check.toml / standards.toml, repo metadata, workflows and
    the tool configs they track) at the scan instant with the state --since hours earlier.
    """
    if repos and org is None and path is None:
        raise UsageError("--repo needs --org or --path")
    w = open_window(path, org, repos, since_text=since_text, concurrency_text=concurrency_text, scan_date=scan_date)
    progress(f"scanning {w.owner} at {w.at:%Y-%m-%d %H:%M} UTC against {w.since_hours:g}h before")
    with progress_bars(out.show_progress) as phase:
        result = scan_window(w.source, w.owner, w.at, w.baseline_at, w.day, only=w.repos or None, progress=phase)
    status = result.scan.tables["config_scan_status"]
    active = {s["repo"] for s in status if s["mode"] == "read"}
    findings = [f for f in result.findings if all_repos or f.repo in active]
    payload = scan_payload(
        w.source, w.owner, day=w.day, at=w.at, since_hours=w.since_hours, inventory=result.inventory,
        changed=len(active), findings=findings, errors=result.errors,
    )  # fmt: skip

    def evaluation() -> Evaluation:
        return Evaluation(w.owner, "code", status, [], result.findings)

    return file_and_finish(payload, out, w.source, w.day, evaluation, findings=findings, errors=result.errors)
