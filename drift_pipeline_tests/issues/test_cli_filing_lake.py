"""With ``DRIFT_STORE=ducklake`` the CLI's filing keeps its ledger and marker key in the pipeline's lake.

A real lake (SQLite catalog, local Parquet), `drift code scan` through `cli.main` over the sandbox; no
``DRIFT_MARKER_KEY``, so the markers are signed with the store's own key: the lake's, the one the
Dagster filing job of the same deployment trusts.
"""

from __future__ import annotations

import json

import pytest

from drift_pipeline.cli import main
from drift_pipeline.issues.markers import Trust
from drift_pipeline.issues.signing import load_key
from drift_pipeline.store.lake import LakeConfig, LakeStore
from drift_pipeline_tests.pipeline.conftest import github, org, sandbox  # noqa: F401  (fixtures)
from drift_pipeline_tests.pipeline.orgfixture import DAY2
from drift_pipeline_tests.sandbox.conftest import github_client


@pytest.fixture
def lake_env(sandbox, monkeypatch, tmp_path):  # noqa: F811
    config = LakeConfig.parse(f"sqlite:///{tmp_path}/catalog.sqlite", str(tmp_path / "data"))
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    monkeypatch.setenv("DRIFT_STORE", "ducklake")
    monkeypatch.setenv("DRIFT_LAKE_CATALOG", config.catalog)
    monkeypatch.setenv("DRIFT_LAKE_DATA", config.data)
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "file.duckdb"))  # the pipeline ignores it on a lake
    monkeypatch.delenv("DRIFT_MARKER_KEY", raising=False)
    monkeypatch.delenv("DRIFT_ORGS", raising=False)
    return sandbox, config, tmp_path


def test_the_cli_files_with_the_lakes_ledger_and_marker_key(lake_env, capsys):
    server, config, tmp_path = lake_env
    code = main(["code", "scan", "--org", "acme", "--date", DAY2.isoformat(), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    filed = sorted((i["repo"], i["action"]) for i in payload["issues"])
    assert filed == [("acme/broken", "created"), ("acme/web", "created")]
    assert not (tmp_path / "file.duckdb").exists()  # nothing went to a DuckDB file

    with LakeStore(config) as lake:
        recorded = lake.rows("SELECT repo, action FROM filed_issues ORDER BY repo")
        key = load_key(lake, {}, create=False)
    assert [(r["repo"], r["action"]) for r in recorded] == [("broken", "created"), ("web", "created")]
    # the issue's marker is signed with the lake's key: the pipeline's filer trusts it
    trust = Trust("drift-bot", key)
    [issue] = [
        i for i in github_client(server.url).get_repo("acme/web").get_issues(state="all") if i.pull_request is None
    ]
    [mark] = trust.markers(issue.raw_data, "acme/web")
    assert mark["scan_date"] == DAY2.isoformat() and mark["category"] == "code"

    # a second run reads the lake's ledger: nothing is filed again
    code = main(["code", "scan", "--org", "acme", "--date", DAY2.isoformat(), "--json"])
    again = json.loads(capsys.readouterr().out)
    assert sorted(i["action"] for i in again["issues"]) == ["already_filed", "already_filed"]


def test_db_on_the_lake_is_a_usage_error(lake_env, capsys):
    _, _, tmp_path = lake_env
    code = main(["code", "scan", "--org", "acme", "--date", DAY2.isoformat(), "--db", str(tmp_path / "x.duckdb")])
    assert code == 2
    assert "DRIFT_STORE=ducklake" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()


def test_the_audit_stores_its_report_in_the_lake(lake_env, capsys):
    _, config, tmp_path = lake_env
    assert main(["code", "scan", "--org", "acme", "--date", DAY2.isoformat(), "--json"]) == 1
    capsys.readouterr()
    code = main(["scan", "audit", "--org", "acme", "--threshold", "1", "--config-repo", "broken", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and [a["org"] for a in payload["audits"]] == ["acme"]
    assert not (tmp_path / "file.duckdb").exists()
    with LakeStore(config) as lake:
        assert [r["org"] for r in lake.rows("SELECT org FROM audit_reports")] == ["acme"]
