"""The one partitioning of the pipeline: scan dates (UTC days), and how DuckDB writers run."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import dagster as dg

START_DATE = os.environ.get("DRIFT_START_DATE", "2026-01-01")

daily = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")

# Every DuckDB writer: one writer at a time (pool of one), a backfill of a range is one run.
WRITER: dict[str, Any] = {"pool": "duckdb", "backfill_policy": dg.BackfillPolicy.single_run(), "partitions_def": daily}

# "Versus the day before": today's partition reads yesterday's too. Day one has no yesterday.
TODAY_AND_YESTERDAY = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=True
)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of this run, oldest first (a single-run backfill covers a range)."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]
