"""Judging a stack resource by the project's comparison: the template at the deployed commit against the inventory.

Used for a deployed stack CloudFormation's drift detection did not check (``cfn`` judges the
others, in the same finding shape). ``found`` is the inventory's resource with the declared ARN,
else the declared physical id:

- not found -> ``resource_missing`` (subject ``<env>/<stack>/<LogicalId>``; its evidence is the
  service's own list when the inventory lists that type completely, else the tagging API), unless
  the declared resource has a physical id but no ARN (a type the inventory does not map: not judged);
- found -> one ``attribute_drift`` per differing property item (``attributes.compare``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drift_pipeline.core.rules.infra.attributes import compare
from drift_pipeline.core.rules.infra.cfn import Add, add_attribute_drift
from drift_pipeline.core.rules.infra.records import (
    AccountInventory,
    DeclaredResource,
    DeclaredStack,
    ExpectedEnv,
    ObservedResource,
)


def judge_compared(
    add: Add,
    env: ExpectedEnv,
    stack: DeclaredStack,
    res: DeclaredResource,
    found: ObservedResource | None,
    inv: AccountInventory,
    short: Callable[[Any], str],
) -> None:
    """The findings for one declared resource of a deployed stack, against ``found`` in ``inv``."""
    subject = f"{env.env}/{stack.name}/{res.logical_id}"
    if found is None:
        if res.arn is None and res.physical_id is not None:
            return  # a type the inventory does not map: cannot be judged
        add(
            "resource_missing",
            env,
            subject,
            f"{res.type} {res.logical_id} of stack {stack.name} ({res.physical_id or 'no physical id'}) "
            f"is declared and deployed in {env.env} but does not exist",
            {
                "env": env.env,
                "account": env.account,
                "stack": stack.name,
                "logical_id": res.logical_id,
                "type": res.type,
                "physical_id": res.physical_id,
                "arn": res.arn,
                "expected": "present",
                "actual": None,
                "evidence": "service list" if res.type in inv.complete_types else "tagging api",
            },
        )
        return
    where = {
        "env": env.env,
        "account": env.account,
        "stack": stack.name,
        "logical_id": res.logical_id,
        "arn": found.arn,
    }
    for diff in compare(res.type, res.attributes, found.attributes):
        add_attribute_drift(add, env, stack, res, subject, diff, short, where, inv.drift_method)
