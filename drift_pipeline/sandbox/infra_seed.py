"""The AWS part of the demo org: CloudFormation stacks per environment, plus deliberate drift.

A repo declares its infra in its config::

    [infra]
    enabled = true
    path = "infra"                 # CloudFormation JSON templates, one per stack
    stacks = ["orders-api"]        # deployed as "<stack>-<env>"
    [infra.accounts]
    dev = "111111111111"
    staging = "222222222222"
    prod = "333333333333"

The demo's git generator writes ``stack_template(...)`` into ``infra/<stack>.json`` and calls
``deploy_org_infra`` with one ``InfraRepo`` per repo. That deploys every stack to every env as
``<stack>-<env>`` (pre-release repos skip prod), tags every resource with ``drift:repo``,
``drift:project``, ``drift:env`` and ``drift:commit``, then injects drift chosen by ``seed`` and
returns an ``InfraScenario`` saying what a scan should find, and why.

moto facts this relies on (moto 5.2.5, measured):
- S3 bucket names are one namespace across all accounts of a server, as in AWS: templates name
  buckets ``<stack>-<env>-<account id>`` via ``Fn::Sub`` with ``${AWS::AccountId}``.
- Stack tags propagate to EC2 resources only; S3, SQS, IAM and DynamoDB resources get them from
  ``deploy_org_infra`` through each service's tag call, as CloudFormation would have done.
  (The ``aws:cloudformation:*`` system tags cannot be set by a caller, so only EC2 has them.)
- Templates avoid properties moto's CloudFormation accepts but does not apply (S3
  ``VersioningConfiguration``, security-group rule ``Description``): a scan comparing template
  and described resource would report them as drift in every env.
- Deleting a resource out of band leaves its stack resource ``CREATE_COMPLETE``; CloudFormation
  drift detection is not implemented, so scans compare template and described resource.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError

from drift_pipeline.sandbox.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, AwsSandbox
from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
    account_session,
    new_botocore_session,
)

Status = Literal["active", "pre-release", "deprecated"]
DriftKind = Literal[
    "orphaned", "missing", "ingress_changed", "deprecated_remaining", "prerelease_not_in_prod"
]

TAG_REPO = "drift:repo"
TAG_PROJECT = "drift:project"
TAG_ENV = "drift:env"
TAG_COMMIT = "drift:commit"

# Which DESIGN rule id a scan should raise for each kind (None: expected state, not drift).
RULE_FOR_KIND: dict[str, str | None] = {
    "orphaned": "resource_orphaned",
    "missing": "resource_missing",
    "ingress_changed": "attribute_drift",
    "deprecated_remaining": "deprecated_resources_remaining",
    "prerelease_not_in_prod": None,
}

_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_PROD = "prod"
_MISSABLE = ("AWS::S3::Bucket", "AWS::SQS::Queue")
_SG = "AWS::EC2::SecurityGroup"


# -- templates ---------------------------------------------------------------------------------


def stack_template(stack: str, *, variant: int = 0) -> dict[str, Any]:
    """A CloudFormation template (JSON as a dict) for one service stack, as committed in a repo.

    Names derive from the stack and the ``Env`` parameter, so one template serves every env;
    bucket names add the account id (one S3 namespace across accounts). ``variant`` is the
    template's revision: 0 = bucket, queue, security group, IAM role; 1 adds a DynamoDB table;
    2 also lengthens the queue's visibility timeout and opens 8443 to the internal network.
    """
    if not _STACK_NAME.match(stack):
        raise ValueError(
            f"stack name {stack!r} must be lowercase letters, digits and '-', at most 40 "
            "characters, starting with a letter (it becomes part of bucket and role names)"
        )
    if variant < 0:
        raise ValueError(f"variant must be >= 0, got {variant}")
    ingress = [_rule(443, "10.0.0.0/8")]  # HTTPS from the internal network
    if variant >= 2:
        ingress.append(_rule(8443, "10.0.0.0/8"))  # admin API, internal only
    resources: dict[str, Any] = {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Sub": f"{stack}-${{Env}}-${{AWS::AccountId}}"},
                "Tags": [{"Key": "service", "Value": stack}, {"Key": "data", "Value": "internal"}],
            },
        },
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": f"{stack}-${{Env}}-events"},
                "VisibilityTimeout": 120 if variant >= 2 else 60,
                "MessageRetentionPeriod": 345600,
            },
        },
        "SecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupName": {"Fn::Sub": f"{stack}-${{Env}}"},
                "GroupDescription": f"{stack}: service ingress",
                "SecurityGroupIngress": ingress,
            },
        },
        "AppRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": f"{stack}-${{Env}}-app"},
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "app-access",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                                    "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:PutObject"],
                                    "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                                },
                            ],
                        },
                    }
                ],
            },
        },
    }
    if variant >= 1:
        resources["Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": f"{stack}-${{Env}}"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{stack}: service infrastructure (revision {variant})",
        "Parameters": {
            "Env": {
                "Type": "String",
                "AllowedValues": ["dev", "staging", "prod"],
                "Description": "Deployment environment; the stack is deployed as <stack>-<Env>.",
            }
        },
        "Resources": resources,
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Bucket"}},
            "QueueUrl": {"Value": {"Ref": "Queue"}},
            "SecurityGroupId": {"Value": {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}},
            "AppRoleArn": {"Value": {"Fn::GetAtt": ["AppRole", "Arn"]}},
        },
    }


def _rule(port: int, cidr: str) -> dict[str, Any]:
    # No "Description": moto's CloudFormation drops rule descriptions, which a scan comparing
    # template and described group would then report as drift in every env.
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": cidr}


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InfraRepo:
    """One repo's declared infra, as the demo generator committed it."""

    full_name: str  # "org/repo"
    project: str = "."
    status: Status = "active"
    stacks: Mapping[str, Mapping[str, Any]]  # stack name -> template, as committed
    commit_sha: str  # the deployed commit
    accounts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))

    def deployed_envs(self) -> tuple[str, ...]:
        """Envs this repo is deployed to: all of ``accounts``, without prod when pre-release."""
        return tuple(e for e in self.accounts if not (self.status == "pre-release" and e == _PROD))


@dataclass(frozen=True)
class DeployedStack:
    repo: str
    project: str
    status: Status
    env: str
    account: str
    stack: str  # declared name, e.g. "orders-api"
    stack_name: str  # deployed name, "<stack>-<env>"
    stack_id: str  # CloudFormation stack ARN
    commit_sha: str


@dataclass(frozen=True)
class InjectedDrift:
    """One deliberate difference between what a repo declares and what is deployed."""

    kind: DriftKind
    repo: str
    project: str
    env: str
    account: str
    resource_type: str  # CloudFormation type, "AWS::CloudFormation::Stack" for whole stacks
    resource_id: str  # physical id: bucket name, queue name, security group id, stack name
    arn: str | None  # as the tagging API reports it; None when nothing is deployed
    stack_name: str | None  # the deployed stack the resource belongs to, if any
    logical_id: str | None  # its logical id in the template, if any
    description: str  # one line for people; deterministic (no generated ids)
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> str | None:
        """The DESIGN rule id a scan should raise; None when this is expected state."""
        return RULE_FOR_KIND[self.kind]

    @property
    def is_drift(self) -> bool:
        return self.rule is not None

    @property
    def subject(self) -> str:
        """Deterministic name of what drifted: ``stack/LogicalId``, or the resource's name."""
        if self.stack_name and self.logical_id:
            return f"{self.stack_name}/{self.logical_id}"
        return self.stack_name or self.resource_id


@dataclass(frozen=True)
class InfraScenario:
    """What ``deploy_org_infra`` deployed and which drift it injected on purpose."""

    seed: int
    region: str
    deployed: tuple[DeployedStack, ...]
    drifts: tuple[InjectedDrift, ...]

    def expected_findings(self) -> tuple[InjectedDrift, ...]:
        """The entries a scan must report (pre-release-not-in-prod is expected, not drift)."""
        return tuple(d for d in self.drifts if d.is_drift)

    def of_kind(self, kind: DriftKind) -> tuple[InjectedDrift, ...]:
        return tuple(d for d in self.drifts if d.kind == kind)

    def describe(self) -> str:
        """Markdown: deployed stacks per repo and env, then the injected drift and its rule."""
        envs: list[str] = []
        for d in self.deployed:
            if d.env not in envs:
                envs.append(d.env)
        for d in self.drifts:
            if d.env not in envs:
                envs.append(d.env)
        rows: dict[tuple[str, str], dict[str, list[str]]] = {}
        status: dict[tuple[str, str], str] = {}
        for d in self.deployed:
            key = (d.repo, d.project)
            rows.setdefault(key, {}).setdefault(d.env, []).append(f"`{d.stack_name}`")
            status[key] = d.status
        accounts = sorted({d.account for d in self.deployed})
        lines = [
            f"## AWS demo scenario (seed {self.seed})",
            "",
            f"{len(self.deployed)} CloudFormation stacks in {len(accounts)} accounts "
            f"(region {self.region}), every resource tagged `{TAG_REPO}`, `{TAG_PROJECT}`, "
            f"`{TAG_ENV}`, `{TAG_COMMIT}`.",
            "",
            "| repo | project | status | " + " | ".join(envs) + " |",
            "|---|---|---|" + "---|" * len(envs),
        ]
        for (repo, project), by_env in sorted(rows.items()):
            cells = [", ".join(by_env.get(e, [])) or "(none)" for e in envs]
            lines.append(
                f"| {repo} | {project} | {status[(repo, project)]} | " + " | ".join(cells) + " |"
            )
        lines += [
            "",
            "### Injected drift: what a scan should find",
            "",
            "| rule | kind | repo | env (account) | subject | what happened |",
            "|---|---|---|---|---|---|",
        ]
        for d in self.expected_findings():
            lines.append(
                f"| `{d.rule}` | {d.kind} | {d.repo} | {d.env} ({d.account}) | "
                f"`{d.subject}` | {d.description} |"
            )
        expected = [d for d in self.drifts if not d.is_drift]
        if expected:
            lines += ["", "### Expected, not drift: a scan must not report these", ""]
            for d in expected:
                lines.append(f"- {d.repo}, {d.env} ({d.account}): {d.description}")
        return "\n".join(lines) + "\n"


# -- deployment --------------------------------------------------------------------------------


def deploy_org_infra(
    sandbox_or_endpoint: AwsSandbox | str,
    repos: Sequence[InfraRepo],
    *,
    seed: int = 0,
    region: str = DEFAULT_REGION,
) -> InfraScenario:
    """Deploy every repo's stacks to its envs, inject drift chosen by ``seed``, say what it did.

    Each stack of each repo goes to each env of ``repo.accounts`` as ``<stack>-<env>``, except
    prod for pre-release repos; deprecated repos are deployed like the others (their remaining
    resources are the drift). Three active repos then each get one drift: an orphaned tagged
    resource outside any stack, a bucket or queue deleted out of band, and an extra
    ``0.0.0.0/0`` port 22 ingress rule.

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

    deployed: list[DeployedStack] = []
    for repo in repos:
        for env in repo.deployed_envs():
            account = repo.accounts[env]
            for stack, template in repo.stacks.items():
                deployed.append(_deploy_stack(session(account), repo, env, stack, template))

    drifts: list[InjectedDrift] = []
    drifts.append(_orphan(session, *plan["orphaned"]))
    drifts.append(_delete_resource(session, *plan["missing"]))
    drifts.append(_open_ssh(session, *plan["ingress_changed"]))
    for d in deployed:
        if d.status == "deprecated":
            drifts.append(
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
                    description=(
                        f"stack `{d.stack_name}` and its resources are still deployed although "
                        "the repo is deprecated"
                    ),
                )
            )
    for repo in repos:
        if repo.status == "pre-release" and _PROD in repo.accounts:
            for stack in repo.stacks:
                drifts.append(
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
                )
    return InfraScenario(seed=seed, region=region, deployed=tuple(deployed), drifts=tuple(drifts))


def _validate(repos: Sequence[InfraRepo]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for repo in repos:
        if repo.status not in ("active", "pre-release", "deprecated"):
            raise ValueError(f"{repo.full_name}: unknown status {repo.status!r}")
        if "/" not in repo.full_name:
            raise ValueError(f"InfraRepo.full_name must be 'org/repo', got {repo.full_name!r}")
        for stack in repo.stacks:
            if not _STACK_NAME.match(stack):
                raise ValueError(f"{repo.full_name}: invalid stack name {stack!r}")
            for env, account in repo.accounts.items():
                other = seen.setdefault((account, f"{stack}-{env}"), repo.full_name)
                if other != repo.full_name:
                    raise ValueError(
                        f"stack {stack}-{env} is declared by both {other} and {repo.full_name} "
                        f"in account {account}"
                    )
    active = [r for r in repos if r.status == "active"]
    if len(active) < 3:
        raise ValueError(
            f"deploy_org_infra needs at least 3 active repos to place the orphaned, missing and "
            f"ingress drift on different repos; got {len(active)}"
        )


def _resources_of(repo: InfraRepo, types: Sequence[str]) -> list[tuple[str, str, str]]:
    """(stack, logical id, type) of the repo's template resources of the given types, sorted."""
    found = []
    for stack in sorted(repo.stacks):
        for logical_id, resource in sorted(repo.stacks[stack].get("Resources", {}).items()):
            if resource.get("Type") in types:
                found.append((stack, logical_id, resource["Type"]))
    return found


def _plan_drift(repos: Sequence[InfraRepo], rng: random.Random) -> dict[str, tuple]:
    """Pick (repo, env, ...) for the three injected drifts, deterministically from ``rng``."""
    order = sorted(
        (r for r in repos if r.status == "active"), key=lambda r: (r.full_name, r.project)
    )
    rng.shuffle(order)

    def eligible_orphan(r: InfraRepo) -> bool:
        return bool(r.deployed_envs())

    def eligible_missing(r: InfraRepo) -> bool:
        return bool(r.deployed_envs() and _resources_of(r, _MISSABLE))

    def eligible_ingress(r: InfraRepo) -> bool:
        return bool(r.deployed_envs() and _resources_of(r, (_SG,)))

    for orphan, missing, ingress in permutations(order, 3):
        if eligible_orphan(orphan) and eligible_missing(missing) and eligible_ingress(ingress):
            break
    else:
        raise ValueError(
            "deploy_org_infra needs three different active repos: one deployed at all, one whose "
            "templates declare an AWS::S3::Bucket or AWS::SQS::Queue, and one with an "
            "AWS::EC2::SecurityGroup"
        )
    return {
        "orphaned": (orphan, rng.choice(orphan.deployed_envs()), rng.choice(_MISSABLE)),
        "missing": (
            missing,
            rng.choice(missing.deployed_envs()),
            rng.choice(_resources_of(missing, _MISSABLE)),
        ),
        "ingress_changed": (
            ingress,
            rng.choice(ingress.deployed_envs()),
            rng.choice(_resources_of(ingress, (_SG,))),
        ),
    }


def _connector(target: AwsSandbox | str, region: str) -> Callable[[str], boto3.Session]:
    if isinstance(target, AwsSandbox):
        return target.account_session
    base = boto3.Session(
        botocore_session=new_botocore_session(),
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name=region,
    )
    return lambda account: account_session(
        account, endpoint_url=target, region=region, base_session=base
    )


class _Account:
    """One account's session with its clients made once (client creation dominates otherwise)."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.account_id: str = session.account_id  # type: ignore[attr-defined]
        self.region: str = session.region_name
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]


def _drift_tags(repo: InfraRepo, env: str, *, commit: bool = True) -> dict[str, str]:
    tags = {TAG_REPO: repo.full_name, TAG_PROJECT: repo.project, TAG_ENV: env}
    if commit:
        tags[TAG_COMMIT] = repo.commit_sha
    return tags


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
        commit_sha=repo.commit_sha,
    )


def _tag_resource(session: _Account, rtype: str, physical_id: str, tags: dict[str, str]) -> None:
    """Apply the stack's tags to one resource, as CloudFormation propagates them.

    moto propagates stack tags to EC2 only; the other types get them here. Types not listed
    keep whatever moto gave them.
    """
    pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
    if rtype == "AWS::S3::Bucket":
        s3 = session.client("s3")
        try:
            current = s3.get_bucket_tagging(Bucket=physical_id)["TagSet"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchTagSet":
                raise
            current = []
        merged = {t["Key"]: t["Value"] for t in current} | tags
        s3.put_bucket_tagging(
            Bucket=physical_id,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
        )
    elif rtype == "AWS::SQS::Queue":
        sqs = session.client("sqs")
        url = sqs.get_queue_url(QueueName=physical_id.rstrip("/").rsplit("/", 1)[-1])["QueueUrl"]
        sqs.tag_queue(QueueUrl=url, Tags=tags)
    elif rtype == "AWS::IAM::Role":
        session.client("iam").tag_role(RoleName=physical_id, Tags=pairs)
    elif rtype == "AWS::DynamoDB::Table":
        ddb = session.client("dynamodb")
        arn = ddb.describe_table(TableName=physical_id)["Table"]["TableArn"]
        ddb.tag_resource(ResourceArn=arn, Tags=pairs)
    elif rtype == "AWS::EC2::SecurityGroup":
        session.client("ec2").create_tags(Resources=[physical_id], Tags=pairs)


def _stack_resource(session: _Account, stack_name: str, logical_id: str) -> str:
    cf = session.client("cloudformation")
    detail = cf.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)
    return detail["StackResourceDetail"]["PhysicalResourceId"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:24].strip("-") or "repo"


def _orphan(
    session: Callable[[str], _Account], repo: InfraRepo, env: str, rtype: str
) -> InjectedDrift:
    """A resource tagged for ``repo`` but created outside any stack (left behind by hand)."""
    account = repo.accounts[env]
    s = session(account)
    region = s.region
    base = f"{_slug(repo.full_name.split('/', 1)[1])}-{env}-legacy"
    tags = _drift_tags(repo, env, commit=False)
    if rtype == "AWS::S3::Bucket":
        name = f"{base}-{account}"
        s.client("s3").create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
        )
        s.client("s3").put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
        arn, what = f"arn:aws:s3:::{name}", "S3 bucket"
    else:
        name = f"{base}-jobs"
        s.client("sqs").create_queue(QueueName=name, tags=tags)
        arn, what = f"arn:aws:sqs:{region}:{account}:{name}", "SQS queue"
    return InjectedDrift(
        kind="orphaned",
        repo=repo.full_name,
        project=repo.project,
        env=env,
        account=account,
        resource_type=rtype,
        resource_id=name,
        arn=arn,
        stack_name=None,
        logical_id=None,
        description=(
            f"{what} `{name}` is tagged `{TAG_REPO}={repo.full_name}` but belongs to no stack "
            "the repo declares (created by hand)"
        ),
        details={"tags": dict(tags)},
    )


def _delete_resource(
    session: Callable[[str], _Account], repo: InfraRepo, env: str, target: tuple[str, str, str]
) -> InjectedDrift:
    """Delete one declared bucket or queue out of band; its stack still lists it."""
    stack, logical_id, rtype = target
    account = repo.accounts[env]
    s = session(account)
    stack_name = f"{stack}-{env}"
    physical = _stack_resource(s, stack_name, logical_id)
    if rtype == "AWS::S3::Bucket":
        s.client("s3").delete_bucket(Bucket=physical)
        name, arn, what = physical, f"arn:aws:s3:::{physical}", "S3 bucket"
    else:
        sqs = s.client("sqs")
        name = physical.rstrip("/").rsplit("/", 1)[-1]
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
        arn, what = f"arn:aws:sqs:{s.region}:{account}:{name}", "SQS queue"
    return InjectedDrift(
        kind="missing",
        repo=repo.full_name,
        project=repo.project,
        env=env,
        account=account,
        resource_type=rtype,
        resource_id=name,
        arn=arn,
        stack_name=stack_name,
        logical_id=logical_id,
        description=(
            f"{what} `{name}` (`{logical_id}` in `{stack}`) was deleted out of band; the "
            "stack still lists it"
        ),
    )


SSH_FROM_ANYWHERE: dict[str, Any] = {
    "IpProtocol": "tcp",
    "FromPort": 22,
    "ToPort": 22,
    "CidrIp": "0.0.0.0/0",
}


def _open_ssh(
    session: Callable[[str], _Account], repo: InfraRepo, env: str, target: tuple[str, str, str]
) -> InjectedDrift:
    """Authorize 0.0.0.0/0 on port 22 out of band on one declared security group."""
    stack, logical_id, rtype = target
    account = repo.accounts[env]
    s = session(account)
    stack_name = f"{stack}-{env}"
    group_id = _stack_resource(s, stack_name, logical_id)
    rule = SSH_FROM_ANYWHERE
    s.client("ec2").authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": rule["IpProtocol"],
                "FromPort": rule["FromPort"],
                "ToPort": rule["ToPort"],
                "IpRanges": [{"CidrIp": rule["CidrIp"], "Description": "debugging (temporary)"}],
            }
        ],
    )
    declared = repo.stacks[stack]["Resources"][logical_id].get("Properties", {})
    return InjectedDrift(
        kind="ingress_changed",
        repo=repo.full_name,
        project=repo.project,
        env=env,
        account=account,
        resource_type=rtype,
        resource_id=group_id,
        arn=f"arn:aws:ec2:{s.region}:{account}:security-group/{group_id}",
        stack_name=stack_name,
        logical_id=logical_id,
        description=(
            f"security group `{logical_id}` in `{stack_name}` gained ingress tcp/22 from "
            "0.0.0.0/0 out of band; the template does not allow it"
        ),
        details={
            "added": dict(rule),
            "declared": copy.deepcopy(list(declared.get("SecurityGroupIngress", []))),
        },
    )
