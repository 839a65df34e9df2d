"""The per-day summaries the trend views read (``store.summary``): equal to the rows they summarise
after every ``replace_day``, built from the stored rows when a store written before them is upgraded,
on the DuckDB file and on a DuckLake catalog. The views are checked against the plain reference
queries of ``test_store_views`` on the same generated data.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from drift_pipeline.store import SUMMARIES, VIEWS, DriftStore, LakeConfig, LakeStore
from drift_pipeline.store.schema import schema_changes
from drift_pipeline_tests.test_store_views import COLUMNS, DAYS, REFERENCE, REPOS, fill, finding, view_and_reference


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the generated days, written through ``replace_day`` (copied by each test that changes it)."""
    path = tmp_path_factory.mktemp("summary") / "drift.duckdb"
    with DriftStore(path) as store:
        fill(store)
    return path


def _copy(generated: Path, tmp_path: Path) -> Path:
    path = tmp_path / "drift.duckdb"
    shutil.copy(generated, path)
    return path


def answers(con: Any) -> dict[str, list[tuple]]:
    """Every trend view's rows and the top repos of 30 days, ordered."""
    return {v: con.execute(f"SELECT * FROM {v} ORDER BY ALL").fetchall() for v in [*VIEWS, "trend_top_repos(30)"]}


def assert_summaries_match_rows(con: Any) -> None:
    for name, summary in SUMMARIES.items():
        stored = con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
        assert stored, name
        assert stored == con.execute(f"SELECT * FROM ({summary.fill()}) ORDER BY ALL").fetchall(), name


def assert_views_equal_references(con: duckdb.DuckDBPyConnection) -> None:
    for statement in REFERENCE:
        con.execute(statement)
    for view in COLUMNS:
        got, want = view_and_reference(con, view)
        assert got == want, view


def _make_older(con: Any) -> None:
    """What a store written before the summaries holds: the rows, no summary, views of another definition."""
    for name in SUMMARIES:
        con.execute(f"DROP TABLE {name}")
    for name in VIEWS:
        con.execute(f"COMMENT ON VIEW {name} IS 'drift-view older'")


def test_a_store_written_before_the_summaries_gains_them_on_upgrade_and_answers_the_same(generated, tmp_path):
    path = _copy(generated, tmp_path)
    with duckdb.connect(str(path)) as con:
        want = answers(con)
        _make_older(con)
        assert schema_changes(con)
    with DriftStore(path) as store:
        assert store.rows("SELECT 1 AS one") == [{"one": 1}]  # the first session brings the file to the schema
    with duckdb.connect(str(path)) as con:
        assert not schema_changes(con)  # up to date: the next store opening it writes nothing
        comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        assert {n: comments.get(n) for n in SUMMARIES} == {n: s.signature for n, s in SUMMARIES.items()}
        assert_summaries_match_rows(con)
        assert answers(con) == want
        assert_views_equal_references(con)


def test_a_summary_built_by_another_definition_is_built_again(generated, tmp_path):
    path = _copy(generated, tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM summary_rule_days WHERE scan_date > ?", [DAYS[3]])
        con.execute("COMMENT ON TABLE summary_rule_days IS 'drift-summary older'")
    with DriftStore(path) as store:
        store.rows("SELECT 1")
    with duckdb.connect(str(path)) as con:
        assert_summaries_match_rows(con)
        assert_views_equal_references(con)


def test_replacing_a_day_replaces_its_summary_rows(generated, tmp_path):
    path = _copy(generated, tmp_path)
    new = [
        finding("r5", "infra", "attribute_drift", "error", "new:1"),  # a rule the org never had, a repo never listed
        finding("r1", "code", "invalid_config", "warning", "new:2"),
        finding("r1", "code", "invalid_config", "warning", "new:3"),
    ]
    relisted = [{"repo": r, "team": "green", "tier": "prototype", "in_scope": True} for r in REPOS[:3]]
    with DriftStore(path) as store:
        store.replace_day(DAYS[5], "acme", {"drift_findings": new})
        store.replace_day(DAYS[8], "beta", {"drift_findings": []})  # none left that day
        store.replace_day(DAYS[10], "acme", {"repo_inventory": relisted})  # teams and tiers changed, r3 and r4 gone
    with duckdb.connect(str(path)) as con:
        assert_summaries_match_rows(con)
        day = con.execute(
            "SELECT category, rule, severity, findings, repos FROM summary_rule_days "
            "WHERE scan_date = ? AND org = 'acme' ORDER BY ALL",
            [DAYS[5]],
        )
        assert day.fetchall() == [
            ("code", "invalid_config", "warning", 2, 1),
            ("infra", "attribute_drift", "error", 1, 1),
        ]
        beta = con.execute(
            "SELECT DISTINCT domain, findings FROM trend_findings_daily WHERE scan_date = ? AND org = 'beta'", [DAYS[8]]
        ).fetchall()
        assert beta and {n for _, n in beta} <= {0, None} and ("code", 0) in beta  # observed: 0; else NULL
        teams = con.execute(
            "SELECT DISTINCT repo, team, tier FROM trend_findings_by_repo WHERE scan_date = ? AND org = 'acme'",
            [DAYS[10]],
        ).fetchall()
        listed = {(r, t, tier) for r, t, tier in teams if t is not None}
        assert listed == {(r, "green", "prototype") for r in REPOS[:3]}
        assert all(r not in REPOS[:3] for r, t, _ in teams if t is None)
        assert_views_equal_references(con)


def test_on_a_lake_the_summaries_are_kept_and_built_on_upgrade(generated, tmp_path):
    config = LakeConfig.parse(f"sqlite:///{tmp_path}/catalog.sqlite", str(tmp_path / "data"))
    with duckdb.connect(str(generated), read_only=True) as con:
        want = answers(con)
    with LakeStore(config) as store:
        fill(store)
        with store.session() as con:
            assert_summaries_match_rows(con)
            assert answers(con) == want
        store.write(_make_older)
    with LakeStore(config) as store, store.session() as con:
        assert not schema_changes(con, lake=True)
        assert_summaries_match_rows(con)
        assert answers(con) == want
