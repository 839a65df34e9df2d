from __future__ import annotations

from drift_pipeline.core.standards import apply_defaults, load_config


def keys(result):
    return {p.key: p for p in result.problems}


def test_load_config_when_empty_then_valid_and_no_problems():
    result = load_config("", "check.toml")
    assert result.valid and result.data == {} and result.problems == ()


def test_load_config_when_full_valid_schema_then_no_problems():
    text = """
[extends]
registry = "github:acme/standards@v1"
rulesets = ["typescript-internal"]

[code.linting.eslint]
files = ["src/**/*.ts"]
ignore = ["**/dist/**"]
max-warnings = 0
dependencies = ["eslint.shared.js"]
[code.linting.eslint.rules]
eqeqeq = "error"
"max-depth" = { severity = "error", max = 4 }

[code.linting.ruff]
line-length = 100
[code.linting.ruff.lint]
select = ["E"]

[code.types.tsc.require]
strict = true

[code.coverage_run]
enabled = true
min_threshold = 90
runner = "vitest"

[[code.naming.rules]]
extensions = ["ts"]
file_case = "kebab-case"
folder_case = "kebab-case"

[process.branches]
protection = true
required_reviews = 2
require_status_checks = ["ci"]
pattern = "^(feat|fix)/.+"

[process.commits]
conventional = true

[process.ci]
required_workflows = ["ci.yml"]
commands = { "ci.yml" = { build = ["npm test"] }, "lint.yml" = ["npm run lint"] }

[process.repo.ruleset]
required_reviews = 1
[[process.repo.ruleset.bypass_actors]]
actor_type = "Team"
actor_id = 42

[process.forbidden_files]
files = ["**/.env"]
ignore = []

[infra]
path = "infra"
stacks = ["api"]
[infra.accounts]
dev = "111111111111"
prod = "222222222222"

[monorepo]
exclude = ["packages/legacy-*"]

[metadata]
tier = "production"

[mcp.standards]
source = "github:acme/standards"
"""
    result = load_config(text, "standards.toml")
    assert result.problems == ()


def test_load_config_when_unclosed_table_header_then_parse_error_with_line():
    result = load_config('[code.linting.eslint]\nenabled = true\n\n[process.repo\nx = 1\n', "check.toml")
    (problem,) = result.problems
    assert not result.parsed and problem.line == 4 and "invalid TOML" in problem.message
    assert problem.rule == "invalid_config" and problem.key is None


def test_load_config_when_unquoted_value_then_parse_error_with_line():
    result = load_config('[extends]\nregistry = ./registry\n', "check.toml")
    (problem,) = result.problems
    assert problem.line == 2 and problem.file == "check.toml"


def test_load_config_when_unknown_key_deep_in_ruleset_then_full_key_path_and_line():
    text = "[process.repo]\nenabled = true\n\n[process.repo.ruleset]\nbranch = 'main'\nrequired_reviewz = 2\n"
    problem = keys(load_config(text, "apps/api/check.toml"))["process.repo.ruleset.required_reviewz"]
    assert problem.line == 6 and problem.file == "apps/api/check.toml"
    assert "unknown key" in problem.message and "required_reviews" in problem.message


def test_load_config_when_dotted_keys_then_line_found():
    text = "[process]\nrepo.ruleset.bogus = 1\n"
    problem = keys(load_config(text, "check.toml"))["process.repo.ruleset.bogus"]
    assert problem.line == 2


def test_load_config_when_removed_keys_then_reported_as_unknown():
    text = """[code.linting.ruff]
format = true
[code.formatting.prettier]
enabled = true
[code.tests]
enabled = true
[infra.tagging]
required = ["owner"]
"""
    found = keys(load_config(text, "check.toml"))
    assert {"code.linting.ruff.format", "code.formatting", "code.tests", "infra.tagging"} <= set(found)
    assert found["code.linting.ruff.format"].line == 2
    assert found["infra.tagging"].line == 7
    assert all("unknown key" in p.message for p in found.values())


def test_load_config_when_unknown_top_level_section_then_unknown():
    found = keys(load_config("[stack]\nname = 'x'\n", "check.toml"))
    assert found["stack"].line == 1


def test_load_config_when_wrong_types_then_expected_and_found_in_message():
    text = """[process.repo.ruleset]
required_reviews = "two"
enforcement = "sometimes"
[code.coverage_run]
min_threshold = 120
[code.linting.eslint]
max-warnings = -1
enabled = "yes"
[infra.accounts]
dev = 123456789012
staging = "1234"
[process.branches]
required_reviews = -1
"""
    found = keys(load_config(text, "check.toml"))
    assert "expected an integer >= 0, found string 'two'" in found["process.repo.ruleset.required_reviews"].message
    assert found["process.repo.ruleset.required_reviews"].line == 2
    assert "active" in found["process.repo.ruleset.enforcement"].message
    assert "from 0 to 100" in found["code.coverage_run.min_threshold"].message
    assert found["code.linting.eslint.max-warnings"].line == 7
    assert "boolean" in found["code.linting.eslint.enabled"].message
    assert "12-digit" in found["infra.accounts.dev"].message
    assert found["infra.accounts.staging"].line == 11
    assert found["process.branches.required_reviews"].line == 13


def test_load_config_when_bool_given_for_int_then_rejected():
    found = keys(load_config("[process.repo.ruleset]\nrequired_reviews = true\n", "check.toml"))
    assert "found boolean true" in found["process.repo.ruleset.required_reviews"].message


def test_load_config_when_bad_globs_then_each_glob_field_reported_with_index():
    text = """[process.pr]
exclude = ["ok/**", "[unclosed"]
[process.forbidden_files]
files = ["{a,b"]
ignore = [""]
[monorepo]
exclude = ["apps/[x"]
"""
    found = keys(load_config(text, "check.toml"))
    assert set(found) == {
        "process.pr.exclude[1]",
        "process.forbidden_files.files[0]",
        "process.forbidden_files.ignore[0]",
        "monorepo.exclude[0]",
    }
    assert found["process.pr.exclude[1]"].line == 2
    assert "unclosed '['" in found["process.pr.exclude[1]"].message
    assert found["monorepo.exclude[0]"].line == 7


def test_load_config_when_bad_regexes_then_reported():
    text = (
        "[process.branches]\npattern = '(feat'\nissue_pattern = '[A-Z+'\n[process.commits]\npattern = '*x'\n"
        "[process.tickets]\npattern = 'ok-\\d+'\n"
    )
    found = keys(load_config(text, "check.toml"))
    assert set(found) == {"process.branches.pattern", "process.branches.issue_pattern", "process.commits.pattern"}
    assert "regular expression" in found["process.commits.pattern"].message
    assert found["process.commits.pattern"].line == 5


def test_load_config_when_eslint_rule_is_array_then_rejected_with_quoted_key():
    text = '[code.linting.eslint.rules]\n"@typescript-eslint/no-x" = ["error", {}]\n"a" = { max = 1 }\n'
    found = keys(load_config(text, "check.toml"))
    problem = found['code.linting.eslint.rules."@typescript-eslint/no-x"']
    assert "array-form" in problem.message and problem.line == 2
    assert "missing required key 'severity'" in found["code.linting.eslint.rules.a"].message


def test_load_config_when_naming_extension_repeated_then_error_in_second_rule():
    text = """[code.naming]
enabled = true
[[code.naming.rules]]
extensions = ["ts"]
file_case = "kebab-case"
folder_case = "kebab-case"
[[code.naming.rules]]
extensions = ["ts"]
file_case = "dash"
folder_case = "kebab-case"
"""
    found = keys(load_config(text, "check.toml"))
    assert found["code.naming.rules[1].extensions"].line == 8
    assert found["code.naming.rules[1].file_case"].line == 9


def test_load_config_when_extends_misses_rulesets_then_required_key_reported():
    found = keys(load_config("[extends]\nregistry = './r'\n", "check.toml"))
    assert "missing required key 'rulesets'" in found["extends"].message
    assert found["extends"].line == 1


def test_load_config_when_problems_then_data_still_returned():
    result = load_config("[code.linting.eslint]\nbogus = 1\n[code.types.tsc]\nenabled = true\n", "check.toml")
    assert not result.valid
    assert result.data["code"]["types"]["tsc"]["enabled"] is True


def test_apply_defaults_when_empty_then_tools_disabled():
    config = apply_defaults({})
    assert config["code"]["linting"]["eslint"]["enabled"] is False
    assert config["code"]["types"]["tsc"]["enabled"] is False
    assert config["code"]["coverage_run"] == {"enabled": False, "min_threshold": 80, "runner": "auto"}
    assert config["process"]["repo"]["enabled"] is False
    assert config["infra"] == {"enabled": False, "manifest": "infra-manifest.json"}


def test_apply_defaults_when_eslint_or_ruff_present_then_enabled_by_default():
    config = apply_defaults({"code": {"linting": {"eslint": {}, "ruff": {"line-length": 90}}, "types": {"tsc": {}}}})
    assert config["code"]["linting"]["eslint"]["enabled"] is True
    assert config["code"]["linting"]["ruff"]["enabled"] is True
    assert config["code"]["types"]["tsc"]["enabled"] is False


def test_apply_defaults_when_ruleset_table_present_then_its_defaults_filled():
    config = apply_defaults({"process": {"repo": {"ruleset": {"required_reviews": 2}}}})
    assert config["process"]["repo"]["ruleset"] == {
        "required_reviews": 2,
        "name": "Branch Protection",
        "branch": "main",
        "enforcement": "active",
    }


def test_apply_defaults_when_wrong_types_then_left_alone():
    config = apply_defaults({"code": {"linting": "nope"}})
    assert config["code"]["linting"] == "nope"
