"""Dagster wiring for issue filing: the ``file_drift_issues`` job and the sensor that starts it.

The sensor decides, the job acts. Each new materialisation of a ``drift_findings`` partition
(a single-run backfill records one event per day) asks for one run of that day with the run key
``issues:<day>:<findings version>``, the version being a hash of the day's fingerprints in the
store: a tick never files a day twice (the daemon skips a known run key, and so does the sensor),
and a re-materialised day whose findings changed gets a new key, whose run files only what is new
(the filer leaves out fingerprints of that day already in an issue).
"""

from datetime import UTC, date, datetime
from typing import Literal

import dagster as dg
from pydantic import Field

from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.defs.assets.partitions import daily
from drift_pipeline.defs.orgs import canonical_orgs
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.issues import inert, ledger
from drift_pipeline.issues.audit import DEFAULT_THRESHOLD, iso_week, run_audit
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.issues.closing import close_day
from drift_pipeline.issues.filing import IssueFiler, findings_of_day
from drift_pipeline.issues.render import group_findings
from drift_pipeline.sources.github_auth import app_slug
from drift_pipeline.store import DriftStore

FINDINGS = dg.AssetKey("drift_findings")


class FilingConfig(dg.Config):
    dry_run: bool = Field(default=False, description="Compute what would be filed; write nothing to GitHub.")
    on_repeat: Literal["comment", "new_issue", "skip"] = Field(
        default="comment",
        description="When an open issue already lists exactly these findings: comment on it (default), "
        "open a new issue anyway, or skip.",
    )
    config_repo: str = Field(
        default="drift-config",
        description="Repo of the org that takes the issues of repos that cannot (archived, issues disabled).",
    )
    auto_close: bool = Field(
        default=False,
        description="Close (with a comment) open drift:<category> issues whose findings are gone, only for "
        "repos evaluated that day in that category (from the stored status and coverage tables).",
    )


@dg.op(
    pool="duckdb",
    description="File the partition's findings as GitHub issues, one per repo and category, exactly once.",
)
def file_drift_issues_op(
    context: dg.OpExecutionContext, config: FilingConfig, github: GitHubResource, store: DriftStoreResource
) -> dg.Output[dict[str, int]]:
    day = date.fromisoformat(context.partition_key)
    source = github.source()
    with store.open() as db:
        groups = group_findings(findings_of_day(db, day))
        filer = IssueFiler(
            source.github,
            db,
            RULES,
            on_repeat=config.on_repeat,
            dry_run=config.dry_run,
            max_rate_limit_wait=github.max_rate_limit_wait_seconds,
            config_repo=config.config_repo,
            app_slug=app_slug(source.github),  # an App files as <slug>[bot]
        )
        report = filer.file_day(day, groups)
        if config.auto_close:
            closing = close_day(filer, db, day)
            report.outcomes += closing.outcomes
            report.failures.update(closing.failures)
    for o in report.outcomes:
        where = f" #{o.number} {o.url}" if o.number else ""
        where += f" (routed to {o.target_repo})" if o.target_repo else ""
        context.log.info(f"{o.org}/{o.repo} {o.category}: {o.action}{where} ({len(o.fingerprints)} finding(s))")
    if report.failures:
        raise dg.Failure(
            f"Filing failed for {len(report.failures)} group(s); a retry files only what is missing",
            metadata={k: dg.MetadataValue.text(v) for k, v in sorted(report.failures.items())},
        )
    counts = report.actions()
    planned = [o for o in report.outcomes if o.action.startswith("would_")]
    preview = "\n".join(
        f"- {inert.code(f'{o.org}/{o.repo}')} {o.category}: {o.action}"
        + (f" **{o.issue.title}**" if o.issue else f" on #{o.number}")
        for o in planned
    )
    return dg.Output(
        counts,
        metadata={
            **({"would_file": dg.MetadataValue.md(preview)} if planned else {}),
            "groups": len(groups),
            "dry_run": config.dry_run,
            "auto_close": config.auto_close,
            "rate_limit_waits": filer.client.rate_limit_waits,
            **{f"action_{k}": v for k, v in sorted(counts.items())},
        },
    )


@dg.job(
    partitions_def=daily,
    description="Turn a scan date's drift_findings into GitHub issues (labels drift:<category>), exactly once.",
)
def file_drift_issues() -> None:
    file_drift_issues_op()


def run_key(store: DriftStore, day: date) -> str | None:
    """``issues:<day>:<version>``, or None when the day has no findings (nothing to file)."""
    fingerprints = ledger.day_fingerprints(store, day)
    return f"issues:{day.isoformat()}:{ledger.findings_version(fingerprints)}" if fingerprints else None


@dg.sensor(
    job=file_drift_issues,
    minimum_interval_seconds=60,
    description="One file_drift_issues run per drift_findings partition materialised, per findings version.",
)
def drift_issue_sensor(context: dg.SensorEvaluationContext, store: DriftStoreResource) -> dg.SensorResult:
    after = int(context.cursor) if context.cursor else None
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=FINDINGS, after_storage_id=after), limit=1000, ascending=True
    ).records
    if not records:
        return dg.SensorResult(skip_reason="no new drift_findings materialisation")
    days = sorted({r.partition_key for r in records if r.partition_key})
    requests = []
    with store.open() as db:
        for day in days:
            key = run_key(db, date.fromisoformat(day))
            if key is None:
                continue
            done = context.instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": key}), limit=1)
            if not done:
                requests.append(dg.RunRequest(run_key=key, partition_key=day))
    return dg.SensorResult(run_requests=requests, cursor=str(max(r.storage_id for r in records)))


class AuditConfig(dg.Config):
    threshold: int = Field(default=DEFAULT_THRESHOLD, ge=0, description="Repos with more open drift issues are listed.")
    config_repo: str = Field(default="drift-config", description="Repo of the org that takes the summary issue.")
    dry_run: bool = Field(default=False, description="Compute the summary; open no issue.")
    at: str = Field(default="", description="ISO instant the audit is for (its ISO week); empty: now.")


@dg.op(pool="duckdb", description="Count open drift:* issues per repo and open one summary issue per org and week.")
def drift_audit_op(
    context: dg.OpExecutionContext,
    config: AuditConfig,
    github: GitHubResource,
    store: DriftStoreResource,
    scope: ScanScopeResource,
) -> dg.Output[dict[str, str]]:
    now = datetime.fromisoformat(config.at) if config.at else datetime.now(UTC)
    source = github.source()
    gh = source.github
    client = IssueClient(gh, max_rate_limit_wait=github.max_rate_limit_wait_seconds)
    slug = app_slug(gh)  # an App's summaries are authored by <slug>[bot]
    actions: dict[str, str] = {}
    with store.open() as db:
        for org in canonical_orgs(source, scope.org_list()):  # audited and recorded as GitHub spells it
            result = run_audit(
                client,
                db,
                org,
                now=now,
                threshold=config.threshold,
                config_repo=config.config_repo,
                dry_run=config.dry_run,
                app_slug=slug,
            )
            actions[org] = result.action
            context.log.info(
                f"{org} {result.week}: {len(result.repos)} repo(s) above {config.threshold}; {result.action}"
                + (f" {result.url}" if result.url else "")
            )
    return dg.Output(actions, metadata={f"action_{k}": v for k, v in sorted(actions.items())})


@dg.job(description="Weekly: repos above the threshold of open drift:* issues, one summary issue in drift-config.")
def drift_audit() -> None:
    drift_audit_op()


@dg.schedule(
    job=drift_audit,
    cron_schedule="0 3 * * 1",
    execution_timezone="Europe/London",
    description="Every Monday at 03:00 Europe/London; the run key is the ISO week, so a week is audited once.",
)
def weekly_audit_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    when = context.scheduled_execution_time.astimezone(UTC)
    return dg.RunRequest(
        run_key=f"audit:{iso_week(when.date())}",
        run_config={"ops": {"drift_audit_op": {"config": {"at": when.isoformat()}}}},
    )


JOBS = [file_drift_issues, drift_audit]
SENSORS = [drift_issue_sensor]
SCHEDULES = [weekly_audit_schedule]
