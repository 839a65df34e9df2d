"""The persistent source cache: a dict-like view of the store's ``source_cache`` table.

Reads hit the store lazily, writes wait for ``flush()``. Lookups share the store's read session
(a scan looks up thousands of keys; opening costs tens of milliseconds): ``flush()`` (or closing
the store) lets go of it again.

A key has one row in the DuckDB file (its primary key). A DuckLake catalog has no keys, and two
writer processes may flush the same new key at once: each flush replaces its keys (delete, then
insert, in one transaction, retried on a commit conflict), and a lookup takes the newest row, so
a key never reads two values.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from drift_pipeline.store import DriftStore

__all__ = ["PersistentCache"]

_LOOKUP = "SELECT value FROM source_cache WHERE key = ? ORDER BY stored_at DESC LIMIT 1"


class PersistentCache(MutableMapping[str, str]):
    """A dict-like view of ``source_cache``: reads hit the store lazily, writes wait for flush()."""

    def __init__(self, store: DriftStore):
        self._store = store
        self._local: dict[str, str] = {}
        self._dirty: set[str] = set()

    def __getitem__(self, key: str) -> str:
        if key in self._local:
            return self._local[key]
        with self._store.session(shared=True) as con:
            rows = con.execute(_LOOKUP, [key]).fetchall()
        if not rows:
            raise KeyError(key)
        self._local[key] = rows[0][0]
        return rows[0][0]

    def __setitem__(self, key: str, value: str) -> None:
        self._local[key] = value
        self._dirty.add(key)

    def __delitem__(self, key: str) -> None:
        self._local.pop(key, None)
        self._dirty.discard(key)
        self._store.write(lambda con: con.execute("DELETE FROM source_cache WHERE key = ?", [key]))

    def __iter__(self) -> Iterator[str]:
        with self._store.session(shared=True) as con:
            keys = {r[0] for r in con.execute("SELECT DISTINCT key FROM source_cache").fetchall()}
        return iter(keys | set(self._local))

    def __len__(self) -> int:
        return len(set(self))

    def flush(self) -> int:
        """Write pending entries and let go of the cache's read session; returns how many were written."""
        self._store._release_lease()
        if not self._dirty:
            return 0
        rows = [{"key": k, "value": self._local[k]} for k in sorted(self._dirty)]

        def replace(con: duckdb.DuckDBPyConnection) -> None:
            with self._store.incoming(con, rows, ["key", "value"]) as incoming:
                con.execute(f"DELETE FROM source_cache WHERE key IN (SELECT key FROM {incoming})")
                con.execute(f"INSERT INTO source_cache (key, value) SELECT key, value FROM {incoming}")

        self._store.write(replace)
        written = len(self._dirty)
        self._dirty.clear()
        return written
