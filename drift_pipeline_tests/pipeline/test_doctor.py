"""`drift doctor` through `cli.main` against the GitHub sandbox (an admin token, a non-admin classic
token, an App without Administration) and moto: identity, per-domain reach, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from drift_pipeline.cli import main
from drift_pipeline.sandbox.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, AwsSandbox
from drift_pipeline.sandbox.github.app_seed import seed_app
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline_tests.pipeline.processfixture import CLASSIC_TOKEN, build_process_org

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                           "Action": "sts:AssumeRole"}]})  # fmt: skip
NO_ADMIN = {"metadata": "read", "contents": "read", "pull_requests": "read", "issues": "write"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GitHubSandbox, AwsSandbox, dict]]:
    root = tmp_path_factory.mktemp("doctor-org")
    build_process_org(root)
    app = seed_app(root, ["acme"], app_id=3, slug="drift-partial", permissions=NO_ADMIN)
    with GitHubSandbox(root) as gh, AwsSandbox() as aws:
        for env in ("dev", "staging", "prod"):  # the role each account grants the scan, as deployed
            aws.session(env).client("iam").create_role(RoleName=aws.role_name, AssumeRolePolicyDocument=TRUST)
        yield gh, aws, app


@pytest.fixture
def env(world, monkeypatch, tmp_path):
    gh, aws, _ = world
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH", "DRIFT_AWS_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("DRIFT_ORGS", "acme")
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "drift.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws.region)
    return world


def doctor(capsys) -> tuple[int, dict]:
    code = main(["doctor", "--json"])
    out = capsys.readouterr()
    assert out.out, out.err
    return code, json.loads(out.out)


def test_an_admin_token_can_run_every_domain(env, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    code, report = doctor(capsys)
    assert code == 0, report
    gh = report["github"]
    assert gh["identity"]["kind"] == "token" and gh["identity"]["login"] == "drift-bot"
    assert gh["identity"]["rate_remaining"] > 0 and gh["repos_listable"] and gh["repos"] >= 6
    assert all(d["can_run"] for d in gh["domains"].values())
    assert report["store"]["ok"] and report["dagster"]["ok"]
    assert report["aws"]["ok"] and set(report["aws"]["roles"]) == {"dev", "staging", "prod"}


def test_a_non_admin_classic_token_cannot_evaluate_process(env, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", CLASSIC_TOKEN)
    code, report = doctor(capsys)
    domains = report["github"]["domains"]
    assert code == 1 and not domains["process"]["can_run"] and "Administration" in domains["process"]["grant"]
    assert domains["code"]["can_run"] and domains["issues"]["can_run"]


def test_an_app_without_administration_cannot_evaluate_process(env, capsys, monkeypatch):
    _, _, app = env
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_APP_ID", str(app["app_id"]))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_PATH", app["private_key_path"])
    code, report = doctor(capsys)
    ident = report["github"]["identity"]
    assert ident["kind"] == "app" and ident["installation_id"] == app["installation_id"]
    assert code == 1 and not report["github"]["domains"]["process"]["can_run"]
    assert report["github"]["domains"]["code"]["can_run"]


def test_a_bad_token_means_nothing_can_run(env, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "no-such-token")
    code, report = doctor(capsys)
    assert code == 3 and report["github"]["ok"] is False


def test_text_output_names_what_to_grant(env, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", CLASSIC_TOKEN)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "process: will be process_not_evaluated; grant Administration: read" in out


def test_without_an_org_exit_2(env, capsys, monkeypatch):
    monkeypatch.delenv("DRIFT_ORGS")
    assert main(["doctor"]) == 2


def test_a_missing_role_in_one_account_is_its_own_line_and_the_others_are_still_checked(env, capsys, monkeypatch):
    _, aws, _ = env
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    staging = aws.session("staging").client("iam")
    staging.delete_role(RoleName=aws.role_name)
    try:
        code, report = doctor(capsys)
        assert main(["doctor"]) == 1
        out = capsys.readouterr().out
    finally:
        staging.create_role(RoleName=aws.role_name, AssumeRolePolicyDocument=TRUST)
    roles = report["aws"]["roles"]
    assert code == 1 and report["aws"]["ok"] is False  # documented: some domain will be infra_not_evaluated
    assert roles["staging"]["assumable"] is False and "does not exist" in roles["staging"]["error"]
    assert roles["dev"]["assumable"] is True and roles["prod"]["assumable"] is True
    line = next(x for x in out.splitlines() if x.strip().startswith(f"staging ({aws.account_id('staging')})"))
    assert "role NOT assumable" in line and aws.role_name in line
    assert sum("role assumable" in x for x in out.splitlines()) == 2
