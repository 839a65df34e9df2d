"""The DuckDB file: every daily snapshot, every finding, and the bookkeeping beside them.

One module writes the file. Daily tables carry ``scan_date`` and ``org``; writing a day replaces
exactly that day's rows for that org (delete + insert in one transaction), so re-running a day is
idempotent and a failed write leaves the previous rows intact. Bookkeeping tables (the HTTP/object
cache, and later filed issues and audits) are keyed, not dated.

Readers never break a run. DuckDB lets one read-write process, or any number of read-only ones,
hold the file (across processes); within one process it refuses a second connection with another
configuration (read-only vs read-write) while one is open. So the store holds no connection between
calls: each write opens the file read-write for one transaction and closes it, each read opens it
read-only for the query and closes it. When another process holds the file, opening waits with
bounded exponential backoff (``lock_timeout``) and then raises :class:`StoreBusy`, which says who
holds the file and what to do (``store_lock``). One exception: lookups in the source cache share a
read-only session until ``flush()``, the store's next write, or ``close()``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from drift_pipeline.store_lock import DEFAULT_LOCK_TIMEOUT, StoreBusy, connect
from drift_pipeline.store_views import view_changes

__all__ = ["DEFAULT_DB_PATH", "TABLES", "DriftStore", "PersistentCache", "StoreBusy"]

DEFAULT_DB_PATH = "data/drift.duckdb"

FINDING_DDL = """
    scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
    category VARCHAR NOT NULL, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    message VARCHAR NOT NULL, subject VARCHAR NOT NULL, details JSON, fingerprint VARCHAR NOT NULL,
    commit_sha VARCHAR, commit_url VARCHAR
"""

# table -> column DDL. Daily tables first; keep column names stable (trend queries use them).
TABLES: dict[str, str] = {
    "repo_inventory": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, owner VARCHAR,
        html_url VARCHAR, default_branch VARCHAR, head_sha VARCHAR, head_date TIMESTAMPTZ, head_author VARCHAR,
        pushed_at TIMESTAMPTZ,
        archived BOOLEAN, disabled BOOLEAN, fork BOOLEAN, private BOOLEAN,
        has_metadata BOOLEAN, has_config BOOLEAN, in_scope BOOLEAN, scope_reason VARCHAR,
        tier VARCHAR, status VARCHAR, team VARCHAR, config_files JSON, carried_forward BOOLEAN,
        error VARCHAR
    """,
    # config_snapshots and its satellites (one asset, several facets of the same read)
    "config_snapshots": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        path VARCHAR NOT NULL, kind VARCHAR NOT NULL, tool VARCHAR, blob_sha VARCHAR,
        content VARCHAR, commit_sha VARCHAR, commit_url VARCHAR, commit_author VARCHAR,
        commit_date TIMESTAMPTZ, carried_forward BOOLEAN
    """,
    "config_projects": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        type VARCHAR, config_file VARCHAR, tier VARCHAR, status VARCHAR, team VARCHAR,
        registry VARCHAR, rulesets JSON, tier_valid BOOLEAN, tier_message VARCHAR,
        carried_forward BOOLEAN
    """,
    "config_problems": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        file VARCHAR, key VARCHAR, line INTEGER, message VARCHAR, rule VARCHAR, severity VARCHAR
    """,
    "config_scan_status": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, head_sha VARCHAR,
        mode VARCHAR NOT NULL, error VARCHAR, files INTEGER, still_present JSON,
        registry_heads JSON
    """,
    "config_file_commits": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, path VARCHAR NOT NULL,
        commit_sha VARCHAR NOT NULL, commit_url VARCHAR, author VARCHAR, committed_at TIMESTAMPTZ,
        message VARCHAR
    """,
    "blob_contents": """
        blob_sha VARCHAR PRIMARY KEY, content VARCHAR
    """,
    "code_drift": FINDING_DDL,
    # process: live settings (one row per repo and setting), the day's activity (one row per commit)
    "process_settings": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, setting VARCHAR NOT NULL,
        rule VARCHAR, state VARCHAR NOT NULL, expected JSON, actual JSON, source JSON, readable BOOLEAN,
        reason VARCHAR
    """,
    "process_activity": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, commit_sha VARCHAR NOT NULL,
        commit_url VARCHAR, subject VARCHAR, author VARCHAR, committer VARCHAR, is_merge BOOLEAN,
        direct_push BOOLEAN, pr_number INTEGER, pr_url VARCHAR, pr_title VARCHAR, head_branch VARCHAR,
        merged_by VARCHAR, merged_at TIMESTAMPTZ, approvals INTEGER, approved_by JSON, files INTEGER,
        lines INTEGER, refs JSON
    """,
    "process_scan_status": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, head_sha VARCHAR,
        mode VARCHAR NOT NULL, error VARCHAR, settings_observed BOOLEAN, activity_read BOOLEAN,
        commits INTEGER, config_file VARCHAR, not_evaluated JSON, problems JSON, expected JSON, observed JSON
    """,
    "process_drift": FINDING_DDL,
    # what a live-only domain observed each day (observed = FALSE: not observed, never "compliant")
    "coverage": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, domain VARCHAR NOT NULL, observed BOOLEAN NOT NULL,
        reason VARCHAR
    """,
    # infra (live-only): what each AWS account holds, what each repo declares per env, the drift between
    "aws_inventory": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, account VARCHAR NOT NULL, env VARCHAR, region VARCHAR,
        arn VARCHAR NOT NULL, type VARCHAR, physical_id VARCHAR, stack VARCHAR, tags JSON, attributes JSON,
        read_failure VARCHAR
    """,
    "declared_infra": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        env VARCHAR NOT NULL, account VARCHAR, deployed_commit VARCHAR, deployed_from VARCHAR, stack VARCHAR,
        stack_name VARCHAR, logical_id VARCHAR, type VARCHAR, physical_id VARCHAR, arn VARCHAR, properties JSON,
        source VARCHAR, line INTEGER
    """,
    "infra_scan_status": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, mode VARCHAR NOT NULL,
        error VARCHAR, projects JSON, problems JSON, expected JSON
    """,
    "infra_observed": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, observed JSON, backups JSON, envs JSON, drift_methods JSON
    """,
    "infra_drift": FINDING_DDL,
    "drift_findings": FINDING_DDL,
    # bookkeeping
    "source_cache": """
        key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, stored_at TIMESTAMPTZ DEFAULT current_timestamp
    """,
    # every issue filed or commented on from findings (drift_pipeline.issues.ledger writes it)
    "filed_issues": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, category VARCHAR NOT NULL,
        action VARCHAR NOT NULL, number INTEGER, url VARCHAR, fingerprints JSON, target_repo VARCHAR,
        recorded_at TIMESTAMPTZ DEFAULT current_timestamp
    """,
    # one row per weekly audit run (drift_pipeline.issues.audit writes it)
    "audit_reports": """
        week VARCHAR NOT NULL, org VARCHAR NOT NULL, run_at TIMESTAMPTZ NOT NULL, threshold INTEGER,
        action VARCHAR NOT NULL, number INTEGER, url VARCHAR, repos JSON
    """,
}


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    data = {c: [_cell(r.get(c)) for r in rows] for c in columns}
    return pd.DataFrame(data, columns=list(columns))


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _schema_changes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The statements that bring the file to the declared schema (new tables, columns added since)."""
    have: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall():
        have.setdefault(table, set()).add(column)
    changes = []
    for table, ddl in TABLES.items():
        if table not in have:
            changes.append(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
            continue
        for column in ddl.split(","):
            name, _, rest = column.strip().partition(" ")
            if name and name not in have[table] and "PRIMARY KEY" not in rest:
                kind = rest.replace("NOT NULL", "").split(" DEFAULT")[0].strip()
                changes.append(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    return changes + view_changes(con)  # the trend views, after the tables they read


class DriftStore:
    """A DuckDB file with the project's schema, opened only for the moment of each read or write.

    Every write opens the file read-write for one transaction; every read opens it read-only for
    the query. Two things share one read-only session (the *lease*) instead: lookups in the source
    cache, and the reads inside a ``with store.reading():`` block. The lease lets go before any write
    of this store, at the end of the block, at ``PersistentCache.flush()`` and at ``close()``.
    ``lock_timeout`` bounds how long opening waits for another process to release the file.
    """

    def __init__(
        self, path: str | Path = DEFAULT_DB_PATH, *, read_only: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ):
        self.path = Path(path)
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._active = threading.local()  # the session this thread is inside, if any
        self._prepared = read_only  # read-only stores never change the schema
        self._prepare_lock = threading.Lock()
        self._columns: dict[str, list[str]] = {}
        self._lease: duckdb.DuckDBPyConnection | None = None
        self._lease_lock = threading.RLock()  # one thread at a time uses the shared connection
        self._reading = 0  # open ``reading()`` blocks

    # -- sessions --------------------------------------------------------------------------
    def close(self) -> None:
        """Let go of the shared read session; nothing else stays open between calls."""
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

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
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
        opens the file read-only and closes it at the end. A write opens it read-write.
        """
        outer: tuple[duckdb.DuckDBPyConnection, bool] | None = getattr(self._active, "session", None)
        if outer is not None:
            if write and not outer[1]:
                raise RuntimeError("a write was started inside a read session of the same store")
            yield outer[0]
            return
        if write and self.read_only:
            raise RuntimeError(f"{self.path} was opened read-only")
        self._prepare()
        if not write and (shared or self._reading):
            with self._lease_lock:
                if self._lease is None:
                    self._lease = self._open(write=False)
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
        try:
            yield con
        finally:
            self._active.session = None
            con.close()

    def _release_lease(self) -> None:
        with self._lease_lock:
            if self._lease is not None:
                self._lease.close()
                self._lease = None

    def _prepare(self) -> None:
        """Bring the file to the declared schema once per store; a reader of an up-to-date file never writes."""
        with self._prepare_lock:
            if self._prepared:
                return
            if self.path.exists():
                con = self._open(write=False)
                try:
                    up_to_date = not _schema_changes(con)
                finally:
                    con.close()
            else:
                up_to_date = False
            if not up_to_date:
                con = self._open(write=True)
                try:
                    for statement in _schema_changes(con):
                        con.execute(statement)
                finally:
                    con.close()
            self._prepared = True

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            with self.session() as con:
                self._columns[table] = [
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                        "ORDER BY ordinal_position",
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

    # -- daily tables ----------------------------------------------------------------------
    def replace_day(self, day: date, org: str, tables: dict[str, Sequence[dict[str, Any]]]) -> None:
        """Replace one day's rows for ``org`` in several tables, in one transaction."""
        with self.transaction() as con:
            for table, rows in tables.items():
                con.execute(f"DELETE FROM {table} WHERE scan_date = ? AND org = ?", [day, org])
                self._insert(con, table, [{**r, "scan_date": day, "org": org} for r in rows])

    def _insert(self, con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = self.columns(table)
        frame = _frame(rows, cols)
        con.register("_incoming", frame)
        try:
            con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _incoming")
        finally:
            con.unregister("_incoming")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.session() as con:
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def day_rows(self, table: str, day: date, org: str) -> list[dict[str, Any]]:
        return self.rows(f"SELECT * FROM {table} WHERE scan_date = ? AND org = ?", [day, org])

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
        if not blobs:
            return
        rows = [{"blob_sha": sha, "content": text} for sha, text in blobs.items()]
        with self.transaction() as con:
            con.execute("CREATE TEMP TABLE IF NOT EXISTS _blob_in (blob_sha VARCHAR, content VARCHAR)")
            con.execute("DELETE FROM _blob_in")
            self._insert_plain(con, "_blob_in", rows, ["blob_sha", "content"])
            con.execute("INSERT INTO blob_contents SELECT * FROM _blob_in ON CONFLICT DO NOTHING")

    def _insert_plain(
        self, con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]], cols: Sequence[str]
    ) -> None:
        con.register("_incoming", _frame(rows, cols))
        try:
            con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)} FROM _incoming")
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
                    "SELECT blob_sha, content FROM blob_contents WHERE blob_sha IN (SELECT unnest(?))", [wanted]
                ).fetchall()
            }

    # -- source cache ----------------------------------------------------------------------
    def source_cache(self) -> PersistentCache:
        return PersistentCache(self)


class PersistentCache(MutableMapping[str, str]):
    """A dict-like view of ``source_cache``: reads hit DuckDB lazily, writes wait for flush().

    Lookups share the store's read-only lease (a scan looks up thousands of keys, opening the file
    costs tens of milliseconds): ``flush()`` (or closing the store) lets go of the file again.
    """

    def __init__(self, store: DriftStore):
        self._store = store
        self._local: dict[str, str] = {}
        self._dirty: set[str] = set()

    def __getitem__(self, key: str) -> str:
        if key in self._local:
            return self._local[key]
        with self._store.session(shared=True) as con:
            rows = con.execute("SELECT value FROM source_cache WHERE key = ?", [key]).fetchall()
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
        with self._store.transaction() as con:
            con.execute("DELETE FROM source_cache WHERE key = ?", [key])

    def __iter__(self) -> Iterator[str]:
        with self._store.session(shared=True) as con:
            keys = {r[0] for r in con.execute("SELECT key FROM source_cache").fetchall()}
        return iter(keys | set(self._local))

    def __len__(self) -> int:
        return len(set(self))

    def flush(self) -> int:
        """Write pending entries and let go of the cache's read session; returns how many were written."""
        self._store._release_lease()
        if not self._dirty:
            return 0
        rows = [{"key": k, "value": self._local[k]} for k in sorted(self._dirty)]
        with self._store.transaction() as con:
            con.execute("CREATE TEMP TABLE IF NOT EXISTS _cache_in (key VARCHAR, value VARCHAR)")
            con.execute("DELETE FROM _cache_in")
            self._store._insert_plain(con, "_cache_in", rows, ["key", "value"])
            con.execute("INSERT OR REPLACE INTO source_cache (key, value) SELECT key, value FROM _cache_in")
        written = len(self._dirty)
        self._dirty.clear()
        return written
