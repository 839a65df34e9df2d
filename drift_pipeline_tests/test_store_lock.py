"""Readers never break a run: the store against a real second process holding the DuckDB file.

Each test starts ``sys.executable`` on a real DuckDB file; the helper holds its connection until
it is told to let go (a file appears) or its own limit passes, so no test depends on speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest

from drift_pipeline.core.errors import ExitCode
from drift_pipeline.store import DriftStore
from drift_pipeline.store.lock import LockConflict, StoreBusy, lock_conflict

D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
HOLDER_LIMIT = 60.0  # a holder never outlives this, whatever the test does

HOLDER = """
import os, sys, time, pathlib, duckdb
path, mode, seconds, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), pathlib.Path(sys.argv[4])
con = duckdb.connect(path, read_only=(mode == "ro"))
con.execute("SELECT count(*) FROM repo_inventory").fetchall()
ready.write_text(str(os.getpid()))
stop = ready.with_suffix(".stop")
end = time.monotonic() + seconds
while time.monotonic() < end and not stop.exists():
    time.sleep(0.02)
ready.with_suffix(".released").write_text("")
con.close()
"""

WRITER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("INSERT INTO repo_inventory (scan_date, org, repo) VALUES ('2026-01-03', 'acme', 'from-writer')")
con.close()
"""


class Holder:
    def __init__(self, proc: subprocess.Popen, ready: Path):
        self.proc, self.ready = proc, ready
        self.released = ready.with_suffix(".released")

    def let_go(self) -> None:
        self.ready.with_suffix(".stop").write_text("")
        self.proc.wait(timeout=HOLDER_LIMIT)


@contextmanager
def holding(path: Path, mode: str, seconds: float = HOLDER_LIMIT) -> Iterator[Holder]:
    """A second process with ``path`` open (``ro`` or ``rw``), ready when this yields."""
    ready = path.with_name(f"holder-{mode}-{time.monotonic_ns()}.ready")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), mode, str(min(seconds, HOLDER_LIMIT)), str(ready)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if proc.poll() is not None:
                raise AssertionError(f"holder exited early: {proc.stderr.read() if proc.stderr else ''}")
            assert time.monotonic() < deadline, "holder never became ready"
            time.sleep(0.02)
        yield Holder(proc, ready)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=HOLDER_LIMIT)


def seeded(tmp_path: Path) -> Path:
    path = tmp_path / "drift.duckdb"
    with DriftStore(path) as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}, {"repo": "b"}]})
        cache = store.source_cache()
        cache["k"] = "v"
        cache.flush()
    return path


def repos(path: Path) -> list[tuple[date, str]]:
    with DriftStore(path, read_only=True) as store:
        return [
            (r["scan_date"], r["repo"]) for r in store.rows("SELECT scan_date, repo FROM repo_inventory ORDER BY ALL")
        ]


def test_a_write_waits_for_a_reading_process_and_then_succeeds(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path, lock_timeout=HOLDER_LIMIT)
    with holding(path, "ro", seconds=1.5) as holder:
        assert holder.proc.poll() is None and not holder.released.exists()
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})
        # the write could only commit once the reader had let go of the file
        assert holder.released.exists()
    assert repos(path) == [(D1, "a"), (D1, "b"), (D2, "c")]


def test_a_write_gives_up_after_lock_timeout_with_a_clear_error_and_keeps_the_rows(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path, lock_timeout=0.5)
    with holding(path, "ro") as holder:
        with pytest.raises(StoreBusy) as caught:
            store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "replaced"}]})
        cache = store.source_cache()
        cache["k2"] = "v2"
        with pytest.raises(StoreBusy):
            cache.flush()
        holder.let_go()
    err = caught.value
    assert err.exit_code == ExitCode.RUNTIME == 3
    assert err.pid == holder.proc.pid and err.path == path and not err.read_only
    message = str(err)
    for part in (
        str(path),
        "another process",
        f"PID {holder.proc.pid}",
        "close that session",
        "drift sql",
        "EXPORT DATABASE",
    ):
        assert part in message
    assert repos(path) == [(D1, "a"), (D1, "b")]
    assert cache.flush() == 1  # nothing was lost: the pending entry is written once the file is free
    assert DriftStore(path).source_cache()["k2"] == "v2"


def test_the_pipeline_reads_while_an_analyst_holds_a_read_only_session(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path, lock_timeout=0)  # no waiting at all: read-only sessions share the file
    with holding(path, "ro"):
        assert [r["repo"] for r in store.day_rows("repo_inventory", D1, "acme")] == ["a", "b"]
        assert store.latest_day_before("repo_inventory", D2, "acme") == D1
        assert store.source_cache()["k"] == "v"


def write_from_another_process(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WRITER, str(path)], capture_output=True, text=True, check=False, timeout=HOLDER_LIMIT
    )


def test_a_store_that_read_or_wrote_does_not_keep_the_file_locked(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path)  # deliberately left open: it must hold nothing between calls
    assert store.days("repo_inventory") == [D1]
    assert store.blobs(["nope"]) == {}
    store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})
    done = write_from_another_process(path)
    assert done.returncode == 0, done.stderr
    assert store.days("repo_inventory") == [D1, D2, D3]


def test_the_source_cache_lets_go_of_the_file_at_flush_and_at_close(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path, lock_timeout=0)
    cache = store.source_cache()
    assert cache["k"] == "v" and "missing" not in cache  # lookups share one read-only session
    with holding(path, "ro"):  # which analysts' sessions share too
        assert DriftStore(path, read_only=True, lock_timeout=0).days("repo_inventory") == [D1]
    cache["k3"] = "v3"
    assert cache.flush() == 1
    done = write_from_another_process(path)
    assert done.returncode == 0, done.stderr
    with DriftStore(path) as other:
        assert other.source_cache()["k3"] == "v3"
    store.close()
    done = write_from_another_process(path)
    assert done.returncode == 0, done.stderr


def test_a_read_waits_for_a_writing_process(tmp_path):
    path = seeded(tmp_path)
    with holding(path, "rw") as holder:
        with pytest.raises(StoreBusy) as caught:
            DriftStore(path, read_only=True, lock_timeout=0.2).days("repo_inventory")
        assert caught.value.read_only and "a writer holds it" in str(caught.value)
        holder.let_go()
    assert DriftStore(path, read_only=True, lock_timeout=0).days("repo_inventory") == [D1]


def test_a_same_process_session_with_another_configuration_is_waited_for_too(tmp_path):
    path = seeded(tmp_path)
    analyst = duckdb.connect(str(path), read_only=True)
    try:
        with pytest.raises(StoreBusy) as caught:
            DriftStore(path, lock_timeout=0.2).replace_day(D2, "acme", {"repo_inventory": []})
    finally:
        analyst.close()
    assert "another connection of this process" in str(caught.value)
    assert caught.value.pid == os.getpid()


def test_lock_conflict_reads_the_installed_duckdbs_errors(tmp_path):
    """Pins the one message check against this DuckDB: a new release that rewords it fails here."""
    path = seeded(tmp_path)
    with holding(path, "rw") as holder:
        with pytest.raises(duckdb.IOException) as other:
            duckdb.connect(str(path), read_only=True)
        holder.let_go()
    assert lock_conflict(other.value) == LockConflict(other_process=True, pid=holder.proc.pid)
    first = duckdb.connect(str(path), read_only=True)
    try:
        with pytest.raises(duckdb.ConnectionException) as same:
            duckdb.connect(str(path))
    finally:
        first.close()
    assert lock_conflict(same.value) == LockConflict(other_process=False, pid=os.getpid())
    with pytest.raises(duckdb.IOException) as missing:
        duckdb.connect(str(tmp_path / "missing.duckdb"), read_only=True)
    assert lock_conflict(missing.value) is None
    assert lock_conflict(duckdb.CatalogException("Could not set lock on file")) is None


def test_reads_inside_a_reading_block_share_one_session_that_ends_with_the_block(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path, lock_timeout=0)
    with store.reading():
        assert store.days("repo_inventory") == [D1]
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})  # a write lets go first
        assert [r["repo"] for r in store.day_rows("repo_inventory", D2, "acme")] == ["c"]
        held = write_from_another_process(path)  # no backoff in the raw writer: it must fail now
        assert held.returncode != 0 and "Could not set lock" in held.stderr
    done = write_from_another_process(path)
    assert done.returncode == 0, done.stderr
    assert store.days("repo_inventory") == [D1, D2, D3]


_OPEN_STORE = """
import sys, pathlib
from drift_pipeline.store import DriftStore
with DriftStore(pathlib.Path(sys.argv[1])) as store:
    store.replace_day(__import__("datetime").date(2026, 1, 2), "acme", {"repo_inventory": [{"repo": "b"}]})
print("opened")
"""


def test_a_file_another_process_is_creating_is_waited_for_not_called_invalid(tmp_path):
    # DuckDB itself: a process opening the file between its creation and its header is told it is
    # "not a valid DuckDB database file" (1 of 30 pairs here). The creator holds <file>.create-lock
    # while it creates; here the test is that creator, caught with the file still empty.
    import fcntl

    path = tmp_path / "drift.duckdb"
    fd = os.open(tmp_path / "drift.duckdb.create-lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    path.touch()  # created, header not yet written
    other = subprocess.Popen(
        [sys.executable, "-c", _OPEN_STORE, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(1.5)  # the other process is waiting, not failing
    assert other.poll() is None, other.communicate()
    path.unlink()
    duckdb.connect(str(path)).close()  # the creator finishes: a whole (empty) database
    os.close(fd)  # and lets go
    out, err = other.communicate(timeout=60)
    assert other.returncode == 0 and "opened" in out, err[-2000:]
    assert repos(path) == [(date(2026, 1, 2), "b")]


def test_two_processes_creating_one_file_both_open_it(tmp_path):
    for i in range(6):
        path = tmp_path / f"s{i}.duckdb"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN_STORE, str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and "opened" in out, err[-2000:]
