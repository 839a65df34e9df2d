"""``drift evidence``: the change-management evidence of a period, from the store alone.

Reads the store through ``drift sql``'s read path (read-only, no access to other files; with
``DRIFT_STORE=ducklake`` one snapshot of the lake) and never calls an API: the report of a past period
reads the same whenever it is produced. What it decides lives in :mod:`drift_pipeline.evidence`.

Exit codes: 0 the report was produced (exceptions included: they are the evidence, not a failure);
2 a bad flag or date, an org or repo the store does not know; 3 the store is missing, cut short or
unreadable, lacks the tables the report reads, or a writer held it past ``--wait``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
import duckdb

from drift_pipeline.commands._output import echo, json_option, progress, to_json
from drift_pipeline.commands.sql import (
    QueryTimeout,
    Result,
    Target,
    given,
    read_options,
    read_session,
    render_table,
    resolve_target,
)
from drift_pipeline.core.errors import DriftError, ExitCode, UsageError, redact
from drift_pipeline.core.names import canonical_name
from drift_pipeline.core.standards.model import TIERS
from drift_pipeline.evidence import Facts, Query, Report, build, collect, missing_tables, orgs, payload, to_csv, to_html
from drift_pipeline.evidence.render import CSV_COLUMNS
from drift_pipeline.evidence.report import NO_TIER, change_id, totals

MAX_DAYS = 3660


class StoreUnavailable(DriftError):
    """The store cannot give evidence: missing, cut short, unreadable, or without the report's tables."""

    exit_code = ExitCode.RUNTIME


def parse_day(flag: str, value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {value!r}: expected a date YYYY-MM-DD (UTC), e.g. 2026-10-01") from None


def period(start: str, end: str) -> tuple[date, date]:
    first, last = parse_day("--from", start), parse_day("--to", end)
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}: the period runs from the earlier day to the later")
    if (last - first).days >= MAX_DAYS:
        raise UsageError(f"--from {first} --to {last}: at most {MAX_DAYS} days per report")
    return first, last


@contextmanager
def store_session(target: Target, *, wait: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """``drift sql``'s read session; a missing or unreadable DuckDB file is exit 3 here (no evidence)."""
    if target.lake is None and target.path is not None and not target.path.is_file():
        raise StoreUnavailable(f"--db: {target.path} does not exist or is not a file (set DRIFT_DB_PATH or pass --db)")
    with ExitStack() as stack:
        try:
            con = stack.enter_context(read_session(target, wait=wait))
        except UsageError as exc:
            if target.lake is not None:
                raise
            raise StoreUnavailable(str(exc)) from None
        yield con


def session_query(con: duckdb.DuckDBPyConnection, *, timeout: float, where: str) -> Query:
    """The report's query function on a read session: each statement stopped after ``timeout`` seconds."""

    def run(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        timer = threading.Timer(timeout, con.interrupt)
        timer.start()
        try:
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except duckdb.InterruptException:
            raise QueryTimeout(f"reading the store took longer than --timeout {timeout:g}s: raise --timeout") from None
        except duckdb.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreUnavailable(f"{where}: cannot be read: {redact(first)}") from None
        finally:
            timer.cancel()

    return run


def _known(query: Query, org: str, repos: Sequence[str], target: Target) -> tuple[str, tuple[str, ...]]:
    """``--org`` and every ``--repo`` as the store spells them (GitHub names ignore case: ``ACME`` is ``acme``)."""
    known = orgs(query)
    stored = canonical_name(org, known)
    if stored is None:
        raise UsageError(f"--org {org!r}: {target.describe()} has no data of that org; it has: {known or 'none'}")
    have = [str(r["repo"]) for r in query("SELECT DISTINCT repo FROM repo_inventory WHERE org = ?", [stored])]
    found = {name: canonical_name(name, have) for name in repos}
    unknown = sorted(name for name, hit in found.items() if hit is None)
    if unknown:
        raise UsageError(f"--repo {', '.join(map(repr, unknown))}: no such repo of {stored} in the store")
    return stored, tuple(dict.fromkeys(hit for hit in found.values() if hit is not None))


def _read(
    target: Target, org: str, repos: Sequence[str], days: tuple[date, date], *, wait: float, timeout: float
) -> tuple[Facts, tuple[str, ...]]:
    """The facts of the period and the ``--repo`` names as stored, read in one session once the store has the
    report's tables, the org and the repos."""
    where = f"{'--db ' if target.lake is None else ''}{target.describe()}"
    with store_session(target, wait=wait) as con:
        query = session_query(con, timeout=timeout, where=where)
        missing = missing_tables(query)
        if missing:
            raise StoreUnavailable(f"{where} has no table {', '.join(missing)}: not a drift store, or one cut short")
        org, stored = _known(query, org, repos, target)
        return collect(query, org, *days), stored


def _text(report: Report) -> str:
    t = totals(report)
    share = "n/a" if t["share_reviewed"] is None else f"{t['share_reviewed']:.0%}"
    lines = [
        f"change evidence of {report.org}, {report.start} .. {report.end}: {t['changes']} changes, "
        f"{t['reviewed']} reviewed ({share}), {t['exceptions']} exceptions",
        render_table(
            Result(
                ["tier", "changes", "reviewed", "share_reviewed", "exceptions"],
                [(g.name, g.changes, g.reviewed, g.share_reviewed, len(g.exceptions)) for g in report.by_tier],
                False,
            )
        ),
        "exceptions:",
        render_table(
            Result(
                ["id", "day", "tier", "author", "merged_by", "approvals", "required", "verdict", "issue"],
                [
                    (change_id(c), c.day, c.tier or NO_TIER, c.author, c.merged_by, c.approvals, c.required,
                     c.verdict, c.issue_url)
                    for c in report.exceptions
                ],  # fmt: skip
                False,
            )
        ),
        f"settings observed on {len(report.settings_observed_days)} of {(report.end - report.start).days + 1} "
        "days: " + (", ".join(str(d) for d in report.settings_observed_days) or "none")
        + "; every other day: not observed (never read as compliant)",
    ]  # fmt: skip
    return "\n".join(lines)


def _write_html(path_text: str, report: Report, source: str) -> None:
    path = Path(path_text).expanduser()
    if path.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--html {path_text}: the file name must end in .html")
    if path.is_dir():
        raise UsageError(f"--html {path_text}: is a directory; give a file name ending in .html")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_html(report, source=source), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--html {path_text}: cannot write it: {exc.strerror or exc}") from None
    progress(f"evidence: {path} ({len(report.changes)} changes, {len(report.exceptions)} exceptions)")


@click.command(
    "evidence",
    epilog="Example: drift evidence --org acme --from 2026-10-01 --to 2026-12-31 --tier production --html q4.html",
)
@click.option("--org", required=True, help="The GitHub organisation in the store (in any case: ACME is acme).")
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="First day of the period (UTC).")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="Last day of the period (UTC), included.")
@click.option(
    "--tier", "tiers", multiple=True, type=click.Choice(TIERS), help="Only changes of this tier (repeatable)."
)
@click.option(
    "--repo", "repos", multiple=True, metavar="NAME", help="Only changes of this repo, in any case (repeatable)."
)
@json_option
@click.option(
    "--csv", "as_csv", is_flag=True, help=f"Print one CSV row per change ({', '.join(CSV_COLUMNS[:4])}, ...)."
)
@click.option(
    "--html", "html_file", default=None, metavar="FILE", help="Also write the report to FILE.html (self-contained)."
)
@read_options
def evidence_command(
    org: str,
    start: str,
    end: str,
    tiers: tuple[str, ...],
    repos: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
    html_file: str | None,
    db: str,
    wait: float,
    timeout: float,
) -> None:
    """Every change that reached a default branch in the period, how it was reviewed, and what was observed.

    Per change: repo, tier, team, commit, author, pull request (or direct push), approvals at merge and
    by whom, the approvals the repo's config required that day, the verdict (reviewed, under-reviewed,
    direct push, bypass by ACTOR) and the drift issue that reported it. Per repo and tier: changes,
    share reviewed, exceptions; the days branch settings were observed, and the days they were not.
    Reads the store only (no API call). Exit 2 for a bad flag, date, org or repo; 3 when the store is
    missing, cut short or unreadable.
    """
    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one output format")
    first, last = period(start, end)
    target = resolve_target(db, db_given=given(click.get_current_context(), "db"))
    facts, stored = _read(target, org, repos, (first, last), wait=wait, timeout=timeout)
    report = build(facts, tiers=tiers, repos=stored)
    if html_file is not None:
        _write_html(html_file, report, target.describe())
    if as_json:
        echo(to_json({"database": target.describe(), **payload(report)}))
    elif as_csv:
        echo(to_csv(report), nl=False)
    else:
        echo(_text(report))
