"""The Dagster code location: one ``Definitions`` assembled from explicit lists.

The assets come from ``assets.catalog.ASSETS``, derived from the one list of rule families. What
differs between deployments is configuration only: the resources (``resources_from_env``), the
orgs the nightly schedule fans out over (the ``scope`` resource), and the executor
(``DRIFT_EXECUTOR``: one process per run by default, ``multiprocess`` or ``celery``; see
``defs/jobs.executor_from_env`` and deploy/README.md).
"""

from __future__ import annotations

import dagster as dg

from drift_pipeline.defs.assets.catalog import ASSETS
from drift_pipeline.defs.issues import JOBS as ISSUE_JOBS
from drift_pipeline.defs.issues import SCHEDULES as ISSUE_SCHEDULES
from drift_pipeline.defs.issues import SENSORS as ISSUE_SENSORS
from drift_pipeline.defs.jobs import daily_scan_job, daily_scan_schedule_for, executor_from_env
from drift_pipeline.defs.orgs import configured_orgs
from drift_pipeline.defs.resources import ScanScopeResource, resources_from_env

__all__ = ["ASSETS", "defs"]

RESOURCES = resources_from_env()
SCOPE = RESOURCES["scope"]
assert isinstance(SCOPE, ScanScopeResource)

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[daily_scan_job, *ISSUE_JOBS],
    schedules=[daily_scan_schedule_for(configured_orgs(SCOPE)), *ISSUE_SCHEDULES],
    sensors=[*ISSUE_SENSORS],
    resources=RESOURCES,
    executor=executor_from_env(),
)
