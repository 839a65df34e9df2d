"""Hostile and broken input: every file the engine reads is bounded and becomes a problem on that file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from drift_pipeline.core.standards import LocalDirReader, MappingReader, analyse_repo, load_config, parse_metadata_yaml
from drift_pipeline.core.standards.globs import glob_error
from drift_pipeline.core.standards.limits import (
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_METADATA_BYTES,
    InputRejected,
    load_yaml,
)
from drift_pipeline.core.standards.org_config import parse_org_config
from drift_pipeline.sources.git_reader import GitCommitReader
from drift_pipeline.sources.gitutil import Author, commit_files, init_bare

ME = Author("Test", "test@example.com")
PRODUCTION_EXTENDS = '[extends]\nregistry = "reg"\nrulesets = ["python-production"]\n'
REGISTRY = {"reg/rulesets/python-production.toml": "[code.types.ty]\nenabled = true\n"}


def billion_laughs(levels: int = 9) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text + f"tier: *{prev}\n"


DEEP_TOML = {
    "table header 10,000 levels": "[" + ".".join(["a"] * 10_000) + "]\nx = 1\n",
    "dotted key 10,000 levels": ".".join(["a"] * 10_000) + " = 1\n",
    "inline arrays 10,000 levels": "x = " + "[" * 10_000 + "]" * 10_000 + "\n",
    "inline tables 10,000 levels": "x = " + "{a = " * 10_000 + "1" + "}" * 10_000 + "\n",
    "header just over the bound": "[" + ".".join(["a"] * (MAX_DEPTH + 1)) + "]\n",
}


@pytest.mark.parametrize("text", DEEP_TOML.values(), ids=DEEP_TOML.keys())
def test_load_config_when_nested_too_deep_then_invalid_config_not_recursion_error(text):
    loaded = load_config(text, "check.toml")
    (problem,) = loaded.problems
    assert not loaded.parsed and problem.rule == "invalid_config" and problem.file == "check.toml"
    assert f"nested deeper than {MAX_DEPTH} levels" in problem.message


def test_load_config_when_nested_at_the_bound_then_parsed():
    text = "[code.linting.eslint.rules]\nx = " + "[" * (MAX_DEPTH - 4) + "1" + "]" * (MAX_DEPTH - 4) + "\n"
    assert load_config(text, "check.toml").parsed


def test_analyse_repo_when_one_config_nested_too_deep_then_other_projects_still_analysed():
    files = {
        "apps/bad/check.toml": DEEP_TOML["table header 10,000 levels"],
        "apps/bad/package.json": "{}",
        "apps/good/check.toml": "[code.types.tsc]\nenabled = true\n",
        "apps/good/package.json": "{}",
        "apps/good/tsconfig.json": "{}",
        "repo-metadata.yaml": "tier: internal\n",
    }
    result = analyse_repo(MappingReader(files))
    bad, good = result.project("apps/bad"), result.project("apps/good")
    assert [p.file for p in bad.problems] == ["apps/bad/check.toml"] and not bad.valid
    assert good.valid and "apps/good/tsconfig.json" in [t.path for t in good.tracked_files]


def test_load_config_when_file_too_large_then_refused_before_parsing():
    text = "# " + "x" * MAX_CONFIG_BYTES + "\n"
    (problem,) = load_config(text, "check.toml").problems
    assert f"larger than {MAX_CONFIG_BYTES} bytes" in problem.message and len(problem.message) < 200


def test_load_config_when_huge_unknown_key_or_glob_then_message_bounded():
    text = f'[process.forbidden_files]\nfiles = ["{"[" * 5000}"]\n"{"k" * 50_000}" = 1\n'
    problems = load_config(text, "check.toml").problems
    assert len(problems) == 2 and all(len(p.message) < 600 and len(p.key or "") < 300 for p in problems)


@pytest.mark.parametrize("pattern", ["{a,b}" * 20, "{" * 3000 + "}" * 3000, "x" * 5000, "{x}" * 300])
def test_glob_error_when_pattern_hostile_then_refused_quickly(pattern):
    assert glob_error(pattern)


def test_load_config_when_regex_nested_too_deep_then_problem():
    text = f'[process.branches]\npattern = "{"(" * 600}{")" * 600}"\n'
    (problem,) = load_config(text, "check.toml").problems
    assert problem.key == "process.branches.pattern" and "regular expression" in problem.message
    # as deep as the length bound allows: RE2 (no recursion) reads it, nothing to report
    assert load_config(f'[process.branches]\npattern = "{"(" * 500}{")" * 500}"\n', "check.toml").problems == ()


# -- YAML: repo-metadata and the org config ----------------------------------------------------------


def test_parse_metadata_yaml_when_alias_bomb_then_refused_in_bounded_time_in_subprocess():
    code = (
        "import sys; from drift_pipeline.core.standards import parse_metadata_yaml; "
        "m = parse_metadata_yaml(sys.stdin.read(), 'repo-metadata.yaml'); "
        "print(len(m.problems), m.problems[0].severity, m.tier_known, len(m.problems[0].message))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=billion_laughs(), capture_output=True, text=True, timeout=60, check=True
    )
    count, severity, tier_known, length = proc.stdout.split()
    assert (count, severity, tier_known) == ("1", "error", "False") and int(length) < 300


def test_load_yaml_when_alias_bomb_then_refused_by_node_count_not_by_expanding():
    with pytest.raises(InputRejected, match="expands to more than"):
        load_yaml(billion_laughs(levels=15))  # 9**15 values if expanded


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: &a [*a]\n", "recursive alias"),
        ("tier: " + "[" * 5000 + "]" * 5000 + "\n", f"nested deeper than {MAX_DEPTH} levels"),
        ("x: " + "{a: " * 200 + "1" + "}" * 200 + "\n", f"nested deeper than {MAX_DEPTH} levels"),
    ],
)
def test_parse_metadata_yaml_when_hostile_structure_then_error_problem(text, fragment):
    meta = parse_metadata_yaml(text, "repo-metadata.yaml")
    (problem,) = meta.problems
    assert fragment in problem.message and problem.severity == "error" and not meta.tier_known and meta.present


def test_parse_metadata_yaml_when_small_aliases_then_still_allowed():
    meta = parse_metadata_yaml("base: &b production\ntier: *b\n", "repo-metadata.yaml")
    assert meta.tier == "production" and meta.problems == ()


def test_parse_metadata_yaml_when_too_large_then_refused():
    meta = parse_metadata_yaml("tier: internal\n# " + "x" * MAX_METADATA_BYTES + "\n", "repo-metadata.yaml")
    (problem,) = meta.problems
    assert f"larger than {MAX_METADATA_BYTES} bytes" in problem.message and not meta.tier_known


def test_parse_metadata_yaml_when_value_huge_then_echo_truncated():
    meta = parse_metadata_yaml("tier: " + "g" * 100_000 + "\n", "repo-metadata.yaml")
    (problem,) = meta.problems
    assert "g" * 90 + "..." in problem.message and len(problem.message) < 500


def test_parse_org_config_when_alias_bomb_or_huge_then_problem_and_no_exclusion():
    bomb = billion_laughs().replace("tier: ", "exclude: ")
    for text in (bomb, "exclude: []\n#" + "x" * 300_000):
        config = parse_org_config(text)
        (problem,) = config.problems
        assert config.exclude == () and "no repo is excluded" in problem.message and len(problem.message) < 300


# -- unreadable is not absent ---------------------------------------------------------------------------


def test_analyse_repo_when_metadata_not_utf8_on_disk_then_error_and_no_invented_tier_mismatch(tmp_path):
    (tmp_path / "check.toml").write_text(PRODUCTION_EXTENDS)
    (tmp_path / "reg" / "rulesets").mkdir(parents=True)
    (tmp_path / "reg" / "rulesets" / "python-production.toml").write_text("[code.types.ty]\nenabled = true\n")
    (tmp_path / "repo-metadata.yaml").write_bytes(b"tier: production\n\xff\xfe\n")
    result = analyse_repo(LocalDirReader(tmp_path))
    (problem,) = result.problems
    assert problem.file == "repo-metadata.yaml" and problem.severity == "error" and "not UTF-8" in problem.message
    assert result.metadata.present and result.in_scope  # not treated as absent
    assert result.project(".").tier_check is None  # tier unknown: nothing invented


def test_analyse_repo_when_metadata_is_dangling_symlink_then_unreadable_not_absent(tmp_path):
    (tmp_path / "check.toml").write_text("")
    (tmp_path / "repo-metadata.yaml").symlink_to(tmp_path / "nowhere.yaml")
    result = analyse_repo(LocalDirReader(tmp_path))
    (problem,) = result.problems
    assert problem.file == "repo-metadata.yaml" and "could not be read" in problem.message
    assert result.metadata.present


def test_analyse_repo_when_metadata_blob_not_utf8_in_git_then_error_on_that_file(tmp_path):
    repo = init_bare(tmp_path / "repo.git")
    sha = commit_files(
        repo,
        "main",
        {"check.toml": PRODUCTION_EXTENDS, "repo-metadata.yaml": b"tier: \xff\n", **REGISTRY},
        "c",
        ME,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    with GitCommitReader(repo, sha) as reader:
        result = analyse_repo(reader)
    assert [(p.file, p.severity) for p in result.problems] == [("repo-metadata.yaml", "error")]
    assert result.project(".").tier_check is None


def test_analyse_repo_when_config_not_utf8_on_disk_then_problem_not_empty_config(tmp_path):
    (tmp_path / "check.toml").write_bytes(b"[code.types.tsc]\nenabled = \xff\n")
    result = analyse_repo(LocalDirReader(tmp_path))
    (problem,) = result.problems
    assert problem.file == "check.toml" and "not UTF-8" in problem.message and result.project(".").config is None


def test_detect_projects_when_package_json_absurdly_nested_then_no_crash():
    files = {
        "apps/web/package.json": "[" * 100_000 + "]" * 100_000,
        "apps/web/check.toml": "",
        "apps/api/package.json": json.dumps({"name": "api"}),
    }
    result = analyse_repo(MappingReader(files))
    assert [p.path for p in result.projects] == [".", "apps/api", "apps/web"]


def test_load_config_when_list_huge_then_one_problem_not_one_per_item():
    text = '[process.forbidden_files]\nfiles = [' + ",".join(f'"a{i}/**"' for i in range(5000)) + "]\n"
    (problem,) = load_config(text, "check.toml").problems
    assert problem.key == "process.forbidden_files.files" and "at most 1000 items, found 5000" in problem.message


def test_load_config_when_thousands_of_problems_then_first_hundred_and_a_count():
    problems = load_config("[code]\n" + "".join(f"k{i} = 1\n" for i in range(3000)), "check.toml").problems
    assert len(problems) == 101 and problems[-1].message.startswith("2900 more problem(s) not listed")


def test_analyse_repo_when_dependencies_list_huge_then_bounded_and_reported():
    deps = ",".join(f'"gen/{i}/**"' for i in range(20_000))
    files = {
        "check.toml": f"[code.types.ty]\nenabled = true\ndependencies = [{deps}]\n",
        **{f"src/f{i}.py": "" for i in range(2000)},
    }
    result = analyse_repo(MappingReader(files))
    assert [p.key for p in result.problems] == ["code.types.ty.dependencies"]


def test_parse_org_config_when_too_many_patterns_then_first_thousand_and_problem():
    text = "exclude:\n" + "".join(f"  - legacy-{i}\n" for i in range(1500))
    config = parse_org_config(text)
    assert len(config.exclude) == 1000 and [p.key for p in config.problems] == ["exclude"]
