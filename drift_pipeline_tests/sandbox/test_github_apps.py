"""GitHub Apps in the sandbox: JWT checks, installations, minted tokens that expire, permissions,
and one rate budget per installation -- through PyGithub's own App auth over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from github import Auth, Github, GithubException, GithubIntegration

from drift_pipeline.sandbox.github.app_seed import seed_app
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day

PROTECTION = {"required_status_checks": {"strict": True, "contexts": ["ci"]}, "enforce_admins": True}
NO_ADMIN = {"metadata": "read", "contents": "read", "issues": "write"}


def _start(root: Path, permissions: dict[str, str] | None = None, ttl: int = 3600) -> tuple[GitHubSandbox, dict]:
    st = SandboxState.open(root)
    st.add_org("acme")
    st.add_org("other")
    path = st.create_repo("acme", "svc")
    commit_files(path, "main", {"README.md": "x\n"}, "init", DEV, day(1))
    st.set_branch_protection("acme", "svc", "main", PROTECTION)
    st.save()
    config = seed_app(root, ["acme", "other"], permissions=permissions)
    return GitHubSandbox(root, installation_token_ttl=ttl).start(), config


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[GitHubSandbox, dict]]:
    gh, config = _start(tmp_path)
    yield gh, config
    gh.stop()


def _key(config: dict) -> str:
    return Path(config["private_key_path"]).read_text()


def _jwt(config: dict, *, iat: float | None = None, exp: float | None = None, key: str | None = None) -> str:
    now = time.time()
    claims = {"iat": int(now - 60 if iat is None else iat), "exp": int(now + 300 if exp is None else exp)}
    claims["iss"] = str(config["app_id"])
    return jwt.encode(claims, key or _key(config), algorithm="RS256")


def _get(url: str, token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _installation_client(gh: GitHubSandbox, config: dict, installation_id: int | None = None) -> Github:
    app = Auth.AppAuth(config["app_id"], _key(config))
    auth = app.get_installation_auth(installation_id or config["installation_id"])
    return Github(base_url=gh.url, auth=auth, seconds_between_requests=0, seconds_between_writes=0)


def test_seed_writes_app_config(sandbox: tuple[GitHubSandbox, dict], tmp_path: Path) -> None:
    _, config = sandbox
    assert json.loads((tmp_path / "github-app.json").read_text()) == config
    assert set(config) == {"app_id", "private_key_path", "slug", "installation_id"}
    assert (Path(config["private_key_path"]).stat().st_mode & 0o777) == 0o600
    assert "BEGIN PRIVATE KEY" in _key(config)


def test_app_and_installations_through_pygithub(sandbox: tuple[GitHubSandbox, dict]) -> None:
    gh, config = sandbox
    integration = GithubIntegration(base_url=gh.url, auth=Auth.AppAuth(config["app_id"], _key(config)))
    assert integration.get_app().slug == config["slug"]
    accounts = {i.id: i.account.login for i in integration.get_installations()}
    assert accounts[config["installation_id"]] == "acme" and "other" in accounts.values()
    assert integration.get_org_installation("acme").id == config["installation_id"]
    with pytest.raises(GithubException) as err:
        integration.get_org_installation("nobody")
    assert err.value.status == 404
    token = integration.get_access_token(config["installation_id"])
    assert token.token.startswith("ghs_") and token.expires_at.timestamp() > time.time() + 3500


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset"),
    [
        (300, 500),  # issued in the future beyond the skew
        (-600, -120),  # expired
        (-30, 1200),  # more than 10 minutes ahead
    ],
    ids=["iat-in-future", "expired", "exp-too-far"],
)
def test_jwt_clock_rules(sandbox: tuple[GitHubSandbox, dict], iat_offset: int, exp_offset: int) -> None:
    gh, config = sandbox
    iat, exp = time.time() + iat_offset, time.time() + exp_offset
    assert _get(f"{gh.url}/app", _jwt(config)).status_code == 200
    assert _get(f"{gh.url}/app", _jwt(config, iat=iat, exp=exp)).status_code == 401


def test_jwt_signed_by_another_key_and_token_on_app_route_are_401(sandbox: tuple[GitHubSandbox, dict]) -> None:
    from drift_pipeline.sandbox.github.apps import generate_key

    gh, config = sandbox
    assert _get(f"{gh.url}/app", _jwt(config, key=generate_key()[0])).status_code == 401
    assert _get(f"{gh.url}/app", "sandbox-token").status_code == 401


def test_expired_installation_token_is_bad_credentials(tmp_path: Path) -> None:
    gh, config = _start(tmp_path, ttl=1)
    try:
        answer = requests.post(
            f"{gh.url}/app/installations/{config['installation_id']}/access_tokens",
            headers={"Authorization": f"Bearer {_jwt(config)}"},
            timeout=10,
        )
        assert answer.status_code == 201
        token = answer.json()["token"]
        assert _get(f"{gh.url}/repos/acme/svc", token).status_code == 200
        time.sleep(1.2)
        expired = _get(f"{gh.url}/repos/acme/svc", token)
        assert (expired.status_code, expired.json()["message"]) == (401, "Bad credentials")
    finally:
        gh.stop()


def _mint(gh: GitHubSandbox, config: dict) -> str:
    answer = requests.post(
        f"{gh.url}/app/installations/{config['installation_id']}/access_tokens",
        headers={"Authorization": f"Bearer {_jwt(config)}"},
        timeout=10,
    )
    assert answer.status_code == 201
    return str(answer.json()["token"])


def test_a_revoked_installation_token_is_bad_credentials_and_a_new_one_reads(sandbox) -> None:
    gh, config = sandbox
    token, other = _mint(gh, config), _mint(gh, config)
    revoke = requests.delete(f"{gh.url}/installation/token", headers={"Authorization": f"token {token}"}, timeout=10)
    assert (revoke.status_code, revoke.content) == (204, b"")
    refused = _get(f"{gh.url}/repos/acme/svc", token)
    assert (refused.status_code, refused.json()["message"]) == (401, "Bad credentials")
    assert _get(f"{gh.url}/repos/acme/svc", other).status_code == 200  # only the token sent was revoked
    personal = requests.delete(
        f"{gh.url}/installation/token", headers={"Authorization": "token sandbox-token"}, timeout=10
    )
    assert personal.status_code == 403 and _get(f"{gh.url}/repos/acme/svc", "sandbox-token").status_code == 200


def test_the_revoke_minted_fault_revokes_each_token_as_it_is_minted(sandbox) -> None:
    gh, config = sandbox
    gh.set_faults(revoke_minted=True)
    token = _mint(gh, config)
    assert token.startswith("ghs_") and _get(f"{gh.url}/repos/acme/svc", token).status_code == 401
    gh.clear_faults()
    assert _get(f"{gh.url}/repos/acme/svc", _mint(gh, config)).status_code == 200


def test_pygithub_remints_across_short_tokens_and_one_budget(tmp_path: Path) -> None:
    gh, config = _start(tmp_path, ttl=2)
    try:
        client = _installation_client(gh, config)
        seen = set()
        end = time.time() + 5
        while time.time() < end:
            client.get_repo("acme/svc").get_branch("main")
            seen.add(client.requester.auth.token)  # type: ignore[union-attr]
        counts = gh.request_counts()
        assert counts["by_status"].get("401", 0) == 0
        mints = counts["by_route"]["POST /app/installations/{installation_id}/access_tokens"]
        assert mints >= 2 and len(seen) >= 2
        used = counts["total"] - mints
        remaining = client.get_rate_limit().resources.core.remaining
        assert remaining <= 5000 - used  # every token of the installation drew on one budget
    finally:
        gh.stop()


def test_installation_without_administration_gets_403_on_protection(tmp_path: Path) -> None:
    gh, config = _start(tmp_path, permissions=NO_ADMIN)
    try:
        repo = _installation_client(gh, config).get_repo("acme/svc")
        assert repo.get_contents("README.md").decoded_content == b"x\n"  # type: ignore[union-attr]
        with pytest.raises(GithubException) as err:
            repo.get_branch("main").get_protection()
        assert (err.value.status, err.value.data["message"]) == (403, "Resource not accessible by integration")
        with pytest.raises(GithubException) as err:
            repo.get_pulls().totalCount  # noqa: B018 - the read is the point
        assert err.value.status == 403
    finally:
        gh.stop()


def test_full_installation_reads_protection(sandbox: tuple[GitHubSandbox, dict]) -> None:
    gh, config = sandbox
    protection: Any = _installation_client(gh, config).get_repo("acme/svc").get_branch("main").get_protection()
    assert protection.required_status_checks.contexts == ["ci"]


def test_drift_sandbox_seed_writes_github_app_json_usable_by_pygithub(tmp_path: Path) -> None:
    from drift_pipeline.cli import main

    state = tmp_path / "state"
    assert main(["sandbox", "seed", "--state", str(state), "--repos", "8", "--days", "3", "--json"]) == 0
    config = json.loads((state / "github-app.json").read_text())
    assert set(config) == {"app_id", "private_key_path", "slug", "installation_id"}
    with GitHubSandbox(state, installation_token_ttl=60) as gh:
        repos = _installation_client(gh, config).get_organization("acme").get_repos()
        assert repos.totalCount >= 8
