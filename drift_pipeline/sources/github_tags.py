"""GitHub reads for deployment tracking: a repo's release tags, and when a tagged commit was made.

Every read goes through :class:`~drift_pipeline.sources.github.GitHubSource`'s transport, as the
process reads do (``sources.github_process``): ``_paginate`` for ``GET /repos/{o}/{r}/tags`` (ETag,
rate gate, concurrency bound, masking, shape check) and ``_immutable`` for a commit's date (a sha
never changes: read once, cached for ever). Nothing here decides which tag is deployed where: that
is ``standards.infra_manifest.deployed_commits``.

Hostile answers cost a bounded amount: at most :data:`MAX_TAGS` tags are read (the rest is
reported as ``truncated``, as is a listing past the page ceiling of :mod:`http_bounds`; a page
that links back to one already read is an error), and a tag whose name or commit sha is not what
git allows (too long, control characters, no 40/64-hex sha) is skipped and counted, never used.
An answer that is not a list of tag objects is a ``SourceError`` naming the path, as for every
other read.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drift_pipeline.sources import github_payloads as payloads
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.http_bounds import ListingUnbounded
from drift_pipeline.sources.throttle import Memo

MAX_TAGS = 10_000  # tags read per repo; beyond it the list is truncated (and says so)
MAX_TAG_NAME = 255
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_BAD_NAME = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|^[-/.]|[/.]$|\.lock$")  # git check-ref-format


@dataclass(frozen=True)
class TagList:
    """A repo's tags: name -> commit sha (peeled, as GitHub lists them)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    skipped: int = 0  # items whose name or sha git would not accept
    truncated: bool = False  # more than MAX_TAGS tags: the rest was not read


def tag_name_ok(name: Any) -> bool:
    """Whether ``name`` is a tag name git accepts (and short enough to be a release)."""
    return isinstance(name, str) and 0 < len(name) <= MAX_TAG_NAME and not _BAD_NAME.search(name)


def _tag(path: str, item: Any) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        raise payloads.bad_shape(path, "a list of tags (objects)", f"a list holding {type(item).__name__}")
    commit = item.get("commit")
    name, sha = item.get("name"), commit.get("sha") if isinstance(commit, dict) else None
    if not isinstance(name, str) or not tag_name_ok(name) or not isinstance(sha, str) or not _SHA.match(sha):
        return None
    return name, sha


def _commit_date(path: str, data: Any) -> datetime:
    commits = payloads.as_list(path, data, "commits")
    if not commits:
        raise payloads.bad_shape(path, "a list holding the commit", "an empty list")
    return payloads.commit_record(path, commits[0]).date


def _commit_kept(path: str, data: Any) -> list[dict[str, Any]]:
    first = payloads.as_list(path, data, "commits")[0]
    return [{"sha": first.get("sha"), "commit": {"committer": {"date": _commit_date(path, data).isoformat()}}}]


class TagReader:
    """Tags and tagged-commit dates for one run; share it between threads like the source."""

    def __init__(self, source: GitHubSource, *, max_tags: int = MAX_TAGS):
        self.source = source
        self.max_tags = max_tags
        self._tags = Memo()  # full name -> TagList (every env of every project reads it once)

    def tags(self, full_name: str) -> TagList:
        return self._tags.get(full_name, lambda: self._read(full_name))

    def _read(self, full_name: str) -> TagList:
        found: dict[str, str] = {}
        skipped = 0
        path = f"/repos/{_quote(full_name)}/tags"
        try:
            for count, item in enumerate(self.source._paginate("tags", path, None, _tag, "tags")):
                if count >= self.max_tags:
                    return TagList(found, skipped, truncated=True)
                if item is None:
                    skipped += 1
                else:
                    found.setdefault(item[0], item[1])
        except ListingUnbounded as exc:
            if exc.repeated:  # a pagination loop is a broken answer, not a long list
                raise
            return TagList(found, skipped, truncated=True)  # past the page ceiling: said as truncated
        return TagList(found, skipped)

    def committed_at(self, full_name: str, sha: str) -> datetime:
        """The committer date of ``sha`` (one request per sha, ever: cached with the source's cache)."""
        if not _SHA.match(sha):
            raise ValueError(f"not a commit sha: {sha[:80]!r}")
        return self.source._immutable(
            "commits",
            f"commit-date:{full_name}:{sha}",
            f"/repos/{_quote(full_name)}/commits?sha={sha}&per_page=1",
            _commit_date,
            _commit_kept,
        )

    def existed_by(self, full_name: str, until: datetime, now: datetime) -> Callable[[str], bool] | None:
        """``sha -> committed by until``; None when ``until`` is not in the past (every commit existed)."""
        if until >= now:
            return None
        return lambda sha: self.committed_at(full_name, sha) <= until


def _quote(full_name: str) -> str:
    owner, _, name = full_name.partition("/")
    return f"{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name, safe='')}"


def tag_reader(source: object) -> TagReader | None:
    """A reader for ``source`` when it is the GitHub API (a local clone source has no tag listing here)."""
    return TagReader(source) if isinstance(source, GitHubSource) else None
