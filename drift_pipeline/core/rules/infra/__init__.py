"""Infra drift: what each repo declares and has deployed per env, against the AWS accounts' inventories.

Pure: records in (``records``), findings out. ``template`` turns a deployed stack's template into
declared resources, ``attributes`` holds the one normalised attribute shape and the per-property
comparison, ``evaluate`` the rules. The sources (``drift_pipeline.sources.aws_inventory``) fill
:class:`InfraObserved`; the declared side (:class:`RepoInfra`) is built from a repo's ``[infra]``
table, its templates at each env's deployed commit and its manifest
(``drift_pipeline.core.standards.infra_manifest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from drift_pipeline.core.rules.base import Finding, RuleFamily, RuleSpec
from drift_pipeline.core.rules.infra.evaluate import evaluate_repo as _evaluate_repo
from drift_pipeline.core.rules.infra.records import InfraObserved, RepoInfra


def _rule(severity: str, rid: str, title: str, fix: str) -> RuleSpec:
    return RuleSpec(rid, "infra", severity, title, fix)


# Rule ids: extend, never rename (stored findings and open issues refer to them).
SPECS: tuple[RuleSpec, ...] = (
    _rule(
        "error",
        "resource_missing",
        "Declared resource does not exist",
        "Redeploy the stack from the deployed commit (or remove the resource from the template / manifest "
        "if it was retired on purpose).",
    ),
    _rule(
        "warning",
        "resource_orphaned",
        "Resource tagged for the project is not declared",
        "Import the resource into a stack or the infra manifest, or delete it if it was left behind.",
    ),
    _rule(
        "error",
        "attribute_drift",
        "Resource differs from its declaration",
        "Revert the out-of-band change (redeploy the stack), or commit the change to the template and deploy it.",
    ),
    _rule(
        "warning",
        "deprecated_resources_remaining",
        "Deprecated project still has resources",
        "Delete the listed stacks and resources, or set the project's status back to active.",
    ),
    _rule(
        "error",
        "backup_stale",
        "No recent backup",
        "Check the backup job: no object under the configured prefix is newer than max_age_hours.",
    ),
    _rule(
        "warning",
        "infra_not_evaluated",
        "Infra could not be read",
        "Let the scanner assume its read-only role in the account (trust policy, role name) and read the "
        "service named in the details; until then this infra is not judged.",
    ),
)


def evaluate_repo(day: date, observed: InfraObserved, repo: RepoInfra) -> list[Finding]:
    """All infra findings of one repo (one project) on ``day``."""
    return _evaluate_repo(day, observed, repo, SPECS)


def evaluate(day: date, observed: InfraObserved, expected: Mapping[str, RepoInfra]) -> list[Finding]:
    """All infra findings of ``day``: every repo's declared infra against the observed inventories."""
    findings: list[Finding] = []
    for name in sorted(expected):
        findings += evaluate_repo(day, observed, expected[name])
    return findings


FAMILY: RuleFamily[InfraObserved, Mapping[str, RepoInfra]] = RuleFamily(
    category="infra", rules=SPECS, evaluate=evaluate
)

__all__ = ["FAMILY", "SPECS", "evaluate", "evaluate_repo"]
