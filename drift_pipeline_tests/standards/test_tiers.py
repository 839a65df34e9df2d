from __future__ import annotations

import pytest

from drift_pipeline.core.standards import MappingReader, RegistryResolver, analyse_repo, check_tier


@pytest.mark.parametrize("tier", ["production", "internal", "prototype"])
def test_check_tier_when_ruleset_has_tier_suffix_then_valid(tier):
    result = check_tier(tier, [f"typescript-{tier}", "python-other"])
    assert result.valid and result.matched == (f"typescript-{tier}",) and result.expected_suffix == f"-{tier}"


def test_check_tier_when_production_repo_only_internal_ruleset_then_invalid():
    result = check_tier("production", ["typescript-internal"])
    assert not result.valid and result.matched == ()
    assert "-production" in result.message and "typescript-internal" in result.message


def test_check_tier_when_tier_not_at_end_then_no_match():
    assert not check_tier("internal", ["internal-typescript", "internal-x-production"]).valid


def test_check_tier_when_no_extends_or_empty_rulesets_then_valid():
    assert check_tier("production", None).valid
    assert check_tier("production", []).valid


def test_analyse_when_prototype_repo_extends_production_ruleset_then_tier_mismatch(registry_dir):
    files = {
        "repo-metadata.yaml": "tier: prototype\n",
        "check.toml": '[extends]\nregistry = "github:acme/standards"\nrulesets = ["typescript-production"]\n',
    }
    result = analyse_repo(MappingReader(files), RegistryResolver(local_overrides={"*": registry_dir}))
    root = result.project(".")
    assert not root.tier_check.valid and root.tier_check.tier == "prototype"
    (problem,) = [p for p in result.problems if p.rule == "tier_ruleset_mismatch"]
    assert problem.severity == "error" and problem.line == 3 and problem.key == "extends.rulesets"


def test_analyse_when_empty_rulesets_then_valid_with_warning():
    files = {"check.toml": '[extends]\nregistry = "./reg"\nrulesets = []\n', "reg/rulesets/x.toml": ""}
    result = analyse_repo(MappingReader(files))
    assert result.project(".").tier_check.valid
    (problem,) = result.problems
    assert problem.severity == "warning" and "no rulesets" in problem.message


def test_analyse_when_registry_unreachable_then_tier_still_checked():
    files = {
        "repo-metadata.yaml": "tier: production\n",
        "check.toml": '[extends]\nregistry = "github:acme/gone"\nrulesets = ["python-internal"]\n',
    }
    result = analyse_repo(MappingReader(files))
    rules = {p.rule for p in result.problems}
    assert rules == {"registry_unresolved", "tier_ruleset_mismatch"}
