"""The one partitioning of the pipeline: scan dates (UTC days)."""

from __future__ import annotations

import os
from datetime import date

import dagster as dg

START_DATE = os.environ.get("DRIFT_START_DATE", "2026-01-01")

daily = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")

# "Versus the day before": today's partition reads yesterday's too. Day one has no yesterday.
TODAY_AND_YESTERDAY = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=True)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of this run, oldest first (a single-run backfill covers a range)."""
    window = context.partition_time_window
    days = []
    current = window.start.date()
    while current < window.end.date():
        days.append(current)
        current = date.fromordinal(current.toordinal() + 1)
    return days
