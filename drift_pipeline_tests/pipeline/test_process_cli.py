"""`drift process scan` through `cli.main` on the sandbox GitHub: the assets' findings, hostile flags refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from drift_pipeline.cli import main
from drift_pipeline_tests.pipeline import test_process_settings as shared
from drift_pipeline_tests.pipeline.processfixture import DAY, EARLY
from drift_pipeline_tests.pipeline.test_process_settings import PROCESS, SETTINGS_RULES, resources

porg, pserver, run = shared.porg, shared.pserver, shared.run  # the same fixtures (one org per module)


@pytest.fixture
def env(run, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))  # filed_issues bookkeeping of the CLI
    monkeypatch.setenv("GITHUB_API_URL", run.server.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    return run


def scan_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["process", "scan", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_cli_finds_what_the_assets_find_for_the_same_day(env, capsys):
    code, payload = scan_json(capsys, "--org", "acme", "--date", DAY.isoformat(), "--all")
    assert code == 1 and payload["errors"] == [] and payload["schema_version"] == 1
    assert payload["summary"]["settings_observed"] is True
    assert env.run(DAY, assets=PROCESS, resources=resources(env)).success
    stored = env.rows("SELECT fingerprint, rule FROM process_drift WHERE scan_date = ? ORDER BY ALL", [DAY])
    assert sorted((f["fingerprint"], f["rule"]) for f in payload["findings"]) == [
        (r["fingerprint"], r["rule"]) for r in stored
    ]
    assert {f["rule"] for f in payload["findings"] if f["repo"] == "weak"} == SETTINGS_RULES["weak"]
    # without --dry-run the CLI filed one drift:process issue per repo with findings
    filed = {(i["repo"], i["category"]) for i in payload["issues"] if i["action"] in ("created", "commented", "found")}
    assert filed == {(f"acme/{f['repo']}", "process") for f in payload["findings"]}
    assert all(i["url"] for i in payload["issues"])


def test_without_all_only_repos_pushed_in_the_window_are_reported(env, capsys):
    code, payload = scan_json(capsys, "--org", "acme", "--date", DAY.isoformat(), "--dry-run")
    assert code == 1
    assert {f["repo"] for f in payload["findings"]} == {"busy"}
    assert payload["summary"]["repos_changed"] == 1 and payload["summary"]["repos_in_scope"] == 6
    [plan] = payload["would_file"]
    assert plan["repo"] == "acme/busy" and plan["label"] == "drift:process"
    assert plan["title"] == "[drift:process] Process violations detected" and "issues" not in payload


def test_a_past_date_reports_activity_and_says_settings_were_not_observed(env, capsys, porg):
    code, payload = scan_json(capsys, "--org", "acme", "--date", EARLY.isoformat(), "--all")
    assert code == 1
    assert [(f["repo"], f["rule"], f["subject"]) for f in payload["findings"]] == [
        ("busy", "review_bypassed", porg.shas["early_push"])
    ]
    assert payload["summary"]["settings_observed"] is False
    assert "live-only" in payload["summary"]["settings_not_observed_reason"]


def test_a_failing_repo_is_an_error_and_the_others_are_scanned(env, capsys):
    env.server.set_faults(fail_path={"pattern": r"^/repos/acme/bare/branches/", "status": 500})
    code, payload = scan_json(capsys, "--org", "acme", "--date", DAY.isoformat(), "--all")
    assert code == 1
    assert [e["repo"] for e in payload["errors"]] == ["bare"]
    assert "bare" not in {f["repo"] for f in payload["findings"]}
    assert "weak" in {f["repo"] for f in payload["findings"]}


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "-1"],
        ["--since", "nan"],
        ["--concurrency", "0"],
        ["--concurrency", "9999"],
        ["--date", "yesterday"],
        ["--date", (DAY + timedelta(days=5)).isoformat()],
        ["--repo", "../../etc"],
        ["--repo", "no-such-repo"],
    ],
)
def test_hostile_flags_exit_2_with_one_line(env, capsys, args):
    code = main(["process", "scan", "--org", "acme", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err


def test_no_org_or_a_bad_token_exit_2_and_never_echo_the_token(env, capsys, monkeypatch):
    assert main(["process", "scan"]) == 2
    assert "--org" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret token")
    assert main(["process", "scan", "--org", "acme"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "ghp_secret" not in err
