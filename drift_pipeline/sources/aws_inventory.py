"""The AWS inventory: per account and region, the resources that exist and the stacks that declare them.

Reads, never judges. Per account (reached by assuming the read-only role, ``sources.aws``):

- the Resource Groups Tagging API's ``get_resources`` (paginated): ARN and tags of every tagged
  resource of the region (EC2, S3, SQS, Lambda, DynamoDB, ...);
- what the tagging API does not cover or only partly: security groups (``describe_security_groups``:
  rules), buckets (``list_buckets``; public-access block, encryption, versioning), Lambda functions
  (``list_functions``: runtime, memory, timeout and environment variable NAMES; values are dropped
  as the answer is read and never reach a record), IAM roles and local managed policies through
  IAM's own calls (the tagging API has no IAM): inline policy documents, attached policies, trust
  policy, tags;
- CloudFormation stacks with their resources (logical id, physical id, type), template, parameters
  and tags; and, where the service offers it, CloudFormation's own drift detection of each stack
  (``sources.aws_cfn_drift``; ``AccountInventory.drift_method`` says which method judged the account).

A failure is recorded, never raised: an account that cannot be assumed is one ``ReadFailure``
(service ``sts``) and the other accounts are read; a service that answers with an error is one
``ReadFailure`` for that service and region, and the account's other services are read. Codes are
AWS's ``Error.Code`` (or the botocore error class when there was no answer); messages are redacted.
Credentials live only inside the sessions and are never put into a record or a message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from drift_pipeline.core.redaction import mask_secrets, redact
from drift_pipeline.core.rules.infra.attributes import BUCKET, FUNCTION, ROLE, SG, sg_rules_from_permissions
from drift_pipeline.core.rules.infra.attributes import policy_statements as _statements
from drift_pipeline.core.rules.infra.records import (
    AccountInventory,
    BackupObservation,
    ObservedResource,
    ObservedStack,
    ObservedStackResource,
    ReadFailure,
)
from drift_pipeline.sources.aws import AccountRef, AssumeRoleError, error_code
from drift_pipeline.sources.aws_cfn_drift import with_detection
from drift_pipeline.sources.aws_documents import document

log = logging.getLogger(__name__)

Connect = Callable[[AccountRef], boto3.Session]
MAX_PAGES = 500  # per paginated call: a bound, not an expectation
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
_STACK_GONE = "DELETE_COMPLETE"


class _Failed(Exception):
    def __init__(self, failure: ReadFailure):
        self.failure = failure


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for number, page in enumerate(client.get_paginator(operation).paginate(**kwargs)):
        if number >= MAX_PAGES:
            log.warning("%s: stopped after %d pages", operation, MAX_PAGES)
            return
        yield from page.get(key, [])


def _tags(pairs: Any) -> dict[str, str]:
    # Tag values are free text people type: a pasted token is masked before it becomes a record.
    return {str(t.get("Key")): mask_secrets(str(t.get("Value", ""))) for t in pairs or []}


def _type_of_arn(arn: str) -> tuple[str, str]:
    """(CloudFormation type, physical id) of an ARN from the tagging API ("" type when unmapped)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", arn
    service, resource = parts[2], parts[5]
    kind, _, name = resource.partition("/") if "/" in resource else resource.partition(":")
    if service == "s3" and "/" not in resource:
        return BUCKET, resource
    if service == "sqs":
        return "AWS::SQS::Queue", resource
    if service == "cloudformation" and kind == "stack":
        return "AWS::CloudFormation::Stack", arn
    if service == "sns":
        return "AWS::SNS::Topic", arn
    if service == "ec2" and kind == "security-group":
        return SG, name
    if service == "ec2" and kind == "instance":
        return "AWS::EC2::Instance", name
    if service == "dynamodb" and kind == "table":
        return "AWS::DynamoDB::Table", name
    if service == "lambda" and kind == "function":
        return FUNCTION, name.split(":", 1)[0]
    return "", arn


class _AccountReader:
    """One account's reads: every call goes through ``_call`` so a failure is recorded, not raised."""

    def __init__(
        self, session: boto3.Session, account: str, regions: Sequence[str], detect_timeout: float | None = None
    ):
        self.session, self.account, self.regions = session, account, tuple(regions)
        self.resources: dict[str, ObservedResource] = {}
        self.stacks: list[ObservedStack] = []
        self.failures: list[ReadFailure] = []
        self.complete: set[str] = set()
        self.detect_timeout = detect_timeout  # None: CloudFormation drift detection not tried
        self.detected: bool | None = None  # None: not tried; False: not offered; True: ran
        self.fallbacks = 0  # stacks judged by the project's comparison although detection ran

    def client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region)

    def _fail(self, service: str, region: str | None, exc: BaseException) -> ReadFailure:
        message = exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else str(exc)
        failure = ReadFailure(
            account=self.account,
            service=service,
            code=error_code(exc),
            reason=redact(" ".join(f"{service}: {message}".split()))[:300],
            region=region,
        )
        self.failures.append(failure)
        return failure

    def guarded(self, service: str, region: str | None, read: Callable[..., None], *args: Any) -> None:
        try:
            read(*args)
        except (ClientError, BotoCoreError) as exc:
            self._fail(service, region, exc)

    def add(self, res: ObservedResource) -> None:
        known = self.resources.get(res.arn)
        if known is None:
            self.resources[res.arn] = res
            return
        self.resources[res.arn] = ObservedResource(
            arn=res.arn,
            type=res.type or known.type,
            physical_id=res.physical_id or known.physical_id,
            account=self.account,
            region=res.region or known.region,
            tags={**known.tags, **res.tags},
            attributes={**known.attributes, **res.attributes},
        )

    # -- per region --------------------------------------------------------------------------

    def tagging(self, region: str) -> None:
        client = self.client("resourcegroupstaggingapi", region)
        for mapping in _pages(client, "get_resources", "ResourceTagMappingList"):
            arn = mapping["ResourceARN"]
            rtype, physical = _type_of_arn(arn)
            self.add(ObservedResource(arn, rtype, physical, self.account, region, _tags(mapping.get("Tags"))))

    def security_groups(self, region: str) -> None:
        client = self.client("ec2", region)
        for group in _pages(client, "describe_security_groups", "SecurityGroups"):
            gid = group["GroupId"]
            attributes = {
                "ingress": sg_rules_from_permissions(group.get("IpPermissions", [])),
                "egress": sg_rules_from_permissions(group.get("IpPermissionsEgress", []), outbound=True),
                "group_name": group.get("GroupName"),
                "vpc_id": group.get("VpcId"),
            }
            arn = f"arn:aws:ec2:{region}:{self.account}:security-group/{gid}"
            self.add(ObservedResource(arn, SG, gid, self.account, region, _tags(group.get("Tags")), attributes))
        self.complete.add(SG)

    def functions(self, region: str) -> None:
        client = self.client("lambda", region)
        for fn in _pages(client, "list_functions", "Functions"):
            variables = (fn.get("Environment") or {}).get("Variables") or {}
            attributes = {
                "runtime": fn.get("Runtime"),
                "memory": fn.get("MemorySize"),
                "timeout": fn.get("Timeout"),
                "environment_names": sorted(str(name) for name in variables),  # names only, never values
            }
            del variables
            self.add(
                ObservedResource(fn["FunctionArn"], FUNCTION, fn["FunctionName"], self.account, region, {}, attributes)
            )
        self.complete.add(FUNCTION)

    def cloudformation(self, region: str) -> None:
        client = self.client("cloudformation", region)
        for summary in _pages(client, "list_stacks", "StackSummaries"):
            if summary.get("StackStatus") == _STACK_GONE:
                continue
            name = summary["StackName"]
            self.guarded("cloudformation", region, self._stack, client, region, name)
        self._detect(client, region)

    def _detect(self, client: Any, region: str) -> None:
        """CloudFormation's own drift detection of the region's stacks, while the service offers it."""
        if self.detect_timeout is None or self.detected is False:
            return
        offered, self.stacks, fallbacks = with_detection(client, self.stacks, region, self.detect_timeout)
        if offered:
            self.detected, self.fallbacks = True, self.fallbacks + fallbacks
        elif offered is False and self.detected:  # offered in an earlier region only: these stacks fall back
            self.fallbacks += sum(s.region == region for s in self.stacks)
        elif offered is False:
            self.detected = False

    def _stack(self, client: Any, region: str, name: str) -> None:
        described = client.describe_stacks(StackName=name)["Stacks"][0]
        resources = tuple(
            ObservedStackResource(
                logical_id=r["LogicalResourceId"],
                physical_id=r.get("PhysicalResourceId", ""),
                type=r["ResourceType"],
                status=r.get("ResourceStatus", ""),
            )
            for r in _pages(client, "list_stack_resources", "StackResourceSummaries", StackName=name)
        )
        body = client.get_template(StackName=name).get("TemplateBody")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                body = None  # YAML templates are not parsed here
        self.stacks.append(
            ObservedStack(
                name=name,
                stack_id=described["StackId"],
                account=self.account,
                region=region,
                status=described.get("StackStatus", ""),
                tags=_tags(described.get("Tags")),
                resources=resources,
                template=body if isinstance(body, Mapping) else None,
                parameters={
                    p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in described.get("Parameters", [])
                },
            )
        )

    # -- global (once per account) -----------------------------------------------------------

    def buckets(self, region: str) -> None:
        s3 = self.client("s3", region)
        for bucket in s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            self.guarded("s3", None, self._bucket, s3, name, region)
        self.complete.add(BUCKET)

    def _bucket(self, s3: Any, name: str, region: str) -> None:
        def optional(call: Callable[[], Any], absent: tuple[str, ...]) -> Any:
            try:
                return call()
            except ClientError as exc:
                if error_code(exc) in absent:
                    return None
                raise

        block = optional(
            lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
            ("NoSuchPublicAccessBlockConfiguration",),
        )
        encryption = optional(
            lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0][
                "ApplyServerSideEncryptionByDefault"
            ]["SSEAlgorithm"],
            ("ServerSideEncryptionConfigurationNotFoundError",),
        )
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
        tags = optional(lambda: _tags(s3.get_bucket_tagging(Bucket=name)["TagSet"]), ("NoSuchTagSet",)) or {}
        attributes = {
            "public_access_block": dict(block) if block is not None else None,
            "encryption": encryption,
            "versioning": versioning,
        }
        self.add(ObservedResource(f"arn:aws:s3:::{name}", BUCKET, name, self.account, "", tags, attributes))

    def iam(self, region: str) -> None:
        iam = self.client("iam", region)
        for role in _pages(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            self.guarded("iam", None, self._role, iam, role, name)
        for policy in _pages(iam, "list_policies", "Policies", Scope="Local"):
            tags = _tags(iam.list_policy_tags(PolicyArn=policy["Arn"]).get("Tags"))
            self.add(ObservedResource(policy["Arn"], MANAGED_POLICY, policy["Arn"], self.account, "", tags))
        self.complete.update((ROLE, MANAGED_POLICY))

    def _role(self, iam: Any, role: Mapping[str, Any], name: str) -> None:
        inline = {
            policy: _statements(document(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]))
            for policy in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name)
        }
        attached = sorted(
            p["PolicyArn"] for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
        )
        tags = _tags(_pages_list(iam, "list_role_tags", "Tags", RoleName=name))
        attributes = {
            "inline_policies": inline,
            "attached_policies": attached,
            "assume_role_policy": _statements(document(role.get("AssumeRolePolicyDocument"))),
        }
        self.add(ObservedResource(role["Arn"], ROLE, name, self.account, "", tags, attributes))

    def read(self) -> AccountInventory:
        for index, region in enumerate(self.regions):
            self.guarded("tagging", region, self.tagging, region)
            self.guarded("ec2", region, self.security_groups, region)
            self.guarded("lambda", region, self.functions, region)
            self.guarded("cloudformation", region, self.cloudformation, region)
            if index == 0:  # global services, once
                self.guarded("s3", None, self.buckets, region)
                self.guarded("iam", None, self.iam, region)
        return AccountInventory(
            account=self.account,
            regions=self.regions,
            resources=tuple(sorted(self.resources.values(), key=lambda r: r.arn)),
            stacks=tuple(sorted(self.stacks, key=lambda s: (s.region, s.name))),
            failures=tuple(self.failures),
            complete_types=frozenset(self.complete),
            drift_method=self.method(),
        )

    def method(self) -> str:
        if not self.detected:
            return "project"
        return "cloudformation+project" if self.fallbacks else "cloudformation"


def _pages_list(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """A listing that may not be paginated by the installed botocore (falls back to one call)."""
    if client.can_paginate(operation):
        return list(_pages(client, operation, key, **kwargs))
    return list(getattr(client, operation)(**kwargs).get(key, []))


def read_account(
    session: boto3.Session, account: str, regions: Sequence[str], *, detect_timeout: float | None = None
) -> AccountInventory:
    """Everything one (already reached) account holds in ``regions``; failures recorded, not raised.

    ``detect_timeout``: seconds CloudFormation drift detection may take per region (None: not tried)."""
    return _AccountReader(session, account, regions, detect_timeout).read()


def read_inventories(
    accounts: Sequence[AccountRef],
    *,
    connect: Connect,
    regions: Sequence[str],
    concurrency: int = 3,
    detect_timeout: float | None = None,
) -> dict[str, AccountInventory]:
    """Every account's inventory, keyed by account id; one unreachable account does not stop the others."""

    def one(ref: AccountRef) -> AccountInventory:
        try:
            session = connect(ref)
        except AssumeRoleError as exc:
            log.warning("AWS account %s (%s) not read: %s", ref.account_id, ref.env, exc.code)
            failure = ReadFailure(ref.account_id, "sts", exc.code, redact(str(exc))[:300])
            return AccountInventory(account=ref.account_id, regions=tuple(regions), failures=(failure,))
        return read_account(session, ref.account_id, regions, detect_timeout=detect_timeout)

    unique = list({ref.account_id: ref for ref in accounts}.values())
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(unique) or 1))) as pool:
        return {inv.account: inv for inv in pool.map(one, unique)}


def newest_backup(session: boto3.Session, bucket: str, prefix: str, *, account: str = "") -> BackupObservation:
    """The newest object's time under ``s3://bucket/prefix`` (None when empty); a read error is recorded."""
    try:
        newest: datetime | None = None
        s3 = session.client("s3")
        for obj in _pages(s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=prefix):
            modified = obj.get("LastModified")
            if modified is not None and (newest is None or modified > newest):
                newest = modified
        return BackupObservation(bucket, prefix, newest)
    except (ClientError, BotoCoreError) as exc:
        message = exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else str(exc)
        failure = ReadFailure(account, "s3", error_code(exc), redact(f"s3://{bucket}/{prefix}: {message}")[:300])
        return BackupObservation(bucket, prefix, None, failure)
