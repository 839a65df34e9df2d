"""The inventory scan: every repo of an org at one instant, with its head commit and its scope.

Shared by every domain: code, process and infra all scan the repos this decides are in scope.
A repo not pushed since the previous inventory keeps its head and scope without a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drift_pipeline.core.errors import NotFound, SourceError
from drift_pipeline.core.names import same_name
from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.standards import Problem, RepoStandards, analyse_repo
from drift_pipeline.core.standards.org_config import CONFIG_FILE, CONFIG_REPO, OrgConfig, parse_org_config
from drift_pipeline.scans.perrepo import Progress, failure_message, map_repos, workers_for
from drift_pipeline.scans.reading import CodeSource, SourceTreeReader
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.github_process import share_branch
from drift_pipeline.sources.records import RepoRecord


@dataclass(frozen=True)
class InventoryResult:
    rows: list[dict[str, Any]]
    errors: list[dict[str, str]]
    org_config: OrgConfig = OrgConfig()


def read_org_config(source: CodeSource, org: str, at: datetime, config_repo: str = CONFIG_REPO) -> OrgConfig:
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
        text = source.blob_text(record.full_name, entry.sha)
        if text is None:
            return OrgConfig(problems=(Problem(file, None, None, "is not UTF-8 text; no repo is excluded"),))
        return parse_org_config(text, file)
    except NotFound:
        return OrgConfig()
    except Exception as exc:
        reason = failure_message(f"{org}/{config_repo}", f"reading {CONFIG_FILE}", exc)
        return OrgConfig(problems=(Problem(file, None, None, f"could not be read ({reason}); no repo is excluded"),))


def _scope(record: RepoRecord, org: str, at: datetime) -> tuple[str | None, str | None]:
    """``(why out of scope before reading it, or None; a note for a repo kept in scope)``.

    An archived repo stays in scope for the days up to and including its last push (its state
    on those days is what it was then); after that day it is out as "archived".
    """
    if not same_name(record.owner, org):
        return f"owned by {record.owner}, not {org}", None
    note = None
    if record.archived:
        last = record.pushed_at
        if last is None or at.astimezone(UTC).date() > last.astimezone(UTC).date():
            return "archived", None
        note = f"archived (in scope up to its last push on {last.astimezone(UTC):%Y-%m-%d})"
    if record.disabled:
        return "disabled", None
    return None, note


def scan_inventory(
    source: CodeSource,
    org: str,
    at: datetime,
    baseline: Mapping[str, Mapping[str, Any]] | None = None,
    baseline_at: datetime | None = None,
    only: Sequence[str] | None = None,
    config_repo: str = CONFIG_REPO,
    *,
    progress: Progress | None = None,
) -> InventoryResult:
    """Every repo of ``org`` with its head at ``at`` and its scope.

    ``baseline`` holds the previous inventory rows by repo name, taken at ``baseline_at``; a repo
    not pushed since then keeps its head and scope without a request. Repos matching the
    ``exclude`` globs of the org's config repo are out of scope. Repos are read concurrently
    (``source.concurrency``); a repo that cannot be read is a row with an ``error``, and the
    others are read all the same. Only the org listing failing fails the scan.
    """
    baseline = baseline or {}
    org_config = read_org_config(source, org, at, config_repo)
    records = [r for r in sorted(source.list_repos(org), key=lambda r: r.name) if not only or r.name in only]

    def one(record: RepoRecord) -> tuple[dict[str, Any], dict[str, str] | None]:
        return _inventory_row(source, org, record, at, baseline.get(record.name), baseline_at, org_config, config_repo)

    results = map_repos(
        one, records, workers_for(source), progress=progress, name=lambda r: r.name, failed=lambda r: r[1] is not None
    )
    return InventoryResult([row for row, _ in results], [e for _, e in results if e], org_config)


def _base_row(record: RepoRecord) -> dict[str, Any]:
    """A repo's inventory row before its head and standards are read (out of scope, not analysed)."""
    return {
        "repo": record.name,
        "owner": record.owner,
        "default_branch": record.default_branch,
        "html_url": record.html_url,
        "pushed_at": record.pushed_at,
        "archived": record.archived,
        "disabled": record.disabled,
        "fork": record.fork,
        "private": record.private,
        "carried_forward": False,
        "has_metadata": False,
        "has_config": False,
        "in_scope": False,
        "config_files": [],
    }


def _inventory_row(
    source: CodeSource,
    org: str,
    record: RepoRecord,
    at: datetime,
    prev: Mapping[str, Any] | None,
    baseline_at: datetime | None,
    org_config: OrgConfig,
    config_repo: str,
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """One repo's inventory row, and its error (None when it was read)."""
    row = _base_row(record)
    reason, note = _scope(record, org, at)
    pattern = org_config.excluded_by(record.name)
    if pattern and not reason:
        reason = f"excluded by {config_repo}/{CONFIG_FILE} ({pattern})"
    if reason:
        return {**row, "scope_reason": reason}, None
    reader = None
    try:
        if (
            prev
            and prev.get("head_sha")
            and baseline_at
            and record.pushed_at
            and record.pushed_at <= baseline_at
            and record.pushed_at <= at
        ):
            return _noted(_carry(row, prev), note), None  # not pushed since the baseline
        head = source.head_at(record, at)
        if head is None:
            return {**row, "scope_reason": "no commit yet"}, None
        row.update(head_sha=head.sha, head_date=head.date, head_author=head.author)
        _share_branch(source, record)
        if prev and prev.get("head_sha") == head.sha:
            return _noted(_carry(row, prev), note), None
        reader = SourceTreeReader(source, record.full_name, source.tree(record.full_name, head.sha))
        standards = analyse_repo(reader)
        return _noted({**row, **_scope_fields(standards)}, note), None
    except Exception as exc:
        what = "reading its head and tree"
        if reader is not None:
            what = "analysing its standards" + (f" (last file read: {reader.last_path})" if reader.last_path else "")
        message = failure_message(record.name, what, exc)
        known = _carry(row, prev) if prev else {**row, "scope_reason": "scan failed"}
        return {**known, "carried_forward": False, "error": message}, {"repo": record.name, "error": message}


def _share_branch(source: CodeSource, record: RepoRecord) -> None:
    """Keep the branch answer the head was read from for the process scan of this run (one branch read
    per repo, not one per domain). Only outside a planned window: there the head came from the
    commits listing and the branch was not asked (asking now would cost the request it saves)."""
    if isinstance(source, GitHubSource) and source.window is None:
        try:
            data = source.branch(record.full_name, record.default_branch)  # answered from the run's memo
        except SourceError:
            return
        share_branch(source, record.full_name, record.default_branch, data)


def _noted(row: dict[str, Any], note: str | None) -> dict[str, Any]:
    """An in-scope row of an archived repo says why it is still in scope."""
    if note and row.get("in_scope"):
        return {**row, "scope_reason": note}
    return row


def _carry(row: dict[str, Any], prev: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "head_sha",
        "head_date",
        "head_author",
        "has_metadata",
        "has_config",
        "in_scope",
        "scope_reason",
        "tier",
        "status",
        "team",
        "config_files",
    )
    return {**row, **{k: prev.get(k) for k in keep}, "carried_forward": True}


def _scope_fields(standards: RepoStandards) -> dict[str, Any]:
    meta = standards.metadata
    reason = None
    if not meta.present:
        reason = "no repo-metadata.yaml (or [metadata] table)"
    elif not standards.config_files:
        reason = "no check.toml or standards.toml"
    return {
        "has_metadata": meta.present,
        "has_config": bool(standards.config_files),
        "in_scope": standards.in_scope,
        "scope_reason": reason,
        "tier": masked(meta.tier),
        "status": masked(meta.status),
        "team": masked(meta.team),
        "config_files": list(standards.config_files),
    }


def masked(value: Any) -> Any:
    """A value read from a repo's files, with token-like strings masked (non-strings as they are)."""
    return mask_secrets(value) if isinstance(value, str) else value
