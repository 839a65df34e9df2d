from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from drift_pipeline.defs.assets.catalog import assets_of
from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.pipeline.orgfixture import OrgFixture, build_org

# The code domain's slice of the graph (inventory, code assets, the union); other domains' tests pass theirs.
CODE_ASSETS = assets_of("code")


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> OrgFixture:
    return build_org(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def github(org: OrgFixture) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(org.state.root) as server:
        yield server


@pytest.fixture
def sandbox(github: GitHubSandbox) -> GitHubSandbox:
    github.clear_faults()
    github.reset_counts()
    github.reset_rate_limits()
    return github


class Pipeline:
    """Materialises the real assets against the sandbox into a real DuckDB file."""

    def __init__(self, server: GitHubSandbox, db_path: Path):
        self.server = server
        self.db_path = db_path
        self.instance = dg.DagsterInstance.ephemeral()

    def resources(self) -> dict:
        return {
            "github": GitHubResource(
                api_url=self.server.url,
                token="sandbox-token",
                backoff_seconds=0,
                max_rate_limit_wait_seconds=5,
                seconds_between_writes=0,
            ),
            "scope": ScanScopeResource(orgs="acme"),
            "aws": AwsResource(accounts={}),  # no account: runs of the whole graph stay off AWS
            "store": DriftStoreResource(database=str(self.db_path)),
        }

    def run(
        self,
        first: date,
        last: date | None = None,
        assets=CODE_ASSETS,
        raise_on_error=True,
        selection=None,
        resources: dict | None = None,
    ) -> dg.ExecuteInProcessResult:
        last = last or first
        tags = {}
        key = None
        if last == first:
            key = first.isoformat()
        else:
            tags = {
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            }
        return dg.materialize(
            assets,
            partition_key=key,
            tags=tags,
            selection=selection,
            resources=self.resources() if resources is None else resources,
            instance=self.instance,
            raise_on_error=raise_on_error,
        )

    def latest_metadata(self, asset: str, day: date) -> dict:
        """The metadata of the latest materialisation of one partition, as the UI shows it."""
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day.isoformat()]), limit=1
        ).records
        assert records, f"{asset} {day} was never materialised"
        materialization = records[0].asset_materialization
        assert materialization is not None
        return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}

    def rows(self, sql: str, params=()) -> list[dict]:
        with DriftStore(self.db_path) as store:
            return store.rows(sql, params)

    def findings(self, day: date, table: str = "code_drift") -> list[tuple]:
        return sorted(
            (r["repo"], r["project"], r["rule"]) for r in self.rows(f"SELECT * FROM {table} WHERE scan_date = ?", [day])
        )


@pytest.fixture
def pipeline(sandbox: GitHubSandbox, tmp_path: Path) -> Pipeline:
    return Pipeline(sandbox, tmp_path / "drift.duckdb")
