"""The DuckLake storage profile: the store's interface on a catalog in SQLite or PostgreSQL with the
data as Parquet files on S3 (or a local path). Several processes may write at once, and readers never
block writers.

DuckDB 1.5.x: DuckDB's extensions ship as Python wheels for 1.5.x only (``duckdb-extension-ducklake``,
``-httpfs``, ``-sqlite-scanner``, ``-postgres-scanner``); they are loaded from the installed wheel
with ``LOAD '<path>'``, never installed from the network. Loading them costs about 1.5 s, so a store
keeps one in-memory DuckDB with the lake attached for its lifetime, and every session is a cursor of
it (its own transaction, about 1 ms).

Facts measured here (DuckDB 1.5.5, DuckLake format 1.0):
- A DuckLake catalog keeps no PRIMARY KEY / UNIQUE constraints and no macros: the keyed bookkeeping
  tables are plain tables (``schema.lake_ddl``) and the trend macros are created as temporary
  ones in every session (``views.macro_statements``). It keeps comments on tables and views: the
  summaries (``store.summary``) and views are dated by them here as in the file.
- Two processes committing at once into a SQLite catalog: the loser's COMMIT raises
  ``duckdb.TransactionException`` ("database is locked"); a logical conflict raises the same type.
  ``LakeStore`` runs such a unit again (bounded, with backoff): the store's writes are units
  (``DriftStore.write``), so nothing is lost.
- A reader's open transaction on a SQLite catalog in its default journal mode makes a writer's commit
  fail; in WAL mode the writer commits and the reader keeps its snapshot. The store puts a SQLite
  catalog in WAL mode before attaching it. PostgreSQL is MVCC: readers never block writers.
- A ``reading()`` block is one DuckLake transaction, so its reads see one snapshot.
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import duckdb

from drift_pipeline.core.errors import DriftError, UsageError, redact
from drift_pipeline.store.file import DriftStore
from drift_pipeline.store.views import macro_statements

__all__ = ["LakeConfig", "LakeConfigError", "LakeStore", "LakeUnavailable", "S3Access", "extension_path"]

ALIAS = "lake"
RETRIES = 12  # attempts after the first for a write unit whose commit conflicted
FIRST_DELAY, MAX_DELAY = 0.05, 2.0
INIT_RETRY_DELAYS = (0.1, 0.3, 1.0)  # attaching a catalog another process is initialising right now


class LakeConfigError(UsageError):
    """The lake profile is configured wrongly (scheme, bucket, path, missing extension)."""


class LakeUnavailable(DriftError):
    """The lake's catalog could not be opened (unreachable server, missing file, refused login)."""


@dataclass(frozen=True)
class S3Access:
    """How DuckDB reaches the lake's bucket: what a DuckDB S3 secret holds. Never printed."""

    region: str
    endpoint: str | None = None  # host:port of an S3-compatible endpoint; None: AWS itself
    use_ssl: bool = True
    url_style: str = "vhost"  # "path" for emulators and most S3-compatible stores
    key_id: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LakeConfig:
    """Where the lake is: ``catalog`` (``sqlite:///abs/path`` or ``sqlite:rel/path``, or
    ``postgresql://user@host:port/db``; the password only from ``PGPASSWORD``) and ``data``
    (``s3://bucket/prefix`` or a local directory)."""

    catalog: str
    data: str
    s3: S3Access | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, catalog: str, data: str, s3: S3Access | None = None) -> LakeConfig:
        """Validate and normalise; raises :class:`LakeConfigError` with one line saying what is wrong.

        ``s3`` may come later (``dataclasses.replace``): opening an S3 lake without it is refused."""
        catalog, data = catalog.strip(), data.strip()
        if not catalog:
            raise LakeConfigError("DuckLake catalog not set (DRIFT_LAKE_CATALOG: sqlite:///path or postgresql://...)")
        if not data:
            raise LakeConfigError("DuckLake data path not set (DRIFT_LAKE_DATA: s3://bucket/prefix or a directory)")
        scheme = catalog.partition(":")[0].lower()
        if scheme == "sqlite":
            if not _sqlite_path(catalog):
                raise LakeConfigError(f"DuckLake catalog {catalog!r}: no file after 'sqlite:' (sqlite:///path)")
        elif scheme in ("postgres", "postgresql"):
            parts = urlsplit(catalog)
            if parts.password:
                raise LakeConfigError(
                    "DuckLake catalog: a password in the PostgreSQL URL is not accepted; set PGPASSWORD instead"
                )
            if not parts.path.strip("/"):
                raise LakeConfigError(f"DuckLake catalog {catalog!r}: no database name (postgresql://host/dbname)")
        else:
            raise LakeConfigError(
                f"DuckLake catalog {redact(catalog)!r}: unknown scheme {scheme!r} "
                "(expected sqlite:///path or postgresql://user@host:port/dbname)"
            )
        if "://" in data and not data.startswith("s3://"):
            raise LakeConfigError(
                f"DuckLake data path {data!r}: unknown scheme {data.split('://')[0]!r} "
                "(expected s3://bucket/prefix or a local directory)"
            )
        if data.startswith("s3://"):
            if not urlsplit(data).netloc:
                raise LakeConfigError(f"DuckLake data path {data!r}: no bucket (expected s3://bucket/prefix)")
            data = data.rstrip("/") + "/"
        else:
            data = str(Path(data).expanduser().absolute()) + "/"
        return cls(catalog=catalog, data=data, s3=s3)

    @property
    def bucket(self) -> str | None:
        return urlsplit(self.data).netloc if self.data.startswith("s3://") else None

    @property
    def sqlite_file(self) -> Path | None:
        return _sqlite_path(self.catalog) if self.catalog.lower().startswith("sqlite:") else None

    def attach_target(self) -> str:
        """The ATTACH target: ``ducklake:sqlite:<file>`` or ``ducklake:postgres:<libpq key=value>``."""
        if (path := self.sqlite_file) is not None:
            return f"ducklake:sqlite:{path}"
        parts = urlsplit(self.catalog)
        params = {"dbname": unquote(parts.path.strip("/")), "host": parts.hostname, "port": parts.port}
        params["user"] = unquote(parts.username) if parts.username else None
        params.update(parse_qsl(parts.query))
        return "ducklake:postgres:" + " ".join(f"{k}={v}" for k, v in params.items() if v not in (None, ""))


def _sqlite_path(catalog: str) -> Path | None:
    rest = catalog.split(":", 1)[1]
    rest = rest[2:] if rest.startswith("//") else rest  # sqlite:///abs -> /abs; sqlite:rel -> rel
    if not rest.strip():
        return None
    return Path("/" + rest.lstrip("/")) if rest.startswith("/") else Path(rest).expanduser().absolute()


def extension_path(name: str) -> Path:
    """The extension file inside the installed ``duckdb-extension-<name>`` wheel, for this DuckDB."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    wheel = f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}"
    if spec is None or not spec.submodule_search_locations:
        raise LakeConfigError(f"the DuckDB extension {name} is not installed: install {wheel}")
    root = Path(next(iter(spec.submodule_search_locations)))
    exact = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if exact.is_file():
        return exact
    raise LakeConfigError(f"the installed {package} has no extension for DuckDB {duckdb.__version__}: install {wheel}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _secret_sql(s3: S3Access, bucket: str) -> str:
    options = {"TYPE": "s3", "REGION": _quote(s3.region), "URL_STYLE": _quote(s3.url_style)}
    options["USE_SSL"] = "true" if s3.use_ssl else "false"
    options["SCOPE"] = _quote(f"s3://{bucket}")
    if s3.endpoint:
        options["ENDPOINT"] = _quote(s3.endpoint)
    if s3.key_id and s3.secret:
        options["KEY_ID"], options["SECRET"] = _quote(s3.key_id), _quote(s3.secret)
        if s3.session_token:
            options["SESSION_TOKEN"] = _quote(s3.session_token)
    body = ", ".join(f"{k} {v}" for k, v in options.items())
    return f"CREATE OR REPLACE TEMPORARY SECRET drift_lake_s3 ({body})"


def open_lake(config: LakeConfig, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the extensions loaded, the S3 secret made and the lake attached as ``lake``."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        names = ["ducklake", "sqlite_scanner" if config.sqlite_file else "postgres_scanner"]
        names += ["httpfs"] if config.bucket else []
        for name in names:
            con.execute(f"LOAD {_quote(str(extension_path(name)))}")
        con.execute("SET GLOBAL TimeZone = 'UTC'")  # scan dates are UTC days; so are times
        if config.bucket:
            if config.s3 is None:
                raise LakeConfigError(f"DuckLake data path {config.data} is on S3, but no S3 access is configured")
            try:
                con.execute(_secret_sql(config.s3, config.bucket))
            except duckdb.Error:  # the statement holds the credentials: never show it or its error
                raise LakeConfigError("the S3 secret for the DuckLake data path was refused by DuckDB") from None
        _prepare_catalog(config, read_only=read_only)
        options = [f"DATA_PATH {_quote(config.data)}"] + (["READ_ONLY"] if read_only else [])
        _attach(con, f"ATTACH {_quote(config.attach_target())} AS {ALIAS} ({', '.join(options)})", config)
        return con
    except BaseException:
        con.close()
        raise


def _attach(con: duckdb.DuckDBPyConnection, statement: str, config: LakeConfig) -> None:
    """Attach the lake. Two processes attaching a new catalog at once both initialise it, and the loser
    fails with a plain ``duckdb.Error`` (measured: "database is locked" on SQLite); attaching again finds it
    initialised. A catalog that cannot be reached is an ``IOException``: said at once, never retried."""
    for delay in (*INIT_RETRY_DELAYS, None):
        try:
            con.execute(statement)
            return
        except duckdb.Error as exc:
            if delay is not None and type(exc) is duckdb.Error:
                time.sleep(delay * random.uniform(0.5, 1.5))
                continue
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LakeUnavailable(
                f"the DuckLake catalog {redact(config.catalog)} could not be opened: {redact(first)}"
            ) from None


def _prepare_catalog(config: LakeConfig, *, read_only: bool) -> None:
    """A SQLite catalog file exists (for a writer) and is in WAL mode, so readers never block a commit.

    The mode is read from the file header (bytes 18-19 are 2 in WAL mode), not through Python's own
    SQLite: a second SQLite library in the process closing the file would drop the POSIX locks DuckDB's
    SQLite holds on it. Python's SQLite touches the file only to create it or switch it to WAL, once.
    """
    path = config.sqlite_file
    if path is None:
        return
    if not path.exists():
        if read_only:
            raise LakeUnavailable(f"no DuckLake catalog at {path} (nothing has been written to this lake yet)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeUnavailable(f"the DuckLake catalog {path} cannot be created: {exc.strerror}") from None
    if not config.bucket and not read_only:
        try:
            Path(config.data).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeUnavailable(f"the DuckLake data path {config.data} cannot be created: {exc.strerror}") from None
    if path.exists() and path.stat().st_size >= 100:
        with path.open("rb") as f:
            if f.read(20)[18:20] == b"\x02\x02":
                return
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode = WAL")  # persistent: once per file
    except sqlite3.Error as exc:
        raise LakeUnavailable(f"the DuckLake catalog {path} could not be opened: {exc}") from None


class LakeStore(DriftStore):
    """:class:`DriftStore` on DuckLake. Sessions are cursors of one attached lake; a ``reading()``
    block is one transaction (one snapshot); a write unit whose commit conflicts with another
    writer's is run again, up to ``retries`` times with exponential backoff."""

    lake = True

    def __init__(self, config: LakeConfig, *, read_only: bool = False, retries: int = RETRIES):
        self.config = config
        self.retries = retries
        self.retried = 0  # write units run again after a conflict, over this store's life
        self._base: duckdb.DuckDBPyConnection | None = None
        self._base_lock = threading.Lock()
        self._init_sessions(read_only)

    def describe(self) -> str:
        return f"the DuckLake {redact(self.config.catalog)} (data {self.config.data})"

    def _exists(self) -> bool:
        return True  # attaching tells: a missing SQLite file is created for a writer, refused for a reader

    def attach(self) -> LakeStore:
        """Load the extensions and attach the lake now (else the first session does): about 1.5 s."""
        self._connection()
        return self

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._base_lock:
            if self._base is None:
                self._base = open_lake(self.config, read_only=self.read_only)
            return self._base

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
        cur = self._connection().cursor()
        try:
            cur.execute(f"USE {ALIAS}")
            for statement in macro_statements():
                try:
                    cur.execute(statement)
                except duckdb.CatalogException:  # a lake without the tables yet (being prepared): no macro
                    break
        except BaseException:
            cur.close()
            raise
        return cur

    def _open_lease(self) -> duckdb.DuckDBPyConnection:
        cur = self._open(write=False)
        cur.execute("BEGIN TRANSACTION")  # one snapshot for the reads that share the lease
        return cur

    def close(self) -> None:
        super().close()
        with self._base_lock:
            if self._base is not None:
                self._base.close()
                self._base = None

    def _retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, duckdb.TransactionException)

    def _retry_delays(self) -> Iterator[float]:
        delay = FIRST_DELAY
        for _ in range(self.retries):
            yield min(delay * random.uniform(0.5, 1.5), MAX_DELAY)
            delay *= 2

    def _on_retry(self, exc: BaseException, delay: float) -> None:
        self.retried += 1
        time.sleep(delay)
