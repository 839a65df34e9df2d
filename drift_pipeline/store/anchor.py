"""A writer's DuckDB connection kept for a moment after its last session: the next sessions take cursors of it.

Opening the file costs about 12 ms and closing a read-write connection about 10 ms (DuckDB starts
and stops a database instance each time); a step that reads and writes day after day (a backfill)
paid that twice per asset-day: 1,053 opens and 23 s of the demo's 54 s build. An :class:`Anchor`
keeps the read-write connection of the last write open for ``linger`` seconds after the last
session using it ended; a session started in that time (a read or a write, any thread) takes a
cursor of it (a connection to the same database instance: microseconds) instead of opening the
file. When nobody used it for ``linger`` seconds a timer closes it and the file is free again, so
another process (``drift sql``, a reader in a notebook) waits for the writer at most ``linger``
seconds longer than before. Only a store opened for a step (``DriftStoreResource.open``) anchors;
a plain :class:`~drift_pipeline.store.DriftStore` keeps no connection between calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import duckdb

DEFAULT_LINGER = 0.5  # seconds: longer than the gap between a backfill's days, short for a waiting reader


class Anchor:
    """The lingering read-write connection of one store, and the cursors taken from it."""

    def __init__(self, linger: float) -> None:
        self.linger = linger
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cursors: set[int] = set()  # id() of the cursors in use
        self._timer: threading.Timer | None = None
        self._broken = False  # a session failed inside DuckDB: close rather than linger

    @property
    def alive(self) -> bool:
        """Whether the connection is open (a session now would take a cursor of it)."""
        return self._con is not None

    def cursor(self, open_write: Callable[[], duckdb.DuckDBPyConnection] | None) -> duckdb.DuckDBPyConnection | None:
        """A cursor of the anchor; with ``open_write`` the anchor is opened if needed, else ``None`` if there is none."""
        with self._lock:
            if self._con is None:
                if open_write is None:
                    return None
                self._con = open_write()
                self._broken = False
            self._cancel_timer()
            cur = self._con.cursor()
            self._cursors.add(id(cur))
        try:
            cur.execute("SET TimeZone = 'UTC'")
        except BaseException:
            self.release(cur, failed=True)
            raise
        return cur

    def release(self, con: duckdb.DuckDBPyConnection, *, failed: bool = False) -> bool:
        """Close ``con``; whether it was a cursor of the anchor (the last one out starts the linger)."""
        with self._lock:
            if id(con) not in self._cursors:
                return False
            self._cursors.discard(id(con))
            con.close()
            self._broken = self._broken or failed
            if not self._cursors:
                if self._broken or self.linger <= 0:
                    self._close_now()
                else:
                    self._timer = threading.Timer(self.linger, self._expire)
                    self._timer.daemon = True
                    self._timer.start()
            return True

    def close(self) -> None:
        """Close the anchor now (the store is closed), or when the last cursor in use is released.

        Closing a DuckDB connection closes its cursors too, so a cursor in use defers it."""
        with self._lock:
            self._cancel_timer()
            if self._cursors:
                self._broken = True  # closed by the last release
            else:
                self._close_now()

    def _expire(self) -> None:
        with self._lock:
            if not self._cursors:
                self._close_now()

    def _close_now(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
