"""Scanning as a GitHub App through the sandbox: PyGithub's App auth minting installation tokens
that expire mid-scan (5 s), the resource and the CLI configured from GITHUB_APP_* alone, an App
without Administration read getting ``process_not_evaluated`` (never a false violation), and the
App's key and minted tokens kept out of every message."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from drift_pipeline.cli import main
from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.defs.resources import DriftStoreResource, ScanScopeResource, github_auth_from_env
from drift_pipeline.sandbox.github.app_seed import seed_app
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sources import github_auth
from drift_pipeline.sources.github_auth import AppCredentials, app_credentials_from_env, bot_login
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.processfixture import DAY, ProcessOrg, build_process_org
from drift_pipeline_tests.pipeline.test_process_settings import PROCESS, SETTINGS_RULES, by_repo
from drift_pipeline_tests.pipeline.test_process_settings import resources as token_resources
from drift_pipeline_tests.sandbox.conftest import app_github

MINT = "POST /app/installations/{installation_id}/access_tokens"
NO_ADMIN = {"metadata": "read", "contents": "read", "pull_requests": "read", "issues": "write"}
TTL = 5


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProcessOrg, dict, dict]:
    root = tmp_path_factory.mktemp("app-org")
    org = build_process_org(root)
    full = seed_app(root, ["acme"], app_id=1, slug="drift-full")
    partial = seed_app(root, ["acme"], app_id=2, slug="drift-partial", permissions=NO_ADMIN, name="partial-app")
    return org, full, partial


@pytest.fixture(scope="module")
def server(apps: tuple[ProcessOrg, dict, dict]) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(apps[0].state.root, installation_token_ttl=TTL) as gh:
        yield gh


@pytest.fixture
def run(server: GitHubSandbox, tmp_path: Path) -> Pipeline:
    server.clear_faults()
    server.reset_counts()
    server.reset_rate_limits()
    return Pipeline(server, tmp_path / "drift.duckdb")


def app_resources(pipe: Pipeline, config: dict) -> dict:
    return {
        "github": app_github(pipe.server.url, config),
        "scope": ScanScopeResource(orgs="acme"),
        "store": DriftStoreResource(database=str(pipe.db_path)),
    }


def test_a_scan_with_5_second_tokens_lasting_well_over_5_s_remints_and_never_fails(run: Pipeline, apps) -> None:
    assert run.run(DAY, assets=PROCESS, resources=token_resources(run)).success
    expected = by_repo(run, DAY)
    run.server.reset_counts()
    run.server.set_faults(latency_ms=200)  # every request slower: the scan outlives several tokens
    _, full, _ = apps
    started = time.monotonic()
    result = run.run(DAY, assets=PROCESS, resources=app_resources(run, full))
    took = time.monotonic() - started
    counts = run.server.request_counts()
    assert result.success and took > 2 * TTL, took
    assert counts["by_status"].get("401", 0) == 0
    assert counts["by_route"][MINT] >= 2  # re-minted as tokens ran out
    assert run.latest_metadata("process_settings", DAY)["repos_failed"] == 0
    assert by_repo(run, DAY) == expected  # the same findings as the admin token's


def test_an_app_without_administration_gets_not_evaluated_never_a_false_violation(run: Pipeline, apps) -> None:
    _, _, partial = apps
    assert run.run(DAY, assets=PROCESS, resources=app_resources(run, partial)).success
    found = by_repo(run, DAY)
    assert found["classic-ok"] == {"process_not_evaluated"}
    rows = run.rows("SELECT details FROM process_drift WHERE repo = 'classic-ok'")
    unread = [json.loads(r["details"])["not_readable"] for r in rows]
    assert all(n and n[0]["setting"] == "classic_protection" and n[0]["status"] == 403 for n in unread)
    for repo in ("ruleset-ok", "orgrs-ok"):
        assert found.get(repo, set()) <= {"process_not_evaluated"}, repo
    assert found["bare"] >= SETTINGS_RULES["bare"]


def _app_env(monkeypatch: pytest.MonkeyPatch, server: GitHubSandbox, config: dict) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_APP_ID", str(config["app_id"]))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", Path(config["private_key_path"]).read_text())


def test_the_cli_scans_as_the_app_from_the_environment_alone(run, apps, monkeypatch, capsys, tmp_path) -> None:
    _, full, _ = apps
    _app_env(monkeypatch, run.server, full)
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))
    code = main(["process", "scan", "--org", "acme", "--date", DAY.isoformat(), "--all", "--dry-run", "--json"])
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert code == 1 and payload["errors"] == [] and payload["findings"]
    assert run.server.request_counts()["by_route"][MINT] >= 1  # found the installation, minted a token
    assert "PRIVATE KEY" not in captured.out + captured.err and "ghs_" not in captured.out + captured.err


def test_resources_from_env_take_app_secrets_as_env_vars(monkeypatch) -> None:
    env = {"GITHUB_APP_ID": "7", "GITHUB_APP_PRIVATE_KEY_PATH": "/k.pem", "DRIFT_ORGS": "acme, beta"}
    got = github_auth_from_env(env)
    assert got["app_id"] == dg.EnvVar("GITHUB_APP_ID") and got["app_org"] == "acme"
    assert got["app_private_key_path"] == dg.EnvVar("GITHUB_APP_PRIVATE_KEY_PATH") and "token" not in got
    assert github_auth_from_env({})["token"] == dg.EnvVar("GITHUB_TOKEN")
    both = github_auth_from_env({**env, "GITHUB_TOKEN": "t"})
    assert both["token"] == dg.EnvVar("GITHUB_TOKEN") and both["app_id"] == dg.EnvVar("GITHUB_APP_ID")


def test_token_wins_over_app_and_says_so_once(apps, monkeypatch, caplog) -> None:
    _, full, _ = apps
    monkeypatch.setattr(github_auth, "_said_both", type(github_auth._said_both)())
    env = {"GITHUB_TOKEN": "t0ken-value", "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_PATH": full["private_key_path"]}
    with caplog.at_level(logging.WARNING, logger=github_auth.__name__):
        assert app_credentials_from_env(env) is None
        assert app_credentials_from_env(env) is None
    assert [r.getMessage() for r in caplog.records].count(
        "both GITHUB_TOKEN and GITHUB_APP_ID are set: authenticating with GITHUB_TOKEN"
    ) == 1
    creds = app_credentials_from_env({k: v for k, v in env.items() if k != "GITHUB_TOKEN"})
    assert isinstance(creds, AppCredentials) and creds.app_id == 1


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"GITHUB_APP_ID": "x1"}, "GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "1"}, "GITHUB_APP_PRIVATE_KEY"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/k.pem"}, "/nonexistent/k.pem"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "not a key"}, "GITHUB_APP_PRIVATE_KEY"),
        ({"GITHUB_APP_PRIVATE_KEY": "x"}, "GITHUB_APP_ID"),
    ],
)
def test_bad_app_configuration_is_a_clear_usage_error(env: dict, names: str) -> None:
    from drift_pipeline.core.errors import UsageError

    with pytest.raises(UsageError) as err:
        app_credentials_from_env(env)
    assert names in str(err.value) and "not a key" not in str(err.value)


def test_a_broken_pem_never_reaches_the_message(apps) -> None:
    from drift_pipeline.core.errors import UsageError

    _, full, _ = apps
    pem = Path(full["private_key_path"]).read_text()
    broken = pem.replace(pem.splitlines()[3], "A" * 64)
    with pytest.raises(UsageError) as err:
        app_credentials_from_env({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": broken})
    assert pem.splitlines()[5] not in str(err.value)
    assert "PRIVATE KEY" not in repr(AppCredentials(1, pem)) and pem.splitlines()[5] not in repr(AppCredentials(1, pem))


def test_mask_secrets_hides_the_app_key_a_minted_and_a_reminted_token(run, apps) -> None:
    from github import Github

    _, full, _ = apps
    pem = Path(full["private_key_path"]).read_text()
    auth = github_auth.installation_auth(run.server.url, AppCredentials(full["app_id"], pem), "acme")
    Github(base_url=run.server.url, auth=auth).get_repo("acme/bare")
    minted = auth.token
    auth.refresh()  # as after a 401: the token this thread sent is replaced
    reminted = auth.token
    assert reminted != minted and run.server.request_counts()["by_route"][MINT] >= 2
    text = f"failed with key {pem} and Authorization: token {minted}; raw {minted}; again {reminted}"
    masked = mask_secrets(text)
    assert minted not in masked and reminted not in masked
    assert pem.splitlines()[2] not in masked and "BEGIN" not in masked


def test_bot_login_is_the_app_slug(run, apps) -> None:
    _, full, partial = apps
    creds = AppCredentials(full["app_id"], Path(full["private_key_path"]).read_text())
    assert bot_login(run.server.url, creds) == "drift-full[bot]"
    other = AppCredentials(partial["app_id"], Path(partial["private_key_path"]).read_text())
    assert bot_login(run.server.url, other) == "drift-partial[bot]"
