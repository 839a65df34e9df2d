"""`drift code scan` through `cli.main`, on local clones and on the sandbox GitHub."""

from __future__ import annotations

import json

import pytest

from drift_pipeline.cli import main
from drift_pipeline_tests.pipeline.orgfixture import DAY1, DAY2, DAY3


def scan_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["code", "scan", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def rules(payload: dict) -> list[tuple[str, str, str]]:
    return sorted((f["repo"], f["project"], f["rule"]) for f in payload["findings"])


def test_scan_of_local_clones_reports_the_days_drift_and_exits_1(org, capsys):
    code, payload = scan_json(capsys, "--path", str(org.state.root / "repos" / "acme"), "--date", DAY2.isoformat())
    assert code == 1
    assert rules(payload) == [("broken", ".", "check_toml_changed"), ("broken", ".", "invalid_config"),
                              ("web", ".", "dependency_changed")]
    assert payload["schema_version"] == 1 and payload["errors"] == []
    assert payload["summary"]["repos_changed"] == 2


def test_scan_of_the_org_over_the_api_matches_the_local_scan(org, sandbox, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    code, remote = scan_json(capsys, "--org", "acme", "--date", DAY3.isoformat())
    _, local = scan_json(capsys, "--path", str(org.state.root / "repos" / "acme"), "--date", DAY3.isoformat())
    assert code == 1
    assert rules(remote) == rules(local) == [
        ("mono", "packages/jobs", "project_without_standards"),
        ("mono", "packages/ui", "check_toml_removed"),
        ("mono", "packages/ui", "project_without_standards")]
    assert remote["summary"]["api_requests"] > 0 and local["summary"]["api_requests"] == 0


def test_a_quiet_day_exits_0_and_all_adds_standing_findings(org, capsys):
    repos = str(org.state.root / "repos" / "acme")
    code, payload = scan_json(capsys, "--path", repos, "--date", DAY1.isoformat())
    assert (code, payload["findings"]) == (0, [])
    code, payload = scan_json(capsys, "--path", repos, "--date", DAY3.isoformat(), "--all", "--repo", "broken")
    assert code == 1 and rules(payload) == [("broken", ".", "invalid_config")]


def test_dry_run_lists_the_issues_that_would_be_filed(org, capsys):
    code = main(["code", "scan", "--path", str(org.state.root / "repos" / "acme"), "--date", DAY2.isoformat(),
                 "--dry-run"])
    out = capsys.readouterr().out
    assert code == 1
    assert "would file in acme/web: [drift:code] 1 finding on 2026-03-03 (label drift:code)" in out
    assert "fix: Check that the tool config" in out


@pytest.mark.parametrize("args, message", [
    (["--date", "yesterday", "--path", "."], "--date 'yesterday': expected YYYY-MM-DD"),
    ([], "give --path DIR"),
    (["--org", "acme"], "GITHUB_TOKEN"),
])
def test_usage_errors_exit_2_with_one_line(args, message, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main(["code", "scan", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_github_exits_3_without_traceback_or_token(sandbox, monkeypatch, capsys):
    secret = "ghp_" + "x" * 36
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    assert main(["code", "scan", "--org", "acme", "--date", DAY1.isoformat()]) == 3
    captured = capsys.readouterr()
    assert "401" in captured.err and "Bad credentials" in captured.err
    assert secret not in captured.err + captured.out and "Traceback" not in captured.err
