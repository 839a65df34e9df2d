"""``drift trends``: findings per scanned day and group, from the store's trend views.

Reads through ``drift sql``'s read path (:func:`drift_pipeline.commands.sql.read_session`): the DuckDB
file is open read-only for its two queries, without access to other files, and a writer holding it is
waited for ``--wait`` seconds with backoff (then exit 3); with ``DRIFT_STORE=ducklake`` both queries
read one snapshot of the lake, attached read-only, and never block a writer. The window is the last
``--days`` calendar days ending at the latest scanned day in the store (not today: a backfilled store
reads the same tomorrow).

A cell is NULL ("not observed") when the group's findings come from a domain that was not observed
that day: ``--by category`` and ``--by rule`` need every domain of the group observed (a process
total without its settings would read as an improvement). ``--by severity|team|tier|repo`` count
what was observed; the ``not_observed`` column names the domains missing that day.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import click
import duckdb

from drift_pipeline.commands._output import echo, json_option, to_json
from drift_pipeline.commands.sql import (
    MAX_LIMIT,
    Result,
    Target,
    execute,
    given,
    plain,
    read_options,
    read_session,
    render_csv,
    render_table,
    resolve_target,
)
from drift_pipeline.core.errors import UsageError
from drift_pipeline.evidence.chart import CHART_FORMATS, draw
from drift_pipeline.store import VIEWS

NOT_OBSERVED = "not observed"
CHART_PACKAGE = "matplotlib"
NO_GROUP = "(none)"

# --by -> the cells of (scan_date, grp, n) it reads
_CELLS = {
    "category": "SELECT scan_date, category AS grp, CASE WHEN bool_and(observed) THEN sum(findings) END AS n "
    "FROM trend_coverage GROUP BY ALL",
    "rule": "SELECT scan_date, rule AS grp, CASE WHEN bool_and(observed) THEN sum(findings) END AS n "
    "FROM trend_findings_daily GROUP BY ALL",
    "severity": "SELECT scan_date, severity AS grp, sum(findings) AS n FROM trend_findings_daily GROUP BY ALL",
}
for _column in ("team", "tier", "repo"):
    _CELLS[_column] = (
        f"SELECT scan_date, coalesce({_column}, '{NO_GROUP}') AS grp, sum(findings) AS n "
        "FROM trend_findings_by_repo GROUP BY ALL"
    )


def trends_query(by: str, days: int) -> str:
    """One query: every scanned day of the window, its unobserved domains, and its cells for ``by``."""
    return f"""
        WITH win AS (
            SELECT DISTINCT scan_date FROM trend_coverage
            WHERE scan_date > (SELECT max(scan_date) FROM trend_coverage) - {int(days)}
        ),
        cov AS (
            SELECT scan_date, list(DISTINCT domain ORDER BY domain) FILTER (WHERE NOT observed) AS not_observed
            FROM trend_coverage JOIN win USING (scan_date) GROUP BY scan_date
        ),
        cells AS ({_CELLS[by]})
        SELECT cov.scan_date, cov.not_observed, cells.grp, cells.n
        FROM cov LEFT JOIN cells USING (scan_date)
        ORDER BY cov.scan_date, cells.grp
    """


def _missing_views(con: duckdb.DuckDBPyConnection, target: Target, timeout: float) -> list[str]:
    names = ", ".join(f"'{v}'" for v in VIEWS)
    found = execute(
        con,
        target,
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database() "
        f"AND view_name IN ({names})",
        limit=len(VIEWS),
        timeout=timeout,
    )
    have = {row[0] for row in found.rows}
    return [v for v in VIEWS if v not in have]


def pivot(result: Result) -> tuple[list[str], list[dict[str, Any]]]:
    """Groups (sorted) and one row per day: ``{"scan_date", "counts": {group: n or None}, "not_observed"}``."""
    groups = sorted({row[2] for row in result.rows if row[2] is not None})
    days: dict[Any, dict[str, Any]] = {}
    for scan_date, not_observed, grp, n in result.rows:
        day = days.setdefault(
            scan_date, {"scan_date": scan_date, "counts": dict.fromkeys(groups, 0), "not_observed": not_observed or []}
        )
        if grp is not None:
            day["counts"][grp] = None if n is None else int(n)
    return groups, list(days.values())


def _grid(groups: list[str], rows: list[dict[str, Any]], *, null: str | None, sep: str) -> Result:
    columns = ["scan_date", *groups, "not_observed"]
    cells = [
        (
            row["scan_date"],
            *(null if row["counts"][g] is None else row["counts"][g] for g in groups),
            sep.join(row["not_observed"]),
        )
        for row in rows
    ]
    return Result(columns, cells, False)


def _check_chart(chart: str) -> Path:
    path = Path(chart).expanduser()
    if path.suffix.lower() not in CHART_FORMATS:
        raise UsageError(f"--chart {chart}: the file name must end in {', '.join(CHART_FORMATS)}")
    if path.is_dir():
        raise UsageError(f"--chart {chart}: is a directory; give a file name ending in {', '.join(CHART_FORMATS)}")
    if importlib.util.find_spec(CHART_PACKAGE) is None:
        raise UsageError(
            f"--chart needs the plotting library {CHART_PACKAGE}, which is not installed in this environment "
            f"(add it: uv add {CHART_PACKAGE}); the table, --json and --csv work without it"
        )
    return path


@click.command(
    "trends", epilog="Example: drift trends --days 30 --by team   |   drift trends --by category --csv > trend.csv"
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="Calendar days (1..3650) ending at the latest scanned day in the store.",
)
@click.option(
    "--by",
    type=click.Choice(sorted(_CELLS)),
    default="category",
    show_default=True,
    help="What the columns are.",
)
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV on stdout (not observed: empty cell).")
@click.option("--chart", default=None, metavar="FILE", help="Also draw the trend to FILE.png, FILE.svg or FILE.html.")
@read_options
def trends_command(
    days: int, by: str, as_json: bool, as_csv: bool, chart: str | None, db: str, wait: float, timeout: float
) -> None:
    """Findings per scanned day, one column per group; "not observed" where a domain was not observed.

    Read-only and short, like drift sql; with DRIFT_STORE=ducklake it reads one snapshot of the lake
    and never blocks a writer. Exit 2 for a bad flag, a missing file, a wrong lake setting or a store
    written before the trend views existed, 3 when a writer kept the file past --wait or the lake's
    catalog could not be opened.
    """
    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one output format")
    chart_path = _check_chart(chart) if chart is not None else None
    target = resolve_target(db, db_given=given(click.get_current_context(), "db"))
    groups, rows = pivot(_read(target, by, days, wait=wait, timeout=timeout))
    if chart_path is not None:
        _draw_chart(chart_path, chart, groups, rows, by=by)
    if as_json:
        echo(to_json(_json(target, by, days, groups, rows)))
    elif as_csv:
        echo(render_csv(_grid(groups, rows, null=None, sep=";")))
    else:
        echo(render_table(_grid(groups, rows, null=NOT_OBSERVED, sep=", ")))


def _read(target: Target, by: str, days: int, *, wait: float, timeout: float) -> Result:
    """The cells of the window, read in one read session (a store without the trend views: exit 2)."""
    with read_session(target, wait=wait) as con:
        missing = _missing_views(con, target, timeout)
        if missing:
            raise UsageError(
                f"{'--db: ' if target.lake is None else ''}{target.describe()} has no trend views "
                f"({', '.join(missing)}): it was written before they existed; the next pipeline run on it adds them"
            )
        result = execute(con, target, trends_query(by, days), limit=MAX_LIMIT, timeout=timeout)
    if result.truncated:
        raise UsageError(f"--days {days} --by {by} gives more than {MAX_LIMIT} cells: narrow --days or --by")
    return result


def _draw_chart(path: Path, chart: str | None, groups: list[str], rows: list[dict[str, Any]], *, by: str) -> None:
    """Draw the trend to ``path`` (``--chart``) and say on stderr how many groups it shows."""
    span = f"{rows[0]['scan_date']} .. {rows[-1]['scan_date']}" if rows else "no scanned day"
    try:
        drawn = draw(path, groups, rows, by=by, title=f"drift findings by {by}, {span}")
    except OSError as exc:
        raise UsageError(f"--chart {chart}: cannot write it: {exc.strerror or exc}") from None
    echo(f"chart: {path} ({len(drawn)} of {len(groups)} groups drawn)", err=True)


def _json(target: Target, by: str, days: int, groups: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``--json`` document: where it was read, the window, the groups and one row per day."""
    return {
        "database": target.describe(),
        "store": "duckdb" if target.lake is None else "ducklake",
        "by": by,
        "days": days,
        "from": rows[0]["scan_date"] if rows else None,
        "to": rows[-1]["scan_date"] if rows else None,
        "groups": groups,
        "rows": [plain(row) for row in rows],
    }
