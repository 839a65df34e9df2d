"""Filing, the sensor's filing job and the weekly audit as a GitHub App, over the sandbox's HTTP, with
installation tokens of 5 seconds that run out mid-run: issues are authored by ``<slug>[bot]``, the
exactly-once lookup recognises that author (a second run without the ledger files nothing), tokens
are re-minted, and no request is answered 401.

An installation token cannot read ``GET /user`` on GitHub (403 "Resource not accessible by
integration"), so the filer learns who it is from ``GET /app``; the tests check ``/user`` is never asked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import requests

from drift_pipeline.cli import main
from drift_pipeline.defs.issues import drift_audit, file_drift_issues
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sandbox.github.app_seed import seed_app
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.github_auth import app_slug
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.issues.conftest import code_finding, process_finding, write_findings
from drift_pipeline_tests.pipeline.processfixture import ALICE, DAY, at, build_process_org
from drift_pipeline_tests.sandbox.conftest import app_github as sandbox_app_github
from drift_pipeline_tests.sandbox.conftest import github_client

TTL = 5
SLUG = "drift-filer"
BOT = f"{SLUG}[bot]"
MINT = "POST /app/installations/{installation_id}/access_tokens"
ISSUE_POSTS = "POST /repos/{owner}/{repo}/issues"
KEY = "m" * 40


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The process org of the pipeline tests with a config repo, and an App installed on acme."""
    root = tmp_path_factory.mktemp("app-filing")
    build_process_org(root)
    state = SandboxState.open(root)
    commit_files(state.create_repo("acme", "drift-config"), "main", {"README.md": "x\n"}, "init", ALICE, at(DAY, 1))
    state.save()
    return {**seed_app(root, ["acme"], app_id=5, slug=SLUG), "root": root}


@pytest.fixture(scope="module")
def module_server(app: dict[str, Any]) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(app["root"], installation_token_ttl=TTL) as server:
        yield server


@pytest.fixture
def server(module_server: GitHubSandbox, monkeypatch: pytest.MonkeyPatch) -> GitHubSandbox:
    module_server.clear_faults()
    module_server.reset_counts()
    monkeypatch.setenv("DRIFT_MARKER_KEY", KEY)  # one installation's key across the module's stores
    return module_server


def app_github(server: GitHubSandbox, app: dict[str, Any]) -> GitHubResource:
    return sandbox_app_github(server.url, app)


def counts(server: GitHubSandbox) -> dict[str, Any]:
    return server.request_counts()


def assert_app_run(server: GitHubSandbox, started: float) -> None:
    """The run outlived two tokens, re-minted, never got a 401 and never asked GET /user."""
    seen = counts(server)
    assert time.monotonic() - started > 2 * TTL
    assert seen["by_status"].get("401", 0) == 0, seen["by_status"]
    assert seen["by_route"].get(MINT, 0) >= 2
    assert "GET /user" not in seen["by_route"]


def issues(server: GitHubSandbox, repo: str, label: str) -> list[Any]:
    return list(github_client(server.url).get_repo(f"acme/{repo}").get_issues(state="all", labels=[label]))


def test_the_slug_comes_from_the_apps_own_answer(server, app):
    source = app_github(server, app).source()
    assert app_slug(source.github) == SLUG
    assert app_slug(github_client(server.url).requester) is None and app_slug(github_client(server.url)) is None


def test_a_scan_files_as_the_app_bot_and_a_second_run_without_the_ledger_files_nothing(
    server, app, monkeypatch, capsys, tmp_path
):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_APP_ID", str(app["app_id"]))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_PATH", app["private_key_path"])
    server.set_faults({"latency_ms": 250})  # the scan outlives several 5-second tokens
    args = ["process", "scan", "--org", "acme", "--repo", "weak", "--date", DAY.isoformat(), "--all", "--json"]
    started = time.monotonic()
    code = main([*args, "--db", str(tmp_path / "one.duckdb")])
    captured = capsys.readouterr()
    assert code == 1, captured.err[-2000:]
    assert [i["action"] for i in json.loads(captured.out)["issues"]] == ["created"]
    assert_app_run(server, started)
    [issue] = issues(server, "weak", "drift:process")
    assert issue.user.login == BOT
    server.reset_counts()
    started = time.monotonic()
    code = main([*args, "--db", str(tmp_path / "two.duckdb")])  # a fresh store: only the marker tells
    captured = capsys.readouterr()
    assert code == 1 and [i["action"] for i in json.loads(captured.out)["issues"]] == ["found"]
    assert counts(server)["by_route"].get(ISSUE_POSTS, 0) == 0 and len(issues(server, "weak", "drift:process")) == 1
    assert "PRIVATE KEY" not in captured.out + captured.err and "ghs_" not in captured.out + captured.err


def run_filing(server: GitHubSandbox, app: dict[str, Any], db: Path, day: date) -> dg.ExecuteInProcessResult:
    return file_drift_issues.execute_in_process(
        partition_key=day.isoformat(),
        resources={"github": app_github(server, app), "store": DriftStoreResource(database=str(db))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_the_filing_job_files_as_the_app_and_recognises_its_own_issues(server, app, tmp_path):
    db, day = tmp_path / "drift.duckdb", date(2026, 3, 5)
    rows = [code_finding(day, "bare"), process_finding(day, "bare"), code_finding(day, "busy")]
    write_findings(db, day, rows)
    server.set_faults({"latency_ms": 400})
    started = time.monotonic()
    result = run_filing(server, app, db, day)
    assert result.success and result.output_for_node("file_drift_issues_op") == {"created": 3}
    assert_app_run(server, started)
    filed = issues(server, "bare", "drift:code") + issues(server, "bare", "drift:process")
    assert {i.user.login for i in filed + issues(server, "busy", "drift:code")} == {BOT}
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM filed_issues")  # the record lost: the App's own markers must tell
    server.reset_counts()
    result = run_filing(server, app, db, day)
    assert result.success and result.output_for_node("file_drift_issues_op") == {"found": 3}
    assert counts(server)["by_route"].get(ISSUE_POSTS, 0) == 0


def test_the_weekly_audit_runs_as_the_app(server, app, tmp_path):
    db, day = tmp_path / "drift.duckdb", date(2026, 3, 6)
    write_findings(db, day, [code_finding(day, "orgrs-ok"), process_finding(day, "orgrs-ok")])
    assert run_filing(server, app, db, day).output_for_node("file_drift_issues_op") == {"created": 2}
    monday = datetime(2026, 3, 9, 3, tzinfo=datetime.now().astimezone().tzinfo).isoformat()

    def audit(store: Path) -> dg.ExecuteInProcessResult:
        return drift_audit.execute_in_process(
            resources={
                "github": app_github(server, app),
                "store": DriftStoreResource(database=str(store)),
                "scope": ScanScopeResource(orgs="acme"),
            },
            run_config={"ops": {"drift_audit_op": {"config": {"at": monday, "threshold": 1}}}},
            instance=dg.DagsterInstance.ephemeral(),
        )

    server.reset_counts()
    server.set_faults({"latency_ms": 2 * TTL * 100})  # a handful of requests outlive two tokens
    started = time.monotonic()
    assert audit(db).output_for_node("drift_audit_op") == {"acme": "created"}
    assert_app_run(server, started)
    [summary] = issues(server, "drift-config", "drift:audit")
    assert summary.user.login == BOT and "orgrs-ok" in summary.body
    server.clear_faults()
    assert audit(tmp_path / "fresh.duckdb").output_for_node("drift_audit_op") == {"acme": "found"}
    assert len(issues(server, "drift-config", "drift:audit")) == 1


def test_an_issue_posted_after_its_token_was_revoked_is_filed_once_with_one_remint(app):
    with GitHubSandbox(app["root"]) as server:  # tokens of an hour: only the first mint and the re-mint
        client = IssueClient(app_github(server, app).source().github)
        client.call("GET", "/repos/acme/bare")  # the client's token, minted
        tokens = server.app.store.current().data["tokens"]
        for token in [t for t, info in tokens.items() if "installation_id" in info]:
            auth = {"Authorization": f"token {token}"}
            assert requests.delete(f"{server.url}/installation/token", headers=auth, timeout=10).status_code == 204
        server.reset_counts()
        created = client.write("POST", "/repos/acme/bare/issues", {"title": "filed after a revocation", "body": "x"})
        seen = counts(server)
        assert created["user"]["login"] == BOT and seen["by_status"] == {"201": 2, "401": 1}
        assert seen["by_route"][ISSUE_POSTS] == 2 and seen["by_route"][MINT] == 1  # refused, re-minted, filed
        filed = list(github_client(server.url).get_repo("acme/bare").get_issues(state="all"))
        assert [i.title for i in filed].count("filed after a revocation") == 1
