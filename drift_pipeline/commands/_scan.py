"""What the scan commands share (``drift code|process|infra scan``, ``drift scan audit``).

Flag parsing with one clear message per bad value, the source (local clones or GitHub from the
environment), the scan instants, the text rendering of a scan's payload, and the tail that prints it,
reports filing failures and decides the exit code. One home, so the scans never diverge.
"""

from __future__ import annotations

import functools
import math
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

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
from drift_pipeline.commands._progress import no_progress_option, wanted
from drift_pipeline.core.errors import ExitCode, NotFound, UsageError, redact
from drift_pipeline.core.names import canonical_name
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.scans.reading import CodeSource
from drift_pipeline.scans.window import day_end, parse_day
from drift_pipeline.sources.git_local import GitLocalSource
from drift_pipeline.sources.github import DEFAULT_API_URL, MAX_CONCURRENCY, GitHubSource
from drift_pipeline.sources.github_auth import app_credentials_from_env, installation_auth

MAX_SINCE_HOURS = 20 * 366 * 24  # twenty years
TOKEN = re.compile(r"^[\x21-\x7e]+$")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)

F = TypeVar("F", bound=Callable[..., Any])

repo_option = click.option("--repo", "repos", multiple=True, help="Only this repo (repeatable).")


def since_option(help: str) -> Callable[[F], F]:
    """``--since HOURS`` (default 24), kept as text for :func:`parse_since`."""
    return click.option("--since", "since_text", default="24", show_default=True, metavar="HOURS", help=help)


def concurrency_option(help: str) -> Callable[[F], F]:
    """``--concurrency N`` (default 8), kept as text for :func:`parse_concurrency`."""
    return click.option("--concurrency", "concurrency_text", default="8", show_default=True, metavar="N", help=help)


@dataclass(frozen=True)
class ScanOutput:
    """What a scan does with its findings: the flags of :func:`filing_options`, as one value."""

    dry_run: bool
    db: str
    auto_close: bool
    as_json: bool
    no_progress: bool

    @property
    def show_progress(self) -> bool:
        return wanted(as_json=self.as_json, no_progress=self.no_progress)


def filing_options(command: F) -> F:
    """The options every scan ends with (``--dry-run``, ``--db``, ``--auto-close``, ``--json``,
    ``--no-progress``), handed to ``command`` as one ``out: ScanOutput``."""

    @functools.wraps(command)
    def run(**params: Any) -> Any:
        out = ScanOutput(*(params.pop(name) for name in ("dry_run", "db", "auto_close", "as_json", "no_progress")))
        return command(**params, out=out)

    wrapped: Any = run
    for option in (no_progress_option, json_option, auto_close_option, db_option):
        wrapped = option(wrapped)
    return cast(
        F, click.option("--dry-run", is_flag=True, help="Print the issues that would be filed; file none.")(wrapped)
    )


@dataclass(frozen=True)
class Window:
    """What a windowed scan (code, process) reads: the source, the canonical owner and repos, the instants."""

    source: CodeSource
    owner: str
    repos: tuple[str, ...]
    at: datetime
    baseline_at: datetime
    day: date
    since_hours: float


def open_window(
    path: str | None,
    org: str | None,
    repos: tuple[str, ...],
    *,
    since_text: str,
    concurrency_text: str,
    scan_date: str | None,
) -> Window:
    """The flags of a windowed scan checked in one order (--since, --concurrency, --date, the source, --repo)."""
    since_hours = parse_since(since_text)
    concurrency = parse_concurrency(concurrency_text)
    at, baseline_at, day = scan_instants(scan_date, since_hours)
    source, owner = scan_source(path, org, concurrency)
    owner, repos = check_repos(source, owner, repos, path)
    return Window(source, owner, repos, at, baseline_at, day, since_hours)


def scan_source(path: str | None, org: str | None, concurrency: int) -> tuple[CodeSource, str]:
    if path is not None and org is not None:
        raise UsageError("give --path or --org, not both")
    if path is not None:
        source = GitLocalSource(clones_dir(path))
        return source, source.org
    if org is not None:
        if not NAME.match(org) or org.strip(".") == "":
            raise UsageError(f"--org {org!r}: expected a GitHub org or user name (letters, digits, '-', '_', '.')")
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        app = app_credentials_from_env(os.environ)
        if app is not None:  # a GitHub App (and no GITHUB_TOKEN)
            url = api_url()
            return GitHubSource(url, None, auth=installation_auth(url, app, org), concurrency=concurrency), org
        if not token:
            raise UsageError(
                "--org needs a token in the GITHUB_TOKEN environment variable, or a GitHub App "
                "(GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH)"
            )
        if not TOKEN.match(token):
            raise UsageError("GITHUB_TOKEN holds spaces, control or non-ASCII characters; expected one token")
        return GitHubSource(api_url(), token, concurrency=concurrency), org
    raise UsageError("give --path DIR (local clones) or --org ORG (GitHub)")


def clones_dir(path: str) -> Path:
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


def api_url() -> str:
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


def parse_since(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or not 0 < hours <= MAX_SINCE_HOURS:
        raise UsageError(
            f"--since {text!r}: expected a number of hours above 0 and at most {MAX_SINCE_HOURS} (twenty years)"
        )
    return hours


def parse_concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency {text!r}: expected a whole number from 1 to {MAX_CONCURRENCY}")
    return value


def scan_instants(scan_date: str | None, since_hours: float) -> tuple[datetime, datetime, date]:
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
        baseline_at = EPOCH - timedelta(days=1)
    if baseline_at < EPOCH:
        raise UsageError(f"--date {day} with --since {since_hours:g}: the baseline falls before 1970")
    return at, baseline_at, day


def check_repos(
    source: CodeSource, owner: str, repos: tuple[str, ...], path: str | None
) -> tuple[str, tuple[str, ...]]:
    """The owner and every --repo as the source spells them (GitHub names are case-insensitive).

    Each --repo must name a repo the source lists; ``ACME`` / ``ADMIN-CONSOLE`` become ``acme`` /
    ``admin-console`` when that is how the listing spells them, so what the scan reports and stores
    carries the canonical case. An owner whose listing is empty keeps the spelling it was given.
    """
    for name in repos:
        if not NAME.match(name) or name.strip(".") == "":
            raise UsageError(f"--repo {name!r}: expected a repository name (letters, digits, '-', '_', '.')")
    try:
        records = source.list_repos(owner)
    except NotFound:
        raise UsageError(f"--org {owner}: no such org or user (or the token may not see it)") from None
    except OSError as exc:  # a folder of clones we may not read
        raise UsageError(f"--path {path}: cannot be read ({type(exc).__name__}: {exc.strerror or exc})") from None
    canonical = canonical_name(owner, [r.owner for r in records]) or owner
    names = [r.name for r in records]
    found = [canonical_name(name, names) for name in repos]
    missing = [name for name, hit in zip(repos, found, strict=True) if hit is None]
    if missing:
        where = f"under --path {path}" if path is not None else f"in {canonical}"
        raise UsageError(f"--repo {missing[0]}: no such repository {where} ({len(records)} listed)")
    return canonical, tuple(dict.fromkeys(n for n in found if n is not None))


def scan_payload(
    source: CodeSource,
    owner: str,
    *,
    day: date,
    at: datetime,
    since_hours: float | None,
    inventory: Sequence[dict[str, Any]],
    changed: int,
    findings: Sequence[Any],
    errors: Sequence[Any],
    **extra: Any,
) -> dict[str, Any]:
    """A scan's payload: the findings, the summary (the common keys in one order, then the scan's own
    ``extra``; ``since_hours`` None: left out) and the errors."""
    summary: dict[str, Any] = {"org": owner, "scan_date": day, "at": at}
    if since_hours is not None:
        summary["since_hours"] = since_hours
    summary |= {
        "repos": len(inventory),
        "repos_in_scope": sum(bool(r["in_scope"]) for r in inventory),
        "repos_changed": changed,
        "findings": len(findings),
        "by_rule": dict(Counter(f.rule for f in findings)),
        "api_requests": sum(source.requests.values()),
    }
    return {"findings": [f.row() for f in findings], "summary": summary | extra, "errors": errors}


def merged_errors(inventory: list[dict[str, Any]], scan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inventory's errors, then the scan's for repos the inventory did not already fail on."""
    listed = {e["repo"] for e in inventory}
    return inventory + [e for e in scan if e["repo"] not in listed]


def render_text(payload: dict[str, Any]) -> str:
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


def finish(
    payload: dict[str, Any],
    *,
    as_json: bool,
    findings: Sequence[Any],
    errors: Sequence[Any],
    filing: Any,
    notes: Sequence[str] = (),
) -> ExitCode:
    """Print a scan's payload (with what was filed) and decide its exit code: one tail for every scan."""
    payload.update(filing.payload)
    emit(payload, as_json=as_json, text=render_text)
    for note in notes:
        progress(note)
    if errors:
        progress(f"{len(errors)} repo(s) could not be scanned")
    report_failures(filing.failures)
    if filing.failures:
        return ExitCode.RUNTIME
    if findings:
        return ExitCode.FINDINGS
    return ExitCode.RUNTIME if errors else ExitCode.OK


def file_and_finish(
    payload: dict[str, Any],
    out: ScanOutput,
    source: CodeSource,
    day: date,
    evaluation: Callable[[], Evaluation],
    *,
    findings: Sequence[Any],
    errors: Sequence[Any],
    notes: Sequence[str] = (),
) -> ExitCode:
    """File the findings (with ``--auto-close``, ``evaluation()``: what the scan evaluated), then :func:`finish`."""
    auto_close = evaluation() if out.auto_close else None
    filing = file_scan(findings, source=source, day=day, db=out.db, dry_run=out.dry_run, auto_close=auto_close)
    return finish(payload, as_json=out.as_json, findings=findings, errors=errors, filing=filing, notes=notes)
