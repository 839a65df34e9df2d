"""The Dagster instance on PostgreSQL (deploy/postgres/dagster.yaml) against a private cluster.

A real materialisation of the code assets against the sandbox goes through that instance, then the
real daemon (``dagster-daemon run``, its own process) ticks the drift issue sensor, which requests
a ``file_drift_issues`` run that files into the sandbox; runs, materialisations and the tick are
read back from PostgreSQL itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from github import Auth, Github

from drift_pipeline.defs.assets.catalog import assets_of
from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.demo.serve import DAGSTER_CLI, stop, write_workspace
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline_tests.pg import PostgresServer, pg_env, postgres  # noqa: F401  (the fixture)
from drift_pipeline_tests.pipeline.orgfixture import DAY2, build_org

PROFILE = Path(__file__).resolve().parents[1] / "deploy" / "postgres" / "dagster.yaml"
DAY = DAY2.isoformat()  # web's eslint config changed twice, broken's check.toml stopped parsing


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubSandbox]:
    org = build_org(tmp_path_factory.mktemp("org"))
    with GitHubSandbox(org.state.root) as server:
        yield server


def sql(server: PostgresServer, query: str) -> list[tuple]:
    con = psycopg2.connect(server.dsn())
    try:
        with con.cursor() as cur:
            cur.execute(query)
            return list(cur.fetchall())
    finally:
        con.close()


def wait_for(what: str, probe, timeout: float = 300.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_materialisation_and_daemon_sensor_tick_land_in_postgres(
    postgres: PostgresServer,  # noqa: F811
    github: GitHubSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROFILE, home / "dagster.yaml")
    for key, value in pg_env(postgres).items():
        monkeypatch.setenv(key, value)
    db = tmp_path / "drift.duckdb"

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.event_log_storage.supports_global_concurrency_limits  # the duckdb pool's slots

        result = dg.materialize(
            assets_of("code"),
            partition_key=DAY,
            resources={
                "github": GitHubResource(api_url=github.url, token="sandbox-token", seconds_between_writes=0),
                "scope": ScanScopeResource(orgs="acme"),
                "aws": AwsResource(accounts={}),
                "store": DriftStoreResource(database=str(db)),
            },
            instance=instance,
        )
        assert result.success
        materialised = sql(
            postgres,
            "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "ORDER BY asset_key",
        )
        assert materialised == [
            ('["code_drift"]', DAY),
            ('["config_snapshots"]', DAY),
            ('["drift_findings"]', DAY),
            ('["repo_inventory"]', DAY),
        ]
        assert sql(postgres, f"SELECT status FROM runs WHERE run_id = '{result.run_id}'") == [("SUCCESS",)]

        # The daemon, its own process on the same instance, ticks the sensor and launches the run it asks for.
        workspace = tmp_path / "workspace.yaml"
        write_workspace(workspace)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": "sandbox-token",
            "DRIFT_ORGS": "acme",
            "DRIFT_DB_PATH": str(db),
        }
        cli = [sys.executable, "-m", DAGSTER_CLI]
        started = subprocess.run(
            [*cli, "sensor", "start", "drift_issue_sensor", "-w", str(workspace)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert started.returncode == 0, started.stdout + started.stderr
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", str(workspace)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "daemon.log").open("wb"),
            start_new_session=True,
        )
        try:
            [run] = wait_for(
                "the sensor's file_drift_issues run to finish",
                lambda: [
                    r
                    for r in instance.get_runs(dg.RunsFilter(job_name="file_drift_issues"))
                    if r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
                ],
            )
        finally:
            stop(daemon)
        assert run.status == dg.DagsterRunStatus.SUCCESS, [
            e.message for e in instance.all_logs(run.run_id) if e.is_dagster_event and e.dagster_event.is_failure
        ]
        assert run.tags["dagster/partition"] == DAY
        assert run.tags["dagster/sensor_name"] == "drift_issue_sensor"
        assert run.tags["dagster/run_key"].startswith(f"issues:{DAY}:")

    # What PostgreSQL holds: the tick that requested the run, and both runs.
    ticks = sql(
        postgres,
        "SELECT status, tick_body FROM job_ticks WHERE type = 'SENSOR' ORDER BY timestamp",
    )
    assert [status for status, _ in ticks][:1] == ["SUCCESS"]
    assert run.run_id in ticks[0][1]
    assert sorted(r[0] for r in sql(postgres, "SELECT pipeline_name FROM runs")) == [
        "__ephemeral_asset_job__",
        "file_drift_issues",
    ]
    filed = sql(
        postgres,
        f"SELECT count(*) FROM event_logs WHERE run_id = '{run.run_id}' AND dagster_event_type = 'STEP_SUCCESS'",
    )
    assert filed == [(1,)]
    # and the run filed over HTTP: broken's config stopped parsing that day
    gh = Github(base_url=github.url, auth=Auth.Token("sandbox-token"))
    [issue] = gh.get_repo("acme/broken").get_issues(labels=["drift:code"])
    assert issue.title.startswith("[drift:code]")
