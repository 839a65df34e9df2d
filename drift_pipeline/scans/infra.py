"""The infra domain's scan: the AWS accounts' inventories against what each in-scope repo declares.

Shared by the assets and ``drift infra scan`` so they never diverge:

- :func:`read_world` reads every account once per run (not per repo): it assumes the read-only
  role in each account (``AwsAccess``), reads the inventory per region (``sources.aws_inventory``;
  an account that cannot be assumed is a recorded failure, the others are read) and the newest
  object under each backup prefix the repos declare;
- :func:`scan_infra` reads, per in-scope repo of the day's inventory, its declared infra
  (``scans.infra_declared``) concurrently, each repo on its own: one repo's garbage is that repo's
  ``invalid_config`` problem or recorded failure, never the partition's.

Live-only. AWS is observable only now, with the same cut-off as GitHub settings
(``scans.process.LIVE_FOR``): a day is observed when it ended at most one day before the scan
(today and yesterday, UTC). An older day is recorded as not observed (a coverage row, domain
``infra``, ``observed = false``), nothing is read from AWS and no infra finding is made.

Drift method, per account: CloudFormation's own drift detection where the service offers it
(``sources.aws_cfn_drift``), else the project's comparison (template at the deployed commit
against the described resource; the emulator has no drift detection). Both give the same finding
shape; the metadata and the CLI summary name the method per account (``World.methods_by_account``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import boto3

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules import infra as infra_rules
from drift_pipeline.core.rules.base import Finding, make_finding
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.core.rules.infra.records import (
    BackupObservation,
    InfraObserved,
    RepoInfra,
)
from drift_pipeline.core.standards.model import INVALID_CONFIG
from drift_pipeline.scans import process_codec
from drift_pipeline.scans.infra_declared import Declared, declare_repo
from drift_pipeline.scans.infra_rows import (  # noqa: F401  (World and METHODS: re-exported)
    METHODS,
    PROJECT_COMPARISON,
    World,
    inventory_rows,
    observed_row,
    stored_observed,
    stored_repos,
)
from drift_pipeline.scans.perrepo import Progress, failure_message, map_repos, workers_for
from drift_pipeline.scans.process import LIVE_FOR
from drift_pipeline.scans.reading import CodeSource, SourceRegistryFetcher
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.aws import AccountRef, AssumeRoleError, AwsAccess
from drift_pipeline.sources.aws_inventory import newest_backup, read_inventories
from drift_pipeline.sources.github_tags import tag_reader

INFRA_DOMAIN = "infra"
TABLES = ("aws_inventory", "declared_infra", "infra_scan_status", "infra_observed")


def infra_observable(day: date, now: datetime) -> tuple[bool, str | None]:
    """AWS is live-only: observed when ``day`` ended at most ``LIVE_FOR`` before ``now`` (as process settings)."""
    if day_end(day) >= now - LIVE_FOR:
        return True, None
    return False, (
        f"AWS inventories are live-only: {day} ended more than {LIVE_FOR.days} day before the scan "
        f"({now:%Y-%m-%d %H:%M} UTC), so its infra was not observed"
    )


def read_world(
    access: AwsAccess,
    refs: Sequence[AccountRef],
    regions: Sequence[str],
    *,
    base_session: boto3.Session | None = None,
    now: datetime | None = None,
) -> World:
    """Assume the role in every account of ``refs`` and read its inventory (failures recorded)."""
    sessions: dict[str, boto3.Session] = {}
    base = base_session or access.base_session()

    def connect(ref: AccountRef) -> boto3.Session:
        session = access.connect(ref.account_id, base_session=base)
        sessions[ref.account_id] = session
        return session

    inventories = read_inventories(refs, connect=connect, regions=regions, detect_timeout=access.detect_timeout)
    observed = InfraObserved(as_of=now or datetime.now(UTC), accounts=inventories)
    return World(observed, {r.account_id: r.env for r in refs}, sessions)


def read_backups(world: World, repos: Sequence[RepoInfra]) -> None:
    """The newest object under each declared backup prefix: in the first reached account holding the bucket."""
    found: dict[tuple[str, str], BackupObservation] = dict(world.observed.backups)
    for repo in repos:
        want = repo.backups
        if want is None or (want.bucket, want.prefix) in found:
            continue
        last: BackupObservation | None = None
        for account in world.envs:  # the pipeline's account order (dev first), only accounts reached
            session = world.sessions.get(account)
            if session is None:
                continue
            last = newest_backup(session, want.bucket, want.prefix, account=account)
            if last.failure is None:
                break
        if last is not None:
            found[(want.bucket, want.prefix)] = last
    world.observed = InfraObserved(world.observed.as_of, world.observed.accounts, found)


@dataclass
class InfraScan:
    """One org and day: table rows, each repo's declared infra, its problems, and failures."""

    org: str
    day: date
    observed: bool
    reason: str | None
    world: World | None = None
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    repos: dict[str, RepoInfra] = field(default_factory=dict)  # "repo" or "repo:project" -> declared
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [
            {"repo": r["repo"], "error": r["error"]} for r in self.tables["infra_scan_status"] if r["mode"] == "failed"
        ]

    def coverage(self) -> dict[str, Any]:
        return {"domain": INFRA_DOMAIN, "observed": self.observed, "reason": self.reason}

    def findings(self) -> list[Finding]:
        if not self.observed or self.world is None:
            return []
        return judge(self.day, self.org, self.world.observed, self.repos, self.problems)


def judge(
    day: date, org: str, observed: InfraObserved, repos: Mapping[str, RepoInfra], problems: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """The infra rules over every repo, plus one ``invalid_config`` finding per manifest/template problem."""
    findings = infra_rules.evaluate(day, observed, repos)
    spec = RULES[INVALID_CONFIG]
    for p in problems:
        where = f"{p['file']}:{p['line']}" if p.get("line") else str(p["file"])
        findings.append(
            make_finding(
                spec,
                scan_date=day,
                org=org,
                repo=p["repo"],
                project=p["project"],
                message=f"{where}: {p['message']}",
                subject=f"infra:{p['file']}:{p.get('key') or ''}:{p.get('line') or ''}",
                details={k: p.get(k) for k in ("file", "line", "key", "message")},
            )
        )
    return findings


def scan_infra(
    source: CodeSource,
    org: str,
    day: date,
    inventory: Sequence[Mapping[str, Any]],
    *,
    world: World | Callable[[], World] | None,
    region: str,
    now: datetime | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> InfraScan:
    """The infra observations of ``org`` on ``day``. ``world`` is read once per run by the caller
    (or lazily, only when the day is observable: pass a callable)."""
    now = now or datetime.now(UTC)
    observed, reason = infra_observable(day, now)
    scan = InfraScan(org, day, observed, reason)
    if not observed:
        return scan
    scan.world = world() if callable(world) else world
    if scan.world is None:
        raise ValueError("scan_infra: an observable day needs the AWS world")
    todo = [r for r in inventory if (r.get("in_scope") or r.get("error")) and (not only or r["repo"] in only)]
    one = _declarer(source, org, day, scan.world, region=region, now=now)
    parts = map_repos(
        one,
        todo,
        workers_for(source),
        progress=progress,
        name=lambda r: r["repo"],
        failed=lambda p: isinstance(p[1], str),
    )
    for name, part in parts:
        _add_repo(scan, name, part)
    read_backups(scan.world, list(scan.repos.values()))
    scan.tables["aws_inventory"] = inventory_rows(scan.world)
    scan.tables["infra_observed"] = [observed_row(scan.world)]
    return scan


def _declarer(
    source: CodeSource, org: str, day: date, world: World, *, region: str, now: datetime
) -> Callable[[Mapping[str, Any]], tuple[str, Declared | str]]:
    """What reads one inventory row's declared infra: the repo's ``Declared``, or its failure as text
    (an exception is caught here: one repo's failure is that repo's status row, not the scan's)."""
    accounts = {env: account for account, env in world.envs.items()}
    fetcher = SourceRegistryFetcher(source, org, day_end(day))
    inventories = world.observed.accounts
    tags = tag_reader(source)

    def one(row: Mapping[str, Any]) -> tuple[str, Declared | str]:
        if row.get("error"):
            return row["repo"], mask_secrets(str(row["error"]))
        if not row.get("head_sha"):
            return row["repo"], Declared()
        try:
            return row["repo"], declare_repo(
                source,
                fetcher,
                org,
                row,
                accounts=accounts,
                observed=inventories,
                region=region,
                tags=tags,
                until=day_end(day),
                now=now,
            )
        except Exception as exc:
            return row["repo"], failure_message(row["repo"], "reading its declared infra", exc)

    return one


def _add_repo(scan: InfraScan, name: str, part: Declared | str) -> None:
    """One repo's declared infra (or failure) into ``scan``: its records, problems, rows and status."""
    if isinstance(part, str):
        scan.tables["infra_scan_status"].append({"repo": name, "mode": "failed", "error": part})
        return
    for repo in part.repos:
        scan.repos[name if repo.project == "." else f"{name}:{repo.project}"] = repo
    scan.problems += [{"repo": name, **p} for p in part.problems]
    scan.tables["declared_infra"] += part.rows
    scan.tables["infra_scan_status"].append(
        {
            "repo": name,
            "mode": "read" if part.repos else "no_infra",
            "error": None,
            "projects": [r.project for r in part.repos],
            "problems": part.problems,
            "expected": process_codec.encode(list(part.repos)),
        }
    )


def assume_failures(world: World) -> list[dict[str, Any]]:
    """The accounts whose role could not be assumed (for metadata and the CLI's summary)."""
    return [
        {"account": a, "env": world.envs.get(a), "code": f.code}
        for a, inv in sorted(world.observed.accounts.items())
        for f in inv.failures
        if f.service == "sts"
    ]


__all__ = [
    "INFRA_DOMAIN",
    "AssumeRoleError",
    "InfraScan",
    "World",
    "infra_observable",
    "judge",
    "read_world",
    "scan_infra",
    "stored_observed",
    "stored_repos",
]
