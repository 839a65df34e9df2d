"""Opening the DuckDB file while other sessions may hold it: who holds it, how long to wait.

DuckDB (measured with 1.5.5, and before with 2.0.1): across processes, one read-write process excludes every other, and
read-only processes share the file; within one process, a second connection with another
configuration (read-only vs read-write) is refused while one is open. Opening is where a conflict
shows, so :func:`connect` retries there with bounded exponential backoff and then raises
:class:`StoreBusy` (exit code 3) naming the file, the holder's PID when DuckDB gives it, and what to do.

Creating the file is a race DuckDB does not close: a second process opening it between its
creation and its header being written is told it "is not a valid DuckDB database file" (measured:
1 of 30 pairs of processes started together on a fresh path). So a file that is missing or shorter
than DuckDB's headers is opened under an exclusive ``flock`` of ``<file>.create-lock`` beside it:
the first process creates it, the others wait for that (bounded by ``lock_timeout``) and then
open a whole file, where DuckDB's own lock takes over.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from drift_pipeline.core.errors import DriftError, ExitCode

DEFAULT_LOCK_TIMEOUT = 300.0  # seconds a writer waits for readers before failing the run
FIRST_DELAY, MAX_DELAY = 0.05, 5.0  # backoff between attempts to open a locked file
HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers: a new file's size


@dataclass(frozen=True)
class LockConflict:
    """Why DuckDB refused to open the file: another process holds it, or this process does."""

    other_process: bool
    pid: int | None


_PID = re.compile(r"\(PID (\d+)\)")


def lock_conflict(exc: BaseException) -> LockConflict | None:
    """The lock conflict ``exc`` reports when opening a DuckDB file, else None.

    The one place that reads DuckDB's message text. DuckDB (1.5 and 2.0) gives a lock conflict no type or
    field of its own: another process holding the file is a plain ``IOException`` (the same type as
    a missing or unreadable file) whose message reads 'Could not set lock on file "...": Conflicting
    lock is held in <program> (PID n)'; a connection of this process with another configuration is a
    ``ConnectionException`` 'Can't open a connection to same database file with a different
    configuration'. ``test_store_lock`` pins both against the installed DuckDB.
    """
    text = str(exc)
    if isinstance(exc, duckdb.IOException) and "Could not set lock on file" in text:
        match = _PID.search(text)
        return LockConflict(other_process=True, pid=int(match.group(1)) if match else None)
    if isinstance(exc, duckdb.ConnectionException) and "different configuration" in text:
        return LockConflict(other_process=False, pid=os.getpid())
    return None


class StoreBusy(DriftError):
    """The DuckDB file stayed locked by another session for longer than we may wait."""

    exit_code = ExitCode.RUNTIME

    def __init__(self, path: Path, conflict: LockConflict, waited: float, *, read_only: bool):
        holder = ("another process" if conflict.other_process else "another connection of this process") + (
            f" (PID {conflict.pid})" if conflict.pid else ""
        )
        if read_only:
            advice = (
                "a writer holds it; the pipeline holds the file only while it writes a day: "
                "try again in a moment, or wait longer (drift sql --wait SECONDS)"
            )
        else:
            advice = (
                "close that session (a duckdb shell, notebook or script with the file open), query with "
                "`drift sql`, which holds the file only for the query, or query an exported copy "
                "(EXPORT DATABASE / COPY ... TO); then re-run"
            )
        super().__init__(
            f"the DuckDB file {path} is held by {holder}; gave up after waiting "
            f"{waited:.1f}s for it to be released: {advice}"
        )
        self.path, self.pid, self.waited, self.read_only = path, conflict.pid, waited, read_only


def connect(
    path: Path,
    *,
    read_only: bool,
    lock_timeout: float,
    config: Mapping[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, waiting with bounded exponential backoff while another session holds it."""
    start = time.monotonic()
    delay = FIRST_DELAY
    while True:
        try:
            with _creating(path, lock_timeout - (time.monotonic() - start)):
                return duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            conflict = lock_conflict(exc)
            if conflict is None:
                raise
            waited = time.monotonic() - start
            left = lock_timeout - waited
            if left <= 0:
                raise StoreBusy(path, conflict, waited, read_only=read_only) from None
            sleep(min(delay * random.uniform(0.8, 1.2), MAX_DELAY, left))
            delay *= 2


def _incomplete(path: Path) -> bool:
    try:
        return path.stat().st_size < HEADER_BYTES
    except FileNotFoundError:
        return True
    except OSError:
        return False  # unreadable: DuckDB says why


@contextmanager
def _creating(path: Path, timeout: float) -> Iterator[None]:
    """Held around opening ``path`` while it is missing or incomplete: one process creates it at a
    time. A holder that died frees the lock with its file descriptors; past ``timeout`` the open is
    tried anyway, and DuckDB's own error stands."""
    if str(path) == ":memory:" or not _incomplete(path):
        yield
        return
    lock = path.with_name(path.name + ".create-lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        yield  # a read-only folder: nothing can be created there, DuckDB says so
        return
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.02)
        yield
        if not _incomplete(path):
            # whole now: later openers skip the lock, and those waiting on this one open a whole file
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)
