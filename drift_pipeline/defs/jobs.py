"""Jobs, the nightly schedule, and the executor a deployment chooses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, timedelta
from pathlib import Path

import dagster as dg
import yaml

from drift_pipeline.defs.assets.catalog import ASSETS
from drift_pipeline.defs.orgs import org_run_requests

EXECUTOR_ENV = "DRIFT_EXECUTOR"  # unset / "in_process" (the default), "multiprocess" or "celery"
CELERY_CONFIG_ENV = "DRIFT_CELERY_CONFIG"  # the YAML the celery workers are started with (its execution.config)

daily_scan_job = dg.define_asset_job(
    "daily_drift_scan",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Snapshot the org and compute the day's drift (one partition = one UTC day).",
)


def daily_scan_schedule_for(orgs: Sequence[str] = ()) -> dg.ScheduleDefinition:
    """The nightly schedule over the deployment's orgs: one run for one org, one run per org for several."""

    @dg.schedule(
        name="daily_scan_schedule",
        job=daily_scan_job,
        cron_schedule="0 2 * * *",
        execution_timezone="Europe/London",
        description="Every night at 02:00 Europe/London, scan the UTC day that has just ended "
        "(with several orgs, one run per org, tagged drift/org).",
    )
    def daily_scan_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | list[dg.RunRequest]:
        day = (context.scheduled_execution_time.astimezone(UTC) - timedelta(days=1)).date()
        requests = org_run_requests(day.isoformat(), orgs)
        return requests[0] if len(requests) == 1 else requests

    return daily_scan_schedule


daily_scan_schedule = daily_scan_schedule_for()


def _celery_executor(config_path: str) -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor  # only a celery deployment pays for importing celery

    path = Path(config_path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{CELERY_CONFIG_ENV}={config_path}: cannot read the celery profile: {exc}") from None
    config = data.get("execution", {}).get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a mapping at execution.config (the celery executor's config)")
    return celery_executor.configured(config, name="celery")


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor of every job of the location: by default Dagster's ``in_process_executor``.

    Every asset of the daily scan writes the DuckDB store, so all of them are in the ``duckdb`` pool
    (one step at a time, ``dagster.yaml``): a run's steps never overlap, and a process per step
    (Dagster's multiprocess default) only adds the start of an interpreter and the import of Dagster
    and the project to every step (10-25 s each on the loaded 2-core machine, 9 steps; measured by
    ``make bench``). One process per run executes the same steps in the same order and still claims
    the pool's slot per step, so concurrent runs (one per org) still write one at a time.

    ``DRIFT_EXECUTOR=multiprocess`` restores Dagster's ``multi_or_in_process_executor`` (a process per
    step; there ``execution: config: in_process:`` in run config selects one process). ``DRIFT_EXECUTOR=celery``
    runs each step as a Celery task on the workers; the executor's config (broker, result backend) is
    the ``execution.config`` of the YAML named by ``DRIFT_CELERY_CONFIG``, the same file the workers are
    started with (``dagster-celery worker start -y``).
    """
    name = os.environ.get(EXECUTOR_ENV, "").strip().lower()
    if name in ("", "default", "in_process"):
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multi_or_in_process_executor
    if name == "celery":
        config_path = os.environ.get(CELERY_CONFIG_ENV, "").strip()
        if not config_path:
            raise ValueError(f"{EXECUTOR_ENV}=celery needs {CELERY_CONFIG_ENV}: the path of the celery profile")
        return _celery_executor(config_path)
    raise ValueError(
        f"{EXECUTOR_ENV}={name!r}: expected 'celery', 'multiprocess', or unset for one process per run (in_process)"
    )
