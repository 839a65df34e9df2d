"""The rule-family interface and what derives from the list of families: registry and contract."""

from __future__ import annotations

from datetime import date

import pytest

from drift_pipeline.core.rules import FAMILIES
from drift_pipeline.core.rules.base import Finding, RuleFamily, RuleSpec, make_finding
from drift_pipeline.core.rules.findings import RULES, contract_violations, registry

DAY = date(2026, 5, 4)


def _nothing(day, observed, expected) -> list[Finding]:
    return []


def _finding(spec: RuleSpec) -> Finding:
    return make_finding(spec, scan_date=DAY, org="acme", repo="web", project=".", message="m", subject="s")


@pytest.mark.parametrize("spec", [s for f in FAMILIES for s in f.rules], ids=lambda s: s.id)
def test_a_finding_of_every_declared_rule_meets_the_contract(spec):
    finding = _finding(spec)
    assert (finding.category, finding.severity) == (spec.category, spec.severity)
    assert contract_violations(finding.row()) == []
    assert RULES[spec.id] is spec


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"rule": "made_up_rule"}, "unknown rule id 'made_up_rule'"),
        ({"category": "process"}, "rule check_toml_added belongs to code, not process"),
        ({"category": "legal"}, "category 'legal' not one of"),
        ({"severity": "fatal"}, "severity 'fatal' not one of"),
        ({"fingerprint": ""}, "empty fingerprint"),
    ],
)
def test_rows_that_break_the_contract_are_named(change, problem):
    row = {**_finding(RULES["check_toml_added"]).row(), **change}
    assert any(v.startswith(problem) for v in contract_violations(row)), contract_violations(row)


@pytest.mark.parametrize(
    "rules, message",
    [
        ((RuleSpec("a", "process", "error", "A", "fix"),), "declares category 'process' inside the 'code' family"),
        ((RuleSpec("a", "code", "fatal", "A", "fix"),), "severity 'fatal'"),
        ((RuleSpec("a", "code", "error", "A", "fix"), RuleSpec("a", "code", "info", "A2", "fix")), "declared twice"),
        ((RuleSpec("a", "code", "error", "A", ""),), "title and fix text are required"),
    ],
)
def test_a_malformed_family_is_refused_with_the_rule_named(rules, message):
    with pytest.raises(ValueError, match=message):
        RuleFamily(category="code", rules=rules, evaluate=_nothing)


def test_a_family_outside_the_known_categories_is_refused():
    with pytest.raises(ValueError, match="category must be one of"):
        RuleFamily(category="legal", rules=(), evaluate=_nothing)


def test_the_registry_refuses_one_id_in_two_families():
    code = RuleFamily("code", (RuleSpec("x_missing", "code", "error", "X", "fix"),), _nothing)
    infra = RuleFamily("infra", (RuleSpec("x_missing", "infra", "error", "X", "fix"),), _nothing)
    with pytest.raises(ValueError, match="'x_missing' declared by both the code and the infra family"):
        registry([code, infra])
    assert set(registry([code])) == {"x_missing"}


def test_a_new_family_adds_its_rules_to_the_registry_and_its_table_name():
    code = next(f for f in FAMILIES if f.category == "code")
    process = RuleFamily("process", (RuleSpec("branch_protection_missing", "process", "error", "B", "fix"),), _nothing)
    rules = registry([code, process])
    assert rules["branch_protection_missing"].category == "process"
    assert set(rules) == {r.id for r in code.rules} | {"branch_protection_missing"}
    assert process.findings_table == "process_drift"
    assert set(registry(FAMILIES)) == set(RULES)  # the registry in use is the listed families' rules


def test_a_family_names_an_unknown_rule_id():
    code = next(f for f in FAMILIES if f.category == "code")
    with pytest.raises(KeyError, match="'nope' is not a rule of the code family"):
        code.spec("nope")
