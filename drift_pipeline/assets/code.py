"""Inventory and code assets: which repos are in scope, what they declare, what changed."""


from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import dagster as dg

from drift_pipeline.assets.metadata import findings_metadata, md_table, requests_metadata
from drift_pipeline.assets.partitions import TODAY_AND_YESTERDAY, daily, partition_days
from drift_pipeline.resources import DriftStoreResource, GitHubResource
from drift_pipeline.rules import code as code_rules
from drift_pipeline.rules.findings import contract_violations
from drift_pipeline.scans.code import SNAPSHOT_TABLES, Baseline, repo_code_states, scan_configs
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.store import DriftStore

WRITER = {"pool": "duckdb", "backfill_policy": dg.BackfillPolicy.single_run(), "partitions_def": daily}


@contextmanager
def _github_run(github: GitHubResource, store: DriftStoreResource,
                days: list[date]) -> Iterator[tuple[DriftStore, GitHubSource]]:
    """The store and a GitHub source sharing its persistent cache, for the days of one run.

    The cache is written back even when the run fails: what was read stays read.
    """
    with store.open() as db:
        cache = db.source_cache()
        source = github.source(cache)
        if len(days) > 1:
            source.plan_window(day_end(days[0]), day_end(days[-1]))
        try:
            yield db, source
        finally:
            cache.flush()


@dg.asset(
    group_name="inventory", **WRITER,
    description="Every repo of the org(s) at the end of the scan date: default branch, head commit, "
                "archived/disabled/fork/owner, and scope (metadata + config present, tier, status, team).",
    check_specs=[dg.AssetCheckSpec("inventory_not_empty", asset="repo_inventory",
                                   description="The org listing returned at least one repo."),
                 dg.AssetCheckSpec("no_repo_failed", asset="repo_inventory",
                                   description="Every repo's head and scope could be read.")],
)
def repo_inventory(context: dg.AssetExecutionContext, github: GitHubResource,
                   store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    with _github_run(github, store, days) as (db, source):
        rows: list[dict] = []
        excluded: list[str] = []
        for day in days:
            for org in github.org_list():
                prev_day = db.latest_day_before("repo_inventory", day, org)
                baseline = {r["repo"]: r for r in db.day_rows("repo_inventory", prev_day, org)} if prev_day else {}
                result = scan_inventory(source, org, day_end(day), baseline,
                                        day_end(prev_day) if prev_day else None)
                db.replace_day(day, org, {"repo_inventory": result.rows})
                context.log.info(f"{org} {day}: {len(result.rows)} repos, "
                                 f"{sum(bool(r['in_scope']) for r in result.rows)} in scope")
                for problem in result.org_config.problems:
                    context.log.warning(f"{org}: {problem.describe()}")
                if day == days[-1]:
                    rows += result.rows
                    excluded = list(result.org_config.exclude)
    errors = [r for r in rows if r.get("error")]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(rows)),
            "repos_in_scope": dg.MetadataValue.int(sum(bool(r["in_scope"]) for r in rows)),
            "repos_carried_forward": dg.MetadataValue.int(sum(bool(r["carried_forward"]) for r in rows)),
            "repos_failed": dg.MetadataValue.int(len(errors)),
            "excluded_patterns": dg.MetadataValue.json(excluded),
            **requests_metadata(source.requests, source.not_modified),
            "preview": md_table(("repo", "in scope", "tier", "status", "why not"),
                                [(r["repo"], r["in_scope"], r.get("tier"), r.get("status"),
                                  r.get("scope_reason") or "") for r in rows]),
        },
        check_results=[
            dg.AssetCheckResult(check_name="inventory_not_empty", passed=bool(rows),
                                metadata={"repos": len(rows)}),
            dg.AssetCheckResult(check_name="no_repo_failed", passed=not errors,
                                severity=dg.AssetCheckSeverity.WARN,
                                metadata={"failed": dg.MetadataValue.json(
                                    [{"repo": r["repo"], "error": r["error"]} for r in errors])}),
        ],
    )


@dg.asset(
    group_name="code", deps=[repo_inventory], **WRITER,
    description="For each in-scope repo and project: every tracked file (config, metadata, workflow, "
                "tool config) with its blob sha, the content of configs and metadata, the commit read, "
                "the projects, the config problems, and the commits that changed tracked files. "
                "Repos with no new commit carry the previous snapshot forward.",
    check_specs=[dg.AssetCheckSpec("no_repo_failed_to_scan", asset="config_snapshots",
                                   description="Every repo in scope was scanned; failed ones are listed.")],
)
def config_snapshots(context: dg.AssetExecutionContext, github: GitHubResource,
                     store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    with _github_run(github, store, days) as (db, source):
        errors, files, counts = [], [], Counter()
        for day in days:
            for org in github.org_list():
                scan = scan_configs(source, org, day_end(day), db.day_rows("repo_inventory", day, org),
                                    _baseline(db, day, org))
                db.put_blobs(scan.blobs)
                db.replace_day(day, org, scan.tables)
                context.log.info(f"{org} {day}: read {scan.count('read')}, carried forward "
                                 f"{scan.count('carried_forward')}, failed {scan.count('failed')}")
                if day == days[-1]:
                    errors += scan.errors
                    files += scan.tables["config_snapshots"]
                    counts.update({m: scan.count(m) for m in ("read", "carried_forward")})
                    counts.update(projects=len(scan.tables["config_projects"]),
                                  problems=len(scan.tables["config_problems"]))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(files)),
            "repos_read": dg.MetadataValue.int(counts["read"]),
            "repos_carried_forward": dg.MetadataValue.int(counts["carried_forward"]),
            "repos_failed": dg.MetadataValue.int(len(errors)),
            "projects": dg.MetadataValue.int(counts["projects"]),
            "config_problems": dg.MetadataValue.int(counts["problems"]),
            **requests_metadata(source.requests, source.not_modified),
            "files_by_kind": md_table(("kind", "files"), Counter(f["kind"] for f in files).most_common()),
        },
        check_results=[dg.AssetCheckResult(
            check_name="no_repo_failed_to_scan", passed=not errors,
            metadata={"failed": dg.MetadataValue.json([{"repo": e["repo"], "error": e["error"]} for e in errors])})],
    )


def _baseline(db: DriftStore, day: date, org: str) -> Baseline:
    prev = db.latest_day_before("config_scan_status", day, org)
    if prev is None:
        return Baseline()
    return Baseline.from_rows(day_end(prev), *(db.day_rows(t, prev, org) for t in
                                               ("config_scan_status", "config_snapshots",
                                                "config_projects", "config_problems")))


def code_states(db: DriftStore, day: date, org: str) -> dict[str, code_rules.RepoCode]:
    """The stored snapshot of one day as the records the code rules evaluate."""
    rows = {t: db.day_rows(t, day, org) for t in SNAPSHOT_TABLES}
    blobs = db.blobs(f["blob_sha"] for f in rows["config_snapshots"] if f.get("content") is None)
    return repo_code_states(org, *(rows[t] for t in SNAPSHOT_TABLES), blobs)


@dg.asset(
    group_name="code", **WRITER,
    deps=[dg.AssetDep(config_snapshots, partition_mapping=TODAY_AND_YESTERDAY)],
    description="Code drift findings of the scan date: config, metadata, workflow and tool-config "
                "changes against the previous snapshot (with diffs and commits), invalid configs, "
                "unresolved registries, tier/ruleset mismatches and projects without standards.",
    check_specs=[dg.AssetCheckSpec("findings_conform", asset="code_drift",
                                   description="Every finding follows the findings contract.")],
)
def code_drift(context: dg.AssetExecutionContext, github: GitHubResource,
               store: DriftStoreResource) -> dg.MaterializeResult:
    all_rows: list[dict] = []
    days = partition_days(context)
    with store.open() as db:
        for day in days:
            for org in github.org_list():
                prev = db.latest_day_before("config_scan_status", day, org)
                findings = code_rules.evaluate(day, code_states(db, day, org),
                                               code_states(db, prev, org) if prev else None)
                rows = [f.row() for f in findings]
                db.replace_day(day, org, {"code_drift": rows})
                if day == days[-1]:
                    all_rows += rows
    bad = [(r["fingerprint"], v) for r in all_rows for v in contract_violations(r)]
    return dg.MaterializeResult(
        metadata=findings_metadata(all_rows),
        check_results=[dg.AssetCheckResult(check_name="findings_conform", passed=not bad,
                                            metadata={"violations": dg.MetadataValue.json(bad[:50])})],
    )
