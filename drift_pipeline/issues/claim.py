"""One filer at a time per (org, repo, category): an advisory lock beside the store.

The marker lookup and the create of a group are one critical section across processes: the filer
holds an exclusive ``fcntl.flock`` on a lock file while it lists the labelled issues, decides, and
posts (:meth:`FilingLocks.hold`). The kernel releases the lock when its process dies (crash,
``kill -9``), so a dead filer never blocks the next run. The keys hash into :data:`BUCKETS` lock
files, so the directory stays small at any org size; two keys sharing a bucket only wait for each
other.

Where the lock files live (:func:`lock_dir`): beside the DuckDB file (``<db>.filing-locks/``);
for a DuckLake, beside its SQLite catalog file, else beside its local data directory. A DuckLake
with a PostgreSQL catalog and its data on S3 has no shared local path: :func:`lock_dir` gives
None and :class:`FilingLocks` refuses to file (``FilingLockUnavailable``) unless
``DRIFT_FILING_LOCK_DIR`` names a directory every filer shares.

Waiting is bounded (``wait`` seconds, default ``DRIFT_FILING_LOCK_WAIT``, else 120; polled with
backoff); then :class:`FilingBusy` names the lock file and the group, and the group is recorded as
failed (a retry files what is missing). A filer holds a group's lock for the few requests of that
group only (list, label, create, comments), so a long wait means a stuck filer, not a busy one.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from drift_pipeline.core.errors import DriftError, UsageError
from drift_pipeline.store import DriftStore

BUCKETS = 64
DEFAULT_WAIT = 120.0  # seconds a filer waits for another one's critical section
MAX_WAIT = 3600.0
FIRST_DELAY, MAX_DELAY = 0.02, 1.0
ENV_DIR = "DRIFT_FILING_LOCK_DIR"
ENV_WAIT = "DRIFT_FILING_LOCK_WAIT"
SUFFIX = ".filing-locks"


class FilingBusy(DriftError):
    """Another filer held the group's lock for longer than we may wait."""


class FilingLockUnavailable(UsageError):
    """The store has no local path for the lock files and none is configured."""


def group_key(org: str, repo: str, category: str) -> str:
    """The lock key of one filing group (GitHub names compare without case)."""
    return f"{org}/{repo} {category}".casefold()


def lock_wait(env: Mapping[str, str] | None = None) -> float:
    """``DRIFT_FILING_LOCK_WAIT`` (seconds, 0 to 3600), else :data:`DEFAULT_WAIT`."""
    raw = (os.environ if env is None else env).get(ENV_WAIT, "").strip()
    if not raw:
        return DEFAULT_WAIT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_WAIT):
        raise UsageError(
            f"{ENV_WAIT}={raw[:40]!r}: expected the seconds a filer waits for another, 0 to {MAX_WAIT:.0f}"
        )
    return value


def lock_dir(store: DriftStore, env: Mapping[str, str] | None = None) -> Path | None:
    """The directory of the filing locks of ``store`` (see the module docstring), or None."""
    configured = (os.environ if env is None else env).get(ENV_DIR, "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    config = getattr(store, "config", None)  # a LakeStore's LakeConfig
    if config is None:
        return _beside(store.path.absolute())
    if config.sqlite_file is not None:
        return _beside(Path(config.sqlite_file))
    if config.bucket is None:
        return _beside(Path(config.data.rstrip("/")))
    return None


def _beside(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


class FilingLocks:
    """The filing locks of one store; ``hold(key)`` is the critical section of one group."""

    def __init__(
        self,
        store: DriftStore,
        *,
        wait: float | None = None,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        directory = lock_dir(store, env)
        if directory is None:
            raise FilingLockUnavailable(
                f"{store.describe()} has no local path for the filing locks that keep two filers from "
                f"filing the same issue: set {ENV_DIR} to a directory every filer shares"
            )
        self.directory = directory
        self.wait = lock_wait(env) if wait is None else wait
        self._sleep = sleep

    def path(self, key: str) -> Path:
        bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % BUCKETS
        return self.directory / f"filing-{bucket:02d}.lock"

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Exclusive across processes (and threads) for ``key`` while the block runs."""
        path = self.path(key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FilingLockUnavailable(f"the filing lock {path} cannot be opened: {exc.strerror}") from None
        try:
            self._acquire(fd, path, key)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _acquire(self, fd: int, path: Path, key: str) -> None:
        start, delay = time.monotonic(), FIRST_DELAY
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= self.wait:
                    raise FilingBusy(
                        f"another filer held the lock {path} for {key} longer than {self.wait:g}s "
                        f"({ENV_WAIT}); nothing was filed for it: re-run when that filer has finished"
                    ) from None
                self._sleep(min(delay * random.uniform(0.8, 1.2), MAX_DELAY, self.wait - waited))
                delay *= 2
