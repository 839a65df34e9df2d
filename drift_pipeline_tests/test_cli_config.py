from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import drift_pipeline
from drift_pipeline.cli import main
from drift_pipeline.commands import config as config_cmd
from drift_pipeline.sources.registry_clone import GitCloneFetcher

REGISTRY = Path(drift_pipeline.__file__).parent / "sandbox" / "data" / "registry-community"


@pytest.fixture(autouse=True)
def offline_fetcher(monkeypatch, tmp_path):
    """github: registries are 'fetched' from a folder that does not exist: fast, offline failure."""
    monkeypatch.setattr(
        config_cmd,
        "make_fetcher",
        lambda: GitCloneFetcher(cache_dir=tmp_path / "cache", base_url=f"file://{tmp_path / 'no-remote'}", env={}),
    )


def make_repo(root: Path, files: dict[str, str], git_dir: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if git_dir:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["config", "check", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_config_check_when_valid_local_registry_then_exit_0_and_text(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {
            "standards.toml": f'[extends]\nregistry = "{REGISTRY}"\nrulesets = ["typescript-internal"]\n',
            "repo-metadata.yaml": "tier: internal\nteam: web\n",
            "package.json": "{}",
            "eslint.config.js": "",
            "tsconfig.json": "{}",
            ".github/workflows/ci.yml": "",
        },
    )
    code = main(["config", "check", str(repo)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Tier check: ok" in out and "eslint.config.js  (dependency, eslint)" in out
    assert "Result: valid" in out


def test_config_check_when_json_then_documented_shape(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {
            "check.toml": '[extends]\nregistry = "github:acme/community"\nrulesets = ["python-internal"]\n',
            "repo-metadata.yaml": "tier: internal\n",
            "pyproject.toml": "",
            "apps/web/package.json": "{}",
        },
    )
    code, payload = run_json(capsys, str(repo / "check.toml"), "--registry-dir", str(REGISTRY))
    assert code == 0
    assert {
        "schema_version",
        "path",
        "valid",
        "problems",
        "tier",
        "rulesets",
        "tier_check",
        "projects",
        "tracked_files",
    } <= set(payload)
    assert payload["valid"] is True and payload["problems"] == [] and payload["tier"] == "internal"
    assert payload["rulesets"] == ["python-internal"]
    assert payload["tier_check"]["matched"] == ["python-internal"]
    assert [(p["path"], p["type"]) for p in payload["projects"]] == [(".", "python"), ("apps/web", "typescript")]
    assert {"path": "pyproject.toml", "kind": "dependency", "tool": "ruff"} in payload["tracked_files"]


def test_config_check_when_problems_then_exit_2_with_key_and_line(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"check.toml": "[process.repo.ruleset]\nrequired_reviews = 'two'\n"})
    code, payload = run_json(capsys, str(repo))
    assert code == 2 and payload["valid"] is False
    (problem,) = payload["problems"]
    assert problem == {
        "file": "check.toml",
        "key": "process.repo.ruleset.required_reviews",
        "line": 2,
        "message": problem["message"],
        "rule": "invalid_config",
        "severity": "error",
    }


def test_config_check_when_invalid_toml_then_exit_2_text(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"check.toml": "[code\n"})
    assert main(["config", "check", str(repo)]) == 2
    out = capsys.readouterr().out
    assert "check.toml:1" in out and "Result: INVALID" in out


def test_config_check_when_github_registry_unreachable_then_registry_unresolved(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {"check.toml": '[extends]\nregistry = "github:acme/community@v1"\nrulesets = ["python-internal"]\n'},
    )
    code, payload = run_json(capsys, str(repo))
    assert code == 2
    (problem,) = payload["problems"]
    assert problem["rule"] == "registry_unresolved" and "acme/community" in problem["message"]


def test_config_check_when_registry_dir_names_other_repo_then_not_used(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {"check.toml": '[extends]\nregistry = "github:acme/community"\nrulesets = ["python-internal"]\n'},
    )
    code, _ = run_json(capsys, str(repo), "--registry-dir", f"github:other/repo={REGISTRY}")
    assert code == 2
    code, _ = run_json(capsys, str(repo), "--registry-dir", f"github:acme/community={REGISTRY}")
    assert code == 0


def test_config_check_when_tier_mismatch_then_exit_2(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {
            "standards.toml": '[metadata]\ntier = "prototype"\n[extends]\nregistry = "github:a/b"\n'
            'rulesets = ["typescript-production"]\n'
        },
    )
    code, payload = run_json(capsys, str(repo), "--registry-dir", str(REGISTRY))
    assert code == 2 and payload["tier_check"]["valid"] is False
    assert [p["rule"] for p in payload["problems"]] == ["tier_ruleset_mismatch"]


def test_config_check_when_nested_config_then_repo_root_metadata_used(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {
            "repo-metadata.yaml": "tier: production\n",
            "apps/api/pyproject.toml": "",
            "apps/api/check.toml": f'[extends]\nregistry = "{REGISTRY}"\nrulesets = ["python-production"]\n',
        },
    )
    code, payload = run_json(capsys, str(repo / "apps" / "api"))
    assert code == 0 and payload["config_file"] == "apps/api/check.toml" and payload["tier"] == "production"


def test_config_check_when_no_config_then_exit_2(tmp_path, capsys):
    empty = make_repo(tmp_path / "empty", {}, git_dir=False)
    code, payload = run_json(capsys, str(empty))
    assert code == 2 and "holds no standards.toml or check.toml" in payload["problems"][0]["message"]


def test_config_check_when_registry_dir_missing_then_usage_error(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"check.toml": ""})
    assert main(["config", "check", str(repo), "--registry-dir", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


# -- a monorepo root without a config of its own ----------------------------------------------

MONOREPO = {  # check-my-toolkit's e2e monorepo-detect fixture shape
    "package.json": '{"name": "root", "private": true, "workspaces": ["apps/*"]}',
    "apps/web/package.json": '{"name": "web"}',
    "apps/web/check.toml": "[code.types.tsc]\nenabled = true\n",
    "apps/web/tsconfig.json": "{}",
    "apps/api/package.json": '{"name": "api"}',
    "lambdas/processor/pyproject.toml": "[project]\nname = 'processor'\n",
    "repo-metadata.yaml": "tier: internal\n",
}


def test_config_check_when_monorepo_root_then_each_package_checked_and_missing_listed(tmp_path, capsys):
    repo = make_repo(tmp_path / "mono", MONOREPO)
    code, payload = run_json(capsys, str(repo))
    assert code == 0 and payload["scope"] == "tree" and payload["valid"] is True
    assert [p["config_file"] for p in payload["checked_projects"]] == ["apps/web/check.toml"]
    assert payload["missing_config"] == [
        {"path": "apps/api", "type": "typescript"},
        {"path": "lambdas/processor", "type": "python"},
    ]
    assert payload["workspace_roots"] == ["."]
    assert [(p["file"], p["rule"], p["severity"]) for p in payload["problems"]] == [
        ("apps/api", "project_without_standards", "warning"),
        ("lambdas/processor", "project_without_standards", "warning"),
    ]


def test_config_check_when_monorepo_package_config_invalid_then_exit_2_naming_it(tmp_path, capsys):
    files = {**MONOREPO, "lambdas/processor/standards.toml": "[process.repo.ruleset]\nrequired_reviews = 'two'\n"}
    repo = make_repo(tmp_path / "mono", files)
    code = main(["config", "check", str(repo)])
    out = capsys.readouterr().out
    assert code == 2
    assert "ok       apps/web/check.toml" in out and "INVALID  lambdas/processor/standards.toml" in out
    assert "missing  apps/api" in out
    assert "lambdas/processor/standards.toml:2 process.repo.ruleset.required_reviews" in out
    assert "Result: INVALID (1 error(s), 1 warning(s))" in out


def test_config_check_when_monorepo_subfolder_then_only_projects_below_it(tmp_path, capsys):
    repo = make_repo(tmp_path / "mono", MONOREPO)
    code, payload = run_json(capsys, str(repo / "lambdas"))
    assert code == 2 and payload["checked_projects"] == []
    assert payload["missing_config"] == [{"path": "lambdas/processor", "type": "python"}]
    assert (
        "holds no standards.toml or check.toml (nor does any of its 1 project(s))" in payload["problems"][0]["message"]
    )
    code, payload = run_json(capsys, str(repo / "apps"))
    assert code == 0 and [p["path"] for p in payload["checked_projects"]] == ["apps/web"]


def test_config_check_when_monorepo_package_metadata_unreadable_then_exit_2(tmp_path, capsys):
    repo = make_repo(tmp_path / "mono", MONOREPO)
    (repo / "apps" / "web" / "repo-metadata.yaml").write_bytes(b"tier: \xff\n")
    code, payload = run_json(capsys, str(repo))
    assert code == 2
    assert any(p["file"] == "apps/web/repo-metadata.yaml" and p["severity"] == "error" for p in payload["problems"])


# -- hostile PATH values ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "   ", "a\0b"])
def test_config_check_when_path_empty_or_nul_then_usage_error(path, capsys):
    assert main(["config", "check", path]) == 2
    assert "expected a config file or a directory" in capsys.readouterr().err


def test_config_check_when_path_is_symlink_loop_or_fifo_or_too_long_then_exit_2_not_traceback(tmp_path, capsys):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    fifo = tmp_path / "fifo"
    subprocess.run(["mkfifo", str(fifo)], check=True)
    cases = [
        (str(tmp_path / "a"), "is a symlink loop"),
        (str(tmp_path / "a" / "check.toml"), "is a symlink loop"),
        (str(fifo), "is neither a file nor a directory"),
        ("x" * 5000, "cannot be read"),
    ]
    for path, fragment in cases:
        code, payload = run_json(capsys, path)
        (problem,) = payload["problems"]
        assert code == 2 and fragment in problem["message"] and len(problem["message"]) < 400


def test_config_check_when_config_is_huge_then_refused_quickly(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {})
    with (repo / "check.toml").open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # 64 MiB of NUL bytes, sparse on disk
    code, payload = run_json(capsys, str(repo))
    (problem,) = payload["problems"]
    assert code == 2 and problem["file"] == "check.toml" and "larger than" in problem["message"]


def test_config_check_when_registry_dir_empty_then_usage_error(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"check.toml": ""})
    assert main(["config", "check", str(repo), "--registry-dir", ""]) == 2
    assert "--registry-dir ''" in capsys.readouterr().err
