"""A GitHub App installation token refused before its ``expires_at`` (revoked, a skewed clock),
over the sandbox's HTTP: the process scan re-mints once and sends the refused request again, so a
token revoked mid-run (``DELETE /installation/token``) fails no repo; a personal token's 401 is
still that repo's failure, sent once; and when every token is refused from its mint on, each
request ends with its 401 after exactly one re-mint, never a loop."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from drift_pipeline.core.errors import SourceError
from drift_pipeline.sandbox.github.app_seed import seed_app
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.processfixture import DAY, build_process_org
from drift_pipeline_tests.pipeline.test_github_app_auth import app_resources
from drift_pipeline_tests.pipeline.test_process_settings import PROCESS, by_repo
from drift_pipeline_tests.pipeline.test_process_settings import resources as token_resources
from drift_pipeline_tests.sandbox.conftest import app_github

MINT = "POST /app/installations/{installation_id}/access_tokens"
REVOKE = "DELETE /installation/token"
REPO = "GET /repos/{owner}/{repo}"
LOOKUP = "GET /orgs/{org}/installation"  # once per source: each mints its own first token


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("app-refusal")
    build_process_org(root)
    return {**seed_app(root, ["acme"], app_id=3, slug="drift-refused"), "root": root}


@pytest.fixture(scope="module")
def module_server(app: dict) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(app["root"]) as gh:  # tokens of an hour: no mint but the first and the re-mints
        yield gh


@pytest.fixture
def run(module_server: GitHubSandbox, tmp_path: Path) -> Pipeline:
    module_server.clear_faults()
    for token in installation_tokens(module_server):  # each test starts with no token minted
        revoke(module_server, token)
    module_server.reset_counts()
    module_server.reset_rate_limits()
    return Pipeline(module_server, tmp_path / "drift.duckdb")


def installation_tokens(server: GitHubSandbox) -> list[str]:
    return [t for t, info in server.app.store.current().data["tokens"].items() if "installation_id" in info]


def revoke(server: GitHubSandbox, token: str) -> None:
    answer = requests.delete(
        f"{server.url}/installation/token", headers={"Authorization": f"token {token}"}, timeout=10
    )
    assert answer.status_code == 204


def revoke_after(server: GitHubSandbox, requests_seen: int) -> threading.Thread:
    """A thread revoking every installation token there is once the sandbox has answered ``requests_seen``."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while server.request_counts()["total"] < requests_seen and time.monotonic() < deadline:
            time.sleep(0.01)
        for token in installation_tokens(server):
            revoke(server, token)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def failures(pipe: Pipeline) -> list[dict]:
    return pipe.rows("SELECT repo, error FROM process_scan_status WHERE mode = 'failed' ORDER BY repo")


def test_a_token_revoked_mid_scan_is_reminted_once_and_no_repo_fails(run: Pipeline, app: dict) -> None:
    assert run.run(DAY, assets=PROCESS, resources=token_resources(run)).success
    expected, baseline = by_repo(run, DAY), run.server.request_counts()["total"]
    run.server.reset_counts()
    run.server.set_faults(latency_ms=20)  # the scan still reading when the watcher revokes
    watcher = revoke_after(run.server, baseline // 3)
    result = run.run(DAY, assets=PROCESS, resources=app_resources(run, app))
    watcher.join(10)
    counts = run.server.request_counts()
    routes, revoked = counts["by_route"], counts["by_route"].get(REVOKE, 0)
    assert result.success and revoked >= 1, routes
    assert counts["by_status"].get("401", 0) >= 1  # GitHub refused a revoked token at least once
    # each source's first token, then one re-mint per revoked token still in use (never one per request)
    assert routes[LOOKUP] < routes[MINT] <= routes[LOOKUP] + revoked, routes
    assert run.latest_metadata("process_settings", DAY)["repos_failed"] == 0 and failures(run) == []
    assert by_repo(run, DAY) == expected  # the same findings as a scan that was never refused


REFUSE_WEAK = {"errors": {"count": 1, "status": 401, "path": "^/repos/acme/weak/branches/", "method": "GET"}}


def test_one_401_is_a_personal_tokens_repo_failure_sent_once_and_the_apps_remint(run: Pipeline, app: dict) -> None:
    run.server.set_faults(REFUSE_WEAK)
    assert run.run(DAY, assets=PROCESS, resources=token_resources(run)).success
    counts = run.server.request_counts()
    [failed] = failures(run)  # a token: the 401 is the repo's failure, as it always was
    assert failed["repo"] == "weak" and "401" in failed["error"] and "Bad credentials" in failed["error"]
    assert counts["by_status"]["401"] == 1 and MINT not in counts["by_route"]
    assert run.latest_metadata("process_settings", DAY)["repos_failed"] == 1
    branch_reads = counts["by_route"]["GET /repos/{owner}/{repo}/branches/{branch}"]

    run.server.reset_counts()
    run.server.set_faults(REFUSE_WEAK)  # the same refusal to the App: re-minted, sent again, read
    assert run.run(DAY, assets=PROCESS, resources=app_resources(run, app)).success
    counts = run.server.request_counts()
    assert counts["by_status"]["401"] == 1 and counts["by_route"][MINT] == counts["by_route"][LOOKUP] + 1
    assert counts["by_route"]["GET /repos/{owner}/{repo}/branches/{branch}"] == branch_reads + 1
    assert failures(run) == [] and run.latest_metadata("process_settings", DAY)["repos_failed"] == 0


def test_tokens_refused_from_their_mint_on_end_each_request_with_its_401_after_one_remint(run, app) -> None:
    run.server.set_faults(revoke_minted=True)
    source = app_github(run.server.url, app).source()
    started, errors = time.monotonic(), []
    repos = ("bare", "weak", "classic-ok")
    for repo in repos:
        with pytest.raises(SourceError) as err:
            source.get_repo("acme", repo)
        errors.append(err.value)
    counts = run.server.request_counts()
    assert time.monotonic() - started < 10
    assert [(e.status, e.api_message) for e in errors] == [(401, "Bad credentials")] * 3
    assert [str(e).split(":")[0] for e in errors] == [f"GitHub 401 on GET /repos/acme/{r}" for r in repos]
    assert counts["by_route"][REPO] == 6  # each repo: sent, refused, re-minted, sent once more, refused
    assert counts["by_route"][MINT] == 4  # the first token, then one re-mint per request
    assert source.budget.spent == 3  # each resend counted against the run's retry budget
    minted = installation_tokens(run.server)
    assert not any(token in str(e) for e in errors for token in minted)


def test_the_cli_as_a_process_with_every_token_refused_exits_with_the_401_after_one_remint(run, app, tmp_path):
    run.server.set_faults(revoke_minted=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DRIFT_"))}
    env.update(GITHUB_API_URL=run.server.url, GITHUB_APP_ID=str(app["app_id"]))
    env.update(GITHUB_APP_PRIVATE_KEY_PATH=app["private_key_path"], DRIFT_DB_PATH=str(tmp_path / "cli.duckdb"))
    args = ["process", "scan", "--org", "acme", "--date", DAY.isoformat(), "--all", "--dry-run"]
    proc = subprocess.run(
        [sys.executable, "-m", "drift_pipeline.cli", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    counts = run.server.request_counts()
    assert proc.returncode == 3, proc.stderr[-2000:]  # a runtime failure, one clear line, no traceback
    assert "401" in proc.stderr and "Bad credentials" in proc.stderr and "Traceback" not in proc.stderr
    assert counts["by_route"][MINT] == 2 and counts["by_status"]["401"] == 2  # the first read: sent, re-minted, sent
    assert "ghs_" not in proc.stdout + proc.stderr and "PRIVATE KEY" not in proc.stdout + proc.stderr
