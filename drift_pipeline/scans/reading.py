"""What the scans read through: the source protocol, and the standards engine's readers over it.

``CodeSource`` is what every scan needs from a source (``GitHubSource`` and ``GitLocalSource``
both fit); ``SourceTreeReader`` and ``SourceRegistryFetcher`` let the pure standards engine read a
repo's tree and its ``[extends]`` registries through that source, as of the scan instant.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.standards.registry import RegistryUnavailable
from drift_pipeline.sources.gitutil import GitError
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry
from drift_pipeline.sources.throttle import Memo


class CodeSource(Protocol):
    """What the code scans need from a source (GitHubSource and GitLocalSource both fit)."""

    @property
    def requests(self) -> Mapping[str, int]: ...  # requests made so far, by kind (none for local clones)

    def list_repos(self, org: str) -> list[RepoRecord]: ...
    def get_repo(self, org: str, name: str) -> RepoRecord: ...
    def head_at(self, repo: RepoRecord, until: datetime) -> CommitRecord | None: ...
    def plan_window(self, start: datetime, end: datetime) -> None: ...
    def tree(self, full_name: str, sha: str) -> tuple[TreeEntry, ...]: ...
    def blob_text(self, full_name: str, sha: str) -> str | None: ...
    def path_commits(
        self, full_name: str, head_sha: str, path: str, since: datetime | None, until: datetime
    ) -> list[CommitRecord]: ...
    def commit_url(self, repo: RepoRecord, sha: str) -> str | None: ...


class SourceTreeReader:
    """The standards engine's TreeReader over a source's tree; blobs are read on demand.

    Safe to share between threads (a registry's tree is read by every repo that extends it):
    each blob is read once, however many threads ask for it.
    """

    def __init__(self, source: CodeSource, full_name: str, entries: Iterable[TreeEntry]):
        self._source = source
        self._full_name = full_name
        self._entries = {e.path: e for e in entries}
        self._texts = Memo()  # blob sha -> text
        self.last_path: str | None = None  # the file read last (named when analysis fails)

    def list_paths(self) -> list[str]:
        return sorted(self._entries)

    def blob_sha(self, path: str) -> str | None:
        entry = self._entries.get(path)
        return entry.sha if entry else None

    def read_text(self, path: str) -> str | None:
        entry = self._entries.get(path)
        if entry is None:
            return None
        self.last_path = path
        return self._texts.get(entry.sha, lambda: self._source.blob_text(self._full_name, entry.sha))


class SourceRegistryFetcher:
    """Registries on the same GitHub (or folder of clones), read as of the scan instant.

    One instance serves every repo of a scan, from several threads: each registry's head and
    tree is read once (failures included), so a concurrent scan makes the requests a serial one
    does. Each repo resolves through its own :meth:`for_repo` view, which records the registry
    heads that repo used.
    """

    def __init__(self, source: CodeSource, org: str, at: datetime):
        self._source = source
        self._org = org
        self._at = at
        self._heads = Memo()  # "owner/repo@ref" -> commit sha, or the error raised
        self._trees = Memo()  # same key -> SourceTreeReader, or the RegistryUnavailable raised
        self._lock = threading.Lock()
        self._known: dict[str, str] = {}

    @property
    def heads(self) -> dict[str, str]:
        """Every registry head read so far ("owner/repo@ref" -> commit sha)."""
        with self._lock:
            return dict(sorted(self._known.items()))

    def head(self, owner: str, repo: str, ref: str | None) -> str:
        """The registry's commit at the scan instant (one request per registry and scan)."""
        key = f"{owner}/{repo}@{ref or ''}"
        found = self._heads.get(key, lambda: self._read_head(owner, repo, ref))
        if isinstance(found, Exception):
            raise found
        with self._lock:
            self._known[key] = found
        return found

    def _read_head(self, owner: str, repo: str, ref: str | None) -> str | Exception:
        try:
            record = self._source.get_repo(owner, repo)
            if ref:
                record = RepoRecord(
                    org=record.org, name=record.name, owner=record.owner, default_branch=ref, html_url=record.html_url
                )
            commit = self._source.head_at(record, self._at)
        except (SourceError, GitError) as exc:
            return exc
        if commit is None:
            return RegistryUnavailable(
                f"registry github:{owner}/{repo} has no commit on {record.default_branch} at {self._at:%Y-%m-%d %H:%M}"
            )
        return commit.sha

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
        found = self._trees.get(f"{owner}/{repo}@{ref or ''}", lambda: self._read_tree(owner, repo, ref))
        if isinstance(found, RegistryUnavailable):
            raise found
        return found

    def _read_tree(self, owner: str, repo: str, ref: str | None) -> SourceTreeReader | RegistryUnavailable:
        try:
            sha = self.head(owner, repo, ref)
            return SourceTreeReader(self._source, f"{owner}/{repo}", self._source.tree(f"{owner}/{repo}", sha))
        except RegistryUnavailable as exc:
            return exc
        except (SourceError, GitError) as exc:
            return RegistryUnavailable(f"registry github:{owner}/{repo} could not be read: {exc}")

    def for_repo(self) -> RepoRegistries:
        return RepoRegistries(self)


class RepoRegistries:
    """One repo's view of the shared fetcher: the registries it fetched, with their heads."""

    def __init__(self, shared: SourceRegistryFetcher):
        self._shared = shared
        self._used: set[str] = set()

    def fetch(self, owner: str, repo: str, ref: str | None) -> SourceTreeReader:
        self._used.add(f"{owner}/{repo}@{ref or ''}")
        return self._shared.fetch(owner, repo, ref)

    def heads(self) -> dict[str, str]:
        """ "owner/repo@ref" -> commit sha for every registry this repo used that has a head."""
        known = self._shared.heads
        return {k: known[k] for k in sorted(self._used) if k in known}
