"""The out-of-band changes: an orphaned resource, a deleted resource, an SSH rule opened to the world."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from drift_pipeline.sandbox.infra_seed.records import (
    TAG_REPO,
    InfraRepo,
    InjectedDrift,
)
from drift_pipeline.sandbox.infra_seed.session import _Account, _drift_tags, _stack_resource


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:24].strip("-") or "repo"


def _orphan(session: Callable[[str], _Account], repo: InfraRepo, env: str, rtype: str) -> InjectedDrift:
    """A resource tagged for ``repo`` but created outside any stack (left behind by hand)."""
    account = repo.accounts[env]
    s = session(account)
    region = s.region
    base = f"{_slug(repo.full_name.split('/', 1)[1])}-{env}-legacy"
    tags = _drift_tags(repo, env, commit=False)
    if rtype == "AWS::S3::Bucket":
        name = f"{base}-{account}"
        s.client("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
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
            f"{what} `{name}` (`{logical_id}` in `{stack}`) was deleted out of band; the stack still lists it"
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
    declared = repo.stacks_for(env)[stack]["Resources"][logical_id].get("Properties", {})
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
