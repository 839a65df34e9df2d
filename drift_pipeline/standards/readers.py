"""Read-only views of a file tree: the only way the standards engine sees a repository.

A :class:`TreeReader` has exactly two methods, ``list_paths()`` and ``read_text(path)``; other
layers (e.g. a GitHub tree reader) implement the same protocol. Paths are posix, repo-relative.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from drift_pipeline.gitutil import ls_tree

_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}


@runtime_checkable
class TreeReader(Protocol):
    def list_paths(self) -> list[str]:
        """Every file, posix, repo-relative, sorted."""
        ...

    def read_text(self, path: str) -> str | None:
        """The file's text (UTF-8, undecodable bytes replaced), or None when absent."""
        ...


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


class MappingReader:
    """A tree held in memory: ``{path: text}`` (for tests and small fixtures)."""

    def __init__(self, files: Mapping[str, str]):
        self._files = {p.lstrip("/"): t for p, t in files.items()}

    def list_paths(self) -> list[str]:
        return sorted(self._files)

    def read_text(self, path: str) -> str | None:
        return self._files.get(path)


class LocalDirReader:
    """A directory on disk. ``.git`` is always skipped; ``skip_dirs`` names more to skip at any depth."""

    def __init__(self, root: Path | str, skip_dirs: Iterable[str] = ()):
        self.root = Path(root)
        self._skip = {".git", *skip_dirs}
        self._paths: list[str] | None = None

    def list_paths(self) -> list[str]:
        if self._paths is None:
            out: list[str] = []
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = [d for d in dirnames if d not in self._skip]
                rel = os.path.relpath(dirpath, self.root)
                for name in filenames:
                    path = name if rel == "." else f"{rel}/{name}"
                    out.append(path.replace(os.sep, "/"))
            self._paths = sorted(out)
        return list(self._paths)

    def read_text(self, path: str) -> str | None:
        norm = posixpath.normpath(path)
        if norm.startswith("../") or norm == ".." or posixpath.isabs(norm):
            return None
        target = self.root / norm
        try:
            if not target.is_file():
                return None
            return _decode(target.read_bytes())
        except OSError:
            return None


class SubtreeReader:
    """A folder inside another reader, seen as its own root (e.g. a registry kept in a repo)."""

    def __init__(self, inner: TreeReader, prefix: str):
        self._inner = inner
        self._prefix = prefix.strip("/")

    def list_paths(self) -> list[str]:
        if not self._prefix or self._prefix == ".":
            return self._inner.list_paths()
        start = self._prefix + "/"
        return [p[len(start):] for p in self._inner.list_paths() if p.startswith(start)]

    def read_text(self, path: str) -> str | None:
        if not self._prefix or self._prefix == ".":
            return self._inner.read_text(path)
        return self._inner.read_text(f"{self._prefix}/{path}")


class GitCommitReader:
    """The tree of one commit of a git repository (bare or not), without a checkout.

    The listing comes from one ``git ls-tree -r -z``; contents from one long-lived
    ``git cat-file --batch`` process (started on first read; :meth:`close` or ``with`` ends it).
    """

    def __init__(self, repo_dir: Path | str, commit: str):
        self.repo_dir = Path(repo_dir)
        self.commit = commit
        self._blobs: dict[str, str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _tree(self) -> dict[str, str]:
        if self._blobs is None:
            # submodules (type commit) are not files of this tree
            blobs = {e.path: e.sha for e in ls_tree(self.repo_dir, self.commit) if e.type == "blob"}
            self._blobs = blobs
        return self._blobs

    def list_paths(self) -> list[str]:
        return sorted(self._tree())

    def read_text(self, path: str) -> str | None:
        sha = self._tree().get(path)
        if sha is None:
            return None
        with self._lock:
            data = self._cat(sha)
        return None if data is None else _decode(data)

    def _cat(self, sha: str) -> bytes | None:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["git", "-C", str(self.repo_dir), "cat-file", "--batch"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={**os.environ, **_GIT_ENV},
            )
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(sha.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            return None
        size = int(header[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)   # the newline after the content
        return data

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
            finally:
                if proc.stdout:
                    proc.stdout.close()

    def __enter__(self) -> GitCommitReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
