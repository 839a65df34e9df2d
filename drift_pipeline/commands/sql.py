"""``drift sql "SELECT ..."``: query the DuckDB file without ever holding up the pipeline for long.

The file is opened read-only for the query only (read-only sessions share the file, and the
pipeline's writes wait for them), with no access to other files (no COPY TO, ATTACH, read_csv,
INSTALL), and closed before anything is printed. A query that runs longer than ``--timeout`` is
stopped. While a writer holds the file, opening waits ``--wait`` seconds with backoff, then exits 3.
"""

from __future__ import annotations

import csv
import io
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import duckdb

from drift_pipeline.commands._output import json_option, progress, to_json
from drift_pipeline.errors import DriftError, ExitCode, UsageError
from drift_pipeline.store import DEFAULT_DB_PATH
from drift_pipeline.store_lock import connect

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


class QueryTimeout(DriftError):
    exit_code = ExitCode.RUNTIME


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def run_query(path: Path, query: str, *, limit: int, wait: float, timeout: float) -> Result:
    """Run ``query`` on a read-only, sandboxed session of ``path``; the file is closed on return."""
    if not path.is_file():
        raise UsageError(f"--db: {path} does not exist or is not a file (set DRIFT_DB_PATH or pass --db)")
    try:
        con = connect(path, read_only=True, lock_timeout=wait, config={"enable_external_access": False})
    except duckdb.Error as exc:  # not a DuckDB file, unreadable, a newer storage version...
        raise UsageError(f"--db: cannot open {path} as a DuckDB database: {exc}") from None
    timer = threading.Timer(timeout, con.interrupt)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")  # the query cannot lift the sandbox
        timer.start()
        cur = con.execute(query)
        if cur.description is None:
            return Result([], [], False)
        rows = cur.fetchmany(limit + 1)
        return Result(_unique([d[0] for d in cur.description]), rows[:limit], len(rows) > limit)
    except duckdb.InterruptException:
        raise QueryTimeout(
            f"the query ran longer than --timeout {timeout:g}s and was stopped (a running query "
            "makes the pipeline's writes wait): narrow it, or raise --timeout"
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
        con.close()


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
    """``--db``, ``--wait`` and ``--timeout``: how every read-only command reaches the file (sql, trends)."""
    for option in (
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 3600),
            default=60.0,
            show_default=True,
            help="Seconds the query may run before it is stopped (a running query holds up writes).",
        ),
        click.option(
            "--wait",
            type=click.FloatRange(0, 3600),
            default=30.0,
            show_default=True,
            help="Seconds to wait, with backoff, while a writer holds the file; then exit 3.",
        ),
        click.option(
            "--db",
            "db",
            envvar="DRIFT_DB_PATH",
            default=DEFAULT_DB_PATH,
            help="The DuckDB file (default: $DRIFT_DB_PATH, else data/drift.duckdb).",
        ),
    ):
        command = option(command)
    return command


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
    """Run a read-only SQL query on the drift DuckDB file and print the result.

    The file is open only while the query runs, read-only and without access to other files, so the
    pipeline is never held up for long. Exit 2 for an empty, invalid or writing statement or a missing
    file, 3 when a writer kept the file past --wait or the query ran past --timeout.
    """
    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one output format")
    if not query.strip().strip(";").strip():
        raise UsageError("the query is empty: give one SQL statement, e.g. drift sql \"SHOW TABLES\"")
    path = Path(db).expanduser()
    result = run_query(path, query, limit=limit, wait=wait, timeout=timeout)
    if result.truncated:
        progress(
            f"drift: showing the first {limit} rows; the result has more (raise --limit, up to {MAX_LIMIT}, "
            "or narrow the query)"
        )
    if as_json:
        rows = [dict(zip(result.columns, (plain(v) for v in row), strict=True)) for row in result.rows]
        click.echo(
            to_json(
                {
                    "database": str(path),
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
            click.echo(text)
    else:
        click.echo(render_table(result))
