"""What the scans read through: the source protocol, and the standards engine's readers over it.

``CodeSource`` is what every scan needs from a source (``GitHubSource`` and ``GitLocalSource``
both fit); ``SourceTreeReader`` and ``SourceRegistryFetcher`` let the pure standards engine read a
repo's tree and its ``[extends]`` registries through that source, as of the scan instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from drift_pipeline.errors import SourceError
from drift_pipeline.gitutil import GitError
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry
from drift_pipeline.standards.registry import RegistryUnavailable


class CodeSource(Protocol):
    """What the code scans need from a source (GitHubSource and GitLocalSource both fit)."""

    def list_repos(self, org: str) -> list[RepoRecord]: ...
    def get_repo(self, org: str, name: str) -> RepoRecord: ...
    def head_at(self, repo: RepoRecord, until: datetime) -> CommitRecord | None: ...
    def plan_window(self, start: datetime, end: datetime) -> None: ...
    def tree(self, full_name: str, sha: str) -> tuple[TreeEntry, ...]: ...
    def blob_text(self, full_name: str, sha: str) -> str | None: ...
    def path_commits(self, full_name: str, head_sha: str, path: str, since: datetime | None,
                     until: datetime) -> list[CommitRecord]: ...
    def commit_url(self, repo: RepoRecord, sha: str) -> str | None: ...


class SourceTreeReader:
    """The standards engine's TreeReader over a source's tree; blobs are read on demand."""

    def __init__(self, source: CodeSource, full_name: str, entries: Iterable[TreeEntry]):
        self._source = source
        self._full_name = full_name
        self._entries = {e.path: e for e in entries}
        self.read: dict[str, str | None] = {}   # blob sha -> text, for everything read

    def list_paths(self) -> list[str]:
        return sorted(self._entries)

    def blob_sha(self, path: str) -> str | None:
        entry = self._entries.get(path)
        return entry.sha if entry else None

    def read_text(self, path: str) -> str | None:
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry.sha not in self.read:
            self.read[entry.sha] = self._source.blob_text(self._full_name, entry.sha)
        return self.read[entry.sha]


class SourceRegistryFetcher:
    """Registries on the same GitHub (or folder of clones), read as of the scan instant."""

    def __init__(self, source: CodeSource, org: str, at: datetime):
        self._source = source
        self._org = org
        self._at = at
        self.heads: dict[str, str] = {}       # "owner/repo@ref" -> commit sha used

    def head(self, owner: str, repo: str, ref: str | None) -> str:
        """The registry's commit at the scan instant (one request per registry and scan)."""
        key = f"{owner}/{repo}@{ref or ''}"
        if key not in self.heads:
            record = self._source.get_repo(owner, repo)
            if ref:
                record = RepoRecord(org=record.org, name=record.name, owner=record.owner,
                                    default_branch=ref, html_url=record.html_url)
            commit = self._source.head_at(record, self._at)
            if commit is None:
                raise RegistryUnavailable(f"registry github:{owner}/{repo} has no commit on "
                                          f"{record.default_branch} at {self._at:%Y-%m-%d %H:%M}")
            self.heads[key] = commit.sha
        return self.heads[key]

    def unchanged(self, previous: Mapping[str, str]) -> bool:
        """True when every registry in ``previous`` (key -> sha) still has the same head."""
        try:
            for key, sha in previous.items():
                owner_repo, ref = key.split("@", 1)
                owner, repo = owner_repo.split("/", 1)
                if self.head(owner, repo, ref or None) != sha:
                    return False
        except (SourceError, GitError, RegistryUnavailable, ValueError):
            return False
        return True

    def fetch(self, owner: str, repo: str, ref: str | None) -> SourceTreeReader:
        try:
            sha = self.head(owner, repo, ref)
            return SourceTreeReader(self._source, f"{owner}/{repo}", self._source.tree(f"{owner}/{repo}", sha))
        except (SourceError, GitError) as exc:
            raise RegistryUnavailable(f"registry github:{owner}/{repo} could not be read: {exc}") from None
