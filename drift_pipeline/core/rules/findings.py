"""The findings contract shared by rules, issues, trends and the CLI (see DESIGN.md).

A :class:`Finding` is one row of the ``drift_findings`` table. The registry of rule ids
(:data:`RULES`) and the row check (:func:`contract_violations`) are derived from the one list of
rule families, :data:`drift_pipeline.core.rules.FAMILIES`; the text that tells a person how to fix a
finding lives beside its rule in the family's module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drift_pipeline.core.rules import FAMILIES
from drift_pipeline.core.rules.base import CATEGORIES, SEVERITIES, Finding, RuleFamily, RuleSpec

__all__ = ["FINDING_COLUMNS", "RULES", "Finding", "RuleSpec", "contract_violations", "registry"]


def registry(families: Iterable[RuleFamily]) -> dict[str, RuleSpec]:
    """Every rule id of ``families``; an id declared by two families is an error."""
    rules: dict[str, RuleSpec] = {}
    for family in families:
        for spec in family.rules:
            if spec.id in rules:
                raise ValueError(
                    f"rule id {spec.id!r} declared by both the {rules[spec.id].category} "
                    f"and the {family.category} family"
                )
            rules[spec.id] = spec
    return rules


# Rule ids: extend, never rename (stored findings and open issues refer to them).
RULES: dict[str, RuleSpec] = registry(FAMILIES)

FINDING_COLUMNS = (
    "scan_date",
    "org",
    "repo",
    "project",
    "category",
    "rule",
    "severity",
    "message",
    "subject",
    "details",
    "fingerprint",
    "commit_sha",
    "commit_url",
)


def contract_violations(row: dict[str, Any]) -> list[str]:
    """What is wrong with a finding row, against the contract (empty when it conforms)."""
    problems = []
    for col in FINDING_COLUMNS:
        if col not in row:
            problems.append(f"missing column {col}")
    if row.get("category") not in CATEGORIES:
        problems.append(f"category {row.get('category')!r} not one of {CATEGORIES}")
    if row.get("severity") not in SEVERITIES:
        problems.append(f"severity {row.get('severity')!r} not one of {SEVERITIES}")
    spec = RULES.get(str(row.get("rule")))
    if spec is None:
        problems.append(f"unknown rule id {row.get('rule')!r}")
    elif spec.category != row.get("category"):
        problems.append(f"rule {spec.id} belongs to {spec.category}, not {row.get('category')}")
    if not row.get("fingerprint"):
        problems.append("empty fingerprint")
    if not row.get("message"):
        problems.append("empty message")
    return problems
