"""Process expectations read from real check.toml text through the standards engine (parse, [extends], defaults)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drift_pipeline.core.standards import MappingReader, RegistryResolver, analyse_repo
from drift_pipeline.core.standards.process_expectations import build_expectations, expectations_for_repo
from drift_pipeline.core.standards.process_model import (
    BypassActor,
    CodeownersRule,
    RequiredFile,
    RequiredWorkflow,
    TagProtection,
)

COMMUNITY = Path(__file__).resolve().parents[2] / "drift_pipeline" / "sandbox" / "data" / "registry-community"

FULL = """
[extends]
registry = "github:acme/community"
rulesets = ["python-production"]

[process.repo]
enabled = true
require_branch_protection = true
require_codeowners = true

[process.repo.ruleset]
required_reviews = 2
dismiss_stale_reviews = true
require_code_owner_reviews = true
require_status_checks = ["ci / test", "ci / lint"]
require_branches_up_to_date = true
require_signed_commits = true
enforce_admins = true
bypass_actors = [{actor_type = "Team", actor_id = 7}, {actor_type = "OrganizationAdmin", bypass_mode = "pull_request"}]

[process.repo.tag_protection]
patterns = ["v*"]
prevent_update = false

[process.codeowners]
enabled = true
rules = [{pattern = "*", owners = ["@acme/platform"]}, {pattern = "/infra/", owners = ["@acme/sre", "@bob"]}]

[process.forbidden_files]
enabled = true
files = ["**/.env", "**/*.pem"]
ignore = []
message = "secrets never in git"

[process.ci]
enabled = true
require_workflows = ["ci.yml"]
jobs = {"ci.yml" = ["test", "lint"], "release.yml" = ["publish"]}
actions = {"ci.yml" = ["actions/checkout"]}

[process.hooks]
enabled = true
require_hooks = ["pre-commit", "commit-msg"]

[process.commits]
enabled = true
types = ["feat", "fix"]
require_scope = true
max_subject_length = 72

[process.tickets]
enabled = true
pattern = "[A-Z]+-[0-9]+"
require_in_branch = true

[process.branches]
enabled = true
pattern = "^(feature|fix)/"
exclude = ["main"]
require_issue = true
issue_pattern = "[0-9]+"

[process.pr]
enabled = true
max_files = 20
max_lines = 400
require_issue = true
issue_keywords = ["Closes", "Fixes"]
exclude = ["**/*.lock"]

[process.coverage]
enabled = true
min_threshold = 80

[process.changesets]
enabled = true

[process.docs]
enabled = true
path = "handbook/"
"""


def _expect(toml: str, tier: str = "production", extra: dict[str, str] | None = None, registry: Path = COMMUNITY):
    files = {"repo-metadata.yaml": f"tier: {tier}\n", "check.toml": toml, **(extra or {})}
    standards = analyse_repo(
        MappingReader(files), RegistryResolver(local_overrides={"github:acme/community": registry})
    )
    assert [p for p in standards.problems if p.is_error] == []
    return expectations_for_repo(standards)


def test_every_cmt_key_of_the_process_tables_becomes_an_expectation():
    exp = _expect(FULL)
    assert (exp.tier, exp.severity, exp.source) == ("production", "error", "check.toml")
    assert exp.require_branch_protection and exp.require_codeowners
    assert (exp.ruleset_name, exp.ruleset_branch, exp.enforcement) == ("Branch Protection", "main", "active")
    assert exp.required_reviews == 2
    assert exp.dismiss_stale_reviews and exp.require_code_owner_reviews and exp.require_branches_up_to_date
    assert exp.require_signed_commits and exp.enforce_admins
    assert exp.require_status_checks == ("ci / test", "ci / lint")
    assert exp.bypass_actors == (
        BypassActor("Team", 7, "always"),
        BypassActor("OrganizationAdmin", None, "pull_request"),
    )
    assert exp.tag_protection == TagProtection(("v*",), prevent_deletion=True, prevent_update=False)
    assert exp.codeowners_rules == (
        CodeownersRule("*", ("@acme/platform",)),
        CodeownersRule("/infra/", ("@acme/sre", "@bob")),
    )
    assert exp.forbidden_files == ("**/.env", "**/*.pem")
    assert exp.forbidden_ignore == ()  # an explicit empty list means ignore nothing
    assert exp.forbidden_message == "secrets never in git"
    assert exp.required_workflows == (
        RequiredWorkflow("ci.yml", ("test", "lint"), "process.ci.require_workflows"),
        RequiredWorkflow("release.yml", ("publish",), "process.ci.jobs"),
    )
    assert exp.hooks is not None and exp.hooks.require_husky and exp.hooks.require_hooks == ("pre-commit", "commit-msg")
    assert exp.commits is not None
    assert (exp.commits.types, exp.commits.require_scope, exp.commits.max_subject_length) == (("feat", "fix"), True, 72)
    assert exp.tickets is not None and (exp.tickets.require_in_commits, exp.tickets.require_in_branch) == (True, True)
    assert exp.branches is not None and exp.branches.exclude == ("main",) and exp.branches.require_issue
    assert exp.pr is not None and (exp.pr.max_files, exp.pr.max_lines, exp.pr.exclude) == (20, 400, ("**/*.lock",))
    assert exp.required_files == (
        RequiredFile((".changeset/config.json",), "process.changesets.enabled"),
        RequiredFile(("handbook/",), "process.docs.path"),
    )
    assert [n.split(":")[0] for n in exp.not_evaluated] == [
        "[process.coverage]",
        "[process.changesets]",
        "[process.docs]",
        "[process.ci] actions",
    ]
    assert exp.problems == ()


def test_vision_keys_apply_without_enabled():
    exp = _expect(
        """
[process.branches]
protection = true
required_reviews = 1
require_status_checks = ["build"]
[process.commits]
conventional = true
[process.ci]
required_workflows = ["ci"]
""",
        tier="internal",
    )
    assert exp.severity == "warning"
    assert exp.require_branch_protection and exp.required_reviews == 1 and exp.require_status_checks == ("build",)
    assert exp.commits is not None and exp.commits.conventional and exp.commits.types == ()
    assert exp.required_workflows == (RequiredWorkflow("ci", (), "process.ci.required_workflows"),)
    assert exp.branches is None  # the table's own checks stay off until enabled


def test_cmt_tables_that_are_not_enabled_expect_nothing():
    exp = _expect(
        """
[process.repo]
require_branch_protection = true
[process.repo.ruleset]
required_reviews = 3
[process.pr]
max_files = 1
[process.coverage]
min_threshold = 90
""",
        tier="prototype",
    )
    assert exp.severity == "info"
    assert not exp.require_branch_protection and exp.required_reviews is None and exp.pr is None
    assert not exp.expects_branch_settings and exp.not_evaluated == ()


def test_the_stricter_of_cmt_and_vision_keys_wins_and_disabled_ruleset_expects_no_ruleset_settings():
    both = _expect("""
[process.repo]
enabled = true
[process.repo.ruleset]
required_reviews = 1
require_status_checks = ["a"]
[process.branches]
required_reviews = 2
require_status_checks = ["a", "b"]
""")
    assert both.required_reviews == 2 and both.require_status_checks == ("a", "b")
    disabled = _expect("""
[process.repo]
enabled = true
require_branch_protection = true
[process.repo.ruleset]
enforcement = "disabled"
required_reviews = 2
""")
    assert disabled.require_branch_protection and disabled.required_reviews is None


def test_process_tables_from_a_registry_ruleset_are_merged_under_the_local_config(tmp_path):
    (tmp_path / "rulesets").mkdir()
    (tmp_path / "rulesets" / "process-production.toml").write_text(
        (COMMUNITY / "rulesets" / "python-production.toml").read_text()
        + "\n[process.repo]\nenabled = true\nrequire_branch_protection = true\n"
        "[process.repo.ruleset]\nrequired_reviews = 2\nenforce_admins = true\n"
    )
    exp = _expect(
        """
[extends]
registry = "github:acme/community"
rulesets = ["process-production"]
[process.repo.ruleset]
required_reviews = 1
""",
        registry=tmp_path,
    )
    assert exp.require_branch_protection and exp.enforce_admins and exp.required_reviews == 1


def test_no_root_config_takes_the_shallowest_project_and_says_so():
    files = {
        "repo-metadata.yaml": "tier: internal\n",
        "apps/web/package.json": "{}",
        "apps/web/check.toml": "[process.repo]\nenabled = true\nrequire_codeowners = true\n",
    }
    exp = expectations_for_repo(analyse_repo(MappingReader(files)))
    assert exp.require_codeowners and exp.source == "apps/web/check.toml"
    assert exp.problems == ("no root config; process expectations taken from apps/web/check.toml",)


@pytest.mark.parametrize(
    "config, problem",
    [
        (
            {"process": {"repo": {"enabled": True, "require_branch_protection": "yes"}}},
            "process.repo.require_branch_protection: expected bool, found str",
        ),
        (
            {"process": {"repo": {"enabled": True, "ruleset": {"required_reviews": True}}}},
            "process.repo.ruleset.required_reviews: expected int, found bool",
        ),
        (
            {"process": {"repo": {"enabled": True, "ruleset": {"required_reviews": -1}}}},
            "process.repo.ruleset.required_reviews: expected a number >= 0",
        ),
        (
            {"process": {"repo": {"enabled": True, "ruleset": {"bypass_actors": [{"actor_id": 3}]}}}},
            "process.repo.ruleset.bypass_actors[0]: expected a table with an actor_type string",
        ),
        ({"process": {"commits": {"enabled": True, "pattern": "(unclosed"}}}, "process.commits.pattern: not a valid"),
        (
            {"process": {"ci": {"enabled": True, "require_workflows": ["ci.yml", 3]}}},
            "process.ci.require_workflows: 1 item(s) that are not non-empty strings ignored",
        ),
        (
            {"process": {"codeowners": {"enabled": True, "rules": ["*"]}}},
            "process.codeowners.rules[0]: expected a table",
        ),
        ({"process": {"tickets": {"enabled": True}}}, "process.tickets: enabled without a pattern"),
        ({"process": ["not", "a", "table"]}, "process: expected a table, found list"),
        ({"process": {"pr": "big"}}, "process.pr: expected a table, found str"),
    ],
)
def test_values_of_the_wrong_type_are_skipped_and_described_never_raised(config, problem):
    exp = build_expectations(config, "production")
    assert any(p.startswith(problem) for p in exp.problems), exp.problems


def test_wrong_typed_values_fall_back_to_nothing_expected():
    exp = build_expectations(
        {
            "process": {
                "repo": {"enabled": True, "require_branch_protection": "yes", "ruleset": {"required_reviews": "two"}},
                "ci": {"enabled": True, "require_workflows": ["ci.yml", 3]},
            }
        },
        "gold",
    )
    assert (exp.tier, exp.severity) == ("internal", "warning")
    assert not exp.require_branch_protection and exp.required_reviews is None
    assert [w.name for w in exp.required_workflows] == ["ci.yml"]
    assert any("tier 'gold'" in p for p in exp.problems)
    assert build_expectations(None).expects_branch_settings is False
