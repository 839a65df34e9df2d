"""The scans' issue filing from the CLI: the one home shared by ``drift code|process|infra scan``.

Without ``--dry-run`` a scan of an org over the API files its findings through
:class:`~drift_pipeline.issues.filing.IssueFiler`, the code the ``file_drift_issues`` job runs
(exactly-once by marker, a comment instead of a copy, routing to the config repo, throttle); the
``filed_issues`` bookkeeping (and the marker key) goes to the store the pipeline uses: the lake of
``DRIFT_STORE=ducklake``, else the DuckDB file of ``--db`` (``DRIFT_DB_PATH``, else
``data/drift.duckdb``), selected as ``drift sql`` selects it (:func:`filing_store`). ``--dry-run`` prints what would be filed, rendered by
:func:`~drift_pipeline.issues.render.render`, and sends nothing. A scan of local clones (``--path``)
has no GitHub to file in: it says so once on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import click

from drift_pipeline.commands._output import progress
from drift_pipeline.commands.sql import given, resolve_target
from drift_pipeline.core.errors import redact
from drift_pipeline.core.rules.base import Finding
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.issues import ledger
from drift_pipeline.issues.closing import close_resolved, evaluated_repos, present_fingerprints
from drift_pipeline.issues.filing import FilingReport, IssueFiler, Outcome, describe
from drift_pipeline.issues.render import group_findings, render
from drift_pipeline.sources import github_auth
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.store import DEFAULT_DB_PATH, DriftStore

db_option = click.option(
    "--db",
    "db",
    envvar="DRIFT_DB_PATH",
    default=DEFAULT_DB_PATH,
    show_default=True,
    help="DuckDB file recording the issues filed (exactly-once bookkeeping); default $DRIFT_DB_PATH.",
)


@dataclass
class Filing:
    """What the CLI adds to a scan's output: the payload key and the repos whose filing failed."""

    payload: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def would_file(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The issues the findings would give, one per repo and category, from the filing renderer."""
    out = []
    for group in group_findings(f.row() for f in findings):
        issue = render(group, RULES)
        out.append(
            {
                "repo": group.full_name,
                "category": group.category,
                "label": issue.label,
                "findings": len(group.fingerprints),
                "title": issue.title,
                "body": issue.body,
            }
        )
    return out


@dataclass(frozen=True)
class Evaluation:
    """What a scan evaluated, for ``--auto-close``: the rows the assets would store for that day.

    ``findings`` are all the scan's findings (not only those printed), so a standing finding of a
    quiet repo keeps its issue open."""

    org: str
    category: str
    status_rows: Sequence[Mapping[str, Any]]
    coverage_rows: Sequence[Mapping[str, Any]]
    findings: Sequence[Finding]

    def close(self, filer: IssueFiler, day: date, report: FilingReport) -> None:
        rows = [f.row() for f in self.findings]
        evaluated = evaluated_repos(self.category, self.status_rows, self.coverage_rows, rows)
        close_resolved(
            filer, day, self.org, self.category, evaluated, present_fingerprints(rows, self.category), report
        )


def file_scan(
    findings: Sequence[Finding],
    *,
    source: object,
    day: date,
    db: str,
    dry_run: bool,
    auto_close: Evaluation | None = None,
) -> Filing:
    """File (or, with ``dry_run``, plan) the issues of a scan's findings; never raises for GitHub or the store.

    With ``auto_close`` the open issues of evaluated repos whose findings are gone are closed too
    (previewed as ``would_close`` by a dry run, which reads GitHub but writes nothing)."""
    if not isinstance(source, GitHubSource):
        if findings and not dry_run:
            progress("no issues filed: local clones (--path) have no GitHub to file in; use --org, or --dry-run")
        return Filing({"would_file": would_file(findings)} if dry_run else {})
    if dry_run:
        filing = Filing({"would_file": would_file(findings)})
        if auto_close is not None:
            report = FilingReport()
            # the marker key of the store, read only, so the preview trusts the markers a real run would
            found = filing_store(db, read_only=True)
            store = found.store(read_only=True) if found is not None else None
            try:
                filer = IssueFiler(source.github, store, RULES, dry_run=True, app_slug=app_slug(source))
                auto_close.close(filer, day, report)
            finally:
                if store is not None:
                    store.close()
            filing.payload["would_close"] = [_issue_row(o, {}) for o in report.outcomes]
            filing.failures.update(report.failures)
        return filing
    groups = group_findings(f.row() for f in findings)
    if not groups and auto_close is None:
        return Filing({"issues": []})
    opened = filing_store(db)
    assert opened is not None
    where = opened.describe()
    try:
        with opened.store() as store:
            filer = IssueFiler(source.github, store, RULES, app_slug=app_slug(source))
            report = filer.file_day(day, groups)
            if auto_close is not None:
                auto_close.close(filer, day, report)
            known = _known_issues(store, day)
    except Exception as exc:  # the store cannot be opened or written: nothing was filed
        failures = {f"{g.full_name} {g.category}": f"{where}: {describe(exc)}" for g in groups}
        return Filing({"issues": []}, failures or {"(auto_close)": f"{where}: {describe(exc)}"})
    return Filing({"issues": [_issue_row(o, known) for o in report.outcomes]}, dict(report.failures))


@dataclass(frozen=True)
class FilingStore:
    """Where the CLI's filing keeps its ledger, claims and marker key: the pipeline's own store."""

    path: Path | None = None
    lake: Any = None  # the DriftStoreResource of DRIFT_STORE=ducklake (sql.resolve_target)

    def store(self, *, read_only: bool = False) -> DriftStore:
        if self.lake is not None:
            return self.lake.store(read_only=read_only)
        assert self.path is not None
        return DriftStore(self.path, read_only=read_only)

    def describe(self) -> str:
        return f"--db {self.path}" if self.lake is None else f"the lake {redact(self.lake.lake_catalog)}"


def filing_store(db: str, *, read_only: bool = False) -> FilingStore | None:
    """The store the filing uses, selected as the Dagster resources select it (``store_from_env``
    through :func:`~drift_pipeline.commands.sql.resolve_target`): with ``DRIFT_STORE=ducklake`` the
    lake, so the ledger and the marker key are the pipeline's; else the DuckDB file ``db``.
    None: ``read_only`` and no file yet (nothing recorded, no key). ``--db`` on a lake: usage error."""
    ctx = click.get_current_context(silent=True)
    target = resolve_target(db, db_given=ctx is not None and given(ctx, "db"))
    if target.lake is not None:
        return FilingStore(lake=target.lake)
    assert target.path is not None
    if read_only and not target.path.is_file():
        return None
    return FilingStore(path=target.path)


def app_slug(source: object) -> str | None:
    """The slug of the GitHub App a source authenticates as (``github_auth.app_slug``), else None:
    the filer's identity is then ``<slug>[bot]`` instead of the token's ``GET /user`` login."""
    return github_auth.app_slug(getattr(source, "github", None))


def _issue_row(o: Outcome, known: Mapping[tuple[str, str, str], tuple[int | None, str | None]]) -> dict[str, Any]:
    number, url = known.get((o.org, o.repo, o.category), (None, None))
    return {
        "repo": f"{o.org}/{o.repo}",
        "category": o.category,
        "action": "routed" if o.target_repo and o.action == "created" else o.action,
        "number": o.number or number,
        "url": o.url or url,
        "target_repo": f"{o.org}/{o.target_repo}" if o.target_repo else None,
        "findings": len(o.fingerprints),
    }


def _known_issues(store: DriftStore, day: date) -> dict[tuple[str, str, str], tuple[int | None, str | None]]:
    """The issue recorded for each (org, repo, category) of ``day``: where an ``already_filed`` group lives."""
    known: dict[tuple[str, str, str], tuple[int | None, str | None]] = {}
    for row in ledger.entries(store, day):
        if row["action"] in ledger.FILED and row["url"]:
            known[(row["org"], row["repo"], row["category"])] = (row["number"], row["url"])
    return known


auto_close_option = click.option(
    "--auto-close",
    is_flag=True,
    help="Also close (with a comment) open drift issues of repos evaluated in this scan whose findings are gone.",
)


def filing_text(payload: dict[str, Any]) -> list[str]:
    """The text lines of the filing part of a scan's payload."""
    lines: list[str] = []
    for issue in payload.get("would_close", []):
        lines.append(f"would close {issue['repo']} drift:{issue['category']}: {issue['url']}")
    for plan in payload.get("would_file", []):
        lines.append(f"would file in {plan['repo']}: {plan['title']} (label {plan['label']})")
        lines.extend("    " + line for line in plan["body"].splitlines())
    for issue in payload.get("issues", []):
        where = f" -> {issue['target_repo']}" if issue["target_repo"] else ""
        lines.append(f"issue {issue['action']:9} {issue['repo']}{where} drift:{issue['category']}: {issue['url']}")
    return lines


def report_failures(failures: dict[str, str]) -> None:
    """Name every repo whose issue could not be filed (stderr), once each."""
    for key, why in sorted(failures.items()):
        progress(f"filing failed for {key}: {why}")
    if failures:
        repos = sorted({key.split(" ", 1)[0] for key in failures})
        progress(f"{len(repos)} repo(s) not filed: {', '.join(repos)}; a re-run files only what is missing")
