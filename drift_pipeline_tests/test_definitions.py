"""The code location loads, validates, and holds exactly what we expect."""

import subprocess
import sys

from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.definitions import defs

EXPECTED_ASSETS = {
    "repo_inventory": "inventory",
    "config_snapshots": "code",
    "code_drift": "code",
    "process_settings": "process",
    "process_activity": "process",
    "process_drift": "process",
    "aws_inventory": "infra",
    "declared_infra": "infra",
    "infra_drift": "infra",
    "drift_findings": "findings",
    "change_evidence": "evidence",
}
# Rule ids are a public contract (stored findings, open issues): extend, never rename.
EXPECTED_RULES = sorted(
    [
        "check_toml_added",
        "check_toml_changed",
        "check_toml_removed",
        "dependency_changed",
        "workflow_changed",
        "metadata_changed",
        "project_without_standards",
        "tier_ruleset_mismatch",
        "invalid_config",
        "registry_unresolved",
        # process, settings
        "branch_protection_missing",
        "required_reviews_too_low",
        "stale_reviews_not_dismissed",
        "code_owner_review_not_required",
        "status_checks_missing",
        "branches_not_up_to_date",
        "signed_commits_not_required",
        "admins_not_enforced",
        "bypass_actor_mismatch",
        "codeowners_missing",
        "codeowners_invalid",
        "codeowners_rule_mismatch",
        "required_file_missing",
        "forbidden_file_present",
        "required_workflow_missing",
        "hooks_missing",
        "tag_protection_missing",
        "process_not_evaluated",
        # process, activity
        "review_bypassed",
        "commit_convention_violated",
        "ticket_reference_missing",
        "branch_name_violated",
        "pr_too_large",
        "pr_missing_issue_reference",
        # infra
        "resource_missing",
        "resource_orphaned",
        "attribute_drift",
        "deprecated_resources_remaining",
        "backup_stale",
        "infra_not_evaluated",
    ]
)
EXPECTED_CHECKS = {
    ("repo_inventory", "inventory_not_empty"),
    ("repo_inventory", "no_repo_failed"),
    ("config_snapshots", "no_repo_failed_to_scan"),
    ("code_drift", "findings_conform"),
    ("process_settings", "no_repo_failed"),
    ("process_drift", "findings_conform"),
    ("aws_inventory", "all_accounts_read"),
    ("declared_infra", "no_repo_failed"),
    ("infra_drift", "findings_conform"),
    ("drift_findings", "findings_conform"),
    ("drift_findings", "fingerprints_unique"),
}


def test_assets_groups_checks_jobs_and_schedules_are_the_expected_ones():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == EXPECTED_ASSETS
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == EXPECTED_CHECKS
    assert all(graph.get(k).description for k in graph.get_all_asset_keys())
    assert {j.name for j in repo.get_all_jobs()} >= {"daily_drift_scan", "file_drift_issues", "drift_audit"}
    assert [s.name for s in repo.sensor_defs] == ["drift_issue_sensor"]
    assert sorted(s.name for s in repo.schedule_defs) == ["daily_scan_schedule", "weekly_audit_schedule"]
    assert sorted(RULES) == EXPECTED_RULES


def test_the_schedule_ticks_nightly_in_london_across_the_clock_change_and_requests_each_day_once():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import dagster as dg
    from dagster._utils.schedules import schedule_execution_time_iterator

    london = ZoneInfo("Europe/London")
    schedule = defs.get_repository_def().get_schedule_def("daily_scan_schedule")
    start = datetime(2026, 3, 27, 12, 0, tzinfo=london).timestamp()  # British Summer Time starts on the 29th
    ticks = []
    # the iterator the schedule daemon uses to place ticks
    for tick in schedule_execution_time_iterator(start, schedule.cron_schedule, schedule.execution_timezone):
        ticks.append(tick)
        if len(ticks) == 4:
            break
    assert [(t.astimezone(london).hour, t.astimezone(london).minute) for t in ticks] == [(2, 0)] * 4
    requests = [schedule(dg.build_schedule_context(scheduled_execution_time=t)) for t in ticks]
    assert [r.partition_key for r in requests] == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30"]
    assert [r.run_key for r in requests] == [f"daily:{r.partition_key}" for r in requests]  # exactly once a day


def test_a_code_drift_day_needs_that_days_and_the_previous_days_snapshots():
    import dagster as dg

    graph = defs.get_repository_def().asset_graph
    snapshots = graph.get(dg.AssetKey("config_snapshots")).partitions_def
    mapping = graph.get_partition_mapping(dg.AssetKey("code_drift"), dg.AssetKey("config_snapshots"))

    def upstream(day: str) -> set[str]:
        subset = snapshots.empty_subset().with_partition_keys([day])
        result = mapping.get_upstream_mapped_partitions_result_for_partitions(subset, snapshots, snapshots)
        return set(result.partitions_subset.get_partition_keys())

    assert upstream("2026-03-02") == {"2026-03-01", "2026-03-02"}
    first = snapshots.get_first_partition_key()
    assert upstream(first) == {first}  # day one has no yesterday, and does not wait for one


def test_every_family_has_its_findings_asset_in_the_location_and_the_daily_job():
    import dagster as dg

    from drift_pipeline.core.rules import FAMILIES

    repo = defs.get_repository_def()
    job_keys = repo.get_job("daily_drift_scan").asset_layer.executable_asset_keys
    for family in FAMILIES:
        key = dg.AssetKey(family.findings_table)
        assert repo.asset_graph.get(key).group_name == family.category
        assert key in job_keys
        assert key in repo.asset_graph.get(dg.AssetKey("drift_findings")).parent_keys
    assert job_keys == set(repo.asset_graph.get_all_asset_keys())


def test_assets_that_make_no_api_calls_need_only_the_store():
    for key in ("code_drift", "process_drift", "drift_findings"):
        assert defs.resolve_assets_def(key).required_resource_keys - {"io_manager"} == {"store"}, key
    assert defs.resolve_assets_def("repo_inventory").required_resource_keys - {"io_manager"} == {
        "github",
        "scope",
        "store",
    }


def test_definitions_validate_with_the_dagster_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "drift_pipeline.definitions"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_duckdb_writer_is_in_the_pool_of_one_and_backfills_in_one_run():
    from pathlib import Path

    import dagster as dg
    import yaml

    for key in EXPECTED_ASSETS:
        asset = defs.resolve_assets_def(key)
        assert asset.op.pool == "duckdb", key
        assert asset.backfill_policy == dg.BackfillPolicy.single_run(), key
    instance = yaml.safe_load((Path(__file__).parents[1] / "dagster.yaml").read_text())
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["telemetry"]["enabled"] is False


def test_a_family_without_its_assets_module_fails_at_load_naming_the_module(monkeypatch):
    import pytest

    from drift_pipeline.core.rules.base import RuleFamily, RuleSpec
    from drift_pipeline.defs.assets.families import family_assets

    infra = RuleFamily(
        "infra",
        (RuleSpec("backup_stale", "infra", "warning", "Backups", "Back up."),),
        lambda day, observed, expected: [],
    )
    monkeypatch.setitem(sys.modules, "drift_pipeline.defs.assets.infra", None)  # as if the module did not exist
    with pytest.raises(ImportError, match=r"create drift_pipeline\.defs\.assets\.infra defining FINDINGS and ASSETS"):
        family_assets(infra)
