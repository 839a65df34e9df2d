from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drift_pipeline.core.standards import (
    LocalDirReader,
    MappingReader,
    RegistryResolver,
    RegistryUnavailable,
    analyse_repo,
    deep_merge,
    load_config,
    parse_registry,
)
from drift_pipeline.core.standards.registry import load_ruleset_dir
from drift_pipeline.sources.gitutil import Author

WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ME = Author("Test", "test@example.com")


def extends(registry: str, *rulesets: str) -> str:
    names = ", ".join(f'"{r}"' for r in rulesets)
    return f'[extends]\nregistry = "{registry}"\nrulesets = [{names}]\n'


# -- registry references ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "owner", "repo", "ref", "transport"),
    [
        ("github:acme/standards", "acme", "standards", None, None),
        ("github:acme/standards@v1.2.0", "acme", "standards", "v1.2.0", None),
        ("github+ssh:acme/standards@main", "acme", "standards", "main", "ssh"),
        ("github+token:acme/standards", "acme", "standards", None, "token"),
    ],
)
def test_parse_registry_when_github_forms_then_same_owner_repo_ref(spec, owner, repo, ref, transport):
    parsed = parse_registry(spec)
    assert (parsed.kind, parsed.owner, parsed.repo, parsed.ref, parsed.transport) == (
        "github",
        owner,
        repo,
        ref,
        transport,
    )


@pytest.mark.parametrize("spec", ["github:acme", "github:/repo", "github:a/b/c", "github:acme/x@"])
def test_parse_registry_when_github_malformed_then_value_error(spec):
    with pytest.raises(ValueError):
        parse_registry(spec)


def test_parse_registry_when_other_string_then_local_path():
    assert parse_registry("../registry").kind == "local"


# -- the community registry -------------------------------------------------------------------


def test_community_registry_when_loaded_then_every_ruleset_validates(registry_dir):
    rulesets = load_ruleset_dir(registry_dir)
    assert len(rulesets) == 8
    for name, loaded in rulesets.items():
        assert loaded.problems == (), name


def test_community_registry_when_all_rulesets_merged_then_resolved_without_problems(registry_dir):
    names = sorted(p.stem for p in (registry_dir / "rulesets").glob("*.toml"))
    resolution = RegistryResolver().resolve({"registry": str(registry_dir), "rulesets": names}, "check.toml")
    assert resolution.problems == () and resolution.applied == tuple(names)
    code = resolution.merged["code"]
    # Every tool any ruleset enables is enabled in the merge.
    for path in (
        ("linting", "eslint"),
        ("linting", "ruff"),
        ("types", "tsc"),
        ("types", "ty"),
        ("unused", "knip"),
        ("unused", "vulture"),
        ("security", "secrets"),
        ("security", "pnpmaudit"),
        ("security", "pipaudit"),
        ("naming",),
        ("quality", "disable-comments"),
    ):
        table = code
        for key in path:
            table = table[key]
        assert table["enabled"] is True, path


@pytest.mark.parametrize(
    "name",
    sorted(
        p.stem
        for p in (
            Path(__file__).resolve().parents[2] / "drift_pipeline" / "sandbox/data/registry-community/rulesets"
        ).glob("*.toml")
    ),
)
def test_community_ruleset_when_extended_alone_then_tier_matches_and_valid(name, registry_dir):
    tier = name.rsplit("-", 1)[1]
    files = {"check.toml": extends("github:acme/community", name), "repo-metadata.yaml": f"tier: {tier}\n"}
    result = analyse_repo(
        MappingReader(files), RegistryResolver(local_overrides={"github:acme/community": registry_dir})
    )
    assert result.problems == ()
    root = result.project(".")
    assert root.tier_check.valid and root.rulesets == (name,)


def test_rulesets_when_merged_in_order_then_later_wins_and_local_on_top(registry_dir):
    files = {
        "check.toml": extends(str(registry_dir), "typescript-internal", "typescript-production")
        + '[code.linting.eslint.rules]\n"max-depth" = "off"\nextra = "warn"\n'
    }
    root = analyse_repo(MappingReader(files)).project(".")
    rules = root.config["code"]["linting"]["eslint"]["rules"]
    assert rules["import/no-cycle"] == {"severity": "error", "maxDepth": 10}  # production over internal
    assert rules["max-depth"] == "off" and rules["extra"] == "warn"  # local on top
    assert rules["eqeqeq"] == "error"  # kept from rulesets
    assert root.config["code"]["quality"]["disable-comments"]["enabled"] is True


# -- merge semantics --------------------------------------------------------------------------


def test_deep_merge_when_tables_nested_then_merged_key_by_key():
    base = {"code": {"linting": {"eslint": {"enabled": True, "rules": {"a": "error"}}}}}
    over = {"code": {"linting": {"eslint": {"rules": {"b": "warn"}}}}}
    assert deep_merge(base, over) == {
        "code": {"linting": {"eslint": {"enabled": True, "rules": {"a": "error", "b": "warn"}}}}
    }


def test_deep_merge_when_lists_then_replaced_whole():
    base = {"x": {"select": ["E", "F"], "rules": [{"extensions": ["ts"]}, {"extensions": ["tsx"]}]}}
    over = {"x": {"select": ["I"], "rules": [{"extensions": ["js"]}]}}
    assert deep_merge(base, over) == {"x": {"select": ["I"], "rules": [{"extensions": ["js"]}]}}


def test_deep_merge_when_kinds_differ_then_later_wins_and_inputs_untouched():
    base = {"a": {"b": 1}, "c": 1}
    over = {"a": 5, "c": {"d": 2}}
    assert deep_merge(base, over) == {"a": 5, "c": {"d": 2}}
    assert base == {"a": {"b": 1}, "c": 1}


def test_merge_when_local_overrides_one_process_table_then_nothing_dropped():
    ruleset = """
[process.ci]
enabled = true
commands = { "ci.yml" = ["npm test"] }
[process.hooks]
enabled = true
protected_branches = ["main"]
[process.pr]
exclude = ["docs/**"]
[process.forbidden_files]
enabled = true
files = ["**/.env"]
[infra]
enabled = true
manifest = "infra/manifest.json"
[monorepo]
exclude = ["legacy/**"]
"""
    local = (
        extends("./reg", "base-internal")
        + "[process.ci]\nrequire_workflows = ['ci.yml']\n[process.pr]\nmax_files = 10\n"
    )
    root = analyse_repo(MappingReader({"check.toml": local, "reg/rulesets/base-internal.toml": ruleset})).project(".")
    process = root.config["process"]
    assert process["ci"]["commands"] == {"ci.yml": ["npm test"]} and process["ci"]["enabled"] is True
    assert process["ci"]["require_workflows"] == ["ci.yml"]
    assert process["hooks"]["protected_branches"] == ["main"]
    assert process["pr"] == {"exclude": ["docs/**"], "max_files": 10, "enabled": False, "require_issue": False}
    assert process["forbidden_files"]["files"] == ["**/.env"]
    assert root.config["infra"]["manifest"] == "infra/manifest.json"
    assert root.config["monorepo"]["exclude"] == ["legacy/**"]
    assert root.problems == ()


def test_merge_when_local_names_table_without_enabled_then_ruleset_enabled_kept():
    files = {
        "check.toml": extends("./reg", "a-internal") + "[code.types.tsc.require]\nstrict = false\n",
        "reg/rulesets/a-internal.toml": "[code.types.tsc]\nenabled = true\n",
    }
    root = analyse_repo(MappingReader(files)).project(".")
    assert root.config["code"]["types"]["tsc"] == {"enabled": True, "require": {"strict": False}}


# -- failures become problems -----------------------------------------------------------------


def test_resolve_when_registry_missing_then_registry_unresolved_and_rest_evaluates(tmp_path):
    files = {
        "check.toml": extends("./no-such-registry", "python-internal") + "[code.linting.eslint]\nbogus = 1\n",
        "eslint.config.js": "",
    }
    result = analyse_repo(MappingReader(files))
    root = result.project(".")
    by_rule = {p.rule: p for p in result.problems}
    assert by_rule["registry_unresolved"].key == "extends.registry" and by_rule["registry_unresolved"].line == 2
    assert by_rule["invalid_config"].key == "code.linting.eslint.bogus"
    assert root.config["code"]["linting"]["eslint"]["enabled"] is True
    assert [t.path for t in root.tracked_files] == ["check.toml", "eslint.config.js"]


def test_resolve_when_ruleset_missing_then_registry_unresolved_and_others_applied(registry_dir):
    files = {"check.toml": extends(str(registry_dir), "python-internal", "python-nonexistent")}
    result = analyse_repo(MappingReader(files))
    (problem,) = result.problems
    assert problem.rule == "registry_unresolved" and "python-nonexistent" in problem.message
    assert result.project(".").config["code"]["types"]["ty"]["enabled"] is True


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[code.linting.eslint\n", "invalid TOML"),
        ("[code.linting.ruff]\nformat = true\n", "unknown key"),
    ],
)
def test_resolve_when_ruleset_invalid_then_registry_unresolved_and_not_applied(content, fragment):
    files = {
        "check.toml": extends("./reg", "bad-internal", "good-internal"),
        "reg/rulesets/bad-internal.toml": content,
        "reg/rulesets/good-internal.toml": "[code.types.ty]\nenabled = true\n",
    }
    result = analyse_repo(MappingReader(files))
    (problem,) = result.problems
    assert problem.rule == "registry_unresolved" and fragment in problem.message
    assert problem.file == "./reg:rulesets/bad-internal.toml"
    config = result.project(".").config
    assert config["code"]["types"]["ty"]["enabled"] is True
    assert config["code"]["linting"]["ruff"]["enabled"] is False


def test_resolve_when_ruleset_has_own_extends_then_not_followed():
    files = {
        "check.toml": extends("./reg", "a-internal"),
        "reg/rulesets/a-internal.toml": extends("./reg", "b") + "[code.types.ty]\nenabled = true\n",
        "reg/rulesets/b.toml": "[code.unused.knip]\nenabled = true\n",
    }
    result = analyse_repo(MappingReader(files))
    config = result.project(".").config
    assert config["code"]["unused"]["knip"]["enabled"] is False
    assert config["extends"] == {"registry": "./reg", "rulesets": ["a-internal"]}
    assert [p.severity for p in result.problems] == ["warning"]


def test_resolve_when_github_without_fetcher_then_problem_mentions_registry_dir():
    result = analyse_repo(MappingReader({"check.toml": extends("github:acme/std", "x-internal")}))
    (problem,) = result.problems
    assert problem.rule == "registry_unresolved" and "--registry-dir" in problem.message


class CountingFetcher:
    def __init__(self, tree: dict[str, str] | None = None, error: Exception | None = None):
        self.calls: list[tuple[str, str, str | None]] = []
        self.tree, self.error = tree, error

    def fetch(self, owner, repo, ref):
        self.calls.append((owner, repo, ref))
        if self.error:
            raise self.error
        return MappingReader(self.tree or {})


def test_resolver_when_same_registry_used_twice_then_fetched_once():
    fetcher = CountingFetcher({"rulesets/x-internal.toml": "[code.types.ty]\nenabled = true\n"})
    files = {
        "check.toml": extends("github:acme/std@v1", "x-internal"),
        "apps/a/check.toml": extends("github+ssh:acme/std@v1", "x-internal"),
        "apps/b/check.toml": extends("github:acme/std@v2", "x-internal"),
    }
    result = analyse_repo(MappingReader(files), RegistryResolver(fetcher=fetcher))
    assert result.problems == ()
    assert sorted(fetcher.calls) == [("acme", "std", "v1"), ("acme", "std", "v2")]


@pytest.mark.parametrize("error", [RegistryUnavailable("repository not found"), RuntimeError("boom")])
def test_resolver_when_fetcher_fails_then_registry_unresolved(error):
    fetcher = CountingFetcher(error=error)
    result = analyse_repo(
        MappingReader({"check.toml": extends("github:acme/std", "x-internal")}), RegistryResolver(fetcher=fetcher)
    )
    (problem,) = result.problems
    assert problem.rule == "registry_unresolved" and "github:acme/std" in problem.message


def test_resolver_when_override_names_repo_then_only_that_repo_mapped(registry_dir):
    resolver = RegistryResolver(local_overrides={"github:acme/community": registry_dir})
    ok = resolver.resolve(
        {"registry": "github+token:acme/community@main", "rulesets": ["python-internal"]}, "check.toml"
    )
    other = resolver.resolve({"registry": "github:acme/other", "rulesets": ["python-internal"]}, "check.toml")
    assert ok.problems == () and ok.applied == ("python-internal",)
    assert other.problems[0].rule == "registry_unresolved"


def test_resolver_when_local_registry_outside_tree_then_read_from_disk(tmp_path, registry_dir):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "check.toml").write_text(extends(str(Path("..") / "reg"), "python-prototype"))
    (repo / "repo-metadata.yaml").write_text("tier: prototype\n")
    (tmp_path / "reg").symlink_to(registry_dir)
    result = analyse_repo(LocalDirReader(repo))
    assert result.problems == ()
    assert result.project(".").config["code"]["linting"]["ruff"]["lint"]["select"] == ["E", "F"]


def test_resolver_when_local_registry_relative_to_nested_config_then_resolved():
    files = {
        "apps/web/check.toml": extends("../../reg", "a-internal"),
        "apps/web/package.json": "{}",
        "reg/rulesets/a-internal.toml": "[code.types.tsc]\nenabled = true\n",
        "apps/web/tsconfig.json": "{}",
    }
    result = analyse_repo(MappingReader(files))
    assert result.problems == ()
    assert "apps/web/tsconfig.json" in [t.path for t in result.project("apps/web").tracked_files]


def test_load_config_when_ruleset_text_then_same_schema_applies():
    assert load_config("[extends]\nregistry = 'x'\nrulesets = ['a']\n", "rulesets/a.toml").valid


def test_resolve_when_github_reference_malformed_then_registry_unresolved_with_line():
    result = analyse_repo(MappingReader({"check.toml": "# comment\n" + extends("github:acme", "x-internal")}))
    (problem,) = result.problems
    assert problem.rule == "registry_unresolved" and problem.line == 3 and "github:owner/repo" in problem.message


def test_load_config_when_list_items_repeat_where_unique_required_then_error():
    text = '[code.quality.disable-comments]\nextensions = ["ts", "ts"]\n'
    (problem,) = load_config(text, "check.toml").problems
    assert problem.key == "code.quality.disable-comments.extensions" and "more than once" in problem.message
