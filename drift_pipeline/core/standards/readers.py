"""Read-only views of a file tree: the only way the standards engine sees a repository.

A :class:`TreeReader` has exactly two methods, ``list_paths()`` and ``read_text(path)``; other
layers (the sources' tree readers, :class:`drift_pipeline.sources.git_reader.GitCommitReader`)
implement the same protocol. Paths are posix, repo-relative.

Absent and unreadable are different answers. ``read_text`` returns None only when the path is
not a file of the tree; a file that exists but cannot be read (not UTF-8, permission denied, too
large to read) raises :class:`UnreadableFile`. Readers that can only answer None (a source whose
blob is not text) are covered by :func:`read_checked`: a *listed* path read as None is unreadable.
Any other exception from a reader (a source's network failure) is the source's to record and
propagates.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from drift_pipeline.core.standards.limits import size_problem

MAX_READ_BYTES = 16 * 1024 * 1024  # no reader of ours holds a bigger file in memory


class UnreadableFile(Exception):
    """A file of the tree exists but its text cannot be read; ``reason`` says why."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@runtime_checkable
class TreeReader(Protocol):
    def list_paths(self) -> list[str]:
        """Every file, posix, repo-relative, sorted."""
        ...

    def read_text(self, path: str) -> str | None:
        """The file's UTF-8 text; None when absent; :class:`UnreadableFile` when present but unreadable."""
        ...


def decode_strict(data: bytes, path: str) -> str:
    """UTF-8 text (a BOM is dropped), or :class:`UnreadableFile` naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"not UTF-8 text (invalid byte at offset {exc.start})") from None


def read_checked(reader: TreeReader, path: str, max_bytes: int, listed: bool = True) -> tuple[str | None, str | None]:
    """Read ``path`` within ``max_bytes``: ``(text, None)``, ``(None, None)`` when absent, or
    ``(None, why)`` when the file is there but unreadable or too large (``listed``: the path is in
    the reader's listing, so None from the reader means unreadable, not absent)."""
    try:
        text = reader.read_text(path)
    except UnreadableFile as exc:
        return None, exc.reason
    if text is None:
        return (None, "could not be read (not UTF-8 text, or the read failed)") if listed else (None, None)
    too_big = size_problem(text, max_bytes)
    if too_big:
        return None, too_big
    return text, None


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

    def __init__(self, root: Path | str, skip_dirs: Iterable[str] = (), max_bytes: int = MAX_READ_BYTES):
        self.root = Path(root)
        self._skip = {".git", *skip_dirs}
        self._paths: list[str] | None = None
        self.max_bytes = max_bytes

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
            with target.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise UnreadableFile(path, f"could not be read ({exc.strerror or type(exc).__name__})") from None
        if len(data) > self.max_bytes:
            raise UnreadableFile(path, f"larger than {self.max_bytes} bytes; not read")
        return decode_strict(data, path)


class SubtreeReader:
    """A folder inside another reader, seen as its own root (e.g. a registry kept in a repo)."""

    def __init__(self, inner: TreeReader, prefix: str):
        self._inner = inner
        self._prefix = prefix.strip("/")

    def list_paths(self) -> list[str]:
        if not self._prefix or self._prefix == ".":
            return self._inner.list_paths()
        start = self._prefix + "/"
        return [p[len(start) :] for p in self._inner.list_paths() if p.startswith(start)]

    def read_text(self, path: str) -> str | None:
        if not self._prefix or self._prefix == ".":
            return self._inner.read_text(path)
        return self._inner.read_text(f"{self._prefix}/{path}")
