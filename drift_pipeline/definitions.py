"""The Dagster code location: one ``Definitions`` assembled from explicit lists."""

from __future__ import annotations

import dagster as dg

from drift_pipeline.assets.code import code_drift, config_snapshots, repo_inventory
from drift_pipeline.assets.findings import drift_findings
from drift_pipeline.jobs import daily_scan_job, daily_scan_schedule
from drift_pipeline.resources import resources_from_env

ASSETS = [repo_inventory, config_snapshots, code_drift, drift_findings]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[daily_scan_job],
    schedules=[daily_scan_schedule],
    resources=resources_from_env(),
)
