"""The out-of-band changes: an orphaned resource, a deleted resource, an SSH rule opened to the world;
and what a scan cannot judge as fine: a backup prefix left empty, an env moved to an account the scan
does not read."""

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


def _stale_backup(session: Callable[[str], _Account], repo: InfraRepo) -> InjectedDrift:
    """The backup bucket with a manual dump beside the declared prefix and nothing under it."""
    assert repo.stale_backup is not None
    env, bucket, prefix = repo.stale_backup
    account = repo.accounts[env]
    s3 = session(account).client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": session(account).region})
    manual = prefix.rstrip("/").rsplit("/", 1)[0] + "/manual/pre-migration.sql.gz"
    s3.put_object(Bucket=bucket, Key=manual, Body=b"-- manual ledger dump before the scheduler migration\n")
    return InjectedDrift(
        kind="backup_stale",
        repo=repo.full_name,
        project=repo.project,
        env=env,
        account=account,
        resource_type="AWS::S3::Bucket",
        resource_id=f"s3://{bucket}/{prefix}",
        arn=f"arn:aws:s3:::{bucket}",
        stack_name=None,
        logical_id=None,
        description=(
            f"no backup under `s3://{bucket}/{prefix}`: the nightly export stopped writing when its job moved "
            f"to the new scheduler; the bucket holds only a manual dump (`{manual}`)"
        ),
    )


def _not_scanned(repo: InfraRepo, env: str) -> InjectedDrift:
    """An env of the repo deployed to an account the scan's accounts do not include."""
    account = repo.accounts[env]
    return InjectedDrift(
        kind="account_not_scanned",
        repo=repo.full_name,
        project=repo.project,
        env=env,
        account=account,
        resource_type="AWS::CloudFormation::Stack",
        resource_id=account,
        arn=None,
        stack_name=None,
        logical_id=None,
        description=(
            f"{env} moved to the new account {account}, which the drift scan's read-only role is not "
            "deployed to yet: its infra cannot be judged (not `resource_missing`)"
        ),
    )
