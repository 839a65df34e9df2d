"""The tree of one commit of a local git repository, as the standards engine's ``TreeReader``.

No checkout: the listing comes from one ``git ls-tree -r -z`` (through :mod:`drift_pipeline.sources.gitutil`),
contents from one long-lived ``git cat-file --batch`` process (started on first read; :meth:`close`
or ``with`` ends it). A file that is not UTF-8 text raises
:class:`~drift_pipeline.core.standards.readers.UnreadableFile` (it exists, so it is not "absent").
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from drift_pipeline.core.standards.readers import UnreadableFile, decode_strict
from drift_pipeline.sources.gitutil import GIT_ENV, ls_tree


class GitCommitReader:
    def __init__(self, repo_dir: Path | str, commit: str):
        self.repo_dir = Path(repo_dir)
        self.commit = commit
        self._blobs: dict[str, str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _tree(self) -> dict[str, str]:
        if self._blobs is None:
            # submodules (type commit) are not files of this tree
            self._blobs = {e.path: e.sha for e in ls_tree(self.repo_dir, self.commit) if e.type == "blob"}
        return self._blobs

    def list_paths(self) -> list[str]:
        return sorted(self._tree())

    def read_text(self, path: str) -> str | None:
        sha = self._tree().get(path)
        if sha is None:
            return None
        with self._lock:
            data = self._cat(sha)
        if data is None:
            raise UnreadableFile(path, f"blob {sha[:12]} is missing from the repository")
        return decode_strict(data, path)

    def _cat(self, sha: str) -> bytes | None:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["git", "-C", str(self.repo_dir), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, **GIT_ENV},
            )
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(sha.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            return None
        size = int(header[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after the content
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
