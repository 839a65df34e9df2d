"""The store on a DuckDB file (the default profile): short sessions, bounded waits, day-replacing writes.

Readers never break a run. DuckDB lets one read-write process, or any number of read-only ones,
hold the file (across processes); within one process it refuses a second connection with another
configuration (read-only vs read-write) while one is open. So the store holds no connection between
calls: each write opens the file read-write for one transaction and closes it, each read opens it
read-only for the query and closes it. When another process holds the file, opening waits with
bounded exponential backoff (``lock_timeout``) and then raises :class:`StoreBusy`, which says who
holds the file and what to do (:mod:`drift_pipeline.store.lock`). Two exceptions: lookups in the
source cache share a read-only session until ``flush()``, the store's next write, or ``close()``;
and a step's store (``linger_writes``) keeps its last write's connection for half a second after
its last session, for the next sessions to share (:mod:`drift_pipeline.store.anchor`).

Writing a day replaces exactly that day's rows for that org (delete + insert in one transaction),
so re-running a day is idempotent and a failed write leaves the previous rows intact.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from drift_pipeline.store.anchor import DEFAULT_LINGER, Anchor
from drift_pipeline.store.cache import PersistentCache
from drift_pipeline.store.lock import DEFAULT_LOCK_TIMEOUT, connect
from drift_pipeline.store.schema import frame, schema_changes
from drift_pipeline.store.summary import refresh_day

__all__ = ["DEFAULT_DB_PATH", "DriftStore"]

DEFAULT_DB_PATH = "data/drift.duckdb"
INSERT_BATCH = 2000  # rows per insert of a day's write: what is copied (to dicts, a frame, DuckDB's import) at once

T = TypeVar("T")


class DriftStore:
    """A DuckDB file with the project's schema, opened only for the moment of each read or write.

    Every write opens the file read-write for one transaction; every read opens it read-only for
    the query. Two things share one read-only session (the *lease*) instead: lookups in the source
    cache, and the reads inside a ``with store.reading():`` block. The lease lets go before any write
    of this store, at the end of the block, at ``PersistentCache.flush()`` and at ``close()``.
    After ``linger_writes()`` (a step's store) the connection of the last write stays open a moment
    for the next sessions (:mod:`drift_pipeline.store.anchor`).
    ``lock_timeout`` bounds how long opening waits for another process to release the file.
    """

    def __init__(
        self, path: str | Path = DEFAULT_DB_PATH, *, read_only: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_sessions(read_only)

    def _init_sessions(self, read_only: bool) -> None:
        self.read_only = read_only
        self._active = threading.local()  # the session this thread is inside, if any
        self._prepared = read_only  # read-only stores never change the schema
        self._prepare_lock = threading.Lock()
        self._columns: dict[str, list[str]] = {}
        self._lease: duckdb.DuckDBPyConnection | None = None
        self._lease_lock = threading.RLock()  # one thread at a time uses the shared connection
        self._reading = 0  # open ``reading()`` blocks
        self._anchor: Anchor | None = None  # see linger_writes()

    # -- sessions --------------------------------------------------------------------------
    def close(self) -> None:
        """Let go of the shared read session and of a lingering write connection."""
        self._release_lease()
        if self._anchor is not None:
            self._anchor.close()

    def linger_writes(self, seconds: float = DEFAULT_LINGER) -> DriftStore:
        """Keep the read-write connection of a write open ``seconds`` after its last session (``store.anchor``).

        For a step that reads and writes day after day: its sessions then take cursors of that
        connection instead of opening the file each time. Until ``close()``; a no-op on a lake or
        a read-only store."""
        if not self.lake and not self.read_only:
            self._anchor = Anchor(seconds)
        return self

    def release_reads(self) -> None:
        """Let go of the shared read session now (before waiting on something a writer may hold)."""
        self._release_lease()

    def __enter__(self) -> DriftStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[DriftStore]:
        """Let the reads of this block share one read-only session (a burst of ``day_rows``).

        Opening the file costs tens of milliseconds; a block of reads pays it once. Readers share
        the file, so analysts are never blocked by it; a write inside the block lets go first.
        """
        with self._lease_lock:
            self._reading += 1
        try:
            yield self
        finally:
            with self._lease_lock:
                self._reading -= 1
                if not self._reading:
                    self._release_lease()

    # -- what a backend provides -----------------------------------------------------------
    lake = False  # a DuckLake catalog (no key constraints, macros per session)

    def describe(self) -> str:
        """Where the data lives, for messages (never a credential)."""
        return str(self.path)

    def _exists(self) -> bool:
        return self.path.exists()

    def _retryable(self, exc: BaseException) -> bool:
        """Whether a failed write may be run again from the start (the file has one writer: never)."""
        return False

    def _retry_delays(self) -> Iterator[float]:
        return iter(())

    def _open_lease(self) -> duckdb.DuckDBPyConnection:
        """The read session that reads share (see :meth:`reading`)."""
        return self._open(write=False)

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
        if self._anchor is not None:
            cur = self._anchor.cursor((lambda: self._connect(write=True)) if write else None)
            if cur is not None:
                return cur
        return self._connect(write)

    def _close(self, con: duckdb.DuckDBPyConnection, *, failed: bool = False) -> None:
        """Close a connection of ``_open`` (a cursor of the anchor goes back to it)."""
        if self._anchor is None or not self._anchor.release(con, failed=failed):
            con.close()

    def _connect(self, write: bool) -> duckdb.DuckDBPyConnection:
        con = connect(self.path, read_only=not write, lock_timeout=self.lock_timeout)
        try:
            con.execute("SET TimeZone = 'UTC'")  # scan dates are UTC days; so are times
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def session(self, write: bool = False, *, shared: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work. Nested calls share the outer one.

        A read is ``shared`` (through the lease) when asked or inside ``reading()``; otherwise it
        opens the file read-only and closes it at the end. A write opens it read-write. While a
        write connection lingers (``linger_writes``), reads and writes take cursors of it instead
        (a read then holds nothing: the linger ends while a step scans).
        """
        outer: tuple[duckdb.DuckDBPyConnection, bool] | None = getattr(self._active, "session", None)
        if outer is not None:
            if write and not outer[1]:
                raise RuntimeError("a write was started inside a read session of the same store")
            yield outer[0]
            return
        if write and self.read_only:
            raise RuntimeError(f"{self.describe()} was opened read-only")
        self._prepare()
        if not write and (shared or self._reading) and not (self._anchor is not None and self._anchor.alive):
            with self._lease_lock:
                if self._lease is None:
                    self._lease = self._open_lease()
                self._active.session = (self._lease, False)
                try:
                    yield self._lease
                finally:
                    self._active.session = None
            return
        if write:
            self._release_lease()  # this process may not hold the file read-only while it writes
        con = self._open(write)
        self._active.session = (con, write)
        failed = False
        try:
            yield con
        except duckdb.Error:
            failed = True
            raise
        finally:
            self._active.session = None
            self._close(con, failed=failed)

    def _release_lease(self) -> None:
        with self._lease_lock:
            if self._lease is not None:
                self._close(self._lease)
                self._lease = None

    def _prepare(self) -> None:
        """Bring the store to the declared schema once per store; a reader of an up-to-date store never writes."""
        with self._prepare_lock:
            if self._prepared:
                return
            up_to_date = False
            if self._exists():
                con = self._open(write=False)
                try:
                    up_to_date = not schema_changes(con, lake=self.lake)
                finally:
                    self._close(con)
            if not up_to_date:
                self._prepared = True  # the write below must not prepare again
                try:
                    self._retrying(self._apply_schema)
                except BaseException:
                    self._prepared = False
                    raise
            self._prepared = True

    def _apply_schema(self) -> None:
        con = self._open(write=True)
        try:
            con.execute("BEGIN TRANSACTION")
            for statement in schema_changes(con, lake=self.lake):  # read again: another writer may have done it
                con.execute(statement)
            con.execute("COMMIT")
        finally:
            self._close(con)

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            with self.session() as con:
                self._columns[table] = [
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                        "AND table_catalog = current_database() ORDER BY ordinal_position",
                        [table],
                    ).fetchall()
                ]
        return self._columns[table]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write session in one transaction: all of it is committed, or none (nested: the outer one)."""
        if getattr(self._active, "session", None) is not None:
            with self.session(write=True) as con:
                yield con
            return
        with self.session(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(con)`` in one transaction and return its result.

        On DuckLake a commit can conflict with another writer's (``duckdb.TransactionException``):
        the whole unit is then run again, a bounded number of times with backoff. Inside an outer
        ``transaction()`` it joins that one, and the outer unit's commit decides.
        """
        if getattr(self._active, "session", None) is not None:
            with self.transaction() as con:
                return work(con)

        def once() -> T:
            with self.transaction() as con:
                return work(con)

        return self._retrying(once)

    def _retrying(self, unit: Callable[[], T]) -> T:
        delays = self._retry_delays()
        while True:
            try:
                return unit()
            except duckdb.Error as exc:
                if not self._retryable(exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                self._on_retry(exc, delay)

    def _on_retry(self, exc: BaseException, delay: float) -> None:
        """Wait before the next attempt (a backend that retries overrides it)."""

    # -- daily tables ----------------------------------------------------------------------
    def replace_day(
        self,
        day: date,
        org: str,
        tables: dict[str, Sequence[dict[str, Any]]],
        *,
        coverage: Mapping[str, Any] | None = None,
    ) -> None:
        """Replace one day's rows for ``org`` in several tables, in one write unit (retried on a lake).

        Rows go in by :data:`INSERT_BATCH` (copied to a frame a batch at a time), still one transaction.
        ``coverage`` (``domain``, ``observed``, ``reason``) replaces that domain's coverage row of the
        day in the same unit; other domains' rows are kept. The summaries that read a replaced table
        are recomputed for that day in the same unit too (``store.summary``).
        """

        def replace(con: duckdb.DuckDBPyConnection) -> None:
            for table, rows in tables.items():
                con.execute(f"DELETE FROM {table} WHERE scan_date = ? AND org = ?", [day, org])
                for start in range(0, len(rows), INSERT_BATCH):  # bounded copies, one transaction
                    batch = rows[start : start + INSERT_BATCH]
                    self._insert(con, table, [{**r, "scan_date": day, "org": org} for r in batch])
            refresh_day(con, day, org, tables)
            if coverage is not None:
                con.execute(
                    "DELETE FROM coverage WHERE scan_date = ? AND org = ? AND domain = ?",
                    [day, org, coverage["domain"]],
                )
                con.execute(
                    "INSERT INTO coverage (scan_date, org, domain, observed, reason) VALUES (?, ?, ?, ?, ?)",
                    [day, org, coverage["domain"], coverage["observed"], coverage["reason"]],
                )

        self.write(replace)

    def _insert(self, con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = self.columns(table)
        with self.incoming(con, rows, cols) as incoming:
            con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {incoming}")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.session() as con:
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def day_rows(self, table: str, day: date, org: str) -> list[dict[str, Any]]:
        return self.rows(f"SELECT * FROM {table} WHERE scan_date = ? AND org = ?", [day, org])

    def day_batches(self, table: str, day: date, org: str, order: str = "repo") -> Iterator[list[dict[str, Any]]]:
        """``day_rows`` in ``order``, :data:`INSERT_BATCH` at a time, from a cursor of its own (never held whole)."""
        with self.session() as con, con.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} WHERE scan_date = ? AND org = ? ORDER BY {order}", [day, org])
            names = [d[0] for d in cur.description]
            while batch := cur.fetchmany(INSERT_BATCH):
                yield [dict(zip(names, row, strict=True)) for row in batch]

    def latest_day_before(self, table: str, day: date, org: str) -> date | None:
        with self.session() as con:
            row = con.execute(
                f"SELECT max(scan_date) FROM {table} WHERE scan_date < ? AND org = ?", [day, org]
            ).fetchone()
        return row[0] if row and row[0] else None

    def days(self, table: str, org: str | None = None) -> list[date]:
        where, params = ("WHERE org = ?", [org]) if org is not None else ("", [])
        with self.session() as con:
            return [
                r[0]
                for r in con.execute(f"SELECT DISTINCT scan_date FROM {table} {where} ORDER BY 1", params).fetchall()
            ]

    # -- content-addressed blobs -----------------------------------------------------------
    def put_blobs(self, blobs: dict[str, str | None]) -> None:
        """Store contents by blob sha; a sha already stored is left alone (its content is the same)."""
        if not blobs:
            return
        rows = [{"blob_sha": sha, "content": text} for sha, text in blobs.items()]

        def insert(con: duckdb.DuckDBPyConnection) -> None:
            with self.incoming(con, rows, ["blob_sha", "content"]) as incoming:
                con.execute(
                    f"INSERT INTO blob_contents SELECT blob_sha, content FROM {incoming} "
                    "WHERE blob_sha NOT IN (SELECT blob_sha FROM blob_contents)"
                )

        self.write(insert)

    @contextmanager
    def incoming(
        self, con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]], cols: Sequence[str]
    ) -> Iterator[str]:
        """``rows`` as a relation named by the yielded name, for the statements of this block."""
        con.register("_incoming", frame(rows, cols))
        try:
            yield "_incoming"
        finally:
            con.unregister("_incoming")

    def blobs(self, shas: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted({s for s in shas if s})
        if not wanted:
            return {}
        with self.session() as con:
            return {
                r[0]: r[1]
                for r in con.execute(
                    "SELECT DISTINCT blob_sha, content FROM blob_contents WHERE blob_sha IN (SELECT unnest(?))",
                    [wanted],
                ).fetchall()
            }

    # -- source cache ----------------------------------------------------------------------
    def source_cache(self) -> PersistentCache:
        return PersistentCache(self)
