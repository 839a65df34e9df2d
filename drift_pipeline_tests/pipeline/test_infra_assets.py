"""Infra assets over the sandboxes: GitHub over HTTP for the repos, moto over HTTP for three AWS accounts.

Real Dagster runs of ``repo_inventory`` + the infra assets into a real DuckDB file; the seeded
scenario's oracle (``InfraScenario.expected_findings``) is what ``infra_drift`` must hold.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
from botocore.config import Config

from drift_pipeline.core.errors import UsageError
from drift_pipeline.defs.assets import infra
from drift_pipeline.defs.assets.inventory import repo_inventory
from drift_pipeline.defs.resources import AwsResource
from drift_pipeline.sandbox.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, AwsSandbox
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.store import TABLES
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.infrafixture import (
    BACKUP_PREFIX,
    DAY,
    MANIFEST_BAD_LINE,
    MANIFEST_BUCKET,
    PAST,
    SECRET_VALUE,
    InfraOrg,
    build_repos,
    deploy,
    expected_keys,
)

INFRA = [repo_inventory, *infra.ASSETS]
FAST = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=20)
EXTRA = {
    ("invalid_config", "manifests", f"infra:infra-manifest.txt::{MANIFEST_BAD_LINE}"),
    ("backup_stale", "manifests", f"backup:s3://{MANIFEST_BUCKET}/{BACKUP_PREFIX}"),
}


@pytest.fixture(scope="module")
def iorg(tmp_path_factory: pytest.TempPathFactory) -> InfraOrg:
    return build_repos(tmp_path_factory.mktemp("infra-org"))


@pytest.fixture(scope="module")
def iserver(iorg: InfraOrg) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(iorg.state.root) as server:
        yield server


@pytest.fixture(scope="module")
def aws(iorg: InfraOrg) -> Iterator[AwsSandbox]:
    with AwsSandbox(client_config=FAST) as sandbox:
        deploy(iorg, sandbox)
        yield sandbox


@pytest.fixture(scope="module")
def base_credentials() -> Iterator[None]:
    """The standard chain's base credentials: environment variables, as in a deployment."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID)
        mp.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY)
        mp.delenv("AWS_PROFILE", raising=False)
        yield


class _DenyProd(BaseHTTPRequestHandler):
    """A proxy in front of moto refusing AssumeRole into one account (moto itself trusts every caller)."""

    target = ""
    denied = ""
    BODY = (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        b"<Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error>"
        b"<RequestId>1</RequestId></ErrorResponse>"
    )

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        if b"Action=AssumeRole" in body and self.denied.encode() in body:
            self._answer(403, {"Content-Type": "text/xml"}, self.BODY)
            return
        request = urllib.request.Request(self.target + self.path, data=body or None, method=self.command)
        for key, value in self.headers.items():
            if key.lower() not in ("host", "content-length", "connection"):
                request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                self._answer(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as exc:
            self._answer(exc.code, dict(exc.headers), exc.read())

    def _answer(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def deny_prod(aws: AwsSandbox) -> Iterator[str]:
    handler = type("Deny", (_DenyProd,), {"target": aws.url, "denied": f"iam%3A%3A{aws.accounts['prod']}%3A"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def aws_resource(aws: AwsSandbox, endpoint: str | None = None) -> AwsResource:
    return AwsResource(endpoint_url=endpoint or aws.url, region_name=aws.region, max_attempts=1)


def run_day(pipe: Pipeline, aws: AwsSandbox, day, endpoint: str | None = None):
    return pipe.run(day, assets=INFRA, resources={**pipe.resources(), "aws": aws_resource(aws, endpoint)})


@pytest.fixture
def ipipe(iserver: GitHubSandbox, aws: AwsSandbox, base_credentials: None, tmp_path: Path) -> Pipeline:
    return Pipeline(iserver, tmp_path / "drift.duckdb")


def keys(pipe: Pipeline, day) -> set[tuple[str, str, str]]:
    return {
        (r["rule"], r["repo"], r["subject"]) for r in pipe.rows("SELECT * FROM infra_drift WHERE scan_date = ?", [day])
    }


def test_the_seeded_scenario_gives_exactly_the_oracles_findings_and_rerunning_changes_nothing(ipipe, iorg, aws):
    result = run_day(ipipe, aws, DAY)
    assert result.success
    assert keys(ipipe, DAY) == expected_keys(iorg.scenario) | EXTRA

    rows = ipipe.rows("SELECT * FROM infra_drift WHERE scan_date = ?", [DAY])
    counts = {rule: sum(r["rule"] == rule for r in rows) for rule in {r["rule"] for r in rows}}
    assert counts == {
        "resource_orphaned": 1,
        "resource_missing": 1,
        "attribute_drift": 1,
        "deprecated_resources_remaining": 3,
        "invalid_config": 1,
        "backup_stale": 1,
    }
    sg = next(r for r in rows if r["rule"] == "attribute_drift")
    assert json.loads(sg["details"])["actual"] == "tcp/22 from 0.0.0.0/0"
    for r in rows:
        if r["rule"] == "deprecated_resources_remaining":  # every leftover listed
            assert {a.split(":")[2] for a in json.loads(r["details"])["resources"]} >= {"s3", "sqs", "ec2", "iam"}
    # the pre-release repo: nothing expected in prod, nothing found there
    assert not ipipe.rows(
        "SELECT * FROM declared_infra WHERE repo = 'search' AND env = 'prod' AND logical_id IS NOT NULL"
    )
    assert not [r for r in rows if r["repo"] == "search"]
    # orders' table came after the deployed commit: declared nowhere
    declared = ipipe.rows("SELECT * FROM declared_infra WHERE scan_date = ? AND repo = 'orders'", [DAY])
    assert {r["deployed_commit"] for r in declared} == {iorg.heads["orders"]}
    assert "Table" not in {r["logical_id"] for r in declared} and "AppRole" in {r["logical_id"] for r in declared}
    # the garbage repo costs only itself; every account was read
    status = {r["repo"]: r["mode"] for r in ipipe.rows("SELECT * FROM infra_scan_status WHERE scan_date = ?", [DAY])}
    assert status["garbage"] == "no_infra" and status["orders"] == "read" and status["manifests"] == "read"
    assert ipipe.rows("SELECT observed FROM coverage WHERE domain = 'infra' AND scan_date = ?", [DAY]) == [
        {"observed": True}
    ]
    meta = ipipe.latest_metadata("aws_inventory", DAY)
    assert meta["drift_method"] == "project comparison" and meta["accounts_not_reached"] == []
    # the emulator offers no CloudFormation drift detection: every account by the project's comparison
    assert meta["drift_method_per_account"] == {
        f"{env} ({acct})": "project comparison" for env, acct in aws.accounts.items()
    }
    assert set(meta["resources_per_account"]) == {f"{env} ({acct})" for env, acct in aws.accounts.items()}
    drift_meta = ipipe.latest_metadata("infra_drift", DAY)
    assert drift_meta["findings_by_rule"] == counts and drift_meta["drift_method"] == "project comparison"
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert {k: v for k, v in checks.items() if k[0] != "repo_inventory"} == {
        ("aws_inventory", "all_accounts_read"): True,
        ("declared_infra", "no_repo_failed"): True,
        ("infra_drift", "findings_conform"): True,
    }

    # re-running the day changes nothing
    before = {t: ipipe.rows(f"SELECT count(*) AS n FROM {t} WHERE scan_date = ?", [DAY]) for t in _infra_tables()}
    prints = sorted(r["fingerprint"] for r in rows)
    assert run_day(ipipe, aws, DAY).success
    assert (
        sorted(r["fingerprint"] for r in ipipe.rows("SELECT * FROM infra_drift WHERE scan_date = ?", [DAY])) == prints
    )
    assert {
        t: ipipe.rows(f"SELECT count(*) AS n FROM {t} WHERE scan_date = ?", [DAY]) for t in _infra_tables()
    } == before


def _infra_tables() -> list[str]:
    return ["aws_inventory", "declared_infra", "infra_scan_status", "infra_observed", "infra_drift", "coverage"]


def test_a_secret_looking_lambda_environment_value_never_reaches_a_table(ipipe, aws):
    assert run_day(ipipe, aws, DAY).success
    [fn] = ipipe.rows("SELECT * FROM aws_inventory WHERE type = 'AWS::Lambda::Function'")
    assert json.loads(fn["attributes"])["environment_names"] == ["API_TOKEN"]
    for table in TABLES:
        dump = json.dumps(ipipe.rows(f"SELECT * FROM {table}"), default=str)
        assert SECRET_VALUE not in dump, table
        assert DUMMY_SECRET_ACCESS_KEY + '"' not in dump


def test_a_past_day_is_recorded_as_not_observed_with_no_infra_rows(ipipe, aws):
    assert run_day(ipipe, aws, PAST).success
    [cov] = ipipe.rows("SELECT * FROM coverage WHERE domain = 'infra' AND scan_date = ?", [PAST])
    assert cov["observed"] is False and "live-only" in cov["reason"]
    for table in ("aws_inventory", "declared_infra", "infra_observed", "infra_drift"):
        assert ipipe.rows(f"SELECT * FROM {table} WHERE scan_date = ?", [PAST]) == [], table
    assert ipipe.latest_metadata("aws_inventory", PAST)["observed"] is False


def test_an_account_whose_role_cannot_be_assumed_is_not_evaluated_and_the_others_are_scanned(
    ipipe, iorg, aws, deny_prod
):
    result = run_day(ipipe, aws, DAY, endpoint=deny_prod)
    assert result.success
    rows = ipipe.rows("SELECT * FROM infra_drift WHERE scan_date = ?", [DAY])
    prod = [r for r in rows if json.loads(r["details"]).get("env") == "prod"]
    assert {r["rule"] for r in prod} == {"infra_not_evaluated"}
    # every repo deployed to prod says so (search is pre-release); manifests' account-less entry cannot be
    # judged missing while one account is unread
    assert {r["repo"] for r in prod} == {"orders", "payments", "catalog", "billing", "manifests"}
    assert all(json.loads(r["details"])["code"] == "AccessDenied" for r in prod)
    # dev and staging are judged as before
    got = {(r["rule"], r["repo"], r["subject"]) for r in rows if r not in prod}
    assert got == expected_keys(iorg.scenario, ("dev", "staging")) | EXTRA
    assert {
        r["account"] for r in ipipe.rows("SELECT DISTINCT account FROM aws_inventory WHERE read_failure IS NULL")
    } == {
        aws.accounts["dev"],
        aws.accounts["staging"],
    }
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert checks[("aws_inventory", "all_accounts_read")] is False
    assert checks[("infra_drift", "findings_conform")] is True
    assert ipipe.latest_metadata("aws_inventory", DAY)["accounts_not_reached"] == [
        {"account": aws.accounts["prod"], "env": "prod", "code": "AccessDenied"}
    ]


def test_the_aws_resource_takes_credentials_only_from_the_standard_chain(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")
    from drift_pipeline.defs.resources import resources_from_env

    resource = resources_from_env()["aws"]
    assert isinstance(resource, AwsResource)
    access = resource.access()
    assert (access.endpoint_url, access.role_name) == ("http://127.0.0.1:5055", "drift-readonly")
    assert [r.env for r in resource.account_refs()] == ["dev", "staging", "prod"]
    assert resource.region_list() == [access.region_name]
    with pytest.raises(dg.Failure, match="aws_secret_access_key must not be set"):
        AwsResource(aws_secret_access_key="s3cr3t").access()


def test_the_code_location_takes_accounts_role_and_regions_from_the_environment(monkeypatch):
    from drift_pipeline.defs.resources import resources_from_env

    monkeypatch.setenv("DRIFT_AWS_ACCOUNTS", "dev=123456789012,prod=210987654321")
    monkeypatch.setenv("DRIFT_AWS_ROLE", "audit-ro")
    monkeypatch.setenv("DRIFT_AWS_REGIONS", "eu-west-1,us-east-1")
    resource = resources_from_env()["aws"]
    assert isinstance(resource, AwsResource)
    assert [(r.env, r.account_id) for r in resource.account_refs()] == [
        ("dev", "123456789012"),
        ("prod", "210987654321"),
    ]
    assert resource.access().role_name == "audit-ro"
    assert resource.region_list() == ["eu-west-1", "us-east-1"]
    assert resource.access().detect_timeout == 300

    monkeypatch.setenv("DRIFT_AWS_ACCOUNTS", "dev=12345")
    with pytest.raises(UsageError, match="^DRIFT_AWS_ACCOUNTS: account of dev must be 12 digits"):
        resources_from_env()
