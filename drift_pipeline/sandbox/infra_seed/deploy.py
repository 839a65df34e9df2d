"""``deploy_org_infra``: every repo's stacks to its envs, then the drift chosen by ``seed``."""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Mapping, Sequence
from itertools import permutations
from typing import Any

from botocore.exceptions import ClientError

from drift_pipeline.sandbox.aws import AwsSandbox
from drift_pipeline.sandbox.infra_seed.drift import _delete_resource, _not_scanned, _open_ssh, _orphan, _stale_backup
from drift_pipeline.sandbox.infra_seed.records import (
    _MISSABLE,
    _PROD,
    _SG,
    _STACK_NAME,
    DeployedStack,
    InfraRepo,
    InfraScenario,
    InjectedDrift,
)
from drift_pipeline.sandbox.infra_seed.session import _Account, _connector, _drift_tags, _tag_resource
from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
)


def deploy_org_infra(
    sandbox_or_endpoint: AwsSandbox | str,
    repos: Sequence[InfraRepo],
    *,
    seed: int = 0,
    region: str = DEFAULT_REGION,
    scanned_accounts: Collection[str] = tuple(DEFAULT_ACCOUNTS.values()),
) -> InfraScenario:
    """Deploy every repo's stacks to its envs, inject drift chosen by ``seed``, say what it did.

    Each stack of each repo goes to each env of ``repo.accounts`` as ``<stack>-<env>``, except
    prod for pre-release repos; deprecated repos are deployed like the others (their remaining
    resources are the drift). Three active repos then each get one drift: an orphaned tagged
    resource outside any stack, a bucket or queue deleted out of band, and an extra
    ``0.0.0.0/0`` port 22 ingress rule.

    A repo's ``stale_backup`` gets its backup bucket without a backup under the declared prefix, and
    an env deployed to an account outside ``scanned_accounts`` (the accounts the scan reads) is listed
    as not evaluable there.

    Expects an emulator without these stacks (fresh, or after ``reset()``): an existing stack
    raises ``RuntimeError`` and leaves what was deployed so far (reset and retry).
    """
    _validate(repos)
    plan = _plan_drift(repos, random.Random(seed))
    connect = _connector(sandbox_or_endpoint, region)
    reached: dict[str, _Account] = {}

    def session(account: str) -> _Account:
        if account not in reached:
            reached[account] = _Account(connect(account))
        return reached[account]

    deployed = [
        _deploy_stack(session(repo.accounts[env]), repo, env, stack, template)
        for repo in repos
        for env in repo.deployed_envs()
        for stack, template in repo.stacks_for(env).items()
    ]
    drifts: list[InjectedDrift] = []
    drifts.append(_orphan(session, *plan["orphaned"]))
    drifts.append(_delete_resource(session, *plan["missing"]))
    drifts.append(_open_ssh(session, *plan["ingress_changed"]))
    drifts += _deprecated_remaining(deployed)
    drifts += _prerelease_skipped(repos)
    drifts += _added_after_release(repos)
    for repo in repos:
        if repo.stale_backup is not None:
            drifts.append(_stale_backup(session, repo))
        drifts += [
            _not_scanned(repo, env) for env in repo.deployed_envs() if repo.accounts[env] not in scanned_accounts
        ]
    return InfraScenario(seed=seed, region=region, deployed=tuple(deployed), drifts=tuple(drifts))


def _deprecated_remaining(deployed: Sequence[DeployedStack]) -> list[InjectedDrift]:
    """Each stack of a deprecated repo: still deployed, so its resources are drift."""
    return [
        InjectedDrift(
            kind="deprecated_remaining",
            repo=d.repo,
            project=d.project,
            env=d.env,
            account=d.account,
            resource_type="AWS::CloudFormation::Stack",
            resource_id=d.stack_name,
            arn=d.stack_id,
            stack_name=d.stack_name,
            logical_id=None,
            description=f"stack `{d.stack_name}` and its resources are still deployed although the repo is deprecated",
        )
        for d in deployed
        if d.status == "deprecated"
    ]


def _prerelease_skipped(repos: Sequence[InfraRepo]) -> list[InjectedDrift]:
    """Each prod stack of a pre-release repo: not deployed on purpose (a scan must not call it missing)."""
    return [
        InjectedDrift(
            kind="prerelease_not_in_prod",
            repo=repo.full_name,
            project=repo.project,
            env=_PROD,
            account=repo.accounts[_PROD],
            resource_type="AWS::CloudFormation::Stack",
            resource_id=f"{stack}-{_PROD}",
            arn=None,
            stack_name=f"{stack}-{_PROD}",
            logical_id=None,
            description=(
                f"stack `{stack}-{_PROD}` is not deployed: the repo is pre-release, "
                "so prod is skipped on purpose (not `resource_missing`)"
            ),
        )
        for repo in repos
        if repo.status == "pre-release" and _PROD in repo.accounts
        for stack in repo.stacks
    ]


def _added_after_release(repos: Sequence[InfraRepo]) -> list[InjectedDrift]:
    """Stacks and resources of the newest templates that an env's older deployed commit does not have."""
    out: list[InjectedDrift] = []
    for repo in repos:
        for env in repo.deployed_envs():
            older = repo.stacks_for(env)
            if older is repo.stacks:
                continue
            account = repo.accounts[env]
            for stack, template in sorted(repo.stacks.items()):
                name = f"{stack}-{env}"
                was = older.get(stack)
                logicals = [None] if was is None else sorted(set(template["Resources"]) - set(was["Resources"]))
                for logical in logicals:
                    rtype = "AWS::CloudFormation::Stack" if logical is None else template["Resources"][logical]["Type"]
                    what = f"stack `{name}`" if logical is None else f"`{logical}` of `{name}`"
                    out.append(
                        InjectedDrift(
                            kind="added_after_release",
                            repo=repo.full_name,
                            project=repo.project,
                            env=env,
                            account=account,
                            resource_type=rtype,
                            resource_id=name if logical is None else f"{name}/{logical}",
                            arn=None,
                            stack_name=name,
                            logical_id=logical,
                            description=(
                                f"{what} was added after the commit deployed to {env} "
                                f"({repo.commit_for(env)[:7]}): not expected there (not `resource_missing`)"
                            ),
                        )
                    )
    return out


def _validate(repos: Sequence[InfraRepo]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for repo in repos:
        if repo.status not in ("active", "pre-release", "deprecated"):
            raise ValueError(f"{repo.full_name}: unknown status {repo.status!r}")
        if "/" not in repo.full_name:
            raise ValueError(f"InfraRepo.full_name must be 'org/repo', got {repo.full_name!r}")
        stacks = set(repo.stacks).union(*(set(s) for s in repo.stacks_at.values()))
        for stack in sorted(stacks):
            if not _STACK_NAME.match(stack):
                raise ValueError(f"{repo.full_name}: invalid stack name {stack!r}")
            for env, account in repo.accounts.items():
                other = seen.setdefault((account, f"{stack}-{env}"), repo.full_name)
                if other != repo.full_name:
                    raise ValueError(
                        f"stack {stack}-{env} is declared by both {other} and {repo.full_name} in account {account}"
                    )
    active = [r for r in repos if r.status == "active"]
    if len(active) < 3:
        raise ValueError(
            f"deploy_org_infra needs at least 3 active repos to place the orphaned, missing and "
            f"ingress drift on different repos; got {len(active)}"
        )


def _resources_of(repo: InfraRepo, types: Sequence[str], env: str | None = None) -> list[tuple[str, str, str]]:
    """(stack, logical id, type) of the repo's template resources of the given types (in ``env``), sorted."""
    found = []
    stacks = repo.stacks if env is None else repo.stacks_for(env)
    for stack in sorted(stacks):
        for logical_id, resource in sorted(stacks[stack].get("Resources", {}).items()):
            if resource.get("Type") in types:
                found.append((stack, logical_id, resource["Type"]))
    return found


def _plan_drift(repos: Sequence[InfraRepo], rng: random.Random) -> dict[str, tuple]:
    """Pick (repo, env, ...) for the three injected drifts, deterministically from ``rng``."""
    order = sorted((r for r in repos if r.status == "active"), key=lambda r: (r.full_name, r.project))
    rng.shuffle(order)

    def eligible_orphan(r: InfraRepo) -> bool:
        return bool(r.deployed_envs())

    def eligible_missing(r: InfraRepo) -> bool:
        return any(_resources_of(r, _MISSABLE, e) for e in r.deployed_envs())

    def eligible_ingress(r: InfraRepo) -> bool:
        return any(_resources_of(r, (_SG,), e) for e in r.deployed_envs())

    for orphan, missing, ingress in permutations(order, 3):
        if eligible_orphan(orphan) and eligible_missing(missing) and eligible_ingress(ingress):
            break
    else:
        raise ValueError(
            "deploy_org_infra needs three different active repos: one deployed at all, one whose "
            "templates declare an AWS::S3::Bucket or AWS::SQS::Queue, and one with an "
            "AWS::EC2::SecurityGroup"
        )

    def pick(repo: InfraRepo, types: Sequence[str]) -> tuple[InfraRepo, str, tuple[str, str, str]]:
        env = rng.choice([e for e in repo.deployed_envs() if _resources_of(repo, types, e)])
        return repo, env, rng.choice(_resources_of(repo, types, env))

    orphaned = (orphan, rng.choice(orphan.deployed_envs()), rng.choice(_MISSABLE))
    return {"orphaned": orphaned, "missing": pick(missing, _MISSABLE), "ingress_changed": pick(ingress, (_SG,))}


def _deploy_stack(
    session: _Account, repo: InfraRepo, env: str, stack: str, template: Mapping[str, Any]
) -> DeployedStack:
    cf = session.client("cloudformation")
    name = f"{stack}-{env}"
    tags = _drift_tags(repo, env)
    params = []
    if "Env" in template.get("Parameters", {}):
        params.append({"ParameterKey": "Env", "ParameterValue": env})
    try:
        answer = cf.create_stack(
            StackName=name,
            TemplateBody=json.dumps(template, indent=2),
            Parameters=params,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
            raise
        raise RuntimeError(
            f"{repo.full_name}: stack {name} already exists in account {session.account_id}; "
            "deploy_org_infra expects a fresh emulator (reset the sandbox first)"
        ) from exc
    described = cf.describe_stacks(StackName=answer["StackId"])["Stacks"][0]
    if described["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(
            f"{repo.full_name}: stack {name} in {env} ended {described['StackStatus']}: "
            f"{described.get('StackStatusReason', '')}"
        )
    for res in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]:
        _tag_resource(session, res["ResourceType"], res["PhysicalResourceId"], tags)
    return DeployedStack(
        repo=repo.full_name,
        project=repo.project,
        status=repo.status,
        env=env,
        account=session.account_id,
        stack=stack,
        stack_name=name,
        stack_id=answer["StackId"],
        commit_sha=repo.commit_for(env),
    )
