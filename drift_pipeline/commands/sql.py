"""``drift sql "SELECT ..."``: query the store without ever holding up the pipeline.

The DuckDB file (the default profile, ``--db`` / ``DRIFT_DB_PATH``) is opened read-only for the query
only (read-only sessions share the file, and the pipeline's writes wait for them), with no access to
other files (no COPY TO, ATTACH, read_csv, INSTALL), and closed before anything is printed. While a
writer holds the file, opening waits ``--wait`` seconds with backoff, then exits 3.

With ``DRIFT_STORE=ducklake`` the query reads the lake the pipeline writes (``store_from_env``: the same
``DRIFT_LAKE_CATALOG`` / ``DRIFT_LAKE_DATA``), through ``LakeStore``'s read-only session: the lake is
attached READ_ONLY and the query reads one snapshot, so writers are never blocked and never waited for.
Measured with DuckDB 1.5.5 and DuckLake 1.0 once the lake is attached: ``enable_external_access=false``
blocks the lake's own Parquet files too unless their directory is in ``allowed_directories`` (that is
set to the data path alone; the SQLite catalog needs no entry), and ``lock_configuration`` holds. Three
things get past those settings, so the lake session also checks the statement before running it
(structured: the statement type and DuckDB's own parse tree, never the text): ``ATTACH`` (a DuckLake or
SQLite catalog attaches, read-write, even with external access off), ``COPY ... TO`` into the data
path, and table functions that reach outside (``sqlite_scan`` reads any SQLite file,
``postgres_query``, ``query``) or write (``ducklake_cleanup_old_files`` deletes the lake's files
scheduled for deletion even on a read-only attach; ``ducklake_merge_adjacent_files`` writes a Parquet
file before its commit fails). So on the lake only SELECT statements run (SHOW, DESCRIBE, SUMMARIZE and
FROM-first included) and only the table functions of :data:`LAKE_TABLE_FUNCTIONS`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import duckdb

from drift_pipeline.commands._output import echo, json_option, progress, to_json
from drift_pipeline.core.errors import DriftError, ExitCode, UsageError, redact
from drift_pipeline.store import DEFAULT_DB_PATH, MACROS, LakeStore, LakeUnavailable, connect

MAX_LIMIT = 100_000  # rows printed at most, whatever --limit says
CELL_WIDTH = 60  # characters of one cell in the table format
# Failures of the query itself (the user can fix the SQL); anything else DuckDB raises is a runtime failure.
RUNTIME_ERRORS = (
    duckdb.IOException,
    duckdb.OutOfMemoryException,
    duckdb.InternalException,
    duckdb.FatalException,
    duckdb.SerializationException,
    duckdb.TransactionException,
)


_DUCKDB_MAGIC = b"DUCK"  # a DuckDB file starts with an 8-byte checksum, then this


def _has_duckdb_header(path: Path) -> bool:
    """Whether ``path`` starts like a DuckDB database file (read from the file, not from an error text)."""
    try:
        with path.open("rb") as fh:
            return fh.read(12)[8:12] == _DUCKDB_MAGIC
    except OSError:
        return False


class QueryTimeout(DriftError):
    exit_code = ExitCode.RUNTIME


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


# Table functions a query on the lake may call: DuckDB's own catalog and generators, the store's trend
# macros, and DuckLake's read-only functions (``ducklake_snapshots('lake')`` or ``lake.snapshots()``).
LAKE_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree", "summary"}
    | {"pg_timezone_names", "icu_calendar_names", *MACROS}
)
LAKE_READ_FUNCTIONS = frozenset(
    {"snapshots", "current_snapshot", "last_committed_snapshot", "table_info", "table_changes"}
    | {"table_insertions", "table_deletions", "list_files", "options", "settings"}
)
LAKE_RULES = (
    "on the lake drift sql runs SELECT statements only (SHOW, DESCRIBE, SUMMARIZE and FROM-first included), "
    "read-only and without access to other files"
)


@dataclass(frozen=True)
class Target:
    """What drift sql and drift trends read: the DuckDB file, or the lake of ``DRIFT_STORE=ducklake``."""

    path: Path | None = None
    lake: Any = None  # the DriftStoreResource of store_from_env (imported only for a lake: Dagster is slow)

    def describe(self) -> str:
        return str(self.path) if self.lake is None else redact(self.lake.lake_catalog)


def resolve_target(db: str, *, db_given: bool) -> Target:
    """The DuckDB file ``db``, or the lake when ``DRIFT_STORE`` says so (the pipeline's own setting).

    ``DRIFT_DB_PATH`` is ignored on the lake, as the pipeline ignores it; ``--db`` there is refused."""
    if not os.environ.get("DRIFT_STORE", "").strip():
        return Target(path=Path(db).expanduser())
    from drift_pipeline.defs.resources import store_from_env  # a bad DRIFT_STORE or lake setting: exit 2, one line

    resource = store_from_env(os.environ)
    if resource.backend != "ducklake":
        return Target(path=Path(db).expanduser())
    if db_given:
        raise UsageError(
            "--db: DRIFT_STORE=ducklake reads the lake (DRIFT_LAKE_CATALOG, DRIFT_LAKE_DATA), not a DuckDB "
            "file; unset DRIFT_STORE (or set it to duckdb) to query a file"
        )
    return Target(lake=resource)


@contextmanager
def read_session(target: Target, *, wait: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, sandboxed session of ``target``, closed on exit (its reads on a lake: one snapshot)."""
    if target.lake is not None:
        with _lake_session(target.lake) as con:
            yield con
        return
    path = target.path
    assert path is not None
    if not path.is_file():
        raise UsageError(f"--db: {path} does not exist or is not a file (set DRIFT_DB_PATH or pass --db)")
    try:
        con = connect(path, read_only=True, lock_timeout=wait, config={"enable_external_access": False})
    except duckdb.Error as exc:  # not a DuckDB file, unreadable, truncated, a newer storage version...
        if _has_duckdb_header(path):  # the right file, damaged: the store failed, not the caller
            raise DriftError(f"--db: {path} is a DuckDB database that cannot be read (truncated?): {exc}") from None
        raise UsageError(f"--db: cannot open {path} as a DuckDB database: {exc}") from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")  # the query cannot lift the sandbox
        yield con
    finally:
        con.close()


@contextmanager
def _lake_session(resource: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    store = resource.store(read_only=True)  # LakeConfigError (exit 2) for a wrong setting or bucket
    assert isinstance(store, LakeStore)
    try:
        with store.reading(), store.session() as con:  # attached READ_ONLY; one transaction, one snapshot
            data = store.config.data.replace("'", "''")
            con.execute(f"SET allowed_directories = ['{data}']")  # the lake's Parquet files, nothing else
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            yield con
    except duckdb.Error as exc:  # raised while opening (a catalog that is not a DuckLake one, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LakeUnavailable(
            f"the DuckLake {redact(resource.lake_catalog)} could not be read: {redact(first)}"
        ) from None
    finally:
        store.close()


def check_lake_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse what the lake's settings let through: any statement but SELECT, and table functions
    outside :data:`LAKE_TABLE_FUNCTIONS` (decided on the statement types and DuckDB's parse tree)."""
    for statement in con.extract_statements(query):
        if statement.type != duckdb.StatementType.SELECT:
            raise UsageError(f"query refused: {statement.type.name} statement; {LAKE_RULES}")
    row = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        raise UsageError(
            f"query refused: it cannot be checked ({tree.get('error_message', 'no parse tree')}); {LAKE_RULES}"
        )
    for name in sorted(_table_functions(tree)):
        base = name.removeprefix("ducklake_")
        if not (name in LAKE_TABLE_FUNCTIONS or name.startswith(("duckdb_", "pragma_")) or base in LAKE_READ_FUNCTIONS):
            raise UsageError(f"query refused: the table function {name}() is not allowed; {LAKE_RULES}")


def _table_functions(node: Any) -> set[str]:
    """The names of every table function the parse tree calls, at any depth (subqueries, CTEs, joins)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "TABLE_FUNCTION" and isinstance(item.get("function"), dict):
                found.add(str(item["function"].get("function_name", "")).lower())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def execute(con: duckdb.DuckDBPyConnection, target: Target, query: str, *, limit: int, timeout: float) -> Result:
    """Run ``query`` on a session of :func:`read_session`, stopped after ``timeout`` seconds."""
    timer = threading.Timer(timeout, con.interrupt)
    try:
        if target.lake is not None:
            check_lake_query(con, query)
        timer.start()
        cur = con.execute(query)
        if cur.description is None:
            return Result([], [], False)
        rows = cur.fetchmany(limit + 1)
        return Result(_unique([d[0] for d in cur.description]), rows[:limit], len(rows) > limit)
    except duckdb.InterruptException:
        why = "" if target.lake is not None else " (a running query makes the pipeline's writes wait)"
        raise QueryTimeout(
            f"the query ran longer than --timeout {timeout:g}s and was stopped{why}: narrow it, or raise --timeout"
        ) from None
    except RUNTIME_ERRORS as exc:
        raise DriftError(f"query failed: {exc}") from None
    except duckdb.Error as exc:
        hint = ""
        if isinstance(exc, (duckdb.InvalidInputException, duckdb.PermissionException)):
            hint = (
                " (drift sql opens the database read-only and without access to other files: it cannot "
                "change the database, read or write files, attach databases or install extensions)"
            )
        raise UsageError(f"query failed: {exc}{hint}") from None
    finally:
        timer.cancel()


def run_query(target: Target, query: str, *, limit: int, wait: float, timeout: float) -> Result:
    """Run ``query`` on a read-only, sandboxed session of ``target``; the session is closed on return."""
    with read_session(target, wait=wait) as con:
        return execute(con, target, query, limit=limit, timeout=timeout)


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def plain(value: Any) -> Any:
    """A cell as JSON can hold it."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, (UUID, timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def _text_cell(value: Any) -> str:
    if value is None:
        return "NULL"
    value = plain(value)
    text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def render_table(result: Result) -> str:
    if not result.columns:
        return "(the statement returned no result set)"
    cells = [[_text_cell(v) for v in row] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(result.columns)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}{', cut' if result.truncated else ''})")
    return "\n".join(out)


def render_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if result.columns:
        writer.writerow(result.columns)
    for row in result.rows:
        cells = [plain(v) for v in row]
        writer.writerow(
            ["" if v is None else json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v for v in cells]
        )
    return buffer.getvalue().rstrip("\n")


def read_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--db``, ``--wait`` and ``--timeout``: how every read-only command reaches the store (sql, trends)."""
    for option in (
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 3600),
            default=60.0,
            show_default=True,
            help="Seconds the query may run before it is stopped (on the DuckDB file a running query holds up writes).",
        ),
        click.option(
            "--wait",
            type=click.FloatRange(0, 3600),
            default=30.0,
            show_default=True,
            help="Seconds to wait, with backoff, while a writer holds the DuckDB file; then exit 3 (a lake never waits).",
        ),
        click.option(
            "--db",
            "db",
            envvar="DRIFT_DB_PATH",
            default=DEFAULT_DB_PATH,
            help="The DuckDB file (default: $DRIFT_DB_PATH, else data/drift.duckdb). With DRIFT_STORE=ducklake the "
            "lake of DRIFT_LAKE_CATALOG / DRIFT_LAKE_DATA is read instead, and --db is refused.",
        ),
    ):
        command = option(command)
    return command


def given(ctx: click.Context, name: str) -> bool:
    """Whether the option was given on the command line (not from its environment variable or default)."""
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


@click.command(
    "sql",
    epilog="Example: drift sql \"SELECT scan_date, rule, count(*) AS n FROM drift_findings GROUP BY ALL ORDER BY ALL\"",
)
@click.argument("query")
@read_options
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (header + rows) on stdout.")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=1000,
    show_default=True,
    help=f"Rows printed at most (1..{MAX_LIMIT}); says so on stderr when the result is cut.",
)
def sql_command(query: str, db: str, as_json: bool, as_csv: bool, limit: int, wait: float, timeout: float) -> None:
    """Run a read-only SQL query on the drift store and print the result.

    The DuckDB file is open only while the query runs, read-only and without access to other files, so
    the pipeline is never held up for long. With DRIFT_STORE=ducklake the query reads one snapshot of the
    lake, attached read-only, and never blocks a writer; there only SELECT statements run (SHOW,
    DESCRIBE, SUMMARIZE included), with DuckDB's and DuckLake's read-only table functions, and the only
    files read are the lake's own (its catalog and its data path). Exit 2 for an empty, invalid or
    writing statement, a missing file or a wrong lake setting, 3 when a writer kept the file past
    --wait, the lake's catalog could not be opened or the query ran past --timeout.
    """
    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one output format")
    if not query.strip().strip(";").strip():
        raise UsageError("the query is empty: give one SQL statement, e.g. drift sql \"SHOW TABLES\"")
    target = resolve_target(db, db_given=given(click.get_current_context(), "db"))
    result = run_query(target, query, limit=limit, wait=wait, timeout=timeout)
    if result.truncated:
        progress(
            f"drift: showing the first {limit} rows; the result has more (raise --limit, up to {MAX_LIMIT}, "
            "or narrow the query)"
        )
    if as_json:
        rows = [dict(zip(result.columns, (plain(v) for v in row), strict=True)) for row in result.rows]
        echo(
            to_json(
                {
                    "database": target.describe(),
                    "store": "duckdb" if target.lake is None else "ducklake",
                    "columns": result.columns,
                    "rows": rows,
                    "row_count": len(rows),
                    "truncated": result.truncated,
                    "limit": limit,
                }
            )
        )
    elif as_csv:
        text = render_csv(result)
        if text:
            echo(text)
    else:
        echo(render_table(result))
