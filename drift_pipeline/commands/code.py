"""``drift code scan``: the code drift of one window, for people and CI.

Runs the pipeline's own scans and rules (``scans.code.scan_window``) against GitHub (``--org``)
or local clones (``--path``), with no DuckDB and no Dagster.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from drift_pipeline.commands._output import emit, json_option, progress
from drift_pipeline.errors import ExitCode, UsageError
from drift_pipeline.rules.findings import RULES, Finding
from drift_pipeline.scans.code import scan_window
from drift_pipeline.scans.reading import CodeSource
from drift_pipeline.scans.window import day_end, parse_day
from drift_pipeline.sources.git_local import GitLocalSource
from drift_pipeline.sources.github import DEFAULT_API_URL, GitHubSource


@click.group("code")
def code_group() -> None:
    """Code drift: standards configs and the files they track."""


def _source(path: str | None, org: str | None) -> tuple[CodeSource, str]:
    if path and org:
        raise UsageError("give --path or --org, not both")
    if path:
        source = GitLocalSource(Path(path))
        return source, source.org
    if org:
        token = os.environ.get("GITHUB_TOKEN")
        if not token:
            raise UsageError("--org needs a token in the GITHUB_TOKEN environment variable")
        return GitHubSource(os.environ.get("GITHUB_API_URL", DEFAULT_API_URL), token), org
    raise UsageError("give --path DIR (local clones) or --org ORG (GitHub)")


@code_group.command("scan")
@click.option("--path", type=click.Path(file_okay=False), help="A git clone, or a folder of clones.")
@click.option("--org", help="GitHub org (or user) to scan; needs GITHUB_TOKEN (GITHUB_API_URL for GHES).")
@click.option("--repo", "repos", multiple=True, help="Only this repo (repeatable).")
@click.option("--since", "since_hours", type=click.FloatRange(min=0, min_open=True), default=24.0,
              show_default=True, help="Compare with the state this many hours before the scan instant.")
@click.option("--all", "all_repos", is_flag=True,
              help="Report standing findings (invalid configs, mismatches) of quiet repos too.")
@click.option("--date", "scan_date", help="Scan the state at the end of this UTC day (YYYY-MM-DD). Default: now.")
@click.option("--dry-run", is_flag=True, help="Print the issues that would be filed; file none.")
@json_option
def scan(path: str | None, org: str | None, repos: tuple[str, ...], since_hours: float, all_repos: bool,
         scan_date: str | None, dry_run: bool, as_json: bool) -> int:
    """Scan for code drift and print the findings.

    Compares each repo's standards files (check.toml / standards.toml, repo metadata, workflows and
    the tool configs they track) at the scan instant with the state --since hours earlier.
    """
    if repos and not (org or path):
        raise UsageError("--repo needs --org or --path")
    if scan_date:
        try:
            day = parse_day(scan_date)
        except ValueError:
            raise UsageError(f"--date {scan_date!r}: expected YYYY-MM-DD") from None
        at = day_end(day)
    else:
        at = datetime.now(timezone.utc).replace(microsecond=0)
        day = at.date()
    source, owner = _source(path, org)
    progress(f"scanning {owner} at {at:%Y-%m-%d %H:%M} UTC against {since_hours:g}h before")
    result = scan_window(source, owner, at, at - timedelta(hours=since_hours), day, only=repos or None)
    active = {s["repo"] for s in result.scan.tables["config_scan_status"] if s["mode"] == "read"}
    findings = [f for f in result.findings if all_repos or f.repo in active]
    payload = {
        "findings": [f.row() for f in findings],
        "summary": {
            "org": owner, "scan_date": day, "at": at, "since_hours": since_hours,
            "repos": len(result.inventory),
            "repos_in_scope": sum(bool(r["in_scope"]) for r in result.inventory),
            "repos_changed": len(active), "findings": len(findings),
            "by_rule": dict(Counter(f.rule for f in findings)),
            "api_requests": sum(source.requests.values()),
        },
        "errors": result.errors,
    }
    if dry_run:
        payload["would_file"] = _would_file(findings)
    emit(payload, as_json=as_json, text=_text)
    if result.errors:
        progress(f"{len(result.errors)} repo(s) could not be scanned")
    if findings:
        return ExitCode.FINDINGS
    return ExitCode.RUNTIME if result.errors else ExitCode.OK


def _would_file(findings: list[Finding]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        groups[(f"{f.org}/{f.repo}", f.category)].append(f)
    return [{"repo": repo, "label": f"drift:{cat}", "findings": len(fs),
             "title": f"[drift:{cat}] {len(fs)} finding{'s' if len(fs) != 1 else ''} on {fs[0].scan_date}"}
            for (repo, cat), fs in sorted(groups.items())]


def _text(payload: dict[str, Any]) -> str:
    lines = []
    for f in payload["findings"]:
        spec = RULES.get(f["rule"])
        where = f["repo"] + ("" if f["project"] == "." else f" ({f['project']})")
        lines.append(f"{f['severity'].upper():7} {where}: {f['message']}  [{f['rule']}]")
        if spec:
            lines.append(f"        fix: {spec.fix}")
        if f.get("commit_url"):
            lines.append(f"        commit: {f['commit_url']}")
    for e in payload["errors"]:
        lines.append(f"FAILED  {e['repo']}: {e['error']}")
    for plan in payload.get("would_file", []):
        lines.append(f"would file in {plan['repo']}: {plan['title']} (label {plan['label']})")
    s = payload["summary"]
    lines.append(f"{s['findings']} finding(s) in {s['repos_changed']} changed of {s['repos_in_scope']} "
                 f"in-scope repos ({s['repos']} listed), {s['api_requests']} API requests")
    return "\n".join(lines)
