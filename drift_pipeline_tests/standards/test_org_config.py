from drift_pipeline.core.standards.org_config import parse_org_config


def test_exclude_globs_match_repo_names():
    config = parse_org_config('exclude:\n  - "legacy-*"\n  - drift-config\n')
    assert config.excluded_by("legacy-monolith") == "legacy-*"
    assert config.excluded_by("drift-config") == "drift-config"
    assert config.excluded_by("orders-api") is None and config.problems == ()


def test_bad_yaml_gives_a_problem_with_its_line_and_excludes_nothing():
    config = parse_org_config("exclude:\n  - [oops\n", "drift-config/drift.config.yaml")
    assert config.exclude == () and config.problems[0].line is not None
    assert config.problems[0].file == "drift-config/drift.config.yaml"


def test_bad_patterns_are_reported_by_index_and_the_good_ones_kept():
    config = parse_org_config('exclude: ["ok-*", "[bad", 3]\n')
    assert config.exclude == ("ok-*",)
    assert [p.key for p in config.problems] == ["exclude[1]", "exclude[2]"]


def test_empty_and_non_mapping_files():
    assert parse_org_config("").exclude == ()
    assert "expected a mapping" in parse_org_config("- a\n").problems[0].message
    assert "expected a list" in parse_org_config("exclude: legacy-*\n").problems[0].message
