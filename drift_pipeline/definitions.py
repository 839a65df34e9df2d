"""The Dagster code location: one ``Definitions`` assembled from explicit lists.

The assets come from ``assets.catalog.ASSETS``, derived from the one list of rule families.
"""

from __future__ import annotations

import dagster as dg

from drift_pipeline.assets.catalog import ASSETS
from drift_pipeline.issues.dagster_defs import JOBS as ISSUE_JOBS
from drift_pipeline.issues.dagster_defs import SCHEDULES as ISSUE_SCHEDULES
from drift_pipeline.issues.dagster_defs import SENSORS as ISSUE_SENSORS
from drift_pipeline.jobs import daily_scan_job, daily_scan_schedule
from drift_pipeline.resources import resources_from_env

__all__ = ["ASSETS", "defs"]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[daily_scan_job, *ISSUE_JOBS],
    schedules=[daily_scan_schedule, *ISSUE_SCHEDULES],
    sensors=[*ISSUE_SENSORS],
    resources=resources_from_env(),
)
