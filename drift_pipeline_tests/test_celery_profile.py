"""The celery deployment profile (deploy/celery/celery.yaml with deploy/postgres/dagster.yaml).

The shipped profile validates as the celery executor's config for the daily job and for the worker
CLI; then a real run: ``dagster asset materialize`` (its own process, ``DRIFT_EXECUTOR=celery``)
hands every step to a real celery worker (``dagster-celery worker start``, its own process) over
kombu's ``filesystem://`` transport, with the instance on a private PostgreSQL. What it does not
cover: a network broker (RabbitMQ) and workers on other machines; the transport is the only part
swapped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from drift_pipeline.defs.assets.catalog import ASSETS
from drift_pipeline.defs.jobs import CELERY_CONFIG_ENV, EXECUTOR_ENV, executor_from_env
from drift_pipeline.defs.resources import resources_from_env
from drift_pipeline.demo.serve import stop
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.pg import PostgresServer, pg_env, postgres  # noqa: F401  (the fixture)
from drift_pipeline_tests.pipeline.orgfixture import DAY2, build_org

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
CELERY_PROFILE = DEPLOY / "celery" / "celery.yaml"
INSTANCE_PROFILE = DEPLOY / "postgres" / "dagster.yaml"
DAY = DAY2.isoformat()
# The code and process slices: after the inventory, two branches a multi-process executor could run at once.
SELECTION = [
    "repo_inventory",
    "config_snapshots",
    "code_drift",
    "process_settings",
    "process_activity",
    "process_drift",
    "drift_findings",
]


def test_the_shipped_profile_is_the_celery_executors_config_for_the_jobs_and_the_workers(monkeypatch):
    from dagster_celery import celery_executor
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("DAGSTER_CELERY_BROKER_URL", "amqp://drift:secret@rabbitmq.internal:5672//")
    monkeypatch.setenv("DAGSTER_CELERY_BACKEND_URL", "rpc://")
    monkeypatch.setenv("GITHUB_TOKEN", "a-token")  # the github resource reads it (EnvVar) when run config is checked
    config = yaml.safe_load(CELERY_PROFILE.read_text())["execution"]["config"]

    job = dg.define_asset_job("daily_drift_scan", selection=dg.AssetSelection.assets(*ASSETS))
    unconfigured = dg.Definitions(
        assets=ASSETS, jobs=[job], executor=celery_executor, resources=resources_from_env()
    ).resolve_job_def("daily_drift_scan")
    dg.validate_run_config(unconfigured, {"execution": {"config": config}})  # raises on a bad profile
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(unconfigured, {"execution": {"config": {**config, "brokr": "amqp://"}}})

    # what the code location builds from the environment: the profile, configured in
    monkeypatch.setenv(EXECUTOR_ENV, "celery")
    monkeypatch.setenv(CELERY_CONFIG_ENV, str(CELERY_PROFILE))
    executor = executor_from_env()
    assert executor is not None and executor.name == "celery"
    configured = dg.Definitions(
        assets=ASSETS, jobs=[job], executor=executor, resources=resources_from_env()
    ).resolve_job_def("daily_drift_scan")
    assert configured.executor_def.name == "celery"
    dg.validate_run_config(configured, {})
    # and what the worker CLI reads from the same file
    assert get_validated_config(str(CELERY_PROFILE))["broker"] == "amqp://drift:secret@rabbitmq.internal:5672//"

    # every DuckDB writer is in the pool the instance profile limits to one step at a time
    assert {a.op.pool for a in ASSETS} == {"duckdb"}
    instance = yaml.safe_load(INSTANCE_PROFILE.read_text())
    assert instance["concurrency"]["pools"]["default_limit"] == 1


def test_an_unknown_executor_or_a_missing_profile_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv(EXECUTOR_ENV, "dask")
    with pytest.raises(ValueError, match=r"DRIFT_EXECUTOR='dask': expected 'celery'"):
        executor_from_env()
    monkeypatch.setenv(EXECUTOR_ENV, "celery")
    monkeypatch.delenv(CELERY_CONFIG_ENV, raising=False)
    with pytest.raises(ValueError, match="needs DRIFT_CELERY_CONFIG"):
        executor_from_env()
    bad = tmp_path / "celery.yaml"
    bad.write_text("execution:\n  celery: {}\n")
    monkeypatch.setenv(CELERY_CONFIG_ENV, str(bad))
    with pytest.raises(ValueError, match=r"celery\.yaml: expected a mapping at execution\.config"):
        executor_from_env()
    monkeypatch.delenv(EXECUTOR_ENV)
    assert executor_from_env() is dg.in_process_executor  # one process per run
    monkeypatch.setenv(EXECUTOR_ENV, "multiprocess")
    assert executor_from_env() is dg.multi_or_in_process_executor  # Dagster's default: a process per step


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubSandbox]:
    org = build_org(tmp_path_factory.mktemp("org"))
    with GitHubSandbox(org.state.root) as server:
        yield server


def test_a_run_executes_every_step_on_a_celery_worker_one_duckdb_writer_at_a_time(
    postgres: PostgresServer,  # noqa: F811
    github: GitHubSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    for key, value in pg_env(postgres).items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_PROFILE, home / "dagster.yaml")
    queue = tmp_path / "broker"
    queue.mkdir()
    profile = tmp_path / "celery.yaml"  # the shipped profile with the broker swapped for a folder
    profile.write_text(
        yaml.safe_dump(
            {
                "execution": {
                    "config": {
                        "broker": "filesystem://",
                        "backend": f"file://{tmp_path / 'results'}",
                        "config_source": {
                            "broker_transport_options": {"data_folder_in": str(queue), "data_folder_out": str(queue)}
                        },
                    }
                }
            }
        )
    )
    (tmp_path / "results").mkdir()
    db = tmp_path / "drift.duckdb"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": "sandbox-token",
        "DRIFT_ORGS": "acme",
        "DRIFT_DB_PATH": str(db),
        EXECUTOR_ENV: "celery",
        CELERY_CONFIG_ENV: str(profile),
    }
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "dagster_celery.cli"),
            *("worker", "start", "-A", "dagster_celery.app", "-y", str(profile), "-i", "drift_pipeline.definitions"),
            *("-n", "drift-test", "--", "--concurrency=2", "--without-mingle", "--without-gossip"),
        ],
        env=env,
        cwd=tmp_path,
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        run = subprocess.run(
            [
                *(sys.executable, "-m", "dagster", "asset", "materialize", "-m", "drift_pipeline.definitions"),
                *("--select", ",".join(SELECTION), "--partition", DAY),
                *("--config-json", json.dumps({"resources": {"aws": {"config": {"accounts": {}}}}})),
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
    finally:
        stop(worker)
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + worker_log[-3000:]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        [record] = instance.get_run_records()
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        events = [e for e in instance.all_logs(record.dagster_run.run_id) if e.is_dagster_event]
        pool = instance.event_log_storage.get_concurrency_info("duckdb")
    # the orchestrator claimed the duckdb pool's slots in PostgreSQL: one slot, every one released
    assert (pool.limit, pool.slot_count, pool.claimed_slots) == (1, 1, [])
    started = {e.step_key for e in events if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"}
    assert len(started) >= 5  # inventory, config snapshots, code drift, the process step(s), the union
    in_worker = {
        e.step_key: e.dagster_event.engine_event_data.metadata["Celery worker"].value
        for e in events
        if e.dagster_event and e.dagster_event.event_type_value == "ENGINE_EVENT" and "in celery worker" in e.message
    }
    assert set(in_worker) == started  # every step ran as a celery task
    assert {str(v) for v in in_worker.values()} == {f"drift-test@{os.uname().nodename}"}

    # no two writer steps ever overlapped, though the worker had two processes and the code and
    # process branches were ready together (the celery loop claims slots but logs no "blocked" event)
    spans: dict[str, list[float]] = {}
    for e in events:
        kind = e.dagster_event.event_type_value if e.dagster_event else ""
        if kind in ("STEP_START", "STEP_SUCCESS") and e.step_key:
            spans.setdefault(e.step_key, []).append(e.timestamp)
    windows = sorted((s[0], s[1]) for s in spans.values())
    assert len(windows) == len(started)
    assert all(prev_end <= start for (_, prev_end), (start, _) in zip(windows, windows[1:], strict=False))

    with DriftStore(db) as store:
        found = store.rows("SELECT DISTINCT org, category FROM drift_findings WHERE scan_date = ?", [DAY2])
    assert ("acme", "code") in {(r["org"], r["category"]) for r in found}  # acme declares no process rules
