"""Opt-in ``auto_close``: close open ``drift:<category>`` issues whose findings are gone, with a comment.

Closing on an absence is only safe when the absence was observed. A repo's issues of a category
are considered only when that repo was *evaluated* that day in that category, decided from the
scan's own rows (the stored tables for the job, the same rows in memory for the CLI), never guessed:

- its scan status row says it was read (code: ``read`` or ``carried_forward``; process: ``read``
  with settings observed; infra: ``read``) with no error, and no row of it says ``failed``;
- no ``*_not_evaluated`` finding of that category names it that day;
- for the live-only domains (process settings, infra) the day's ``coverage`` row says observed.

An open issue of ours (it carries our trusted marker: authored by the filing identity, signed; see
``markers``) is closed when none of its marker's fingerprints is
among the repo's findings of the day. Routed issues (in the config repo) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from drift_pipeline.issues import ledger
from drift_pipeline.issues.filing import FilingReport, IssueFiler, Outcome, describe
from drift_pipeline.issues.ledger import Entry
from drift_pipeline.store import DriftStore

STATUS_TABLES = {"code": "config_scan_status", "process": "process_scan_status", "infra": "infra_scan_status"}
READ_MODES = {"code": ("read", "carried_forward"), "process": ("read",), "infra": ("read",)}
COVERAGE_DOMAINS = {"process": "process_settings", "infra": "infra"}


def evaluated_repos(
    category: str,
    status_rows: Iterable[Mapping[str, Any]],
    coverage_rows: Iterable[Mapping[str, Any]],
    finding_rows: Iterable[Mapping[str, Any]],
) -> set[str]:
    """The repos evaluated in ``category`` according to the day's rows (see the module docstring)."""
    if category not in STATUS_TABLES:
        return set()
    domain = COVERAGE_DOMAINS.get(category)
    coverage = [c for c in coverage_rows if c.get("domain") in (domain, category)]
    if domain is not None and not any(c.get("observed") for c in coverage):
        return set()  # a live-only domain with no observation that day: nothing may be closed
    if any(not c.get("observed") for c in coverage):
        return set()
    rows = list(status_rows)
    failed = {r["repo"] for r in rows if r.get("error") or r.get("mode") == "failed"}
    read = {
        r["repo"]
        for r in rows
        if r.get("mode") in READ_MODES[category] and (category != "process" or r.get("settings_observed") is True)
    }
    unevaluated = {
        f["repo"]
        for f in finding_rows
        if f.get("category") == category and str(f.get("rule")).endswith("_not_evaluated")
    }
    return read - failed - unevaluated


def stored_day(store: DriftStore, day: date, org: str, category: str) -> tuple[set[str], dict[str, set[str]]]:
    """From the stored tables: the repos evaluated in ``category`` on ``day``, and their findings' fingerprints."""
    status = store.rows(f"SELECT * FROM {STATUS_TABLES[category]} WHERE scan_date = ? AND org = ?", [day, org])
    coverage = store.rows("SELECT * FROM coverage WHERE scan_date = ? AND org = ?", [day, org])
    findings = store.rows(
        "SELECT repo, category, rule, fingerprint FROM drift_findings WHERE scan_date = ? AND org = ?", [day, org]
    )
    return evaluated_repos(category, status, coverage, findings), present_fingerprints(findings, category)


def present_fingerprints(finding_rows: Iterable[Mapping[str, Any]], category: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in finding_rows:
        if f.get("category") == category:
            out.setdefault(str(f["repo"]), set()).add(str(f["fingerprint"]))
    return out


def close_message(day: date, category: str) -> str:
    return (
        f"The `drift:{category}` findings of this issue were no longer present in the scan of {day.isoformat()} "
        "(the repo was evaluated in full that day). Closed automatically by drift-pipeline (`auto_close`); "
        "reopen it if the drift is still there."
    )


def close_resolved(
    filer: IssueFiler,
    day: date,
    org: str,
    category: str,
    evaluated: Iterable[str],
    present: Mapping[str, set[str]],
    report: FilingReport,
) -> None:
    """Close (or, in a dry run, plan to close) the open issues of evaluated repos whose findings are gone.

    Outcomes and per-repo failures go to ``report``; one repo's failure does not stop the others."""
    for repo in sorted(set(evaluated)):
        try:
            report.outcomes += _close_repo(filer, day, org, repo, category, present.get(repo, set()))
        except Exception as exc:
            report.failures[f"{org}/{repo} {category} (auto_close)"] = describe(exc)


def close_day(filer: IssueFiler, store: DriftStore, day: date) -> FilingReport:
    """``auto_close`` over every org and category scanned on ``day``, decided from the stored tables."""
    report = FilingReport()
    for category, table in STATUS_TABLES.items():
        orgs = [r["org"] for r in store.rows(f"SELECT DISTINCT org FROM {table} WHERE scan_date = ? ORDER BY 1", [day])]
        for org in orgs:
            evaluated, present = stored_day(store, day, org, category)
            close_resolved(filer, day, org, category, evaluated, present, report)
    return report


def _close_repo(filer: IssueFiler, day: date, org: str, repo: str, category: str, present: set[str]) -> list[Outcome]:
    out = []
    full = f"{org}/{repo}"
    for issue in filer._labelled_issues(full, f"drift:{category}"):
        if issue.get("state") != "open":
            continue
        marks = [m for m in filer.markers(issue, full) if m.get("category") == category]
        if not marks or any(str(m.get("scan_date")) > day.isoformat() for m in marks):
            continue  # not filed by us, or about a later scan than this one
        fingerprints = tuple(sorted({str(fp) for m in marks for fp in m.get("fingerprints", [])}))
        if set(fingerprints) & present:
            continue
        number, url = int(issue["number"]), issue.get("html_url")
        if filer.dry_run:
            out.append(Outcome(org, repo, category, "would_close", fingerprints, number, url))
            continue
        filer.write("POST", f"/repos/{full}/issues/{number}/comments", {"body": close_message(day, category)})
        filer.write("PATCH", f"/repos/{full}/issues/{number}", {"state": "closed", "state_reason": "completed"})
        if filer.store is not None:
            ledger.record(filer.store, [Entry(day, org, repo, category, "closed", number, url, fingerprints)])
        out.append(Outcome(org, repo, category, "closed", fingerprints, number, url))
    return out
