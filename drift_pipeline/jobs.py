"""Jobs and schedules."""

from datetime import UTC, timedelta

import dagster as dg

from drift_pipeline.assets.catalog import ASSETS

daily_scan_job = dg.define_asset_job(
    "daily_drift_scan",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Snapshot the org and compute the day's drift (one partition = one UTC day).",
)


@dg.schedule(
    job=daily_scan_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/London",
    description="Every night at 02:00 Europe/London, scan the UTC day that has just ended.",
)
def daily_scan_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = (context.scheduled_execution_time.astimezone(UTC) - timedelta(days=1)).date()
    key = day.isoformat()
    return dg.RunRequest(run_key=f"daily:{key}", partition_key=key)
