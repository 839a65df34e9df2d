"""Per-day summaries of the findings: what the busiest trend views read instead of every finding row.

A summary is a table derived from the daily tables, one (scan_date, org) at a time, and kept equal to
them by the write unit that replaces a day (``DriftStore.replace_day`` calls :func:`refresh_day` for
the summaries that read a table it replaced; a bulk load that writes the tables directly calls
:func:`rebuild_summaries`). ``schema.schema_changes`` builds a summary from the rows already stored when the
table is missing (a store written before it existed) or was built by a different definition (its
comment holds the hash of the definition, as the views' do): so an upgraded store answers as before.

``summary_repo_days`` — one row per day, org and repo of that day's inventory or findings: the day's
    team, tier and in_scope (NULL for a repo with findings but no inventory row), and its findings,
    errors and warnings per domain (``n_<domain>``, ``e_<domain>``, ``w_<domain>``; 0 when none).
``summary_rule_days`` — one row per day, org and (category, rule, severity) with findings:
    findings (rows) and repos (distinct repos with it).

They count rows only: whether a domain was observed is decided by the views (``store.views``), so a
day with no findings of a domain is 0 here and NULL there when the domain was not observed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb

from drift_pipeline.store.views import DOMAINS, domain_of, signature

__all__ = ["SUMMARIES", "rebuild_summaries", "refresh_day", "summary_changes"]

DAY = "WHERE scan_date = $day AND org = $org"  # the rows of one day of one org (named parameters)


@dataclass(frozen=True)
class Summary:
    """A summary table: its columns, the SELECT that computes it from ``sources`` (``{where}``: no
    filter, or :data:`DAY` in every source's scan), and the tables it reads."""

    ddl: str
    select: str
    sources: frozenset[str]

    def fill(self, where: str = "") -> str:
        return self.select.format(where=where)

    @property
    def signature(self) -> str:
        return signature(self.ddl + self.select, kind="drift-summary")


def _pivot() -> tuple[str, str]:
    """(column DDL, aggregates) of the per-domain counts of ``summary_repo_days``."""
    ddl, aggregates = [], []
    for d in DOMAINS:
        for prefix, severity in (("n", None), ("e", "error"), ("w", "warning")):
            where = f"fdom = '{d}'" + (f" AND severity = '{severity}'" if severity else "")
            ddl.append(f"{prefix}_{d} BIGINT NOT NULL")
            aggregates.append(f"count(fdom) FILTER (WHERE {where}) AS {prefix}_{d}")
    return ", ".join(ddl), ",\n               ".join(aggregates)


_PIVOT_DDL, _PIVOT = _pivot()

SUMMARIES: dict[str, Summary] = {
    "summary_repo_days": Summary(
        ddl=f"""scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, team VARCHAR, tier VARCHAR,
            in_scope BOOLEAN, {_PIVOT_DDL}""",
        select=f"""
        SELECT scan_date, org, repo, any_value(team) AS team, any_value(tier) AS tier,
               any_value(in_scope) AS in_scope,
               {_PIVOT}
        FROM (
            SELECT scan_date, org, repo, team, tier, in_scope, NULL AS fdom, NULL AS severity
            FROM repo_inventory {{where}}
            UNION ALL
            SELECT scan_date, org, repo, NULL, NULL, NULL, {domain_of()}, severity FROM drift_findings {{where}}
        )
        GROUP BY scan_date, org, repo""",
        sources=frozenset({"repo_inventory", "drift_findings"}),
    ),
    "summary_rule_days": Summary(
        ddl="""scan_date DATE NOT NULL, org VARCHAR NOT NULL, category VARCHAR NOT NULL, rule VARCHAR NOT NULL,
            severity VARCHAR NOT NULL, findings BIGINT NOT NULL, repos BIGINT NOT NULL""",
        select="""
        SELECT scan_date, org, category, rule, severity, CAST(sum(n) AS BIGINT) AS findings, count(*) AS repos
        FROM (
            SELECT scan_date, org, category, rule, severity, repo, count(*) AS n
            FROM drift_findings {where} GROUP BY ALL
        )
        GROUP BY ALL""",
        sources=frozenset({"drift_findings"}),
    ),
}


def summary_changes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The statements that (re)build each summary missing or built by another definition, from the
    rows stored: run after the tables they read are brought to the schema, before the views."""
    have = dict(
        con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    )
    changes = []
    for name, summary in SUMMARIES.items():
        if have.get(name, "") != summary.signature:
            changes += [
                f"DROP TABLE IF EXISTS {name}",
                f"CREATE TABLE {name} ({summary.ddl})",
                f"INSERT INTO {name} {summary.fill()}",
                f"COMMENT ON TABLE {name} IS '{summary.signature}'",
            ]
    return changes


def refresh_day(con: duckdb.DuckDBPyConnection, day: date, org: str, replaced: Iterable[str]) -> None:
    """Recompute one day of one org in every summary that reads a ``replaced`` table (inside the
    write unit that replaced them, so the summary never disagrees with its rows)."""
    replaced = set(replaced)
    params = {"day": day, "org": org}
    for name, summary in SUMMARIES.items():
        if summary.sources & replaced:
            con.execute(f"DELETE FROM {name} {DAY}", params)
            con.execute(f"INSERT INTO {name} {summary.fill(DAY)}", params)


def rebuild_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every summary from all stored rows (after a bulk load that bypassed ``replace_day``)."""
    for name, summary in SUMMARIES.items():
        con.execute(f"DELETE FROM {name}")
        con.execute(f"INSERT INTO {name} {summary.fill()}")
