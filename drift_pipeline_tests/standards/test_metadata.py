from __future__ import annotations

import pytest

from drift_pipeline.core.standards import MappingReader, analyse_repo, parse_metadata_yaml


def test_parse_metadata_yaml_when_valid_then_values():
    meta = parse_metadata_yaml("tier: production\nstatus: deprecated\nteam: payments\n", "repo-metadata.yaml")
    assert (meta.tier, meta.status, meta.team, meta.source, meta.present) == (
        "production",
        "deprecated",
        "payments",
        "repo-metadata.yaml",
        True,
    )
    assert meta.problems == ()


def test_parse_metadata_yaml_when_keys_missing_then_defaults_without_problem():
    meta = parse_metadata_yaml("team: core\n", "repo-metadata.yml")
    assert (meta.tier, meta.status, meta.source) == ("internal", "active", "repo-metadata.yml")
    assert meta.problems == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("- a\n- b\n", "found list"),
        ("just a string", "found str"),
        ("tier: [unclosed\n", "not valid YAML"),
        ("tier: gold\n", "tier to be one of production, internal, prototype"),
        ("status: retired\n", "status to be one of active, pre-release, deprecated"),
        ("team: 7\n", "team to be a string"),
    ],
)
def test_parse_metadata_yaml_when_bad_input_then_defaults_and_specific_problem(text, fragment):
    meta = parse_metadata_yaml(text, "repo-metadata.yaml")
    assert meta.tier == "internal" and meta.status == "active" and meta.present
    (problem,) = meta.problems
    assert fragment in problem.message and problem.file == "repo-metadata.yaml"
    assert problem.severity == "warning"


def test_parse_metadata_yaml_when_bad_yaml_then_line_given():
    meta = parse_metadata_yaml("team: a\ntier: [oops\n", "repo-metadata.yaml")
    assert meta.problems[0].line is not None


def test_metadata_when_yaml_and_yml_both_present_then_yaml_preferred():
    result = analyse_repo(
        MappingReader(
            {"repo-metadata.yaml": "tier: production\n", "repo-metadata.yml": "tier: prototype\n", "check.toml": ""}
        )
    )
    assert result.metadata.tier == "production" and result.metadata.file == "repo-metadata.yaml"


def test_metadata_when_only_yml_then_used():
    result = analyse_repo(MappingReader({"repo-metadata.yml": "tier: prototype\n", "check.toml": ""}))
    assert result.metadata.source == "repo-metadata.yml" and result.in_scope


def test_metadata_when_standards_toml_has_metadata_table_then_it_wins_over_yaml():
    result = analyse_repo(
        MappingReader(
            {
                "repo-metadata.yaml": "tier: prototype\n",
                "standards.toml": '[metadata]\ntier = "production"\nteam = "x"\n',
            }
        )
    )
    assert (result.metadata.tier, result.metadata.source, result.metadata.team) == ("production", "standards.toml", "x")


def test_metadata_when_metadata_table_has_bad_tier_then_default_and_problem_with_key():
    result = analyse_repo(MappingReader({"standards.toml": '[metadata]\ntier = "gold"\n'}))
    assert result.metadata.tier == "internal"
    assert any(p.key == "metadata.tier" and p.file == "standards.toml" for p in result.problems)


def test_metadata_when_absent_then_default_and_not_in_scope():
    result = analyse_repo(MappingReader({"check.toml": ""}))
    assert result.metadata.source == "default" and not result.metadata.present
    assert not result.in_scope


def test_metadata_when_project_has_own_file_then_it_overrides_root():
    files = {
        "repo-metadata.yaml": "tier: production\nteam: root\n",
        "check.toml": "",
        "apps/web/package.json": "{}",
        "apps/web/repo-metadata.yaml": "tier: prototype\n",
        "apps/api/pyproject.toml": "",
        "apps/api/standards.toml": '[metadata]\nstatus = "deprecated"\n',
        "apps/cli/package.json": "{}",
    }
    result = analyse_repo(MappingReader(files))
    web, api, cli = (result.project(p) for p in ("apps/web", "apps/api", "apps/cli"))
    assert (web.metadata.tier, web.metadata.team, web.metadata.file) == (
        "prototype",
        None,
        "apps/web/repo-metadata.yaml",
    )
    assert (api.metadata.tier, api.metadata.status, api.metadata.source) == ("internal", "deprecated", "standards.toml")
    assert (cli.metadata.tier, cli.metadata.team) == ("production", "root")
