"""The inventory scan: every repo of an org at one instant, with its head commit and its scope.

Shared by every domain: code, process and infra all scan the repos this decides are in scope.
A repo not pushed since the previous inventory keeps its head and scope without a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drift_pipeline.errors import NotFound, SourceError, redact
from drift_pipeline.gitutil import GitError
from drift_pipeline.scans.reading import CodeSource, SourceTreeReader
from drift_pipeline.sources.records import RepoRecord
from drift_pipeline.standards import Problem, RepoStandards, analyse_repo
from drift_pipeline.standards.org_config import CONFIG_FILE, CONFIG_REPO, OrgConfig, parse_org_config


@dataclass(frozen=True)
class InventoryResult:
    rows: list[dict[str, Any]]
    errors: list[dict[str, str]]
    org_config: OrgConfig = OrgConfig()


def read_org_config(source: CodeSource, org: str, at: datetime,
                    config_repo: str = CONFIG_REPO) -> OrgConfig:
    """``<org>/<config_repo>/drift.config.yaml`` as it was at ``at``; empty when there is none."""
    file = f"{config_repo}/{CONFIG_FILE}"
    try:
        record = source.get_repo(org, config_repo)
        head = source.head_at(record, at)
        if head is None:
            return OrgConfig()
        entry = next((e for e in source.tree(record.full_name, head.sha) if e.path == CONFIG_FILE), None)
        if entry is None:
            return OrgConfig()
        return parse_org_config(source.blob_text(record.full_name, entry.sha) or "", file)
    except NotFound:
        return OrgConfig()
    except (SourceError, GitError) as exc:
        return OrgConfig(problems=(Problem(file, None, None, f"could not be read: {redact(str(exc))}; "
                                                             "no repo is excluded"),))


def _scope(record: RepoRecord, org: str) -> str | None:
    """Why a repo is out of scope before reading it, or None."""
    if record.owner.lower() != org.lower():
        return f"owned by {record.owner}, not {org}"
    if record.archived:
        return "archived"
    if record.disabled:
        return "disabled"
    return None


def scan_inventory(source: CodeSource, org: str, at: datetime,
                   baseline: Mapping[str, Mapping[str, Any]] | None = None,
                   baseline_at: datetime | None = None,
                   only: Sequence[str] | None = None,
                   config_repo: str = CONFIG_REPO) -> InventoryResult:
    """Every repo of ``org`` with its head at ``at`` and its scope.

    ``baseline`` holds the previous inventory rows by repo name, taken at ``baseline_at``; a repo
    not pushed since then keeps its head and scope without a request. Repos matching the
    ``exclude`` globs of the org's config repo are out of scope.
    """
    baseline = baseline or {}
    org_config = read_org_config(source, org, at, config_repo)
    rows, errors = [], []
    for record in sorted(source.list_repos(org), key=lambda r: r.name):
        if only and record.name not in only:
            continue
        row: dict[str, Any] = {
            "repo": record.name, "owner": record.owner, "default_branch": record.default_branch,
            "html_url": record.html_url,
            "pushed_at": record.pushed_at, "archived": record.archived, "disabled": record.disabled,
            "fork": record.fork, "private": record.private, "carried_forward": False,
            "has_metadata": False, "has_config": False, "in_scope": False, "config_files": [],
        }
        reason = _scope(record, org)
        pattern = org_config.excluded_by(record.name)
        if pattern and not reason:
            reason = f"excluded by {config_repo}/{CONFIG_FILE} ({pattern})"
        if reason:
            rows.append({**row, "scope_reason": reason})
            continue
        prev = baseline.get(record.name)
        try:
            if (prev and prev.get("head_sha") and baseline_at and record.pushed_at
                    and record.pushed_at <= baseline_at and record.pushed_at <= at):
                rows.append(_carry(row, prev))       # not pushed since the baseline
                continue
            head = source.head_at(record, at)
            if head is None:
                rows.append({**row, "scope_reason": "no commit yet"})
                continue
            row.update(head_sha=head.sha, head_date=head.date, head_author=head.author)
            if prev and prev.get("head_sha") == head.sha:
                rows.append(_carry(row, prev))
                continue
            standards = analyse_repo(SourceTreeReader(source, record.full_name,
                                                      source.tree(record.full_name, head.sha)))
            rows.append({**row, **_scope_fields(standards)})
        except (SourceError, GitError) as exc:
            message = redact(str(exc))
            errors.append({"repo": record.name, "error": message})
            known = _carry(row, prev) if prev else {**row, "scope_reason": "scan failed"}
            rows.append({**known, "carried_forward": False, "error": message})
    return InventoryResult(rows, errors, org_config)


def _carry(row: dict[str, Any], prev: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("head_sha", "head_date", "head_author", "has_metadata", "has_config", "in_scope", "scope_reason",
            "tier", "status", "team", "config_files")
    return {**row, **{k: prev.get(k) for k in keep}, "carried_forward": True}


def _scope_fields(standards: RepoStandards) -> dict[str, Any]:
    meta = standards.metadata
    reason = None
    if not meta.present:
        reason = "no repo-metadata.yaml (or [metadata] table)"
    elif not standards.config_files:
        reason = "no check.toml or standards.toml"
    return {"has_metadata": meta.present, "has_config": bool(standards.config_files),
            "in_scope": standards.in_scope, "scope_reason": reason, "tier": meta.tier,
            "status": meta.status, "team": meta.team, "config_files": list(standards.config_files)}
