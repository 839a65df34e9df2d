"""Infra drift of one repo: observed inventories per account against what each env should hold.

Per env of the repo (prod skipped for pre-release repos):

- the account unread, or a service of it unread -> ``infra_not_evaluated`` (and nothing is judged
  on what could not be read: no false ``resource_missing``);
- deprecated repo -> ``deprecated_resources_remaining`` listing every stack and resource still tied
  to it (nothing else is judged: all of it should be gone);
- otherwise ``resource_missing`` (declared by the deployed commit, absent), ``attribute_drift``
  (one finding per differing property item: a security-group rule, an IAM statement),
  ``resource_orphaned`` (tied to the repo by its tags or its stack, not declared).

Subjects are stable across days: ``<env>/<stack>/<LogicalId>``, ``<env>/<stack>/<LogicalId>:<property>[item]``,
an ARN, or ``<env>/<stack>``; so are the fingerprints built from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from drift_pipeline.core.rules.base import Finding, RuleSpec, make_finding
from drift_pipeline.core.rules.infra.cfn import judge_resource
from drift_pipeline.core.rules.infra.compared import judge_compared
from drift_pipeline.core.rules.infra.records import (
    NOT_SCANNED,
    TAG_CFN_STACK,
    TAG_PROJECT,
    TAG_REPO,
    AccountInventory,
    ExpectedEnv,
    InfraObserved,
    ObservedStack,
    ReadFailure,
    RepoInfra,
)
from drift_pipeline.core.rules.infra.template import arn_for
from drift_pipeline.core.standards.infra_manifest import ManifestEntry

PROD = "prod"

# Which service must have been read to judge a resource type (the tagging API covers the rest).
_SERVICE_OF_TYPE = {
    "AWS::IAM::Role": "iam",
    "AWS::EC2::SecurityGroup": "ec2",
    "AWS::S3::Bucket": "s3",
    "AWS::Lambda::Function": "lambda",
}


@dataclass
class Context:
    day: date
    repo: RepoInfra
    specs: dict[str, RuleSpec]
    out: list[Finding] = field(default_factory=list)

    def add(self, rule: str, env: ExpectedEnv | None, subject: str, message: str, details: dict[str, Any]) -> None:
        commit = env.commit if env else None
        url = f"{self.repo.commit_url_base}{commit}" if commit and self.repo.commit_url_base else None
        self.out.append(
            make_finding(
                self.specs[rule],
                scan_date=self.day,
                org=self.repo.org,
                repo=self.repo.repo,
                project=self.repo.project,
                message=message,
                subject=subject,
                details=details,
                commit_sha=commit,
                commit_url=url,
            )
        )


def _failure_details(env: str, failure: ReadFailure) -> dict[str, Any]:
    return {
        "env": env,
        "account": failure.account,
        "service": failure.service,
        "region": failure.region,
        "code": failure.code,
        "reason": failure.reason,
    }


def _not_evaluated(ctx: Context, env: ExpectedEnv, failure: ReadFailure) -> None:
    what = "the account could not be assumed" if failure.service == "sts" else f"{failure.service} could not be read"
    where = f"/{failure.region}" if failure.region else ""
    ctx.add(
        "infra_not_evaluated",
        env,
        f"{env.env}/{failure.service}{where}",
        f"{env.env} ({failure.account}): {what} ({failure.code}); its infra was not judged",
        _failure_details(env.env, failure),
    )


def _stack_names(env: ExpectedEnv) -> set[str]:
    return {s.name for s in env.stacks}


def _tied(resource_tags: Any, repo: RepoInfra, stacks: set[str]) -> bool:
    tags = dict(resource_tags)
    if tags.get(TAG_CFN_STACK) in stacks:
        return True
    if tags.get(TAG_REPO) != repo.full_name:
        return False
    return tags.get(TAG_PROJECT, repo.project) == repo.project


def _tied_stacks(inv: AccountInventory, repo: RepoInfra, env: ExpectedEnv) -> list[ObservedStack]:
    names = _stack_names(env)
    return [s for s in inv.stacks if s.name in names or _tied(s.tags, repo, set())]


def _deprecated(ctx: Context, env: ExpectedEnv, inv: AccountInventory) -> None:
    repo = ctx.repo
    stacks = _tied_stacks(inv, repo, env)
    names = _stack_names(env) | {s.name for s in stacks}
    in_stacks: set[str] = set()
    existing = {r.arn for r in inv.resources}
    for stack in sorted(stacks, key=lambda s: s.name):
        # what still exists of the stack (an unmapped type cannot be checked: listed by physical id)
        arns = sorted(
            {
                arn
                for r in stack.resources
                for arn in [arn_for(r.type, r.physical_id, inv.account, stack.region) or r.physical_id]
                if arn and (arn in existing or not arn.startswith("arn:"))
            }
        )
        in_stacks.update(arns)
        in_stacks.add(stack.stack_id)
        ctx.add(
            "deprecated_resources_remaining",
            env,
            f"{env.env}/{stack.name}",
            f"{repo.full_name} is deprecated but stack {stack.name} is still deployed in {env.env} "
            f"({len(arns)} resources)",
            {
                "env": env.env,
                "account": inv.account,
                "stack": stack.name,
                "stack_id": stack.stack_id,
                "resources": arns,
                "expected": "deleted",
                "actual": "present",
            },
        )
    loose = sorted(r.arn for r in inv.resources if _tied(r.tags, repo, names) and r.arn not in in_stacks)
    if loose:
        ctx.add(
            "deprecated_resources_remaining",
            env,
            f"{env.env}/outside-stacks",
            f"{repo.full_name} is deprecated but {len(loose)} resources tagged for it remain in {env.env}",
            {"env": env.env, "account": inv.account, "resources": loose, "expected": "deleted", "actual": "present"},
        )


def _judge_env(ctx: Context, env: ExpectedEnv, inv: AccountInventory) -> None:
    """A reached env of a repo not deprecated: each deployed stack's resources (CloudFormation's
    detection where it ran, else the project's comparison), the manifest's entries, then orphans."""
    failed = inv.failed_services()
    by_arn = {r.arn: r for r in inv.resources}
    by_physical = {r.physical_id: r for r in inv.resources if r.physical_id}
    stack_names = _stack_names(env)
    declared: set[str] = {s.stack_id for s in inv.stacks if s.name in stack_names}
    cfn_checked = {s.name: s.drift for s in inv.stacks if s.name in stack_names and s.drift is not None}

    for stack in env.stacks:
        if not stack.deployed and "cloudformation" in failed:
            continue
        if not stack.deployed:
            ctx.add(
                "resource_missing",
                env,
                f"{env.env}/{stack.name}",
                f"stack {stack.name} is declared for {env.env} at the deployed commit but does not exist",
                {"env": env.env, "account": env.account, "stack": stack.name, "expected": "present", "actual": None},
            )
            continue
        checked = cfn_checked.get(stack.name)  # CloudFormation's own drift detection, when it ran
        for res in stack.resources:
            if res.arn:
                declared.add(res.arn)
            if res.physical_id:
                declared.add(res.physical_id)
            if checked is not None:
                judge_resource(ctx.add, env, stack, res, checked.get(res.logical_id), _short)
            elif _SERVICE_OF_TYPE.get(res.type, "tagging") not in failed:  # else: reported as infra_not_evaluated
                found = by_arn.get(res.arn or "") or by_physical.get(res.physical_id or "")
                judge_compared(ctx.add, env, stack, res, found, inv, _short)

    for entry in env.manifest:
        declared.add(entry.resource)
        if "tagging" not in failed and entry.resource not in by_arn and entry.resource not in by_physical:
            _manifest_missing(ctx, env, entry, f"for {env.env}")
    declared.update(e.resource for e in ctx.repo.manifest_anywhere)

    if "cloudformation" in failed:
        return  # what the stacks declare is unknown: an undeclared-looking resource proves nothing
    _orphaned(ctx, env, inv, declared, stack_names)


def _orphaned(ctx: Context, env: ExpectedEnv, inv: AccountInventory, declared: set[str], stacks: set[str]) -> None:
    """``resource_orphaned`` for each resource tied to the repo (by its tags or ``stacks``) that
    nothing ``declared`` names, by ARN."""
    for obs in sorted(inv.resources, key=lambda r: r.arn):
        if obs.arn in declared or obs.physical_id in declared:
            continue
        if not _tied(obs.tags, ctx.repo, stacks):
            continue
        ctx.add(
            "resource_orphaned",
            env,
            obs.arn,
            f"{obs.type or 'resource'} {obs.arn} in {env.env} is tagged for {ctx.repo.full_name} "
            "but no deployed stack or manifest declares it",
            {
                "env": env.env,
                "account": inv.account,
                "arn": obs.arn,
                "type": obs.type,
                "tags": dict(obs.tags),
                "expected": None,
                "actual": "present",
            },
        )


def _manifest_missing(ctx: Context, env: ExpectedEnv | None, entry: ManifestEntry, where: str) -> None:
    file = ctx.repo.manifest_file
    ctx.add(
        "resource_missing",
        env,
        entry.resource,
        f"{entry.resource} is declared by the infra manifest ({file or 'manifest'}:{entry.line}) {where} "
        "but does not exist",
        {
            "env": env.env if env else None,
            "account": env.account if env else None,
            "resource": entry.resource,
            "source": "manifest",
            "manifest": file,
            "line": entry.line,
            "expected": "present",
            "actual": None,
        },
    )


def _manifest_anywhere(ctx: Context, observed: InfraObserved) -> None:
    """Entries naming no account: missing only when every judged account was read and none has them."""
    if not ctx.repo.manifest_anywhere:
        return
    seen: set[str] = set()
    for env in ctx.repo.envs:
        if ctx.repo.status == "pre-release" and env.env == PROD:
            continue
        inv = observed.accounts.get(env.account)
        if inv is None or not inv.reached or "tagging" in inv.failed_services():
            return  # not every account could be read: absence is not proven
        seen.update(r.arn for r in inv.resources)
        seen.update(r.physical_id for r in inv.resources)
    for entry in ctx.repo.manifest_anywhere:
        if entry.resource not in seen:
            _manifest_missing(ctx, None, entry, "in no scanned account")


def _short(value: Any) -> str:
    text = "absent" if value is None else str(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _backups(ctx: Context, observed: InfraObserved) -> None:
    want = ctx.repo.backups
    if want is None:
        return
    where = f"s3://{want.bucket}/{want.prefix}"
    subject = f"backup:{where}"
    seen = observed.backups.get((want.bucket, want.prefix))
    failure = seen.failure if seen else ReadFailure("", "s3", NOT_SCANNED, "the backup location was not read")
    if seen is None or failure is not None:
        assert failure is not None
        ctx.add(
            "infra_not_evaluated",
            None,
            subject,
            f"backups under {where} could not be read ({failure.code}); their age was not judged",
            {
                "bucket": want.bucket,
                "prefix": want.prefix,
                "service": "s3",
                "code": failure.code,
                "reason": failure.reason,
                "account": failure.account or None,
            },
        )
        return
    limit = timedelta(hours=want.max_age_hours)
    if seen.newest is None or observed.as_of - seen.newest > limit:
        age = None if seen.newest is None else round((observed.as_of - seen.newest).total_seconds() / 3600, 1)
        found = "no object" if seen.newest is None else f"the newest object is {age} hours old"
        ctx.add(
            "backup_stale",
            None,
            subject,
            f"backups under {where}: {found}; expected one newer than {want.max_age_hours} hours",
            {
                "bucket": want.bucket,
                "prefix": want.prefix,
                "expected_max_age_hours": want.max_age_hours,
                "actual_age_hours": age,
                "newest": seen.newest.isoformat() if seen.newest else None,
                "as_of": observed.as_of.isoformat(),
            },
        )


def evaluate_repo(day: date, observed: InfraObserved, repo: RepoInfra, specs: Iterable[RuleSpec]) -> list[Finding]:
    ctx = Context(day, repo, {s.id: s for s in specs})
    for env in repo.envs:
        if repo.status == "pre-release" and env.env == PROD:
            continue  # pre-release projects are not expected in prod (and not judged there)
        inv = observed.accounts.get(env.account)
        if inv is None:
            _not_evaluated(ctx, env, ReadFailure(env.account, "sts", NOT_SCANNED, "the account was not scanned"))
            continue
        for failure in sorted(inv.failures, key=lambda f: (f.service, f.region or "")):
            _not_evaluated(ctx, env, failure)
        if not inv.reached:
            continue
        if repo.status == "deprecated":
            _deprecated(ctx, env, inv)
        else:
            _judge_env(ctx, env, inv)
    if repo.status != "deprecated":
        _manifest_anywhere(ctx, observed)
    _backups(ctx, observed)
    return ctx.out
