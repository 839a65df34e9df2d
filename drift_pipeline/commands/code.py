"""``drift code scan``: the code drift of one window, for people and CI.

Runs the pipeline's own scans and rules (``scans.window.scan_window``) against GitHub (``--org``)
or local clones (``--path``), with no Dagster; without ``--dry-run`` an org's findings are filed as issues
(``commands._filing``, the ``filed_issues`` bookkeeping in ``--db``).
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from drift_pipeline.commands._filing import (
    Evaluation,
    auto_close_option,
    db_option,
    file_scan,
    filing_text,
    report_failures,
)
from drift_pipeline.commands._output import emit, json_option, progress
from drift_pipeline.commands._progress import no_progress_option, progress_bars, wanted
from drift_pipeline.errors import ExitCode, NotFound, UsageError, redact
from drift_pipeline.rules.findings import RULES
from drift_pipeline.scans.reading import CodeSource
from drift_pipeline.scans.window import day_end, parse_day, scan_window
from drift_pipeline.sources.git_local import GitLocalSource
from drift_pipeline.sources.github import DEFAULT_API_URL, GitHubSource


@click.group("code")
def code_group() -> None:
    """Code drift: standards configs and the files they track."""


MAX_SINCE_HOURS = 20 * 366 * 24  # twenty years
MAX_CONCURRENCY = 32
_TOKEN = re.compile(r"^[\x21-\x7e]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_EPOCH = datetime(1970, 1, 2, tzinfo=UTC)


def _source(path: str | None, org: str | None, concurrency: int) -> tuple[CodeSource, str]:
    if path is not None and org is not None:
        raise UsageError("give --path or --org, not both")
    if path is not None:
        source = GitLocalSource(_clones_dir(path))
        return source, source.org
    if org is not None:
        if not _NAME.match(org) or org.strip(".") == "":
            raise UsageError(f"--org {org!r}: expected a GitHub org or user name (letters, digits, '-', '_', '.')")
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise UsageError("--org needs a token in the GITHUB_TOKEN environment variable")
        if not _TOKEN.match(token):
            raise UsageError("GITHUB_TOKEN holds spaces, control or non-ASCII characters; expected one token")
        return GitHubSource(_api_url(), token, concurrency=concurrency), org
    raise UsageError("give --path DIR (local clones) or --org ORG (GitHub)")


def _clones_dir(path: str) -> Path:
    if not path.strip():
        raise UsageError("--path '': expected a git clone or a folder of clones")
    where = Path(path)
    if not where.exists():
        raise UsageError(f"--path {path}: no such directory")
    if not where.is_dir():
        raise UsageError(f"--path {path}: a file, not a directory (give a git clone or a folder of clones)")
    if not os.access(where, os.R_OK | os.X_OK):
        raise UsageError(f"--path {path}: not readable (permission denied)")
    return where


def _api_url() -> str:
    raw = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    try:
        url = urllib.parse.urlsplit(raw)
        ok = url.scheme in ("http", "https") and bool(url.hostname) and (url.port is None or url.port > 0)
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        ok = False
    if not ok:
        raise UsageError(
            f"GITHUB_API_URL {redact(raw)!r}: expected an http(s) URL such as {DEFAULT_API_URL} "
            "(GitHub Enterprise Server: https://HOST/api/v3)"
        )
    return raw


def _since(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or not 0 < hours <= MAX_SINCE_HOURS:
        raise UsageError(
            f"--since {text!r}: expected a number of hours above 0 and at most {MAX_SINCE_HOURS} (twenty years)"
        )
    return hours


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency {text!r}: expected a whole number from 1 to {MAX_CONCURRENCY}")
    return value


def _instants(scan_date: str | None, since_hours: float) -> tuple[datetime, datetime, date]:
    """The scan instant, the baseline instant and the scan date."""
    now = datetime.now(UTC).replace(microsecond=0)
    if scan_date is None:
        at, day = now, now.date()
    else:
        try:
            day = parse_day(scan_date)
        except ValueError:
            raise UsageError(f"--date {scan_date!r}: expected YYYY-MM-DD") from None
        if day > now.date():
            raise UsageError(f"--date {scan_date}: in the future (today is {now.date()} UTC)")
        at = min(day_end(day), now)
    try:
        baseline_at = at - timedelta(hours=since_hours)
    except OverflowError:
        baseline_at = _EPOCH - timedelta(days=1)
    if baseline_at < _EPOCH:
        raise UsageError(f"--date {day} with --since {since_hours:g}: the baseline falls before 1970")
    return at, baseline_at, day


def _check_repos(source: CodeSource, owner: str, repos: tuple[str, ...], path: str | None) -> None:
    """Every --repo is a name of a repo the source lists (the listing is kept for the scan)."""
    for name in repos:
        if not _NAME.match(name) or name.strip(".") == "":
            raise UsageError(f"--repo {name!r}: expected a repository name (letters, digits, '-', '_', '.')")
    try:
        listed = {r.name for r in source.list_repos(owner)}
    except NotFound:
        raise UsageError(f"--org {owner}: no such org or user (or the token may not see it)") from None
    except OSError as exc:  # a folder of clones we may not read
        raise UsageError(f"--path {path}: cannot be read ({type(exc).__name__}: {exc.strerror or exc})") from None
    missing = [name for name in repos if name not in listed]
    if missing:
        where = f"under --path {path}" if path is not None else f"in {owner}"
        raise UsageError(f"--repo {missing[0]}: no such repository {where} ({len(listed)} listed)")


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
    since_hours = _since(since_text)
    concurrency = _concurrency(concurrency_text)
    at, baseline_at, day = _instants(scan_date, since_hours)
    source, owner = _source(path, org, concurrency)
    _check_repos(source, owner, repos, path)
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
    payload.update(filing.payload)
    emit(payload, as_json=as_json, text=_text)
    if result.errors:
        progress(f"{len(result.errors)} repo(s) could not be scanned")
    report_failures(filing.failures)
    if filing.failures:
        return ExitCode.RUNTIME
    if findings:
        return ExitCode.FINDINGS
    return ExitCode.RUNTIME if result.errors else ExitCode.OK


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
        named = e["error"].startswith(f"{e['repo']}: ")
        lines.append(f"FAILED  {e['error'] if named else e['repo'] + ': ' + e['error']}")
    lines.extend(filing_text(payload))
    s = payload["summary"]
    lines.append(
        f"{s['findings']} finding(s) in {s['repos_changed']} changed of {s['repos_in_scope']} "
        f"in-scope repos ({s['repos']} listed), {s['api_requests']} API requests"
    )
    return "\n".join(lines)
