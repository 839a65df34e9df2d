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

Modules: ``records`` (InfraRepo, DeployedStack, InjectedDrift, InfraScenario), ``templates``
(``stack_template``), ``deploy`` (``deploy_org_infra``), ``session`` (accounts and tags),
``drift`` (the injected out-of-band changes), ``releases`` (``tag_releases``: release tags in a repo's
git history, for repos deployed without the ``drift:commit`` stack tag: ``InfraRepo(commit_tag=False,
deployed_at=..., stacks_at=..., release_tags=...)``; what the newest templates add after an env's
deployed commit is listed as ``added_after_release``, expected state, not drift).
"""

from __future__ import annotations

from drift_pipeline.sandbox.infra_seed.deploy import deploy_org_infra
from drift_pipeline.sandbox.infra_seed.drift import SSH_FROM_ANYWHERE
from drift_pipeline.sandbox.infra_seed.records import (
    RULE_FOR_KIND,
    TAG_COMMIT,
    TAG_ENV,
    TAG_PROJECT,
    TAG_REPO,
    DeployedStack,
    DriftKind,
    InfraRepo,
    InfraScenario,
    InjectedDrift,
    Status,
)
from drift_pipeline.sandbox.infra_seed.releases import tag_releases
from drift_pipeline.sandbox.infra_seed.templates import stack_template

__all__ = [
    "RULE_FOR_KIND",
    "SSH_FROM_ANYWHERE",
    "TAG_COMMIT",
    "TAG_ENV",
    "TAG_PROJECT",
    "TAG_REPO",
    "DeployedStack",
    "DriftKind",
    "InfraRepo",
    "InfraScenario",
    "InjectedDrift",
    "Status",
    "deploy_org_infra",
    "stack_template",
    "tag_releases",
]
