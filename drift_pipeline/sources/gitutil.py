"""Small, explicit wrappers around the git command line.

One home for running git: the local git source, sources.git_reader, the sandbox server
and the demo generator all come here. Every call passes arguments as a list (no shell), and a
failing git command raises :class:`GitError` with git's own message: never swallowed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


class GitError(RuntimeError):
    """A git command failed; the message carries git's stderr."""


def git(
    repo: Path | str, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None, check: bool = True
) -> bytes:
    """Run ``git -C repo args...`` and return stdout as bytes."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=input,
        capture_output=True,
        env=full_env,
        check=False,
    )
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise GitError(f"git {' '.join(args[:3])}: {msg}")
    return proc.stdout


def git_text(repo: Path | str, *args: str, **kw) -> str:
    return git(repo, *args, **kw).decode("utf-8", "replace")


def init_bare(path: Path, default_branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--bare", "--quiet", f"--initial-branch={default_branch}")
    return path


@dataclass(frozen=True)
class Author:
    name: str
    email: str


def _git_date(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return f"{int(when.timestamp())} {when.strftime('%z')}"


def commit_files(
    repo: Path, branch: str, files: Mapping[str, str | bytes | None], message: str, author: Author, when: datetime
) -> str:
    """Commit ``files`` onto ``branch`` of ``repo`` (bare or not) without a work tree.

    ``files`` maps a repo-relative path to new content, or to ``None`` to delete it. Paths not
    named keep their content from the branch's current tip. Returns the new commit sha. Dates are
    explicit, so histories are reproducible: the same inputs give the same sha.
    """
    parent = rev_parse(repo, f"refs/heads/{branch}")
    index = Path(git_text(repo, "rev-parse", "--absolute-git-dir").strip()) / f"drift-index-{os.getpid()}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        if parent:
            git(repo, "read-tree", parent, env=env)
        else:
            git(repo, "read-tree", "--empty", env=env)
        lines = []
        for path, content in sorted(files.items()):
            if content is None:  # mode 0 removes the entry; works without a work tree
                lines.append(f"0 {'0' * 40}\t{path}")
                continue
            data = content.encode() if isinstance(content, str) else content
            blob = git_text(repo, "hash-object", "-w", "--stdin", input=data).strip()
            lines.append(f"100644 {blob}\t{path}")
        git(repo, "update-index", "--index-info", input="\n".join(lines).encode() + b"\n", env=env)
        tree = git_text(repo, "write-tree", env=env).strip()
    finally:
        index.unlink(missing_ok=True)
    stamp = _git_date(when)
    commit_env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
        "GIT_COMMITTER_DATE": stamp,
    }
    parents: Sequence[str] = ("-p", parent) if parent else ()
    sha = git_text(repo, "commit-tree", tree, *parents, "-m", message, env=commit_env).strip()
    git(repo, "update-ref", f"refs/heads/{branch}", sha)
    return sha


@dataclass(frozen=True)
class TreeEntry:
    """One ``git ls-tree -l`` line."""

    path: str
    mode: str
    type: str  # blob | tree | commit
    sha: str
    size: int | None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def ls_tree(
    repo: Path | str, treeish: str, *, recursive: bool = True, trees: bool = False, path: str | None = None
) -> list[TreeEntry]:
    """The entries of ``treeish`` (every file below it when ``recursive``; ``trees`` adds folders)."""
    args = ["ls-tree", "-l", "-z", "--full-tree"]
    if recursive:
        args.append("-r")
    if trees:
        args.append("-t")
    args.append(treeish)
    if path is not None:
        args += ["--", path]
    entries = []
    for record in git(repo, *args).split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, sha, size = meta.decode().split()
        entries.append(
            TreeEntry(
                path=name.decode("utf-8", "surrogateescape"),
                mode=mode,
                type=kind,
                sha=sha,
                size=None if size == "-" else int(size),
            )
        )
    return entries


def rev_parse(repo: Path | str, rev: str) -> str | None:
    """The sha of ``rev``, or None when it does not exist (e.g. an empty repository)."""
    out = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    sha = out.decode().strip()
    return sha or None


def last_commit_before(repo: Path | str, branch: str, until: datetime) -> str | None:
    """The last commit on ``branch`` committed at or before ``until`` (the state at that time)."""
    if rev_parse(repo, f"refs/heads/{branch}") is None:
        return None
    out = git_text(repo, "rev-list", "-1", f"--before={_git_date(until)}", f"refs/heads/{branch}")
    return out.strip() or None
