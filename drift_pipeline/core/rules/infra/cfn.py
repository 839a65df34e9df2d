"""Judging a stack resource from CloudFormation's own drift detection, in the project comparison's finding shape.

When the source could use CloudFormation drift detection for a deployed stack
(``ObservedStack.drift``), its per-resource result replaces the project's comparison of template
and described resource, and gives the same findings:

- ``DELETED`` -> ``resource_missing`` (same subject ``<env>/<stack>/<LogicalId>``);
- ``MODIFIED`` -> ``attribute_drift``: the expected and actual property documents CloudFormation
  returns go through the same normalisation as the template and the inventory
  (``template.normalised_attributes``) and the same per-item comparison (``attributes.compare``),
  so a security-group rule or an IAM statement is named exactly as the project method names it;
  for a type the project does not normalise, one finding per ``PropertyDifferences`` item
  (property = CloudFormation's ``PropertyPath``);
- ``IN_SYNC`` / ``NOT_CHECKED`` / ``UNKNOWN`` -> nothing (CloudFormation judged it, or cannot).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drift_pipeline.core.rules.infra.attributes import AttributeDiff, compare
from drift_pipeline.core.rules.infra.records import DeclaredResource, DeclaredStack, ExpectedEnv, ResourceDrift
from drift_pipeline.core.rules.infra.template import normalised_attributes

METHOD = "cloudformation"
Add = Callable[[str, ExpectedEnv, str, str, dict[str, Any]], None]


def add_attribute_drift(
    add: Add,
    env: ExpectedEnv,
    stack: DeclaredStack,
    res: DeclaredResource,
    subject: str,
    diff: AttributeDiff,
    short: Callable[[Any], str],
    where: dict[str, Any],
    method: str,
) -> None:
    """One ``attribute_drift`` finding: the same message and details whichever comparison found ``diff``."""
    add(
        "attribute_drift",
        env,
        f"{subject}:{diff.name}",
        f"{res.type} {res.logical_id} of {stack.name} in {env.env}: {diff.name} "
        f"expected {short(diff.expected)}, found {short(diff.actual)}",
        {
            **where,
            "property": diff.prop,
            "item": diff.item,
            "expected": diff.expected,
            "actual": diff.actual,
            "method": method,
        },
    )


def _diffs(drift: ResourceDrift) -> list[AttributeDiff]:
    expected = normalised_attributes(drift.type, drift.expected or {})
    if expected:
        return compare(drift.type, expected, normalised_attributes(drift.type, drift.actual or {}))
    return [AttributeDiff(d.path, None, d.expected, d.actual) for d in drift.differences]


def judge_resource(
    add: Add,
    env: ExpectedEnv,
    stack: DeclaredStack,
    res: DeclaredResource,
    drift: ResourceDrift | None,
    short: Callable[[Any], str],
) -> None:
    """The findings for one declared resource of a stack CloudFormation checked (``drift``: its result)."""
    if drift is None:
        return  # not in the detection's answer (IN_SYNC resources are filtered out)
    subject = f"{env.env}/{stack.name}/{res.logical_id}"
    base = {"env": env.env, "account": env.account, "stack": stack.name, "logical_id": res.logical_id}
    if drift.status == "DELETED":
        add(
            "resource_missing",
            env,
            subject,
            f"{res.type} {res.logical_id} of stack {stack.name} ({res.physical_id or drift.physical_id}) "
            f"is declared and deployed in {env.env} but does not exist",
            {
                **base,
                "type": res.type,
                "physical_id": res.physical_id or drift.physical_id,
                "arn": res.arn,
                "expected": "present",
                "actual": None,
                "evidence": "cloudformation drift detection",
            },
        )
        return
    if drift.status != "MODIFIED":
        return
    for diff in _diffs(drift):
        add_attribute_drift(add, env, stack, res, subject, diff, short, {**base, "arn": res.arn}, METHOD)
