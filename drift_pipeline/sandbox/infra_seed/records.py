"""What the AWS scenario is made of: the repos to deploy, the stacks deployed, the drift injected."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
)

Status = Literal["active", "pre-release", "deprecated"]
DriftKind = Literal[
    "orphaned",
    "missing",
    "ingress_changed",
    "deprecated_remaining",
    "prerelease_not_in_prod",
    "added_after_release",
    "backup_stale",
    "account_not_scanned",
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
    "backup_stale": "backup_stale",
    "account_not_scanned": "infra_not_evaluated",
    "prerelease_not_in_prod": None,
    "added_after_release": None,
}

_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_PROD = "prod"
_MISSABLE = ("AWS::S3::Bucket", "AWS::SQS::Queue")
_SG = "AWS::EC2::SecurityGroup"


@dataclass(frozen=True, kw_only=True)
class InfraRepo:
    """One repo's declared infra, as the demo generator committed it."""

    full_name: str  # "org/repo"
    project: str = "."
    status: Status = "active"
    stacks: Mapping[str, Mapping[str, Any]]  # stack name -> template, as committed
    commit_sha: str  # the deployed commit
    accounts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    # Release tracking by git tags (trunk-based): an env deployed from an older commit, with the
    # stacks as committed there; ``commit_tag=False`` deploys without the ``drift:commit`` stack tag,
    # so a scan can only learn the deployed commit from the repo's release tags.
    deployed_at: Mapping[str, str] = field(default_factory=dict)  # env -> commit sha (default commit_sha)
    stacks_at: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)  # env -> stacks
    commit_tag: bool = True
    release_tags: Mapping[str, str] = field(default_factory=dict)  # git tag -> commit sha, for tag_releases
    # ``[process.backups]`` (env, bucket, prefix): the bucket is created in that env's account, its
    # nightly job never wrote under ``prefix`` (only a manual dump elsewhere), so its backups are stale
    stale_backup: tuple[str, str, str] | None = None

    def deployed_envs(self) -> tuple[str, ...]:
        """Envs this repo is deployed to: all of ``accounts``, without prod when pre-release."""
        return tuple(e for e in self.accounts if not (self.status == "pre-release" and e == _PROD))

    def commit_for(self, env: str) -> str:
        return self.deployed_at.get(env, self.commit_sha)

    def stacks_for(self, env: str) -> Mapping[str, Mapping[str, Any]]:
        return self.stacks_at.get(env, self.stacks)


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
        for env in [d.env for d in self.deployed] + [x.env for x in self.drifts]:
            if env not in envs:
                envs.append(env)
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
            lines.append(f"| {repo} | {project} | {status[(repo, project)]} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "### Injected drift: what a scan should find",
            "",
            "| rule | kind | repo | env (account) | subject | what happened |",
            "|---|---|---|---|---|---|",
        ]
        for x in self.expected_findings():
            lines.append(
                f"| `{x.rule}` | {x.kind} | {x.repo} | {x.env} ({x.account}) | `{x.subject}` | {x.description} |"
            )
        expected = [x for x in self.drifts if not x.is_drift]
        if expected:
            lines += ["", "### Expected, not drift: a scan must not report these", ""]
            for x in expected:
                lines.append(f"- {x.repo}, {x.env} ({x.account}): {x.description}")
        return "\n".join(lines) + "\n"
