"""Process assets: each in-scope repo's GitHub settings and default-branch activity, and the drift against them.

The Dagster wiring of the ``process`` rule family (``rules.process.FAMILY``). One scan per repo and
day (``scans.process.scan_process``) fills two assets, ``process_settings`` (live-only) and
``process_activity`` (reconstructable history); ``process_drift`` judges what they stored.
:data:`FINDINGS` is the findings asset, :data:`ASSETS` every asset of the family, upstream first.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

from drift_pipeline.core.rules.process import FAMILY, RepoProcess
from drift_pipeline.core.standards.process_expectations import NOT_EVALUATED
from drift_pipeline.core.standards.process_model import ProcessExpectations
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
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource
from drift_pipeline.scans import process_codec
from drift_pipeline.scans.process import LIVE_FOR, SETTINGS_DOMAIN, ProcessScan, scan_process
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.github_process import ProcessReader
from drift_pipeline.store import DriftStore

SETTINGS = dg.AssetKey("process_settings")
ACTIVITY = dg.AssetKey("process_activity")
LIVE_NOTE = (
    f"GitHub settings are live-only: a day is observed when it ended at most {LIVE_FOR.days} day before "
    "the run (today and yesterday, UTC). Older days are recorded as not observed (table coverage, "
    f"domain '{SETTINGS_DOMAIN}', observed = false) with no settings rows and no settings findings."
)
SETTINGS_DESCRIPTION = (
    "Live GitHub settings of each in-scope repo (one row per repo and setting): the "
    "default branch's effective rules from repo and org rulesets, classic protection where the "
    "token may read it, tag rulesets, CODEOWNERS validity; each expected branch setting with its "
    "verdict and the source that satisfied it. Unreadable settings are rows with readable = false "
    "and the reason, never 'off'; a read no expectation of the repo needs is not made: a row with "
    "state = 'skipped', readable NULL and the reason, never a pass. " + LIVE_NOTE
)
NOT_JUDGED = "; ".join(NOT_EVALUATED.values())


SETTINGS_SPEC = dg.AssetSpec(
    SETTINGS,
    group_name="process",
    deps=[repo_inventory],
    description=SETTINGS_DESCRIPTION,
    metadata={"live_only": dg.MetadataValue.text(LIVE_NOTE)},
)
ACTIVITY_SPEC = dg.AssetSpec(
    ACTIVITY,
    group_name="process",
    deps=[repo_inventory],
    description="The commits that reached each in-scope repo's default branch during the day "
    "(first parent, committer date in the day), each with the pull request that merged it, its "
    "approvals at merge time, its size, head branch and issue references; direct pushes have no "
    "PR. Rebuilt exactly from history for past days; only repos whose head moved are read.",
)


@dg.multi_asset(
    specs=[SETTINGS_SPEC, ACTIVITY_SPEC],
    check_specs=[
        dg.AssetCheckSpec(
            "no_repo_failed",
            asset=SETTINGS,
            description="On every day of the run, every in-scope repo's process settings and activity were read.",
        ),
    ],
    **WRITER,
)
def process_observations(context: dg.AssetExecutionContext, github: GitHubResource, store: DriftStoreResource):
    days = partition_days(context)
    failed: dict[date, list[dict[str, Any]]] = defaultdict(list)
    with github_run(github, store, days) as (db, source):
        meter = RequestMeter(source)
        reader = _planned_reader(source, days)
        for day in days:
            scans: list[ProcessScan] = []
            for org in inventory_orgs(db, day, context):
                inventory = db.day_rows("repo_inventory", day, org)
                scan = scan_process(
                    source, org, day, inventory, reader=reader, progress=org_progress(context, source, org, day)
                )
                store_scan(db, scan)
                failed[day] += failures(scan)
                context.log.info(
                    f"{org} {day}: {len(scan.repos)} repos read, {len(scan.errors)} failed, settings "
                    f"{'observed' if scan.observed_settings else 'not observed'}"
                )
                scans.append(scan)
            requests = meter.since_last()
            settings_meta, activity_meta = _day_metadata(scans)
            record_assets(context, day, {SETTINGS: {**settings_meta, **requests}, ACTIVITY: activity_meta})
    yield from results((SETTINGS, ACTIVITY), [(SETTINGS, check_every_day("no_repo_failed", days, failed))])


def _planned_reader(source: GitHubSource, days: list[date]) -> ProcessReader:
    """The process reader of the run; a range run plans the reads of its whole window once."""
    reader = ProcessReader(source)
    if len(days) > 1:
        reader.plan_window(day_end(days[0] - timedelta(days=1)), day_end(days[-1]))
    return reader


def _json_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or ()]


def _day_metadata(scans: list[ProcessScan]) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = [r for s in scans for r in s.tables["process_settings"]]
    activity = [r for s in scans for r in s.tables["process_activity"]]
    status = [r for s in scans for r in s.tables["process_scan_status"]]
    not_evaluated = sorted({k for r in status for k in _json_list(r.get("not_evaluated"))})
    settings_meta = {
        "dagster/row_count": dg.MetadataValue.int(len(settings)),
        **coverage_metadata(scans),
        "repos_read": dg.MetadataValue.int(sum(r["mode"] == "read" for r in status)),
        "repos_failed": dg.MetadataValue.int(sum(r["mode"] == "failed" for r in status)),
        "settings_not_readable": dg.MetadataValue.int(sum(r["readable"] is False for r in settings)),
        "settings_skipped": dg.MetadataValue.int(sum(r["state"] == "skipped" for r in settings)),
        "settings_by_state": dg.MetadataValue.json(dict(sorted(Counter(r["state"] for r in settings).items()))),
        "not_evaluated_by_this_pipeline": dg.MetadataValue.json(not_evaluated),
        "preview": md_table(
            ("repo", "setting", "state", "source", "reason"),
            [(r["repo"], r["setting"], r["state"], r["source"], r["reason"] or "") for r in settings if r["rule"]],
        ),
    }
    activity_meta = {
        "dagster/row_count": dg.MetadataValue.int(len(activity)),
        "repos_with_commits": dg.MetadataValue.int(len({r["repo"] for r in activity})),
        "direct_pushes": dg.MetadataValue.int(sum(bool(r["direct_push"]) for r in activity)),
        "pull_requests": dg.MetadataValue.int(len({(r["repo"], r["pr_number"]) for r in activity if r["pr_number"]})),
        "preview": md_table(
            ("repo", "commit", "subject", "PR", "approvals"),
            [
                (r["repo"], r["commit_sha"][:7], r["subject"], r["pr_number"] or "direct", r["approvals"])
                for r in activity
            ],
        ),
    }
    return settings_meta, activity_meta


def process_states(
    db: DriftStore, day: date, org: str
) -> Iterator[tuple[dict[str, RepoProcess], dict[str, ProcessExpectations]]]:
    """The stored observations of one day as the records the process rules evaluate, a batch of
    repos at a time in repo order (the rules judge each repo on its own: the day is never decoded whole)."""
    for batch in db.day_batches("process_scan_status", day, org):
        repos, expected = {}, {}
        for row in batch:
            if row["mode"] == "read" and row.get("observed") and row.get("expected"):
                repos[row["repo"]] = process_codec.decode(RepoProcess, row["observed"])
                expected[row["repo"]] = process_codec.decode(ProcessExpectations, row["expected"])
        yield repos, expected


@dg.asset(
    group_name="process",
    **WRITER,
    deps=[SETTINGS, ACTIVITY],
    description="Process drift findings of the scan date: settings against each repo's [process.*] "
    "standards (branch protection, reviews, checks, signatures, bypass lists, tags, CODEOWNERS, required "
    "and forbidden files, workflows, hooks; live days only) and what went around them (direct pushes, "
    "merges without the required approvals, oversized PRs, PRs without issue, branch names, commit "
    "conventions, tickets). What the token could not read is process_not_evaluated. "
    f"Not evaluated by this pipeline: {NOT_JUDGED}.",
    check_specs=[
        dg.AssetCheckSpec(
            "findings_conform",
            asset="process_drift",
            description="On every day of the run, every finding follows the findings contract.",
        )
    ],
)
def process_drift(context: dg.AssetExecutionContext, store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    bad: dict[date, list[dict[str, Any]]] = {}
    with store.open() as db:
        for day in days:
            rows: list[dict[str, Any]] = []
            for org in inventory_orgs(db, day, context):
                org_rows = [
                    f.row()
                    for observed, expected in process_states(db, day, org)
                    for f in FAMILY.evaluate(day, observed, expected)
                ]
                db.replace_day(day, org, {FAMILY.findings_table: org_rows})
                rows += org_rows
            bad[day] = contract_faults(rows)
            meta = findings_metadata(rows)
            meta["settings_observed"] = dg.MetadataValue.bool(day_observed(db, day, SETTINGS_DOMAIN))
            record_day(context, day, meta)
    return dg.MaterializeResult(check_results=[check_every_day("findings_conform", days, bad)])


FINDINGS = process_drift
ASSETS = (process_observations, process_drift)
