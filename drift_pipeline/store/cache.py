"""The persistent source cache: a dict-like view of the store's ``source_cache`` table.

Reads load in bulk, writes wait for ``flush()``. A key ``<family>:<rest>`` (``etags:``, ``tree:``,
``blob:``, ``expected:``...) is looked up with its whole family: the first lookup of a family loads
every key of it at once (one query for its keys and sizes, one per ``CHUNK_BYTES`` of values),
and later lookups of that family (present or not) ask the store nothing. A scan asks for a few
families, so it sends a few queries, not one per repo. A key without ``:`` is looked up alone.

Memory stays bounded: values are held zlib-compressed, those read from the store and those written
and waiting for ``flush()`` alike (a 2,000-repo store's cache shrinks 3.9 times: a cold scan writes
every repo's tree and ETag answers), and each lookup hands back a fresh string the caller may drop.
They are stored compressed too (the ``packed`` column; ``value`` is then ''): what a flush hands
DuckDB, and what DuckDB holds in memory for it until the transaction ends, is the compressed size,
not the text (about 18 MB of text per 1,000 repos after three days). Rows of an older store keep
their text in ``value`` (``packed`` NULL) until their key is written again. A packed value that does
not decompress is an absent key (the source is asked again), never an error of the scan.
``flush()`` writes in batches of at most ``FLUSH_BYTES``, in one transaction.

Lookups share the store's read session (opening costs tens of milliseconds): ``flush()`` (or
closing the store) lets go of it again. What a family's load saw is what this cache answers for
it until the cache is dropped (a run's view), as every value once read was before.

A key has one row in the DuckDB file (its primary key). A DuckLake catalog has no keys, and two
writer processes may flush the same new key at once: each flush replaces its keys (delete, then
insert, in one transaction, retried on a commit conflict), and a lookup takes the newest row, so
a key never reads two values.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

import duckdb

_T = TypeVar("_T")


class CacheStore(Protocol):
    """What the cache needs of the store (``DriftStore`` has it): sessions, a write, a staged table.

    A protocol rather than an import of the store, which builds its cache from this module.
    """

    def session(
        self, write: bool = False, *, shared: bool = False
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], _T]) -> _T: ...

    def incoming(self, con: duckdb.DuckDBPyConnection, rows: Any, cols: Any) -> AbstractContextManager[str]: ...

    def _release_lease(self) -> None: ...


__all__ = ["PersistentCache", "family"]

_LOOKUP = "SELECT key, value, packed, stored_at FROM source_cache WHERE key = ?"
_SIZES = "SELECT key, coalesce(octet_length(packed), strlen(value)) FROM source_cache WHERE key >= ? AND key < ? ORDER BY key"
_RANGE = "SELECT key, value, packed, stored_at FROM source_cache WHERE key >= ? AND key <= ?"
CHUNK_BYTES = 8 << 20  # values fetched per query: DuckDB materialises a result (about twice its size)
FLUSH_BYTES = 1 << 20  # compressed bytes written per insert of a flush
_LEVEL = 1  # zlib level: most of the gain at a fraction of the time of the default


def family(key: str) -> str | None:
    """The family a key is loaded with (``"tree:"`` for ``"tree:acme/a"``); None: looked up alone."""
    head, colon, _ = key.partition(":")
    return head + colon if colon else None


class PersistentCache(MutableMapping[str, str]):
    """A dict-like view of ``source_cache``: reads load a key's family at once, writes wait for flush()."""

    def __init__(self, store: CacheStore, *, chunk_bytes: int = CHUNK_BYTES):
        self._store = store
        self._chunk_bytes = chunk_bytes
        self._lock = threading.RLock()
        self._kept: dict[str, bytes] = {}  # what the store holds, compressed (loaded or flushed)
        self._dirty: dict[str, bytes] = {}  # written, not flushed yet (compressed)
        self._families: set[str] = set()  # families loaded whole: a key of one not in _kept is absent
        self.lookups = 0  # keys asked for
        self.queries = 0  # lookup queries sent to the store (bulk loads and single keys)

    def __getitem__(self, key: str) -> str:
        with self._lock:
            self.lookups += 1
            packed = self._dirty.get(key)
            if packed is None:
                if key not in self._kept:
                    self._load(key)
                packed = self._kept.get(key)
        if packed is None:
            raise KeyError(key)
        try:
            return zlib.decompress(packed).decode()
        except (zlib.error, UnicodeDecodeError):  # a damaged entry: absent, so the source is asked again
            with self._lock:
                self._kept.pop(key, None)
            raise KeyError(key) from None

    def _load(self, key: str) -> None:
        """Read ``key`` from the store: with its whole family, unless that family is loaded already.

        A family is read in two steps within one read session (one snapshot): its keys and sizes,
        then its values in key ranges of at most ``chunk_bytes`` each, so that a large family never
        sits in memory uncompressed at once."""
        fam = family(key)
        if fam in self._families:
            return
        newest: dict[str, datetime | None] = {}
        with self._store.session(shared=True) as con:
            if fam is None:
                self._fetch(con, _LOOKUP, [key], newest)
                return
            self.queries += 1
            sizes = con.execute(_SIZES, [fam, fam[:-1] + ";"]).fetchall()  # ";" follows ":"
            for lo, hi in _ranges(sizes, self._chunk_bytes):
                self._fetch(con, _RANGE, [lo, hi], newest)
        self._families.add(fam)

    def _fetch(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: list[str], newest: dict[str, datetime | None]
    ) -> None:
        """Keep the rows of one query, compressed; of a key's several rows (a lake) the newest."""
        self.queries += 1
        for k, value, packed, stored_at in con.execute(sql, params).fetchall():
            if k in self._dirty or (k in newest and not _newer(stored_at, newest[k])):
                continue
            newest[k] = stored_at
            self._kept[k] = bytes(packed) if packed is not None else zlib.compress(value.encode(), _LEVEL)

    def held_bytes(self) -> int:
        """What this cache holds in memory: values read (compressed) and written (until flushed)."""
        with self._lock:
            return sum(map(len, self._kept.values())) + sum(map(len, self._dirty.values()))

    def __setitem__(self, key: str, value: str) -> None:
        with self._lock:
            self._dirty[key] = zlib.compress(value.encode(), _LEVEL)
            self._kept.pop(key, None)

    def __delitem__(self, key: str) -> None:
        with self._lock:
            self._dirty.pop(key, None)
            self._kept.pop(key, None)
            self._store.write(lambda con: con.execute("DELETE FROM source_cache WHERE key = ?", [key]))

    def __iter__(self) -> Iterator[str]:
        with self._store.session(shared=True) as con:
            keys = {r[0] for r in con.execute("SELECT DISTINCT key FROM source_cache").fetchall()}
        with self._lock:
            return iter(keys | set(self._dirty))

    def __len__(self) -> int:
        return len(set(self))

    def flush(self) -> int:
        """Write pending entries and let go of the cache's read session; returns how many were written."""
        self._store._release_lease()
        with self._lock:
            if not self._dirty:
                return 0
            batches = _batches(self._dirty, FLUSH_BYTES)

            def replace(con: duckdb.DuckDBPyConnection) -> None:
                for keys in batches:  # stored as they are held: compressed
                    rows = [{"key": k, "value": "", "packed": self._dirty[k]} for k in keys]
                    with self._store.incoming(con, rows, ["key", "value", "packed"]) as incoming:
                        con.execute(f"DELETE FROM source_cache WHERE key IN (SELECT key FROM {incoming})")
                        con.execute(
                            f"INSERT INTO source_cache (key, value, packed) SELECT key, value, packed FROM {incoming}"
                        )

            self._store.write(replace)
            self._kept.update(self._dirty)  # written: held as what was read is
            written = len(self._dirty)
            self._dirty.clear()
            return written


def _batches(packed: dict[str, bytes], limit: int) -> list[list[str]]:
    """The sorted keys of ``packed`` in runs of at most ``limit`` compressed bytes (a larger value alone)."""
    batches: list[list[str]] = [[]]
    total = 0
    for key in sorted(packed):
        if batches[-1] and total + len(packed[key]) > limit:
            batches.append([])
            total = 0
        batches[-1].append(key)
        total += len(packed[key])
    return batches


def _ranges(sizes: list[tuple[str, int]], limit: int) -> list[tuple[str, str]]:
    """Contiguous ranges ``(first, last)`` of the sorted ``(key, bytes)`` rows, each of at most ``limit``
    bytes (a single larger value is a range of its own)."""
    ranges: list[tuple[str, str]] = []
    first, last, total = None, None, 0
    for key, size in sizes:
        if first is not None and last is not None and total + size > limit and key != last:
            ranges.append((first, last))
            first, total = None, 0
        first = key if first is None else first
        last, total = key, total + size
    if first is not None and last is not None:
        ranges.append((first, last))
    return ranges


def _newer(a: datetime | None, b: datetime | None) -> bool:
    """Whether a row stored at ``a`` replaces one stored at ``b`` (the newest row wins; no time: last seen)."""
    return a is None or b is None or a >= b
