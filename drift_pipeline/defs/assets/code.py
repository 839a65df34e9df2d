"""Code assets: what each in-scope repo declares (``config_snapshots``) and what changed (``code_drift``).

The Dagster wiring of the ``code`` rule family (``rules.code.FAMILY``): :data:`FINDINGS` is the
asset writing the family's findings table, :data:`ASSETS` every asset of the family, upstream first.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from drift_pipeline.core.rules.code import FAMILY, RepoCode
from drift_pipeline.defs.assets.github_run import github_run
from drift_pipeline.defs.assets.inventory import inventory_orgs, repo_inventory
from drift_pipeline.defs.assets.metadata import (
    RequestMeter,
    check_every_day,
    contract_faults,
    findings_metadata,
    md_table,
    record_day,
)
from drift_pipeline.defs.assets.observation import org_progress
from drift_pipeline.defs.assets.partitions import TODAY_AND_YESTERDAY, WRITER, partition_days
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource
from drift_pipeline.scans.code import SNAPSHOT_TABLES, Baseline, ConfigScan, repo_code_states, scan_configs
from drift_pipeline.scans.window import day_end
from drift_pipeline.store import DriftStore


@dg.asset(
    group_name="code",
    deps=[repo_inventory],
    **WRITER,
    description="For each in-scope repo and project: every tracked file (config, metadata, workflow, "
    "tool config) with its blob sha, the content of configs and metadata, the commit read, "
    "the projects, the config problems, and the commits that changed tracked files. "
    "Repos with no new commit carry the previous snapshot forward.",
    check_specs=[
        dg.AssetCheckSpec(
            "no_repo_failed_to_scan",
            asset="config_snapshots",
            description="On every day of the run, every repo in scope was scanned; failed ones are listed by day.",
        )
    ],
)
def config_snapshots(
    context: dg.AssetExecutionContext, github: GitHubResource, store: DriftStoreResource
) -> dg.MaterializeResult:
    days = partition_days(context)
    failed: dict[date, list[dict[str, Any]]] = defaultdict(list)
    with github_run(github, store, days) as (db, source):
        meter = RequestMeter(source)
        for day in days:
            scans: list[ConfigScan] = []
            for org in inventory_orgs(db, day, context):
                inventory = db.day_rows("repo_inventory", day, org)
                scan = scan_configs(
                    source,
                    org,
                    day_end(day),
                    inventory,
                    _baseline(db, day, org),
                    progress=org_progress(context, source, org, day),
                )
                db.put_blobs(scan.blobs)
                db.replace_day(day, org, dict[str, Sequence[dict[str, Any]]](scan.tables))
                context.log.info(
                    f"{org} {day}: read {scan.count('read')}, carried forward "
                    f"{scan.count('carried_forward')}, failed {scan.count('failed')}"
                )
                failed[day] += [{"org": org, "repo": e["repo"], "error": e["error"]} for e in scan.errors]
                scans.append(scan)
            record_day(context, day, {**_snapshots_metadata(scans), **meter.since_last()})
    return dg.MaterializeResult(check_results=[check_every_day("no_repo_failed_to_scan", days, failed)])


def _snapshots_metadata(scans: list[ConfigScan]) -> dict[str, dg.MetadataValue]:
    """One day's numbers, over every org scanned that day."""
    files = [f for scan in scans for f in scan.tables["config_snapshots"]]
    return {
        "dagster/row_count": dg.MetadataValue.int(len(files)),
        "repos_read": dg.MetadataValue.int(sum(scan.count("read") for scan in scans)),
        "repos_carried_forward": dg.MetadataValue.int(sum(scan.count("carried_forward") for scan in scans)),
        "repos_failed": dg.MetadataValue.int(sum(len(scan.errors) for scan in scans)),
        "projects": dg.MetadataValue.int(sum(len(scan.tables["config_projects"]) for scan in scans)),
        "config_problems": dg.MetadataValue.int(sum(len(scan.tables["config_problems"]) for scan in scans)),
        "files_by_kind": md_table(("kind", "files"), Counter(f["kind"] for f in files).most_common()),
    }


def _baseline(db: DriftStore, day: date, org: str) -> Baseline:
    prev = db.latest_day_before("config_scan_status", day, org)
    if prev is None:
        return Baseline()
    return Baseline.from_rows(
        day_end(prev),
        *(
            db.day_rows(t, prev, org)
            for t in ("config_scan_status", "config_snapshots", "config_projects", "config_problems")
        ),
    )


def code_states(db: DriftStore, day: date, org: str) -> dict[str, RepoCode]:
    """The stored snapshot of one day as the records the code rules evaluate."""
    files, projects, problems, status, commits = (db.day_rows(t, day, org) for t in SNAPSHOT_TABLES)
    blobs = db.blobs(f["blob_sha"] for f in files if f.get("content") is None)
    return repo_code_states(org, files, projects, problems, status, commits, blobs)


@dg.asset(
    group_name="code",
    **WRITER,
    deps=[dg.AssetDep(config_snapshots, partition_mapping=TODAY_AND_YESTERDAY)],
    description="Code drift findings of the scan date: config, metadata, workflow and tool-config "
    "changes against the previous snapshot (with diffs and commits), invalid configs, "
    "unresolved registries, tier/ruleset mismatches and projects without standards.",
    check_specs=[
        dg.AssetCheckSpec(
            "findings_conform",
            asset="code_drift",
            description="On every day of the run, every finding follows the findings contract.",
        )
    ],
)
def code_drift(context: dg.AssetExecutionContext, store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    bad: dict[date, list[dict[str, Any]]] = {}
    with store.open() as db:
        for day in days:
            rows: list[dict[str, Any]] = []
            for org in inventory_orgs(db, day, context):
                prev = db.latest_day_before("config_scan_status", day, org)
                findings = FAMILY.evaluate(day, code_states(db, day, org), code_states(db, prev, org) if prev else None)
                org_rows = [f.row() for f in findings]
                db.replace_day(day, org, {FAMILY.findings_table: org_rows})
                rows += org_rows
            bad[day] = contract_faults(rows)
            record_day(context, day, findings_metadata(rows))
    return dg.MaterializeResult(check_results=[check_every_day("findings_conform", days, bad)])


FINDINGS = code_drift
ASSETS = (config_snapshots, code_drift)
