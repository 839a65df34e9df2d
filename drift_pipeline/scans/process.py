"""The process domain's scan: each in-scope repo's GitHub settings and the day's default-branch activity.

``scan_process`` reads, for the repos the day's inventory has in scope, concurrently and each on
its own (``scans.perrepo``):

- the expectations: the repo's resolved config at the day's head (the standards engine over the
  tree, registries through ``[extends]``; trees and blobs come from the sha cache);
- the settings, only when the day is still observable live (:func:`settings_observable`): a past
  day's settings are never fabricated, the scan says "not observed" (a coverage row) instead;
- the activity (reconstructable, so backfills are exact): the first-parent commits that reached
  the default branch in (day start, day end], each with the pull request that merged it, its
  reviews and files. Only repos whose head moved during the day are read.

The scan returns rows for the tables (``process_settings``, ``process_activity``,
``process_scan_status``, ``coverage``) and the records the rules judge; the assets and the CLI
share it, so they never diverge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml

from drift_pipeline.core import standards as standards_package
from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules import process as process_rules
from drift_pipeline.core.rules.base import Finding
from drift_pipeline.core.rules.process.files import workflow_candidates
from drift_pipeline.core.rules.process.records import (
    ProcessActivity,
    ProcessSettings,
    RepoProcess,
    Workflow,
)
from drift_pipeline.core.standards import RegistryResolver, analyse_repo
from drift_pipeline.core.standards.process_expectations import expectations_for_repo
from drift_pipeline.core.standards.process_model import ProcessExpectations
from drift_pipeline.scans import process_codec
from drift_pipeline.scans.perrepo import Progress, RepoFailed, failure_message, map_repos, workers_for
from drift_pipeline.scans.process_activity import activity_row, day_commits
from drift_pipeline.scans.process_reads import SKIPPED, read_settings
from drift_pipeline.scans.reading import SourceRegistryFetcher, SourceTreeReader
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.github_process import ProcessReader

SETTINGS_DOMAIN = "process_settings"
LIVE_FOR = timedelta(days=1)
TABLES = ("process_settings", "process_activity", "process_scan_status")


def settings_observable(day: date, now: datetime) -> tuple[bool, str | None]:
    """Settings are live-only: a day is observed when its end is at most one day before ``now``.

    So today and yesterday (UTC) are observed: the nightly run materialises yesterday's partition
    shortly after midnight, and what GitHub answers then is yesterday's closing state. Any earlier
    day is not observable; the answer says why.
    """
    if day_end(day) >= now - LIVE_FOR:
        return True, None
    return False, (
        f"GitHub settings are live-only: {day} ended more than {LIVE_FOR.days} day before the scan "
        f"({now:%Y-%m-%d %H:%M} UTC), so its settings were not observed"
    )


@dataclass
class ProcessScan:
    """One org and day: table rows, the records and expectations of each repo read, failures."""

    org: str
    day: date
    observed_settings: bool
    reason: str | None
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    repos: dict[str, RepoProcess] = field(default_factory=dict)
    expected: dict[str, ProcessExpectations] = field(default_factory=dict)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [
            {"repo": r["repo"], "error": r["error"]}
            for r in self.tables["process_scan_status"]
            if r["mode"] == "failed"
        ]

    def coverage(self) -> dict[str, Any]:
        return {"domain": SETTINGS_DOMAIN, "observed": self.observed_settings, "reason": self.reason}

    def findings(self) -> list[Finding]:
        return process_rules.evaluate(self.day, self.repos, self.expected)


@dataclass
class _Part:
    status: dict[str, Any]
    settings: list[dict[str, Any]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    record: RepoProcess | None = None
    expected: ProcessExpectations | None = None


def scan_process(
    source: GitHubSource,
    org: str,
    day: date,
    inventory: Sequence[Mapping[str, Any]],
    *,
    reader: ProcessReader | None = None,
    window: tuple[datetime, datetime] | None = None,
    now: datetime | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> ProcessScan:
    """The process observations of ``org`` on ``day`` for the in-scope repos of ``inventory``.

    ``window`` is the activity's (start, end]: the day by default (the CLI's ``--since`` gives
    another); the inventory must be taken at its end. ``reader`` may be shared by the days of a
    run (its window plan lists each history once).
    """
    now = now or datetime.now(UTC)
    start, end = window or (day_end(day - timedelta(days=1)), day_end(day))
    observed, reason = settings_observable(day, now)
    scan = ProcessScan(org, day, observed, reason)
    reader = reader or ProcessReader(source)
    fetcher = SourceRegistryFetcher(source, org, end)
    todo = [r for r in inventory if (r.get("in_scope") or r.get("error")) and (not only or r["repo"] in only)]

    def one(row: Mapping[str, Any]) -> _Part:
        return _scan_one(reader, fetcher, org, (start, end), row, observed)

    def failed(part: _Part) -> bool:
        return bool(part.status.get("mode") == "failed")

    for part in map_repos(one, todo, workers_for(source), progress=progress, name=lambda r: r["repo"], failed=failed):
        scan.tables["process_scan_status"].append(part.status)
        scan.tables["process_settings"] += part.settings
        scan.tables["process_activity"] += part.activity
        if part.record is not None and part.expected is not None:
            scan.repos[part.record.repo] = part.record
            scan.expected[part.record.repo] = part.expected
    return scan


def _failed(repo: str, head: str | None, error: str) -> _Part:
    return _Part(
        {"repo": repo, "head_sha": head, "mode": "failed", "error": mask_secrets(error), "settings_observed": False}
    )


def _scan_one(
    reader: ProcessReader,
    fetcher: SourceRegistryFetcher,
    org: str,
    window: tuple[datetime, datetime],
    row: Mapping[str, Any],
    observed: bool,
) -> _Part:
    name, head = row["repo"], row.get("head_sha")
    if row.get("error"):
        return _failed(name, head, str(row["error"]))
    try:
        return _scan_repo(reader, fetcher, org, window, row, observed)
    except Exception as exc:
        return _failed(name, head, failure_message(name, "reading its process settings and activity", exc))


def _scan_repo(
    reader: ProcessReader,
    fetcher: SourceRegistryFetcher,
    org: str,
    window: tuple[datetime, datetime],
    row: Mapping[str, Any],
    observed: bool,
) -> _Part:
    source = reader.source
    name, head = row["repo"], row.get("head_sha")
    owner, branch = row.get("owner") or org, row.get("default_branch") or "main"
    full = f"{owner}/{name}"
    if not head:
        status = {"repo": name, "head_sha": None, "mode": "no_commits", "error": None, "settings_observed": False}
        return _Part(status)
    tree = SourceTreeReader(source, full, source.tree(full, head))
    exp = _expectations(reader, fetcher, name, full, head, tree)
    settings, skipped = _settings(reader, full, branch, head, tree, exp) if observed else (None, {})
    start, end = window
    pushed = _moved_in(row.get("head_date"), start)
    commits = day_commits(reader, full, branch, head, start, end) if pushed else ()
    activity = ProcessActivity(branch, commits)
    record = RepoProcess(org, name, observed_settings=observed, settings=settings, activity=activity)
    status = {
        "repo": name,
        "head_sha": head,
        "mode": "read",
        "error": None,
        "settings_observed": observed,
        "activity_read": pushed,
        "commits": len(commits),
        "config_file": exp.source,
        "not_evaluated": list(exp.not_evaluated),
        "problems": list(exp.problems),
        "expected": process_codec.encode(exp),
        "observed": process_codec.encode(record),
    }
    part = _Part(status, record=record, expected=exp)
    if settings is not None:
        part.settings = settings_rows(name, settings, exp, skipped)
    part.activity = [activity_row(name, c) for c in commits]
    return part


def _expectations(
    reader: ProcessReader, fetcher: SourceRegistryFetcher, name: str, full: str, head: str, tree: SourceTreeReader
) -> ProcessExpectations:
    """The repo's expectations at ``head``: analysed once per head and run while its registries stay put."""
    known = reader.derived(full, head) or _stored(reader.source, full, head)
    if known is not None and fetcher.unchanged(known[1]):
        reader.remember(full, head, known)
        return cast(ProcessExpectations, known[0])
    registries = fetcher.for_repo()
    try:
        standards = analyse_repo(tree, RegistryResolver(fetcher=registries))
    except Exception as exc:
        where = f" (last file read: {tree.last_path})" if tree.last_path else ""
        raise RepoFailed(failure_message(name, "analysing its standards" + where, exc)) from None
    exp = expectations_for_repo(standards)
    heads = registries.heads()
    reader.remember(full, head, (exp, heads))
    stored = {"analysis": _ANALYSIS, "head": head, "registries": heads, "expected": process_codec.encode(exp)}
    reader.source.remember(f"expected:{full}", json.dumps(stored, sort_keys=True))
    return exp


def _stored(source: GitHubSource, full: str, head: str) -> tuple[ProcessExpectations, dict[str, str]] | None:
    """The expectations an earlier run derived for ``full`` at ``head`` (None: none, another head,
    or another version of the analysis): the next day's scan of an unchanged repo reads no file."""
    raw = source.remembered(f"expected:{full}")
    try:
        stored = json.loads(raw) if raw else None
        if not isinstance(stored, dict) or stored.get("analysis") != _ANALYSIS or stored.get("head") != head:
            return None
        return process_codec.decode(ProcessExpectations, stored["expected"]), dict(stored["registries"])
    except (ValueError, KeyError, TypeError):  # written by another version: analyse again
        return None


def _analysis_version() -> str:
    """A digest of the standards engine's source: stored expectations of another version are not used."""
    root = Path(standards_package.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


_ANALYSIS = _analysis_version()


def _moved_in(head_date: Any, start: datetime) -> bool:
    if not isinstance(head_date, datetime):
        return False
    when = head_date if head_date.tzinfo else head_date.replace(tzinfo=UTC)
    return when > start


# -- settings ---------------------------------------------------------------------------------
def _settings(
    reader: ProcessReader, full: str, branch: str, head: str, tree: SourceTreeReader, exp: ProcessExpectations
) -> tuple[ProcessSettings, dict[str, str]]:
    paths = frozenset(tree.list_paths())
    workflows = {}
    for wf in exp.required_workflows:
        for path in workflow_candidates(wf.name):
            if wf.jobs and path in paths and path not in workflows:
                workflows[path] = _workflow(path, tree.read_text(path))
    return read_settings(reader, full, branch, head, tree, exp, workflows)


def _workflow(path: str, text: str | None) -> Workflow:
    if text is None:
        return Workflow(path, None, "not UTF-8 text")
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        return Workflow(path, None, f"invalid YAML: {' '.join(str(exc).split())[:200]}")
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, dict):
        return Workflow(path, None, "no 'jobs' mapping")
    return Workflow(path, tuple(str(j) for j in jobs))


def settings_rows(
    repo: str, settings: ProcessSettings, exp: ProcessExpectations, skipped: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per expected branch setting (verdict, where satisfied), per source read and per read
    the expectations did not need (state ``skipped``, ``readable`` NULL, the reason)."""
    skipped = skipped or {}
    rows = []
    for st in process_rules.branch_statuses(settings, exp):
        rows.append(
            {
                "repo": repo,
                "setting": st.setting,
                "rule": st.rule,
                "state": st.state,
                "expected": _json(st.expected),
                "actual": _json(st.actual),
                "source": list(st.satisfied_by),
                "readable": st.state != "not_evaluated",
                "reason": "; ".join(f"{n.setting}: {n.reason}" for n in st.not_readable) or None,
            }
        )
    c = settings.classic
    if "classic_protection" not in skipped:
        rows.append(_source_row(repo, "classic_protection", c.state, c.state != "not_readable", c.reason))
    unread = {n.setting: n for n in settings.not_readable}
    for setting, value in (
        ("branch_rules", settings.branch_rules),
        ("tag_rulesets", settings.tag_rulesets),
        ("codeowners_errors", settings.codeowners_errors),
    ):
        if setting in skipped:
            continue
        why = unread.get(setting)
        actual = None if value is None else [_brief(v) for v in value]
        rows.append(_source_row(repo, setting, actual, value is not None, why.reason if why else None))
    for rid, rs in sorted(settings.rulesets.items()):
        rows.append(_source_row(repo, f"ruleset {rid}", _brief(rs), True, None, source=[rs.label]))
    for n in settings.not_readable:
        if n.setting.startswith("ruleset "):
            rows.append(_source_row(repo, n.setting, None, False, f"{n.reason} (HTTP {n.status})"))
    rows.append(_source_row(repo, "codeowners", settings.codeowners_path, True, None))
    rows += [_skipped_row(repo, setting, why) for setting, why in sorted(skipped.items())]
    return rows


def _skipped_row(repo: str, setting: str, why: str) -> dict[str, Any]:
    return {**_source_row(repo, setting, None, True, why), "state": SKIPPED, "readable": None}


def _json(value: Any) -> str:
    """A JSON cell (scalars included: a JSON column holds ``true``, not ``True``)."""
    return json.dumps(value, sort_keys=True, default=str)


def _brief(value: Any) -> Any:
    return json.loads(process_codec.encode(value))


def _source_row(
    repo: str, setting: str, actual: Any, readable: bool, reason: str | None, *, source: list[str] | None = None
) -> dict[str, Any]:
    return {
        "repo": repo,
        "setting": setting,
        "rule": None,
        "state": "read" if readable else "not_readable",
        "expected": None,
        "actual": _json(actual),
        "source": source or [],
        "readable": readable,
        "reason": reason,
    }
