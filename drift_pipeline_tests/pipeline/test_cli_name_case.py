"""GitHub org and repo names are case-insensitive: `--org ACME --repo MONO` is acme/mono, spelled as the API does."""

from __future__ import annotations

import json
import urllib.request

import pytest

from drift_pipeline.cli import main
from drift_pipeline_tests.pipeline.orgfixture import DAY3


@pytest.fixture
def env(sandbox, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    return sandbox


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert captured.out, captured.err
    return code, json.loads(captured.out)


def get(server, path: str) -> tuple[int, object]:
    request = urllib.request.Request(server.url + path, headers={"Authorization": "token sandbox-token"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, json.load(answer)


def test_the_sandbox_matches_owner_and_repo_in_any_case_and_answers_the_canonical_names(env):
    status, listed = get(env, "/orgs/ACME/repos?per_page=100")
    assert status == 200 and "acme/mono" in {r["full_name"] for r in listed}  # type: ignore[union-attr]
    status, repo = get(env, "/repos/AcMe/MONO")
    assert (status, repo["full_name"], repo["owner"]["login"]) == (200, "acme/mono", "acme")  # type: ignore[index]
    status, org = get(env, "/orgs/ACME")
    assert (status, org["login"]) == (200, "acme")  # type: ignore[index]


def test_code_scan_with_other_case_names_reports_and_files_under_the_canonical_names(env, capsys):
    code, upper = run_json(capsys, "code", "scan", "--org", "ACME", "--repo", "MONO", "--date", DAY3.isoformat())
    assert code == 1, upper["errors"]
    assert upper["summary"]["org"] == "acme"
    assert {f["repo"] for f in upper["findings"]} == {"mono"} and {f["org"] for f in upper["findings"]} == {"acme"}
    assert [(i["repo"], i["action"]) for i in upper["issues"]] == [("acme/mono", "created")]
    # the canonical spelling is the same repo: the same findings, and the issue is known, not filed again
    code, lower = run_json(capsys, "code", "scan", "--org", "acme", "--repo", "mono", "--date", DAY3.isoformat())
    assert code == 1
    assert sorted(f["fingerprint"] for f in lower["findings"]) == sorted(f["fingerprint"] for f in upper["findings"])
    assert [(i["repo"], i["action"]) for i in lower["issues"]] == [("acme/mono", "already_filed")]


def test_process_scan_takes_a_repo_in_another_case(env, capsys):
    code, payload = run_json(
        capsys, "process", "scan", "--org", "Acme", "--repo", "Web", "--date", DAY3.isoformat(), "--all", "--dry-run"
    )
    assert code in (0, 1), payload["errors"]
    assert payload["summary"]["org"] == "acme" and payload["summary"]["repos"] == 1
    assert {f["repo"] for f in payload["findings"]} <= {"web"}
    assert all(plan["repo"] == "acme/web" for plan in payload.get("would_file", []))


def test_a_repo_in_no_case_is_still_no_such_repository(env, capsys):
    assert main(["code", "scan", "--org", "ACME", "--repo", "MONOS"]) == 2
    err = capsys.readouterr().err
    assert "--repo MONOS: no such repository in acme" in err
