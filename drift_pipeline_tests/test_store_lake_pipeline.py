"""Real Dagster materialisations of the project's assets into the DuckLake profile (SQLite catalog, Parquet
on the emulator's S3): the same asset code writes the same rows as into the DuckDB file, re-running a
day is idempotent, and the trend views over the lake answer what they answer over the file."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from drift_pipeline.defs.resources import DriftStoreResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.store import DriftStore
from drift_pipeline.store.views import MACROS, VIEWS
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.orgfixture import DAY0, DAY2, OrgFixture, build_org
from drift_pipeline_tests.test_store_lake import BUCKET, store_resource
from drift_pipeline_tests.test_store_lake import aws_env as aws_env  # noqa: PLC0414 (fixtures)
from drift_pipeline_tests.test_store_lake import moto_s3 as moto_s3  # noqa: PLC0414

TABLES = ("repo_inventory", "config_snapshots", "config_scan_status", "code_drift", "drift_findings")


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubSandbox]:
    org: OrgFixture = build_org(tmp_path_factory.mktemp("org"))
    with GitHubSandbox(org.state.root) as server:
        yield server


def _all(store: DriftStore, sql: str) -> list[tuple]:
    return [tuple(r.values()) for r in store.rows(sql)]


def test_assets_materialise_into_the_lake_as_into_the_file_and_trends_agree(github, moto_s3, aws_env, tmp_path):
    file_run = Pipeline(github, tmp_path / "drift.duckdb")
    assert file_run.run(DAY0, DAY2).success

    prefix = uuid.uuid4().hex[:8]
    lake: DriftStoreResource = store_resource(
        f"sqlite:///{tmp_path}/catalog.sqlite", f"s3://{BUCKET}/{prefix}", moto_s3
    )
    lake_run = Pipeline(github, tmp_path / "unused.duckdb")
    resources = {**lake_run.resources(), "store": lake}
    assert lake_run.run(DAY0, DAY2, resources=resources).success
    assert lake_run.run(DAY2, resources=resources).success  # a re-run of a day replaces it
    assert not (tmp_path / "unused.duckdb").exists()
    assert lake_run.latest_metadata("drift_findings", DAY2)["dagster/row_count"] == len(
        file_run.rows("SELECT 1 FROM drift_findings WHERE scan_date = ?", [DAY2])
    )

    with DriftStore(tmp_path / "drift.duckdb", read_only=True) as file, lake.store(read_only=True) as store:
        for table in TABLES:
            sql = f"SELECT * EXCLUDE (scan_date), scan_date::VARCHAR FROM {table} ORDER BY ALL"
            expected = _all(file, sql)
            assert expected, table
            assert _all(store, sql) == expected, table
        for view in [*VIEWS, *(f"{m}(30)" for m in MACROS)]:
            sql = f"SELECT * FROM {view} ORDER BY ALL"
            assert _all(store, sql) == _all(file, sql), view
        assert _all(store, "SELECT count(*) FROM trend_findings_daily WHERE findings > 0")[0][0] > 0

    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    assert any(k.startswith(f"{prefix}/main/config_snapshots/") and k.endswith(".parquet") for k in keys), keys


def test_a_misconfigured_lake_fails_the_run_in_one_line(github, tmp_path):
    run = Pipeline(github, tmp_path / "unused.duckdb")
    bad = DriftStoreResource(backend="ducklake", lake_catalog="mysql://h/db", lake_data=str(Path(tmp_path) / "d"))
    result = run.run(DAY0, resources={**run.resources(), "store": bad}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert error is not None and error.cause is not None
    assert error.cause.cls_name == "LakeConfigError"
    assert "DuckLake catalog 'mysql://h/db': unknown scheme 'mysql'" in error.cause.message
    assert "\n" not in error.cause.message.strip()
