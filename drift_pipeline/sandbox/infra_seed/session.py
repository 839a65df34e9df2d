"""Reaching one account of the emulator, and tagging resources as CloudFormation would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from drift_pipeline.sandbox.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, AwsSandbox
from drift_pipeline.sandbox.infra_seed.records import (
    TAG_COMMIT,
    TAG_ENV,
    TAG_PROJECT,
    TAG_REPO,
    InfraRepo,
)
from drift_pipeline.sources.aws import (
    account_session,
    new_botocore_session,
)


def _connector(target: AwsSandbox | str, region: str) -> Callable[[str], boto3.Session]:
    if isinstance(target, AwsSandbox):
        return target.account_session
    base = boto3.Session(
        botocore_session=new_botocore_session(),
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name=region,
    )
    return lambda account: account_session(account, endpoint_url=target, region=region, base_session=base)


class _Account:
    """One account's session with its clients made once (client creation dominates otherwise)."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.account_id: str = session.account_id
        self.region: str = session.region_name
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]


def _drift_tags(repo: InfraRepo, env: str, *, commit: bool = True) -> dict[str, str]:
    tags = {TAG_REPO: repo.full_name, TAG_PROJECT: repo.project, TAG_ENV: env}
    if commit and repo.commit_tag:
        tags[TAG_COMMIT] = repo.commit_for(env)
    return tags


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
