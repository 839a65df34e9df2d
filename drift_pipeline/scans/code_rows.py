"""The code scan's rows for one repo read afresh: what each snapshot table gets from its standards.

``scans.code`` decides whether a repo is read or carried forward; this module turns a read repo
(its analysed standards, its tree, the baseline's files) into the rows of ``config_snapshots``,
``config_projects``, ``config_problems`` and ``config_file_commits``. Everything stored is masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.code import looks_secret
from drift_pipeline.core.standards import RepoStandards
from drift_pipeline.scans.inventory import masked
from drift_pipeline.scans.reading import CodeSource, SourceTreeReader
from drift_pipeline.sources.records import RepoRecord

CONTENT_KINDS = ("config", "metadata")  # kinds whose content is kept in the snapshot row itself
MAX_BLOB_CHARS = 256_000


def _stored_text(path: str, text: str | None) -> str | None:
    """What may be stored of a tracked file: nothing for secret-named or huge files, else masked."""
    if text is None or looks_secret(path) or len(text) > MAX_BLOB_CHARS:
        return None
    return mask_secrets(text)


def file_rows(
    source: CodeSource,
    record: RepoRecord,
    row: Mapping[str, Any],
    standards: RepoStandards,
    reader: SourceTreeReader,
    blobs: dict[str, str | None],
) -> list[dict[str, Any]]:
    """One ``config_snapshots`` row per tracked file at the head, by path; each blob's text into ``blobs``."""
    head = row["head_sha"]
    commit_url = source.commit_url(record, head)
    head_date = row.get("head_date")
    tracked = {t.path: (p.path, t) for p in standards.projects for t in p.tracked_files}
    files = []
    for path, (project_path, t) in sorted(tracked.items()):
        sha = reader.blob_sha(path)
        text = _stored_text(path, reader.read_text(path))
        if sha is not None:
            blobs[sha] = text
        files.append(
            {
                "repo": record.name,
                "project": project_path,
                "path": path,
                "kind": t.kind,
                "tool": t.tool,
                "blob_sha": sha,
                "content": text if t.kind in CONTENT_KINDS else None,
                "commit_sha": head,
                "commit_url": commit_url,
                "commit_author": row.get("head_author"),
                "commit_date": head_date,
                "carried_forward": False,
            }
        )
    return files


def project_rows(name: str, standards: RepoStandards) -> list[dict[str, Any]]:
    """One ``config_projects`` row per project: its type, metadata, registry, rulesets and tier check."""
    rows = []
    for project in standards.projects:
        tier = project.tier_check
        rows.append(
            {
                "repo": name,
                "project": project.path,
                "type": project.type,
                "config_file": project.config_file,
                "tier": masked(project.metadata.tier),
                "status": masked(project.metadata.status),
                "team": masked(project.metadata.team),
                "registry": masked(project.registry),
                "rulesets": list(project.rulesets),
                "tier_valid": tier.valid if tier else None,
                "tier_message": masked(tier.message) if tier else None,
                "carried_forward": False,
            }
        )
    return rows


def problem_rows(name: str, standards: RepoStandards) -> list[dict[str, Any]]:
    """One ``config_problems`` row per distinct problem, under its project (``.`` when no project owns it)."""
    return [
        {
            "repo": name,
            "project": project_path,
            "file": problem.file,
            "key": masked(problem.key),
            "line": problem.line,
            "message": masked(problem.message),
            "rule": problem.rule,
            "severity": problem.severity,
        }
        for project_path, problem in _problems(standards)
    ]


def _problems(standards: RepoStandards) -> list[tuple[str, Any]]:
    seen: dict[tuple[str, Any], None] = {}
    for project in standards.projects:
        for problem in project.problems:
            seen.setdefault((project.path, problem), None)
    owned = {p for _, p in seen}
    for problem in standards.problems:
        if problem not in owned:
            seen.setdefault((".", problem), None)
    return list(seen)


def changed_paths(
    previous: Iterable[Mapping[str, Any]], files: Sequence[Mapping[str, Any]], reader: SourceTreeReader
) -> tuple[list[str], list[str]]:
    """Tracked paths whose blob changed since the baseline's ``previous`` rows, and the paths no
    longer tracked whose file is still in the tree (``still_present``); both sorted."""
    prev_files = {f["path"]: f for f in previous}
    current = {f["path"]: f["blob_sha"] for f in files}
    changed = sorted(
        p
        for p in set(current) | set(prev_files)
        if current.get(p) != (prev_files[p]["blob_sha"] if p in prev_files else None)
    )
    still_present = sorted(p for p in prev_files if p not in current and reader.blob_sha(p))
    return changed, still_present


def file_commit_rows(
    source: CodeSource,
    record: RepoRecord,
    head: str,
    paths: Iterable[str],
    since: datetime | None,
    until: datetime,
) -> list[dict[str, Any]]:
    """One ``config_file_commits`` row per commit touching each of ``paths`` between ``since`` and ``until``."""
    return [
        {
            "repo": record.name,
            "path": path,
            "commit_sha": c.sha,
            "commit_url": c.url or source.commit_url(record, c.sha),
            "author": c.author,
            "committed_at": c.date,
            "message": masked(c.message),
        }
        for path in paths
        for c in source.path_commits(record.full_name, head, path, since, until)
    ]
