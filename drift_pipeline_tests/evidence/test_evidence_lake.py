"""`drift evidence` and `change_evidence` on the DuckLake profile: the demo's rows copied into a real lake
(SQLite catalog, local Parquet) give the same report as the DuckDB file, and the asset runs on it."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import duckdb
import pytest

from drift_pipeline.cli import main as drift
from drift_pipeline.defs.assets.evidence import change_evidence
from drift_pipeline.defs.resources import DriftStoreResource
from drift_pipeline.evidence.collect import TABLES
from drift_pipeline.store import DriftStore
from drift_pipeline.store.lake import LakeConfig, LakeStore
from drift_pipeline_tests.evidence.conftest import Demo


@pytest.fixture(scope="module")
def lake(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> LakeConfig:
    root = tmp_path_factory.mktemp("evidence-lake")
    config = LakeConfig.parse(f"sqlite:///{root}/catalog.sqlite", str(root / "data"))
    with DriftStore(demo.db, read_only=True) as source:
        tables = {t: source.rows(f"SELECT * FROM {t}") for t in TABLES}
    with LakeStore(config) as store:

        def copy(con: duckdb.DuckDBPyConnection) -> None:
            for table, rows in tables.items():
                cols = [c for c in store.columns(table) if rows and c in rows[0]]
                if rows:
                    with store.incoming(con, rows, cols) as incoming:
                        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {incoming}")

        store.write(copy)
    return config


def test_the_lake_gives_the_files_report(
    demo: Demo, lake: LakeConfig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    span = ["evidence", "--org", "acme", "--from", str(demo.start), "--to", str(demo.end), "--json"]
    assert drift([*span, "--db", str(demo.db)]) == 0
    on_file = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("DRIFT_STORE", "ducklake")
    monkeypatch.setenv("DRIFT_LAKE_CATALOG", lake.catalog)
    monkeypatch.setenv("DRIFT_LAKE_DATA", lake.data)
    monkeypatch.delenv("DRIFT_DB_PATH", raising=False)
    assert drift(span) == 0, capsys.readouterr().err
    on_lake = json.loads(capsys.readouterr().out)
    assert on_lake["totals"]["changes"] > 40 and on_lake["totals"]["exceptions"] == 2
    assert {k: v for k, v in on_lake.items() if k != "database"} == {
        k: v for k, v in on_file.items() if k != "database"
    }


def test_change_evidence_materialises_on_the_lake(demo: Demo, lake: LakeConfig) -> None:
    day = date.fromisoformat(next(c["day"] for c in demo.seed["cases"] if c["rule"] == "review_bypassed"))
    instance = dg.DagsterInstance.ephemeral()
    store = DriftStoreResource(backend="ducklake", lake_catalog=lake.catalog, lake_data=lake.data)
    assert dg.materialize(
        [change_evidence], instance=instance, resources={"store": store}, partition_key=str(day)
    ).success
    (record,) = instance.fetch_materializations(dg.AssetKey("change_evidence"), limit=1).records
    metadata = record.asset_materialization.metadata  # type: ignore[union-attr]
    with DriftStore(demo.db, read_only=True) as source:
        (row,) = source.rows(
            "SELECT count(DISTINCT repo || coalesce('#' || pr_number, '@' || commit_sha)) AS n FROM process_activity "
            "WHERE org = 'acme' AND scan_date = ?",
            [day],
        )
    assert metadata["exceptions"].value == 2 and metadata["changes"].value == row["n"] > 2
