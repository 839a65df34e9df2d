"""The code location loads, validates, and holds exactly what we expect."""

import subprocess
import sys

from drift_pipeline.definitions import defs

EXPECTED_ASSETS = {
    "repo_inventory": "inventory",
    "config_snapshots": "code",
    "code_drift": "code",
    "drift_findings": "findings",
}
EXPECTED_CHECKS = {
    ("repo_inventory", "inventory_not_empty"), ("repo_inventory", "no_repo_failed"),
    ("config_snapshots", "no_repo_failed_to_scan"), ("code_drift", "findings_conform"),
    ("drift_findings", "findings_conform"), ("drift_findings", "fingerprints_unique"),
}


def test_assets_groups_checks_jobs_and_schedules_are_the_expected_ones():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == EXPECTED_ASSETS
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == EXPECTED_CHECKS
    assert all(graph.get(k).description for k in graph.get_all_asset_keys())
    assert {j.name for j in repo.get_all_jobs()} >= {"daily_drift_scan"}
    [schedule] = repo.schedule_defs
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/London")


def test_the_code_drift_asset_reads_the_previous_day():
    graph = defs.get_repository_def().asset_graph
    from dagster import AssetKey

    mapping = graph.get_partition_mapping(AssetKey("code_drift"), AssetKey("config_snapshots"))
    assert (mapping.start_offset, mapping.end_offset) == (-1, 0)


def test_definitions_validate_with_the_dagster_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "drift_pipeline.definitions"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schedule_requests_the_utc_day_that_just_ended():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import dagster as dg

    from drift_pipeline.jobs import daily_scan_schedule

    when = datetime(2026, 7, 2, 2, 0, tzinfo=ZoneInfo("Europe/London"))   # 01:00 UTC
    context = dg.build_schedule_context(scheduled_execution_time=when)
    request = daily_scan_schedule(context)
    assert (request.partition_key, request.run_key) == ("2026-07-01", "daily:2026-07-01")


def test_every_duckdb_writer_is_in_the_pool_of_one_and_backfills_in_one_run():
    import yaml
    from pathlib import Path

    import dagster as dg

    for key in EXPECTED_ASSETS:
        asset = defs.resolve_assets_def(key)
        assert asset.op.pool == "duckdb", key
        assert asset.backfill_policy == dg.BackfillPolicy.single_run(), key
    instance = yaml.safe_load((Path(__file__).parents[1] / "dagster.yaml").read_text())
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["telemetry"]["enabled"] is False
