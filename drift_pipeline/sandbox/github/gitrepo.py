"""Read-only views of one bare repository, computed by git (no HTTP, no state.json).

Answers about immutable objects (a commit's diff, a tree, a blob) are cached by sha; anything
naming a ref (branch, ``HEAD``) is resolved on every call, so new commits are seen at once.
Each method runs a fixed, small number of git processes, whatever the size of the answer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sources.gitutil import GitError, TreeEntry, git, git_text, ls_tree

_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_LOG_FORMAT = "%H%x1f%P%x1f%T%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%B%x1e"


def _utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    tree: str
    author_name: str
    author_email: str
    author_ts: int
    committer_name: str
    committer_email: str
    committer_ts: int
    message: str

    @property
    def author_date(self) -> str:
        return _utc(self.author_ts)

    @property
    def committer_date(self) -> str:
        return _utc(self.committer_ts)


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # added | removed | modified | renamed
    sha: str
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True)
class Diff:
    files: tuple[FileChange, ...] = field(default_factory=tuple)

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)


def _parse_log(out: str) -> list[CommitInfo]:
    commits = []
    for record in out.split("\x1e"):
        record = record.lstrip("\n")
        if not record:
            continue
        f = record.split("\x1f")
        commits.append(
            CommitInfo(
                sha=f[0],
                parents=tuple(f[1].split()),
                tree=f[2],
                author_name=f[3],
                author_email=f[4],
                author_ts=int(f[5]),
                committer_name=f[6],
                committer_email=f[7],
                committer_ts=int(f[8]),
                message=f[9].rstrip("\n"),
            )
        )
    return commits


@functools.lru_cache(maxsize=4096)
def _commit(path: str, sha: str) -> CommitInfo:
    out = git_text(path, "log", "-1", "--no-walk", f"--format={_LOG_FORMAT}", sha)
    return _parse_log(out)[0]


@functools.lru_cache(maxsize=1024)
def _diff(path: str, base: str | None, head: str) -> Diff:
    """Files changed from ``base`` (None: the empty tree) to ``head``, with unified patches."""
    rng = [base, head] if base else ["--root", head]
    common = ["diff-tree", "-r", "--no-commit-id", "-M", *rng]
    raw = git_text(path, *common, "-z", "--raw", "--numstat")
    patch = git_text(path, *common, "-p", "--no-color")
    # -z --raw --numstat: raw records first (":m m s s X\0path\0[path2\0]"), then numstat records.
    parts = raw.split("\0")
    entries: list[tuple[list[str], str, str, str | None]] = []
    i = 0
    while i < len(parts) and parts[i].startswith(":"):
        meta = parts[i][1:].split()
        status = meta[4][0]
        if status in "RC":
            entries.append((meta, status, parts[i + 2], parts[i + 1]))
            i += 3
        else:
            entries.append((meta, status, parts[i + 1], None))
            i += 2
    stats: list[tuple[int, int]] = []
    while i < len(parts):
        if not parts[i]:
            i += 1
            continue
        added, deleted, rest = (parts[i].split("\t", 2) + ["", ""])[:3]
        if rest == "" and i + 2 < len(parts):  # rename: "a\td\t\0old\0new"
            i += 3
        else:
            i += 1
        stats.append((0 if added == "-" else int(added), 0 if deleted == "-" else int(deleted)))
    sections = re.split(r"^diff --git .*\n", patch, flags=re.M)[1:]
    files = []
    for n, (meta, status, name, old) in enumerate(entries):
        add, dele = stats[n] if n < len(stats) else (0, 0)
        body = sections[n] if n < len(sections) else ""
        at = body.find("\n@@")
        hunks = body if body.startswith("@@") else body[at + 1 :] if at >= 0 else None
        if hunks is not None:
            hunks = hunks.rstrip("\n")
        kind = {"A": "added", "D": "removed", "R": "renamed", "C": "copied"}.get(status, "modified")
        sha = meta[2] if status == "D" else meta[3]
        files.append(
            FileChange(
                filename=name, status=kind, sha=sha, additions=add, deletions=dele, patch=hunks, previous_filename=old
            )
        )
    return Diff(tuple(files))


@functools.lru_cache(maxsize=1024)
def _tree(path: str, treeish: str, recursive: bool) -> tuple[str, tuple[TreeEntry, ...]]:
    tree_sha = git_text(path, "rev-parse", f"{treeish}^{{tree}}").strip()
    return tree_sha, tuple(ls_tree(path, tree_sha, recursive=recursive, trees=recursive))


@functools.lru_cache(maxsize=4096)
def _last_change_ts(path: str, sha: str, file_path: str) -> int:
    args = ["log", "-1", "--format=%ct", sha] + (["--", file_path] if file_path else [])
    out = git_text(path, *args).strip()
    return int(out) if out else _commit(path, sha).committer_ts


@functools.lru_cache(maxsize=2048)
def _blob(path: str, sha: str) -> bytes:
    return git(path, "cat-file", "blob", sha)


class GitRepo:
    """One bare repository on disk."""

    def __init__(self, path: Path | str):
        self.path = str(path)

    # -- refs --------------------------------------------------------------------------
    def branches(self) -> list[tuple[str, str]]:
        out = git_text(self.path, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads")
        return [tuple(line.rsplit(" ", 1)) for line in out.splitlines() if line]  # type: ignore[misc]

    def is_empty(self) -> bool:
        return not git_text(self.path, "for-each-ref", "--count=1", "refs/heads").strip()

    def newest_commit_ts(self) -> int | None:
        out = git_text(
            self.path,
            "for-each-ref",
            "--sort=-committerdate",
            "--count=1",
            "--format=%(committerdate:unix)",
            "refs/heads",
        ).strip()
        return int(out) if out else None

    def resolve(self, ref: str) -> str | None:
        """A commit sha for a branch, tag, full or abbreviated sha; None when unknown."""
        if not ref or ref.startswith("-"):
            return None
        cands = [ref] if _SHA_RE.match(ref) else [f"refs/heads/{ref}", f"refs/tags/{ref}", ref]
        for cand in cands:
            out = git(self.path, "rev-parse", "--verify", "--quiet", f"{cand}^{{commit}}", check=False)
            sha = out.decode().strip()
            if sha:
                return sha
        return None

    def must_resolve(self, ref: str) -> str:
        sha = self.resolve(ref)
        if sha is None:
            raise NotFound(f"No commit found for SHA: {ref}")
        return sha

    # -- commits -----------------------------------------------------------------------
    def log(self, sha: str, path: str | None = None) -> list[CommitInfo]:
        """Commits reachable from ``sha``, newest first (optionally touching ``path``)."""
        args = ["log", f"--format={_LOG_FORMAT}", sha]
        if path:
            args += ["--", path]
        return _parse_log(git_text(self.path, *args))

    def commit(self, sha: str) -> CommitInfo:
        return _commit(self.path, sha)

    def last_change_ts(self, sha: str, path: str = "") -> int:
        """The committer time of the newest commit from ``sha`` that touched ``path`` (any, for the root)."""
        return _last_change_ts(self.path, sha, path.strip("/"))

    def commit_diff(self, commit: CommitInfo) -> Diff:
        return _diff(self.path, commit.parents[0] if commit.parents else None, commit.sha)

    def diff(self, base: str, head: str) -> Diff:
        return _diff(self.path, base, head)

    def merge_base(self, a: str, b: str) -> str | None:
        out = git(self.path, "merge-base", a, b, check=False).decode().strip()
        return out or None

    def range(self, base: str, head: str) -> list[CommitInfo]:
        """Commits in ``base..head``, oldest first (the order of a compare)."""
        out = git_text(self.path, "log", "--reverse", f"--format={_LOG_FORMAT}", f"{base}..{head}")
        return _parse_log(out)

    def count(self, rng: str) -> int:
        return int(git_text(self.path, "rev-list", "--count", rng).strip())

    # -- objects -----------------------------------------------------------------------
    def tree(self, treeish: str, recursive: bool = False) -> tuple[str, tuple[TreeEntry, ...]]:
        try:
            return _tree(self.path, treeish, recursive)
        except GitError:
            raise NotFound("Not Found") from None

    def blob(self, sha: str) -> bytes:
        if not re.match(r"^[0-9a-f]{4,40}$", sha):
            raise NotFound("Not Found")
        try:
            return _blob(self.path, sha)
        except GitError:
            raise NotFound("Not Found") from None

    def entry(self, commit_sha: str, path: str) -> TreeEntry | None:
        """The tree entry at ``path`` in ``commit_sha`` (the root tree for an empty path)."""
        path = path.strip("/")
        if not path:
            tree_sha, _ = self.tree(commit_sha)
            return TreeEntry(path="", mode="040000", type="tree", sha=tree_sha, size=None)
        for e in ls_tree(self.path, commit_sha, recursive=False, path=path):
            if e.path == path:
                return e
        return None

    def list_dir(self, tree_sha: str, prefix: str) -> list[TreeEntry]:
        _, entries = self.tree(tree_sha)
        prefix = prefix.strip("/")
        return [
            TreeEntry(path=f"{prefix}/{e.path}" if prefix else e.path, mode=e.mode, type=e.type, sha=e.sha, size=e.size)
            for e in entries
        ]
