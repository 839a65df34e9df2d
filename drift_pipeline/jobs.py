"""Jobs and schedules."""

from datetime import timedelta, timezone

import dagster as dg

from drift_pipeline.assets.code import code_drift, config_snapshots, repo_inventory
from drift_pipeline.assets.findings import drift_findings

daily_scan_job = dg.define_asset_job(
    "daily_drift_scan",
    selection=dg.AssetSelection.assets(repo_inventory, config_snapshots, code_drift, drift_findings),
    description="Snapshot the org and compute the day's drift (one partition = one UTC day).",
)


@dg.schedule(job=daily_scan_job, cron_schedule="0 2 * * *", execution_timezone="Europe/London",
             description="Every night at 02:00 Europe/London, scan the UTC day that has just ended.")
def daily_scan_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = (context.scheduled_execution_time.astimezone(timezone.utc) - timedelta(days=1)).date()
    key = day.isoformat()
    return dg.RunRequest(run_key=f"daily:{key}", partition_key=key)
