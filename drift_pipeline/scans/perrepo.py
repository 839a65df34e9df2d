"""Per-repo work of a scan: concurrent, merged in input order, and one repo's failure its own.

Every scan reads repos one by one with :func:`map_repos`: with a source that allows several
requests in flight (``source.concurrency``, GitHub) the repos are read by that many threads; the
results come back in the order of the input, so the rows are the same as a serial scan's.

A repo's work function catches everything (``Exception``) that goes wrong for that repo and turns
it into that repo's recorded failure with :func:`failure_message`: a parser's ``RecursionError``
on a hostile file, a ``KeyError`` from a malformed payload or a ``UnicodeError`` must cost that
repo, never the partition. ``KeyboardInterrupt`` and ``SystemExit`` are not ``Exception`` and
still stop the run.

A scan reports its progress through one optional hook, :data:`Progress`: ``progress(done, total,
repo, failed)`` is called once per repo as it finishes (in completion order, one call at a time),
``failed`` counting the repos failed so far. :func:`progress_logger` turns it into log lines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.sources.gitutil import GitError

T = TypeVar("T")
R = TypeVar("R")

MAX_ERROR_CHARS = 300  # of the cause, in a recorded failure (the message stays one line)


def workers_for(source: Any) -> int:
    """How many repos to read at once: the source's ``concurrency`` (1 when it has none)."""
    value = getattr(source, "concurrency", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 1 else 1


Progress = Callable[[int, int, str, int], None]
"""``(done, total, repo, failed)``: called as each repo finishes."""


def map_repos(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    *,
    progress: Progress | None = None,
    name: Callable[[T], str] = str,
    failed: Callable[[R], bool] = lambda _: False,
) -> list[R]:
    """``[fn(item) for item in items]``, run by up to ``workers`` threads, in the input order.

    ``fn`` is expected to record its own failures; anything it lets through (an interrupt, a run
    failure) is raised here after the work not yet started is cancelled. With ``progress``, each
    finished item is reported by ``name(item)``, counted as failed when ``failed(result)``.
    """
    if progress is not None:
        fn = _reporting(fn, len(items), progress, name, failed)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="drift-scan")
    try:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _reporting(
    fn: Callable[[T], R], total: int, progress: Progress, name: Callable[[T], str], failed: Callable[[R], bool]
) -> Callable[[T], R]:
    lock = threading.Lock()
    counts = [0, 0]  # done, failed

    def run(item: T) -> R:
        result = fn(item)
        with lock:  # one call at a time, in completion order
            counts[0] += 1
            counts[1] += bool(failed(result))
            progress(counts[0], total, name(item), counts[1])
        return result

    return run


def progress_logger(
    log: Callable[[str], None], label: str, headroom: Callable[[], tuple[int, int] | None] = lambda: None
) -> Progress:
    """A :data:`Progress` logging every tenth of the repos (and the last one) with ``log``:
    ``"<label>: 120/1000 repos, 3 failed, rate limit 4,812/5,000 left"`` (no headroom part when
    ``headroom()`` knows none)."""

    def report(done: int, total: int, repo: str, failed: int) -> None:
        if done % max(1, total // 10) and done != total:
            return
        line = f"{label}: {done}/{total} repos, {failed} failed"
        left = headroom()
        if left is not None:
            line += f", rate limit {left[0]:,}/{left[1]:,} left"
        log(line)

    return report


def source_headroom(source: Any) -> Callable[[], tuple[int, int] | None]:
    """The source's last rate-limit headroom ``(remaining, limit)``, if it keeps one (GitHub)."""
    return lambda: getattr(source, "headroom", None)


class RepoFailed(Exception):
    """A repo's failure already described by :func:`failure_message` (raised to unwind its scan)."""


def failure_message(repo: str, what: str, exc: BaseException) -> str:
    """One redacted line naming the repo, what failed and why, for a row's ``error``."""
    if isinstance(exc, RepoFailed):
        return str(exc)
    if isinstance(exc, (SourceError, GitError)):
        cause = str(exc)
    else:
        cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    cause = " ".join(mask_secrets(cause).split())  # mask before cutting: no half tokens
    if len(cause) > MAX_ERROR_CHARS:
        cause = cause[:MAX_ERROR_CHARS] + f"... ({len(cause) - MAX_ERROR_CHARS} more characters)"
    return f"{repo}: {what} failed: {cause}"
