"""`drift infra scan` through `cli.main`: GitHub sandbox + moto over HTTP; the assets' findings; hostile flags refused."""

from __future__ import annotations

import json

import pytest

from drift_pipeline.cli import main
from drift_pipeline_tests.pipeline import test_infra_assets as shared
from drift_pipeline_tests.pipeline.infrafixture import DAY, SECRET_VALUE, expected_keys

iorg, iserver, aws, base_credentials, ipipe = (
    shared.iorg,
    shared.iserver,
    shared.aws,
    shared.base_credentials,
    shared.ipipe,
)


@pytest.fixture
def env(ipipe, aws, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))  # filed_issues bookkeeping of the CLI
    monkeypatch.setenv("GITHUB_API_URL", ipipe.server.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    monkeypatch.setenv("AWS_REGION", aws.region)
    return ipipe


def scan_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["infra", "scan", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_the_cli_finds_what_the_asset_finds(env, iorg, aws, capsys):
    code, payload = scan_json(capsys, "--org", "acme", "--dry-run")
    assert code == 1 and payload["errors"] == [] and payload["schema_version"] == 1
    summary = payload["summary"]
    assert summary["drift_method"] == "project comparison" and summary["accounts_not_reached"] == []
    assert set(summary["drift_method_per_account"].values()) == {"project comparison"}
    assert len(summary["drift_method_per_account"]) == 3
    assert {(f["rule"], f["repo"], f["subject"]) for f in payload["findings"]} == expected_keys(
        iorg.scenario
    ) | shared.EXTRA
    assert SECRET_VALUE not in json.dumps(payload)
    assert {p["label"] for p in payload["would_file"]} == {"drift:infra", "drift:code"}

    assert shared.run_day(env, aws, DAY).success
    stored = env.rows("SELECT fingerprint, rule FROM infra_drift WHERE scan_date = ? ORDER BY ALL", [DAY])
    assert sorted((f["fingerprint"], f["rule"]) for f in payload["findings"]) == [
        (r["fingerprint"], r["rule"]) for r in stored
    ]


def test_account_and_repo_flags_narrow_the_scan(env, iorg, capsys):
    code, payload = scan_json(capsys, "--org", "acme", "--account", "dev", "--repo", "orders", "--repo", "billing")
    assert code == 1 and list(payload["summary"]["accounts"]) == ["dev"]
    assert {f["repo"] for f in payload["findings"]} <= {"orders", "billing"}
    want = {k for k in expected_keys(iorg.scenario, ("dev",)) if k[1] in ("orders", "billing")}
    assert {(f["rule"], f["repo"], f["subject"]) for f in payload["findings"]} == want
    assert {(i["repo"], i["category"]) for i in payload["issues"]} == {
        (f"acme/{f['repo']}", f["category"]) for f in payload["findings"]
    }


@pytest.mark.parametrize(
    "args",
    [
        ["--org", "acme", "--account", "qa"],
        ["--org", "acme", "--region", "eu-west-2; rm -rf /"],
        ["--org", "acme", "--repo", "../etc"],
        ["--org", "acme", "--repo", "no-such-repo"],
        ["--org", "-bad org"],
        ["--repo", "orders"],
    ],
)
def test_hostile_flags_exit_2_with_one_line(env, capsys, args):
    code = main(["infra", "scan", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1
