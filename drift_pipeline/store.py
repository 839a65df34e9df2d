"""The DuckDB file: every daily snapshot, every finding, and the bookkeeping beside them.

One module writes the file. Daily tables carry ``scan_date`` and ``org``; writing a day replaces
exactly that day's rows for that org (delete + insert in one transaction), so re-running a day is
idempotent and a failed write leaves the previous rows intact. Bookkeeping tables (the HTTP/object
cache, and later filed issues and audits) are keyed, not dated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

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
    "drift_findings": FINDING_DDL,
    # bookkeeping
    "source_cache": """
        key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, stored_at TIMESTAMPTZ DEFAULT current_timestamp
    """,
}

DAILY_TABLES = tuple(t for t, ddl in TABLES.items() if "scan_date DATE" in ddl)


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    data = {c: [_cell(r.get(c)) for r in rows] for c in columns}
    return pd.DataFrame(data, columns=list(columns))


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return value


class DriftStore:
    """A DuckDB file with the project's schema. Use as a context manager, or call close()."""

    def __init__(self, path: str | Path = DEFAULT_DB_PATH, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._columns: dict[str, list[str]] = {}

    # -- connection ------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(str(self.path), read_only=self.read_only)
            self._con.execute("SET TimeZone = 'UTC'")      # scan dates are UTC days; so are times
            if not self.read_only:
                self._ensure_schema()
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> DriftStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_schema(self) -> None:
        """Create missing tables; add columns a newer release declares to older files."""
        for table, ddl in TABLES.items():
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
            have = {r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
            for column in ddl.split(","):
                name, _, rest = column.strip().partition(" ")
                if name and name not in have and "PRIMARY KEY" not in rest:
                    kind = rest.replace("NOT NULL", "").split(" DEFAULT")[0].strip()
                    self.con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            self._columns[table] = [r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall()]
        return self._columns[table]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.con
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
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def day_rows(self, table: str, day: date, org: str, where: str = "", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        extra = f" AND ({where})" if where else ""
        return self.rows(f"SELECT * FROM {table} WHERE scan_date = ? AND org = ?{extra}",
                         [day, org, *params])

    def latest_day_before(self, table: str, day: date, org: str) -> date | None:
        row = self.con.execute(f"SELECT max(scan_date) FROM {table} WHERE scan_date < ? AND org = ?",
                               [day, org]).fetchone()
        return row[0] if row and row[0] else None

    def days(self, table: str, org: str | None = None) -> list[date]:
        if org is None:
            return [r[0] for r in self.con.execute(f"SELECT DISTINCT scan_date FROM {table} ORDER BY 1").fetchall()]
        return [r[0] for r in self.con.execute(
            f"SELECT DISTINCT scan_date FROM {table} WHERE org = ? ORDER BY 1", [org]).fetchall()]

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

    def _insert_plain(self, con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]],
                      cols: Sequence[str]) -> None:
        con.register("_incoming", _frame(rows, cols))
        try:
            con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)} FROM _incoming")
        finally:
            con.unregister("_incoming")

    def blobs(self, shas: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted({s for s in shas if s})
        if not wanted:
            return {}
        return {r[0]: r[1] for r in self.con.execute(
            "SELECT blob_sha, content FROM blob_contents WHERE blob_sha IN (SELECT unnest(?))",
            [wanted]).fetchall()}

    # -- source cache ----------------------------------------------------------------------
    def source_cache(self) -> PersistentCache:
        return PersistentCache(self)


class PersistentCache(MutableMapping[str, str]):
    """A dict-like view of ``source_cache``: reads hit DuckDB lazily, writes wait for flush()."""

    def __init__(self, store: DriftStore):
        self._store = store
        self._local: dict[str, str] = {}
        self._dirty: set[str] = set()

    def __getitem__(self, key: str) -> str:
        if key in self._local:
            return self._local[key]
        row = self._store.con.execute("SELECT value FROM source_cache WHERE key = ?", [key]).fetchone()
        if row is None:
            raise KeyError(key)
        self._local[key] = row[0]
        return row[0]

    def __setitem__(self, key: str, value: str) -> None:
        self._local[key] = value
        self._dirty.add(key)

    def __delitem__(self, key: str) -> None:
        self._local.pop(key, None)
        self._dirty.discard(key)
        self._store.con.execute("DELETE FROM source_cache WHERE key = ?", [key])

    def __iter__(self) -> Iterator[str]:
        keys = {r[0] for r in self._store.con.execute("SELECT key FROM source_cache").fetchall()}
        return iter(keys | set(self._local))

    def __len__(self) -> int:
        return len(set(self))

    def flush(self) -> int:
        """Write pending entries; returns how many were written."""
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
