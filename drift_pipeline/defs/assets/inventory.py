"""The inventory asset: which repos exist each day and which are in scope. Every domain reads it."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import dagster as dg

from drift_pipeline.core.names import same_name
from drift_pipeline.core.redaction import visible_controls
from drift_pipeline.defs.assets.github_run import github_run
from drift_pipeline.defs.assets.metadata import RequestMeter, check_every_day, md_table, record_day
from drift_pipeline.defs.assets.observation import org_progress
from drift_pipeline.defs.assets.partitions import WRITER, partition_days
from drift_pipeline.defs.orgs import ORG_TAG, canonical_orgs
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.scans.inventory import InventoryResult, scan_inventory
from drift_pipeline.scans.window import day_end
from drift_pipeline.store import DriftStore

HISTORY_NOTE = (
    "Past days are rebuilt from git history: a repo's head is the last commit on its default branch "
    "at the end of the day. An archived repo stays in scope for the days up to and including its "
    "last push; for later days it is out of scope (reason 'archived')."
)


def inventory_orgs(db: DriftStore, day: date, context: dg.AssetExecutionContext | None = None) -> list[str]:
    """The orgs the inventory recorded for ``day``: the scope of every asset that reads the store.

    A run of one org (the per-org fan-out's ``drift/org`` tag) reads only that org, so runs of
    several orgs of one day never re-scan or rewrite each other's rows.
    """
    orgs = [
        r["org"] for r in db.rows("SELECT DISTINCT org FROM repo_inventory WHERE scan_date = ? ORDER BY org", [day])
    ]
    only = context.run.tags.get(ORG_TAG) if context is not None else None  # as configured: any case
    return [o for o in orgs if same_name(o, only)] if only else orgs


@dg.asset(
    group_name="inventory",
    **WRITER,
    description="Every repo of the org(s) at the end of the scan date: default branch, head commit, "
    "archived/disabled/fork/owner, and scope (metadata + config present, tier, status, team).",
    metadata={"history_note": dg.MetadataValue.text(HISTORY_NOTE)},
    check_specs=[
        dg.AssetCheckSpec(
            "inventory_not_empty",
            asset="repo_inventory",
            description="On every day of the run, each org listing returned a repo.",
        ),
        dg.AssetCheckSpec(
            "no_repo_failed",
            asset="repo_inventory",
            description="On every day of the run, every repo's head and scope was read.",
        ),
    ],
)
def repo_inventory(
    context: dg.AssetExecutionContext, github: GitHubResource, scope: ScanScopeResource, store: DriftStoreResource
) -> dg.MaterializeResult:
    days, configured = partition_days(context), scope.org_list()
    empty: dict[date, list[dict[str, Any]]] = defaultdict(list)
    failed: dict[date, list[dict[str, Any]]] = defaultdict(list)
    with github_run(github, store, days) as (db, source):
        meter = RequestMeter(source)
        orgs = canonical_orgs(source, configured)  # ACME is stored as acme, as GitHub spells it
        for day in days:
            rows: list[dict[str, Any]] = []
            excluded: list[str] = []
            for org in orgs:
                baseline, since = _baseline(db, day, org)
                progress = org_progress(context, source, org, day)
                result = scan_inventory(source, org, day_end(day), baseline, since, progress=progress)
                db.replace_day(day, org, {"repo_inventory": result.rows})
                _log_org(context, org, day, result)
                if not result.rows:
                    empty[day].append({"org": org, "repos": 0})
                failed[day] += [
                    {"org": org, "repo": r["repo"], "error": r["error"]} for r in result.rows if r.get("error")
                ]
                rows += result.rows
                excluded += result.org_config.exclude
            record_day(context, day, {**_day_metadata(rows, excluded), **meter.since_last()})
    return dg.MaterializeResult(
        metadata={"history_note": dg.MetadataValue.text(HISTORY_NOTE)},
        check_results=[
            check_every_day("inventory_not_empty", days, empty),
            check_every_day("no_repo_failed", days, failed, severity=dg.AssetCheckSeverity.WARN),
        ],
    )


def _baseline(db: DriftStore, day: date, org: str) -> tuple[dict[str, dict[str, Any]], datetime | None]:
    """The org's repos as stored for the last day before ``day`` (by name), and that day's end (none before)."""
    prev_day = db.latest_day_before("repo_inventory", day, org)
    if prev_day is None:
        return {}, None
    return {r["repo"]: r for r in db.day_rows("repo_inventory", prev_day, org)}, day_end(prev_day)


def _log_org(context: dg.AssetExecutionContext, org: str, day: date, result: InventoryResult) -> None:
    """One org's day in the run log: its repos, how many in scope, and each problem of its org config."""
    context.log.info(f"{org} {day}: {len(result.rows)} repos, {sum(bool(r['in_scope']) for r in result.rows)} in scope")
    for problem in result.org_config.problems:
        context.log.warning(visible_controls(f"{org}: {problem.describe()}"))  # the console shows, never obeys


def _day_metadata(rows: list[dict[str, Any]], excluded: list[str]) -> dict[str, dg.MetadataValue]:
    return {
        "dagster/row_count": dg.MetadataValue.int(len(rows)),
        "repos_in_scope": dg.MetadataValue.int(sum(bool(r["in_scope"]) for r in rows)),
        "repos_carried_forward": dg.MetadataValue.int(sum(bool(r["carried_forward"]) for r in rows)),
        "repos_failed": dg.MetadataValue.int(sum(bool(r.get("error")) for r in rows)),
        "excluded_patterns": dg.MetadataValue.json(sorted(set(excluded))),
        "preview": md_table(
            ("repo", "in scope", "tier", "status", "why not"),
            [(r["repo"], r["in_scope"], r.get("tier"), r.get("status"), r.get("scope_reason") or "") for r in rows],
        ),
    }
