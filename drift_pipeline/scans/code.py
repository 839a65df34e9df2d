"""The code domain's scan: config snapshots for one instant.

``scan_configs`` reads, for every repo in scope (see ``scans.inventory``), the standards files and
every file they track. It takes the previous snapshot (the *baseline*) and reads as little as it can:

- a repo whose head commit is the baseline's is carried forward: no tree, no blob request;
- trees and blobs are addressed by sha and come from the source's cache once read;
- commits are listed only for tracked files whose content changed since the baseline.

Backfills are exact: the state at a past instant is the last commit at or before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.code import CommitRef, ProblemState, ProjectState, RepoCode, TrackedState
from drift_pipeline.core.standards import RegistryResolver, RepoStandards, analyse_repo
from drift_pipeline.scans.code_rows import changed_paths, file_commit_rows, file_rows, problem_rows, project_rows
from drift_pipeline.scans.perrepo import Progress, RepoFailed, failure_message, map_repos, workers_for
from drift_pipeline.scans.reading import CodeSource, RepoRegistries, SourceRegistryFetcher, SourceTreeReader
from drift_pipeline.sources.records import RepoRecord


@dataclass
class Baseline:
    """The previous config snapshot, as stored rows grouped by repo."""

    at: datetime | None = None
    status: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    projects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        at: datetime | None,
        status: Iterable[dict[str, Any]],
        files: Iterable[dict[str, Any]],
        projects: Iterable[dict[str, Any]],
        problems: Iterable[dict[str, Any]],
    ) -> Baseline:
        base = cls(at=at)
        for row in status:
            base.status[row["repo"]] = row
        for target, rows in ((base.files, files), (base.projects, projects), (base.problems, problems)):
            for row in rows:
                target.setdefault(row["repo"], []).append(row)
        return base


SNAPSHOT_TABLES = (
    "config_snapshots",
    "config_projects",
    "config_problems",
    "config_scan_status",
    "config_file_commits",
)


@dataclass
class ConfigScan:
    """Rows for every snapshot table of one day, plus the blob texts read."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in SNAPSHOT_TABLES})
    blobs: dict[str, str | None] = field(default_factory=dict)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.tables["config_scan_status"] if r["mode"] == "failed"]

    def count(self, mode: str) -> int:
        return sum(1 for r in self.tables["config_scan_status"] if r["mode"] == mode)


def scan_configs(
    source: CodeSource,
    org: str,
    at: datetime,
    inventory: Sequence[Mapping[str, Any]],
    baseline: Baseline | None = None,
    *,
    progress: Progress | None = None,
) -> ConfigScan:
    """Snapshot the standards of every repo in scope (or in the baseline) at ``at``.

    Repos are read concurrently (``source.concurrency``), each into its own partial scan, merged
    in the inventory's order. Anything that goes wrong for one repo is that repo's ``failed``
    status row; the other repos are scanned all the same.
    """
    baseline = baseline or Baseline()
    fetcher = SourceRegistryFetcher(source, org, at)
    records = {r.name: r for r in _records(inventory, org)}
    todo = [row for row in inventory if _wanted(row, baseline)]

    def one(row: Mapping[str, Any]) -> ConfigScan:
        return _scan_one(source, records[row["repo"]], row, at, baseline, fetcher)

    scan = ConfigScan()

    def failed(part: ConfigScan) -> bool:
        return any(r.get("mode") == "failed" for r in part.tables.get("config_scan_status", []))

    for part in map_repos(one, todo, workers_for(source), progress=progress, name=lambda r: r["repo"], failed=failed):
        for table, rows in part.tables.items():
            scan.tables[table] += rows
        for sha, text in part.blobs.items():
            scan.blobs.setdefault(sha, text)
    return scan


def _wanted(row: Mapping[str, Any], baseline: Baseline) -> bool:
    """In scope, or scanned before and still there (its standards may be gone), or failed."""
    name = row["repo"]
    was_scanned = name in baseline.status and baseline.status[name].get("mode") != "failed"
    return bool(
        row.get("in_scope") or row.get("error") or (was_scanned and row.get("head_sha") and not row.get("archived"))
    )


def _scan_one(
    source: CodeSource,
    record: RepoRecord,
    row: Mapping[str, Any],
    at: datetime,
    baseline: Baseline,
    fetcher: SourceRegistryFetcher,
) -> ConfigScan:
    """One repo's rows: its snapshot, or its failure (never an exception, interrupts aside)."""
    part = ConfigScan()
    if row.get("error"):
        _failed(part, record.name, row.get("head_sha"), row["error"])
        return part
    try:
        _scan_repo(source, part, record, row, at, baseline, fetcher)
    except Exception as exc:
        part = ConfigScan()  # no half snapshot
        _failed(part, record.name, row.get("head_sha"), failure_message(record.name, "scanning its standards", exc))
    return part


def _records(inventory: Iterable[Mapping[str, Any]], org: str) -> Iterable[RepoRecord]:
    for row in inventory:
        yield RepoRecord(
            org=org,
            name=row["repo"],
            owner=row.get("owner") or org,
            default_branch=row.get("default_branch") or "main",
            html_url=row.get("html_url"),
        )


def _failed(scan: ConfigScan, repo: str, head: str | None, error: str) -> None:
    scan.tables["config_scan_status"].append(
        {"repo": repo, "head_sha": head, "mode": "failed", "error": mask_secrets(error), "files": 0}
    )


def _scan_repo(
    source: CodeSource,
    scan: ConfigScan,
    record: RepoRecord,
    row: Mapping[str, Any],
    at: datetime,
    baseline: Baseline,
    fetcher: SourceRegistryFetcher,
) -> None:
    """One repo's rows into ``scan``: the baseline's carried forward when nothing it read changed,
    else its standards read afresh at the head (and, after day one, the commits of changed files)."""
    name, head = record.name, row["head_sha"]
    prev_status = baseline.status.get(name)
    if _unchanged(prev_status, head, fetcher):
        _carry_forward(scan, name, baseline)
        return
    reader = SourceTreeReader(source, record.full_name, source.tree(record.full_name, head))
    registries = fetcher.for_repo()
    standards = _analyse(name, reader, registries)
    files = file_rows(source, record, row, standards, reader, scan.blobs)
    scan.tables["config_snapshots"] += files
    scan.tables["config_projects"] += project_rows(name, standards)
    scan.tables["config_problems"] += problem_rows(name, standards)
    changed, still_present = changed_paths(baseline.files.get(name, []), files, reader)
    if prev_status is not None:  # commits for tracked files whose content changed (none on day one)
        paths = [p for p in changed if p not in still_present]
        scan.tables["config_file_commits"] += file_commit_rows(source, record, head, paths, baseline.at, at)
    scan.tables["config_scan_status"].append(
        {
            "repo": name,
            "head_sha": head,
            "mode": "read",
            "error": None,
            "files": len(files),
            "still_present": still_present,
            "registry_heads": registries.heads(),
        }
    )


def _unchanged(prev_status: Mapping[str, Any] | None, head: str, fetcher: SourceRegistryFetcher) -> bool:
    """Nothing the baseline's read depended on moved: same head commit, same registry heads."""
    return bool(
        prev_status
        and prev_status.get("head_sha") == head
        and prev_status.get("mode") != "failed"
        and fetcher.unchanged(_json_dict(prev_status.get("registry_heads")))
    )


def _analyse(name: str, reader: SourceTreeReader, registries: RepoRegistries) -> RepoStandards:
    """The repo's standards; a failure names the file read last (the likeliest culprit)."""
    try:
        return analyse_repo(reader, RegistryResolver(fetcher=registries))
    except Exception as exc:
        where = f" (last file read: {reader.last_path})" if reader.last_path else ""
        raise RepoFailed(failure_message(name, "analysing its standards" + where, exc)) from None


def _carry_forward(scan: ConfigScan, name: str, baseline: Baseline) -> None:
    strip = ("scan_date", "org")
    for table, rows in (
        ("config_snapshots", baseline.files.get(name, [])),
        ("config_projects", baseline.projects.get(name, [])),
        ("config_problems", baseline.problems.get(name, [])),
    ):
        for r in rows:
            new = {k: v for k, v in r.items() if k not in strip}
            if "carried_forward" in new:
                new["carried_forward"] = True
            scan.tables[table].append(new)
    status = {k: v for k, v in baseline.status[name].items() if k not in strip}
    scan.tables["config_scan_status"].append({**status, "mode": "carried_forward", "error": None})


# -- rows -> rule records ------------------------------------------------------------------------
def repo_code_states(
    org: str,
    files: Iterable[Mapping[str, Any]],
    projects: Iterable[Mapping[str, Any]],
    problems: Iterable[Mapping[str, Any]],
    status: Iterable[Mapping[str, Any]],
    commits: Iterable[Mapping[str, Any]],
    blobs: Mapping[str, str | None],
) -> dict[str, RepoCode]:
    """Turn one day's snapshot rows (in SNAPSHOT_TABLES order) into ``rules.code`` records.

    A record per repo whose status row is not ``failed``; the other repos' rows are left out."""
    by_repo = _repos_read(status)
    for f in files:
        if f["repo"] in by_repo:
            by_repo[f["repo"]]["url"] = f.get("commit_url")
            by_repo[f["repo"]]["files"][f["path"]] = _tracked_state(f, blobs)
    for p in projects:
        if p["repo"] in by_repo:
            by_repo[p["repo"]]["projects"].append(ProjectState(p["project"], p.get("type"), p.get("config_file")))
    for p in problems:
        if p["repo"] in by_repo:
            by_repo[p["repo"]]["problems"].append(_problem_state(p))
    for c in sorted(commits, key=lambda c: c["committed_at"], reverse=True):  # newest first, per path
        if c["repo"] in by_repo:
            by_repo[c["repo"]]["commits"].setdefault(c["path"], []).append(_commit_ref(c))
    return {
        name: RepoCode(
            org=org,
            repo=name,
            head_sha=d["head"],
            head_url=d["url"],
            files=d["files"],
            projects=tuple(d["projects"]),
            problems=tuple(d["problems"]),
            commits={p: tuple(cs) for p, cs in d["commits"].items()},
            still_present=d["still_present"],
        )
        for name, d in by_repo.items()
    }


def _repos_read(status: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """An empty record, to be filled from the other tables, per repo whose status row is not ``failed``."""
    by_repo: dict[str, dict[str, Any]] = {}
    for s in status:
        if s["mode"] == "failed":
            continue
        present = s.get("still_present")
        by_repo[s["repo"]] = {
            "head": s.get("head_sha"),
            "url": None,
            "files": {},
            "projects": [],
            "problems": [],
            "commits": {},
            "still_present": frozenset(_json_list(present)),
        }
    return by_repo


def _tracked_state(f: Mapping[str, Any], blobs: Mapping[str, str | None]) -> TrackedState:
    """A ``config_snapshots`` row as a tracked file: its content from the row, else from its blob."""
    content = f.get("content")
    if content is None:
        content = blobs.get(f.get("blob_sha") or "")
    return TrackedState(
        path=f["path"],
        project=f["project"],
        kind=f["kind"],
        tool=f.get("tool"),
        blob_sha=f.get("blob_sha"),
        content=content,
    )


def _problem_state(p: Mapping[str, Any]) -> ProblemState:
    """A ``config_problems`` row as a problem (no rule: ``invalid_config``; no severity: ``error``)."""
    return ProblemState(
        p["project"],
        p.get("file") or "",
        p.get("key"),
        p.get("line"),
        p.get("message") or "",
        p.get("rule") or "invalid_config",
        p.get("severity") or "error",
    )


def _commit_ref(c: Mapping[str, Any]) -> CommitRef:
    """A ``config_file_commits`` row as a commit of its path."""
    return CommitRef(
        c["commit_sha"], c.get("commit_url"), c.get("author") or "", c["committed_at"], c.get("message") or ""
    )


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value)


def _json_dict(value: Any) -> dict[str, str]:
    if not value:
        return {}
    return dict(json.loads(value)) if isinstance(value, str) else dict(value)
