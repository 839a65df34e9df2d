"""Infra assets: the AWS accounts' inventories, what each repo declares per env, and the drift between them.

The Dagster wiring of the ``infra`` rule family (``rules.infra.FAMILY``). One scan per org and day
(``scans.infra.scan_infra``, the AWS accounts read once per run) fills ``aws_inventory`` and
``declared_infra`` (both live-only); ``infra_drift`` judges what they stored.
:data:`FINDINGS` is the findings asset, :data:`ASSETS` every asset of the family, upstream first.
"""

import functools
import json
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import dagster as dg

from drift_pipeline.core.rules.infra import FAMILY
from drift_pipeline.defs.assets.github_run import github_run
from drift_pipeline.defs.assets.inventory import inventory_orgs, repo_inventory
from drift_pipeline.defs.assets.metadata import (
    check_every_day,
    contract_faults,
    findings_metadata,
    md_table,
    record_day,
)
from drift_pipeline.defs.assets.observation import (
    coverage_metadata,
    day_observed,
    failures,
    org_progress,
    record_assets,
    results,
    store_scan,
)
from drift_pipeline.defs.assets.partitions import WRITER, partition_days
from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource
from drift_pipeline.scans.infra import (
    INFRA_DOMAIN,
    InfraScan,
    assume_failures,
    judge,
    read_world,
    scan_infra,
    stored_observed,
    stored_repos,
)
from drift_pipeline.scans.process import LIVE_FOR
from drift_pipeline.store import DriftStore

INVENTORY = dg.AssetKey("aws_inventory")
DECLARED = dg.AssetKey("declared_infra")
LIVE_NOTE = (
    f"AWS is live-only: a day is observed when it ended at most {LIVE_FOR.days} day before the run "
    "(today and yesterday, UTC), as GitHub settings. Older days are recorded as not observed (table "
    f"coverage, domain '{INFRA_DOMAIN}', observed = false) with no inventory, declared or drift rows."
)


INVENTORY_SPEC = dg.AssetSpec(
    INVENTORY,
    group_name="infra",
    description="Per AWS account (dev, staging, prod: the read-only role assumed in each) and region, "
    "the resources that exist: the tagging API's resources plus security groups, buckets, Lambda "
    "functions, IAM roles and policies through their own calls, and CloudFormation stacks; each with "
    "ARN, type, tags and the attributes drift is checked on (rules, policy documents, public-access "
    "block, encryption, versioning, runtime / memory / timeout, environment variable NAMES only). "
    "An account or service that could not be read is a row with read_failure. Drift is judged by "
    "CloudFormation's own drift detection where the service offers it, else by the project's comparison "
    "(metadata drift_method_per_account). The accounts are read "
    "once per run; their rows are stored under each org the run scans. " + LIVE_NOTE,
    metadata={"live_only": dg.MetadataValue.text(LIVE_NOTE)},
)
DECLARED_SPEC = dg.AssetSpec(
    DECLARED,
    group_name="infra",
    deps=[repo_inventory],
    description="Per in-scope repo (project) and env, what should exist: the resources of its "
    "stacks (JSON or YAML templates) as committed at the env's deployed commit (the stack's "
    "drift:commit tag, else the repo's [infra.deploy] convention: dev = head of the default branch, "
    "staging = newest v*-rc* release tag, prod = newest v* release tag without a suffix; deployed_from "
    "says which), with logical id, physical id, type and declared properties, and its infra "
    "manifest entries (as committed there) with their line. Pre-release repos expect nothing in prod.",
)


@dg.multi_asset(
    specs=[INVENTORY_SPEC, DECLARED_SPEC],
    check_specs=[
        dg.AssetCheckSpec(
            "all_accounts_read",
            asset=INVENTORY,
            description="On every observed day of the run, every AWS account's role could be assumed.",
        ),
        dg.AssetCheckSpec(
            "no_repo_failed",
            asset=DECLARED,
            description="On every day of the run, every in-scope repo's declared infra was read.",
        ),
    ],
    **WRITER,
)
def infra_observations(
    context: dg.AssetExecutionContext, github: GitHubResource, store: DriftStoreResource, aws: AwsResource
):
    days = partition_days(context)
    failed: dict[date, list[dict[str, Any]]] = defaultdict(list)
    unreached: dict[date, list[dict[str, Any]]] = defaultdict(list)
    access, regions = aws.access(), aws.region_list()
    the_world = functools.cache(lambda: read_world(access, aws.account_refs(), regions))  # once, when first needed
    with github_run(github, store, days) as (db, source):
        for day in days:
            scans: list[InfraScan] = []
            for org in inventory_orgs(db, day, context):
                inventory = db.day_rows("repo_inventory", day, org)
                progress = org_progress(context, source, org, day)
                scan = scan_infra(source, org, day, inventory, world=the_world, region=regions[0], progress=progress)
                store_scan(db, scan)
                failed[day] += failures(scan)
                if scan.world is not None:
                    unreached[day] = assume_failures(scan.world)
                context.log.info(
                    f"{org} {day}: infra {'observed' if scan.observed else 'not observed'}, "
                    f"{len(scan.repos)} declaring project(s), {len(scan.errors)} repo(s) failed"
                )
                scans.append(scan)
            inv_meta, declared_meta = _day_metadata(scans)
            record_assets(context, day, {INVENTORY: inv_meta, DECLARED: declared_meta})
    yield from results(
        (INVENTORY, DECLARED),
        [
            (INVENTORY, check_every_day("all_accounts_read", days, unreached, dg.AssetCheckSeverity.WARN)),
            (DECLARED, check_every_day("no_repo_failed", days, failed)),
        ],
    )


def _day_metadata(scans: list[InfraScan]) -> tuple[dict[str, Any], dict[str, Any]]:
    inventory = [r for s in scans for r in s.tables["aws_inventory"]]
    declared = [r for s in scans for r in s.tables["declared_infra"]]
    status = [r for s in scans for r in s.tables["infra_scan_status"]]
    world = next((s.world for s in scans if s.world is not None), None)
    per_account = Counter(f"{r['env']} ({r['account']})" for r in inventory if not r.get("read_failure"))
    inv_meta = {
        "dagster/row_count": dg.MetadataValue.int(len(inventory)),
        **coverage_metadata(scans),
        "resources_per_account": dg.MetadataValue.json(dict(sorted(per_account.items()))),
        "accounts_not_reached": dg.MetadataValue.json(assume_failures(world) if world else []),
        "read_failures": dg.MetadataValue.int(sum(bool(r.get("read_failure")) for r in inventory)),
        "drift_method": dg.MetadataValue.text(", ".join(world.methods) if world else "not observed"),
        "drift_method_per_account": dg.MetadataValue.json(world.methods_by_account() if world else {}),
        "preview": md_table(
            ("env", "type", "arn"), [(r["env"], r["type"], r["arn"]) for r in inventory if not r.get("read_failure")]
        ),
    }
    declared_meta = {
        "dagster/row_count": dg.MetadataValue.int(len(declared)),
        "repos_declaring_infra": dg.MetadataValue.int(sum(r["mode"] == "read" for r in status)),
        "repos_failed": dg.MetadataValue.int(sum(r["mode"] == "failed" for r in status)),
        "resources_per_env": dg.MetadataValue.json(dict(sorted(Counter(r["env"] for r in declared).items()))),
        "preview": md_table(
            ("repo", "env", "commit", "stack", "logical id", "type"),
            [
                (
                    r["repo"],
                    r["env"],
                    (r.get("deployed_commit") or "")[:7],
                    r.get("stack"),
                    r.get("logical_id"),
                    r.get("type"),
                )
                for r in declared
            ],
        ),
    }
    return inv_meta, declared_meta


@dg.asset(
    group_name="infra",
    **WRITER,
    deps=[INVENTORY, DECLARED],
    description="Infra drift findings of the scan date: resource_missing (declared by the deployed commit, "
    "absent), resource_orphaned (tagged for the repo, project or stack, not declared), attribute_drift "
    "(expected vs actual per property: a security-group rule, an IAM statement), "
    "deprecated_resources_remaining, backup_stale ([process.backups]), infra_not_evaluated (an account "
    "or service that could not be read, with the reason), and invalid_config for a malformed manifest "
    "or template line. Pre-release repos skip prod. Live days only.",
    check_specs=[
        dg.AssetCheckSpec(
            "findings_conform",
            asset="infra_drift",
            description="On every day of the run, every finding follows the findings contract.",
        )
    ],
)
def infra_drift(context: dg.AssetExecutionContext, store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    bad: dict[date, list[dict[str, Any]]] = {}
    with store.open() as db:
        for day in days:
            rows: list[dict[str, Any]] = []
            methods: set[str] = set()
            for org in inventory_orgs(db, day, context):
                org_rows = [f.row() for f in stored_findings(db, day, org, methods)]
                db.replace_day(day, org, {FAMILY.findings_table: org_rows})
                rows += org_rows
            bad[day] = contract_faults(rows)
            meta = findings_metadata(rows)
            meta["infra_observed"] = dg.MetadataValue.bool(day_observed(db, day, INFRA_DOMAIN))
            meta["drift_method"] = dg.MetadataValue.text(", ".join(sorted(methods)) or "not observed")
            record_day(context, day, meta)
    return dg.MaterializeResult(check_results=[check_every_day("findings_conform", days, bad)])


def stored_findings(db: DriftStore, day: date, org: str, methods: set[str] | None = None) -> list[Any]:
    """The infra findings of one stored day and org (none when the day was not observed)."""
    observed_rows = db.day_rows("infra_observed", day, org)
    if not observed_rows:
        return []
    row = observed_rows[0]
    if methods is not None:
        methods.update(json.loads(row["drift_methods"] or "[]"))
    repos, problems = stored_repos(db.day_rows("infra_scan_status", day, org))
    return judge(day, org, stored_observed(row), repos, problems)


FINDINGS = infra_drift
ASSETS = (infra_observations, infra_drift)
