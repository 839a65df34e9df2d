from __future__ import annotations

import json

from drift_pipeline.core.standards import MappingReader, RegistryResolver, analyse_repo, detect_projects


def paths(tracked):
    return [t.path for t in tracked]


def test_analyse_when_both_config_names_in_dir_then_standards_toml_wins_with_warning():
    files = {"check.toml": "[code.types.tsc]\nenabled = true\n", "standards.toml": "[code.types.ty]\nenabled = true\n"}
    result = analyse_repo(MappingReader(files))
    root = result.project(".")
    assert root.config_file == "standards.toml"
    assert root.config["code"]["types"]["ty"]["enabled"] is True
    assert root.config["code"]["types"]["tsc"]["enabled"] is False
    (problem,) = result.problems
    assert problem.severity == "warning" and problem.file == "check.toml" and "standards.toml" in problem.message
    assert result.config_files == ("check.toml", "standards.toml")


def test_analyse_when_config_invalid_then_problems_from_every_file():
    files = {"check.toml": "[code.bogus]\n", "apps/a/check.toml": "[process\n", "apps/a/package.json": "{}"}
    result = analyse_repo(MappingReader(files))
    assert {(p.file, p.line) for p in result.problems} == {("check.toml", 1), ("apps/a/check.toml", 1)}
    broken = result.project("apps/a")
    assert broken.config is None and broken.tier_check is None
    assert paths(broken.tracked_files) == ["apps/a/check.toml"]


def test_detect_projects_when_monorepo_then_markers_roots_and_skips():
    files = {
        "package.json": json.dumps({"name": "root", "workspaces": ["apps/*"]}),
        "apps/web/package.json": "{}",
        "apps/api/package.json": "{}",
        "apps/api/pyproject.toml": "",
        "lambdas/processor/pyproject.toml": "",
        "apps/web/node_modules/dep/package.json": "{}",
        "tools/.venv/lib/pyproject.toml": "",
        "deep/x/build/package.json": "{}",
        "infra/turbo.json": "{}",
        "infra/package.json": "{}",
        "py-ws/pyproject.toml": "",
        "py-ws/lerna.json": "{}",
    }
    detection = detect_projects(MappingReader(files), sorted(files))
    assert detection.projects == (
        ("apps/api", "typescript"),
        ("apps/web", "typescript"),
        ("lambdas/processor", "python"),
    )
    assert detection.workspace_roots == (".", "infra", "py-ws")


def test_detect_projects_when_workspaces_empty_or_bad_json_then_project():
    files = {"a/package.json": json.dumps({"workspaces": []}), "b/package.json": "{not json"}
    detection = detect_projects(MappingReader(files), sorted(files))
    assert detection.projects == (("a", "typescript"), ("b", "typescript"))


def test_analyse_when_monorepo_exclude_then_matching_projects_dropped():
    files = {
        "standards.toml": '[monorepo]\nexclude = ["legacy/**", "apps/old-*"]\n',
        "apps/new/package.json": "{}",
        "apps/old-site/package.json": "{}",
        "legacy/tool/pyproject.toml": "",
        "legacy/tool/check.toml": "",
    }
    result = analyse_repo(MappingReader(files))
    projects = {p.path: p.type for p in result.projects}
    # A directory holding a config is always a project; exclude filters marker detection only.
    assert projects == {".": None, "apps/new": "typescript", "legacy/tool": None}


def test_analyse_when_registry_sets_monorepo_exclude_then_honoured():
    files = {
        "check.toml": '[extends]\nregistry = "./reg"\nrulesets = ["m-internal"]\n',
        "reg/rulesets/m-internal.toml": '[monorepo]\nexclude = ["skip/**"]\n',
        "skip/a/package.json": "{}",
        "keep/package.json": "{}",
    }
    assert [p.path for p in analyse_repo(MappingReader(files)).projects] == [".", "keep"]


def test_analyse_when_config_in_ignored_dir_then_not_seen():
    files = {"node_modules/pkg/check.toml": "[bogus]\n", "dist/standards.toml": ""}
    result = analyse_repo(MappingReader(files))
    assert result.config_files == () and result.projects == () and result.problems == ()


def test_analyse_when_no_config_then_no_root_entry_and_out_of_scope():
    files = {"repo-metadata.yaml": "tier: production\n", "apps/a/package.json": "{}", ".github/workflows/ci.yml": ""}
    result = analyse_repo(MappingReader(files))
    assert [p.path for p in result.projects] == ["apps/a"]
    assert result.project("apps/a").config_file is None
    assert not result.in_scope
    assert ".github/workflows/ci.yml" not in paths(result.tracked_files)


def test_tracked_files_when_eslint_and_tsc_enabled_then_their_files_only():
    files = {
        "check.toml": "[code.linting.eslint]\n[code.types.tsc]\nenabled = true\n[code.unused.knip]\nenabled = false\n",
        "repo-metadata.yaml": "tier: internal\n",
        "package.json": "{}",
        "eslint.config.js": "",
        ".eslintrc.json": "",
        ".eslintignore": "",
        "tsconfig.json": "{}",
        "tsconfig.build.json": "{}",
        "knip.json": "{}",
        "ruff.toml": "",
        "pnpm-lock.yaml": "",
        ".gitleaks.toml": "",
        "vitest.config.ts": "",
        "src/index.ts": "",
        ".github/workflows/ci.yml": "",
        ".github/workflows/release.yaml": "",
        ".github/workflows/README.md": "",
        ".github/workflows/nested/x.yml": "",
    }
    result = analyse_repo(MappingReader(files))
    tracked = {t.path: (t.kind, t.tool) for t in result.tracked_files}
    assert tracked == {
        "check.toml": ("config", None),
        "repo-metadata.yaml": ("metadata", None),
        ".github/workflows/ci.yml": ("workflow", None),
        ".github/workflows/release.yaml": ("workflow", None),
        "eslint.config.js": ("dependency", "eslint"),
        ".eslintrc.json": ("dependency", "eslint"),
        ".eslintignore": ("dependency", "eslint"),
        "tsconfig.json": ("dependency", "tsc"),
        "tsconfig.build.json": ("dependency", "tsc"),
    }
    assert paths(result.tracked_files) == sorted(tracked)


def test_tracked_files_when_registry_enables_tools_then_their_files_tracked(registry_dir):
    files = {
        "check.toml": '[extends]\nregistry = "github:acme/c"\nrulesets = ["python-production"]\n',
        "repo-metadata.yaml": "tier: production\n",
        "pyproject.toml": "",
        "requirements.txt": "",
        ".gitleaks.toml": "",
        "ty.toml": "",
        "package.json": "{}",
        "tsconfig.json": "",
    }
    result = analyse_repo(MappingReader(files), RegistryResolver(local_overrides={"*": registry_dir}))
    tracked = {t.path: t.tool for t in result.tracked_files if t.kind == "dependency"}
    # pyproject.toml is listed once, under the first tool that names it (ruff).
    assert tracked == {
        "pyproject.toml": "ruff",
        "ty.toml": "ty",
        ".gitleaks.toml": "secrets",
        "requirements.txt": "pipaudit",
    }


def test_tracked_files_when_custom_dependencies_then_globs_resolved_in_project_dir():
    files = {
        "apps/api/pyproject.toml": "",
        "apps/api/check.toml": '[code.linting.ruff]\ndependencies = ["config/*.toml", "shared/**/ruff-*.cfg", '
        '"missing.txt"]\n',
        "apps/api/config/lint.toml": "",
        "apps/api/config/deep/no.toml": "",
        "apps/api/shared/a/b/ruff-x.cfg": "",
        "config/lint.toml": "",
    }
    result = analyse_repo(MappingReader(files))
    api = result.project("apps/api")
    assert {t.path: t.tool for t in api.tracked_files if t.kind == "dependency"} == {
        "apps/api/pyproject.toml": "ruff",
        "apps/api/config/lint.toml": "ruff",
        "apps/api/shared/a/b/ruff-x.cfg": "ruff",
    }


def test_tracked_files_when_coverage_runner_set_then_only_that_runner():
    files = {
        "check.toml": '[code.coverage_run]\nenabled = true\nrunner = "jest"\n',
        "jest.config.js": "",
        "vitest.config.ts": "",
        "pytest.ini": "",
    }
    assert {t.path: t.tool for t in analyse_repo(MappingReader(files)).tracked_files if t.kind == "dependency"} == {
        "jest.config.js": "jest"
    }
    files["check.toml"] = "[code.coverage_run]\nenabled = true\n"
    assert {t.tool for t in analyse_repo(MappingReader(files)).tracked_files if t.kind == "dependency"} == {
        "jest",
        "vitest",
        "pytest",
    }


def test_tracked_files_when_nested_project_then_workflows_on_root_and_root_metadata_applies():
    files = {
        "apps/web/package.json": "{}",
        "apps/web/check.toml": "[code.linting.eslint]\n",
        "apps/web/eslint.config.mjs": "",
        "eslint.config.js": "",
        "repo-metadata.yml": "tier: internal\n",
        ".github/workflows/ci.yaml": "",
    }
    result = analyse_repo(MappingReader(files))
    assert [p.path for p in result.projects] == [".", "apps/web"]
    root, web = result.projects
    assert root.config_file is None and paths(root.tracked_files) == [".github/workflows/ci.yaml", "repo-metadata.yml"]
    assert paths(web.tracked_files) == ["apps/web/check.toml", "apps/web/eslint.config.mjs", "repo-metadata.yml"]
    assert result.in_scope


def test_repo_standards_when_projects_overlap_then_tracked_union_deduplicated():
    files = {
        "check.toml": "",
        "apps/a/check.toml": "",
        "apps/a/package.json": "{}",
        "repo-metadata.yaml": "tier: internal\n",
    }
    result = analyse_repo(MappingReader(files))
    assert paths(result.tracked_files) == ["apps/a/check.toml", "check.toml", "repo-metadata.yaml"]
