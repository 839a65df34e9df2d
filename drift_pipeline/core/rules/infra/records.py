"""Infra records: what the AWS inventory observed and what a repo declares per env. Plain, frozen data.

Attributes are compared in one normalised shape on both sides (see :mod:`.attributes`):

- ``AWS::EC2::SecurityGroup``: ``ingress`` / ``egress``: sorted rule names ``"tcp/443 from 10.0.0.0/8"``;
- ``AWS::IAM::Role``: ``inline_policies`` {policy name: {statement name: statement}},
  ``attached_policies`` (sorted ARNs), ``assume_role_policy`` {statement name: statement};
- ``AWS::S3::Bucket``: ``public_access_block`` (dict or None), ``encryption`` (algorithm or None),
  ``versioning`` ("Enabled" / "Suspended" / None);
- ``AWS::Lambda::Function``: ``runtime``, ``memory``, ``timeout``, ``environment_names`` (sorted
  variable NAMES; values are never read into a record).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drift_pipeline.core.standards.infra_manifest import ManifestEntry

# Structured reasons of a read failure (``ReadFailure.code`` holds AWS's own error code when there
# was an AWS answer, else one of these).
NOT_SCANNED = "NotScanned"  # the account was not in the scan's account list
NO_ANSWER = "NoAnswer"  # no HTTP answer (endpoint unreachable, timeout, no credentials)

TAG_REPO = "drift:repo"
TAG_PROJECT = "drift:project"
TAG_COMMIT = "drift:commit"
TAG_CFN_STACK = "aws:cloudformation:stack-name"


@dataclass(frozen=True)
class ObservedResource:
    arn: str
    type: str  # CloudFormation type, e.g. "AWS::S3::Bucket"; "" when unknown
    physical_id: str  # what CloudFormation calls the physical id (bucket name, group id, role name, queue URL)
    account: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ObservedStackResource:
    logical_id: str
    physical_id: str
    type: str
    status: str = ""


@dataclass(frozen=True)
class PropertyDrift:
    """One difference CloudFormation's drift detection reported (``PropertyDifferences`` item)."""

    path: str  # PropertyPath, e.g. "/SecurityGroupIngress/1"
    expected: str | None
    actual: str | None
    kind: str  # ADD | REMOVE | NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    """CloudFormation's drift detection result for one stack resource (``StackResourceDrift``)."""

    logical_id: str
    physical_id: str
    type: str
    status: str  # IN_SYNC | MODIFIED | DELETED | NOT_CHECKED | UNKNOWN
    expected: Mapping[str, Any] | None = None  # ExpectedProperties (parsed, masked)
    actual: Mapping[str, Any] | None = None  # ActualProperties (parsed, masked)
    differences: tuple[PropertyDrift, ...] = ()


@dataclass(frozen=True)
class ObservedStack:
    name: str
    stack_id: str
    account: str
    region: str
    status: str
    tags: Mapping[str, str] = field(default_factory=dict)
    resources: tuple[ObservedStackResource, ...] = ()
    template: Mapping[str, Any] | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    # CloudFormation's own drift detection, per logical id; None: not used for this stack (the
    # project's comparison of template and described resource judges it)
    drift: Mapping[str, ResourceDrift] | None = None

    @property
    def commit(self) -> str | None:
        """The deployed commit, when the stack carries the commit tag."""
        return self.tags.get(TAG_COMMIT) or None


@dataclass(frozen=True)
class ReadFailure:
    """An account or service that could not be read: material for ``infra_not_evaluated``."""

    account: str
    service: str  # "sts" (the account could not be assumed), "iam", "ec2", "tagging", "s3", ...
    code: str  # AWS error code (``Error.Code``), or NOT_SCANNED / NO_ANSWER / a botocore error class
    reason: str  # one line for people, redacted
    region: str | None = None


@dataclass(frozen=True)
class AccountInventory:
    """One account's resources and stacks over the scanned regions, and what could not be read."""

    account: str
    regions: tuple[str, ...]
    resources: tuple[ObservedResource, ...] = ()
    stacks: tuple[ObservedStack, ...] = ()
    failures: tuple[ReadFailure, ...] = ()
    complete_types: frozenset[str] = frozenset()  # types listed by the service itself (untagged included)
    drift_method: str = "project"  # "project" | "cloudformation" | "cloudformation+project" (some stacks fell back)

    @property
    def reached(self) -> bool:
        return not any(f.service == "sts" for f in self.failures)

    def failed_services(self) -> frozenset[str]:
        return frozenset(f.service for f in self.failures)


@dataclass(frozen=True)
class BackupObservation:
    bucket: str
    prefix: str
    newest: datetime | None  # LastModified of the newest object under the prefix; None when empty
    failure: ReadFailure | None = None


@dataclass(frozen=True)
class InfraObserved:
    """Everything the sources read for one scan instant."""

    as_of: datetime
    accounts: Mapping[str, AccountInventory]  # account id -> inventory
    backups: Mapping[tuple[str, str], BackupObservation] = field(default_factory=dict)  # (bucket, prefix)


# -- expected ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredResource:
    logical_id: str
    type: str
    physical_id: str | None  # from the deployed stack; None when the stack does not list it
    arn: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)  # normalised, only what the template declares


@dataclass(frozen=True)
class DeclaredStack:
    stack: str  # declared name ("orders-api")
    name: str  # deployed name ("orders-api-prod")
    resources: tuple[DeclaredResource, ...] = ()
    deployed: bool = True  # False: the env's deployment has the stack but CloudFormation has none


@dataclass(frozen=True)
class ExpectedEnv:
    """What one env should hold for a repo: the stacks and manifest entries of its deployed commit."""

    env: str
    account: str
    commit: str | None  # deployed commit; None: nothing is deployed there (nothing expected)
    stacks: tuple[DeclaredStack, ...] = ()
    manifest: tuple[ManifestEntry, ...] = ()  # the manifest's entries for this env's account


@dataclass(frozen=True)
class BackupExpectation:
    bucket: str
    prefix: str
    max_age_hours: int = 24


@dataclass(frozen=True)
class RepoInfra:
    org: str
    repo: str
    project: str = "."
    status: str = "active"  # active | pre-release | deprecated
    tier: str = "internal"
    envs: tuple[ExpectedEnv, ...] = ()
    backups: BackupExpectation | None = None
    manifest_file: str | None = None  # repo-relative path of the infra manifest, when there is one
    manifest_anywhere: tuple[ManifestEntry, ...] = ()  # entries naming no account (S3 ARNs, plain ids)
    commit_url_base: str | None = None  # "https://github.com/org/repo/commit/" when known

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.repo}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.org, self.repo, self.project)
