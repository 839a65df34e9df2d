"""The AWS inventory over the moto sandbox (real boto3, real HTTP), judged by the infra rules.

The seeded scenario (``sandbox.infra_seed``) is deployed once; this module adds two out-of-band
changes the scenario does not inject (an IAM inline-policy statement widened, and an untagged
Lambda function whose environment holds a secret-looking value), reads every account through
``sources.aws_inventory``, builds the expectations from the seeded templates and the deployed
stacks, and checks that the rules find exactly the scenario's drift plus the IAM statement.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drift_pipeline.core.rules.infra import FAMILY, evaluate
from drift_pipeline.core.rules.infra.records import (
    AccountInventory,
    BackupExpectation,
    InfraObserved,
    RepoInfra,
)
from drift_pipeline.core.rules.infra.template import expected_env
from drift_pipeline.sandbox.aws import AwsSandbox
from drift_pipeline.sandbox.infra_seed import InfraScenario, deploy_org_infra
from drift_pipeline.sources.aws import AccountRef, AccountSession, AwsAccess, account_refs, account_session
from drift_pipeline.sources.aws_documents import document as _document
from drift_pipeline.sources.aws_inventory import newest_backup, read_account, read_inventories
from drift_pipeline_tests.sandbox.test_aws_infra_seed import FAST, scenario_repos

DAY = date(2026, 11, 26)
SECRET_VALUE = "ghp_" + "Z" * 36  # a token-looking value planted in a Lambda's environment
WIDENED_ACTION = "s3:DeleteObject"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[AwsSandbox]:
    with AwsSandbox(client_config=FAST) as sb:
        yield sb


@pytest.fixture(scope="module")
def world(sandbox: AwsSandbox) -> tuple[InfraScenario, dict[str, str]]:
    """The seeded scenario plus this module's own out-of-band changes (moto state is per process: reset)."""
    sandbox.reset()
    scenario = deploy_org_infra(sandbox, scenario_repos(), seed=0)
    injected: dict[str, str] = {}
    # Widen the second statement of the app role's inline policy of an active repo nobody else drifted.
    drifted = {(d.repo, d.env) for d in scenario.expected_findings()}
    target = next(
        d for d in scenario.deployed if d.status == "active" and (d.repo, d.env) not in drifted and d.env == "staging"
    )
    iam = sandbox.session(target.env).client("iam")
    role = f"{target.stack_name}-app"
    doc = _document(iam.get_role_policy(RoleName=role, PolicyName="app-access")["PolicyDocument"])
    doc["Statement"][1]["Action"] = [*doc["Statement"][1]["Action"], WIDENED_ACTION]
    iam.put_role_policy(RoleName=role, PolicyName="app-access", PolicyDocument=json.dumps(doc))
    injected |= {"iam_env": target.env, "iam_stack": target.stack_name, "iam_repo": target.repo}
    # An untagged Lambda (tied to no repo) whose environment holds a secret-looking value.
    dev = sandbox.session("dev")
    role_arn = dev.client("iam").get_role(RoleName="orders-api-dev-app")["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    dev.client("lambda").create_function(
        FunctionName="report-builder",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": package.getvalue()},
        MemorySize=256,
        Timeout=30,
        Environment={"Variables": {"API_TOKEN": SECRET_VALUE, "LOG_LEVEL": "info"}},
    )
    return scenario, injected


def _connect(sandbox: AwsSandbox):
    return lambda ref: sandbox.account_session(ref.account_id)


def _expected(scenario: InfraScenario, inventories: dict[str, AccountInventory], region: str) -> dict[str, RepoInfra]:
    """Expectations as the declared_infra asset builds them: committed templates x deployed stacks."""
    out = {}
    for repo in scenario_repos():
        org, name = repo.full_name.split("/")
        envs = []
        for env, account in repo.accounts.items():
            inv = inventories.get(account)
            deployed = {s.name: s for s in inv.stacks} if inv else {}
            commit = None if (repo.status == "pre-release" and env == "prod") else repo.commit_sha
            envs.append(expected_env(env, account, commit, repo.stacks, deployed, region=region))
        out[repo.full_name] = RepoInfra(org=org, repo=name, project=repo.project, status=repo.status, envs=tuple(envs))
    return out


def _key(rule: str, repo: str, env: str, subject: str) -> tuple[str, str, str, str]:
    return (rule, repo, env, subject)


def test_inventory_and_rules_find_exactly_the_seeded_drift(sandbox, world):
    scenario, injected = world
    inventories = read_inventories(account_refs(sandbox.accounts), connect=_connect(sandbox), regions=[sandbox.region])
    assert set(inventories) == set(sandbox.accounts.values())
    assert all(inv.failures == () for inv in inventories.values())
    observed = InfraObserved(as_of=datetime.now(UTC), accounts=inventories)
    findings = FAMILY.evaluate(DAY, observed, _expected(scenario, inventories, sandbox.region))

    got = {}
    for f in findings:
        env = f.details.get("env", "")
        got[_key(f.rule, f"{f.org}/{f.repo}", env, f.subject)] = f
    want = set()
    for d in scenario.expected_findings():
        if d.kind == "orphaned":
            subject = d.arn
        elif d.kind == "missing":
            subject = f"{d.env}/{d.subject}"
        elif d.kind == "ingress_changed":
            subject = f"{d.env}/{d.subject}:ingress[tcp/22 from 0.0.0.0/0]"
        else:  # deprecated_remaining: one per still-deployed stack
            subject = f"{d.env}/{d.stack_name}"
        want.add(_key(str(d.rule), d.repo, d.env, str(subject)))
    iam_subject = f"{injected['iam_env']}/{injected['iam_stack']}/AppRole:inline_policies[app-access/#2]"
    want.add(_key("attribute_drift", injected["iam_repo"], injected["iam_env"], iam_subject))
    assert set(got) == want

    counts = {rule: sum(1 for k in got if k[0] == rule) for rule in {k[0] for k in got}}
    assert counts["resource_orphaned"] == 1 and counts["resource_missing"] == 1
    assert counts["attribute_drift"] == 2 and counts["deprecated_resources_remaining"] == 3

    sg = next(f for f in findings if f.subject.endswith(":ingress[tcp/22 from 0.0.0.0/0]"))
    assert sg.details["expected"] is None and sg.details["actual"] == "tcp/22 from 0.0.0.0/0"
    iam = got[_key("attribute_drift", injected["iam_repo"], injected["iam_env"], iam_subject)]
    assert WIDENED_ACTION in iam.details["actual"]["Action"] and WIDENED_ACTION not in iam.details["expected"]["Action"]
    deprecated = [f for f in findings if f.rule == "deprecated_resources_remaining"]
    for f in deprecated:  # every leftover listed: the stack's bucket, queue, group and role
        kinds = {arn.split(":")[2] for arn in f.details["resources"]}
        assert {"s3", "sqs", "ec2", "iam"} <= kinds
    # The pre-release repo: nothing in prod (its stacks are not there, and that is expected).
    assert not [f for f in findings if f.repo == "search" and f.details.get("env") == "prod"]
    # Stable subjects: a second read and evaluation gives the same fingerprints.
    again = read_inventories(account_refs(sandbox.accounts), connect=_connect(sandbox), regions=[sandbox.region])
    refound = evaluate(DAY, InfraObserved(datetime.now(UTC), again), _expected(scenario, again, sandbox.region))
    assert sorted(f.fingerprint for f in refound) == sorted(f.fingerprint for f in findings)


def test_lambda_environment_values_never_reach_a_record(sandbox, world):
    inventories = read_inventories(account_refs(sandbox.accounts), connect=_connect(sandbox), regions=[sandbox.region])
    dev = inventories[sandbox.accounts["dev"]]
    (fn,) = [r for r in dev.resources if r.type == "AWS::Lambda::Function"]
    assert fn.attributes == {
        "runtime": "python3.12",
        "memory": 256,
        "timeout": 30,
        "environment_names": ["API_TOKEN", "LOG_LEVEL"],
    }
    assert SECRET_VALUE not in repr(inventories)
    scenario, _ = world
    findings = evaluate(
        DAY, InfraObserved(datetime.now(UTC), inventories), _expected(scenario, inventories, sandbox.region)
    )
    assert all(SECRET_VALUE not in json.dumps(f.row(), default=str) for f in findings)


class _DenyingSts(BaseHTTPRequestHandler):
    """An STS endpoint that refuses every AssumeRole, as AWS does when the role's trust policy does not
    admit the caller (moto admits any caller, so it cannot say no)."""

    BODY = (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        b"<Code>AccessDenied</Code><Message>User: arn:aws:iam::999999999999:user/scanner is not authorized "
        b"to perform: sts:AssumeRole</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._deny()

    def do_GET(self) -> None:
        self._deny()

    def _deny(self) -> None:
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def denying_sts() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DenyingSts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_account_that_cannot_be_assumed_is_not_evaluated_and_the_others_are_read(sandbox, world, denying_sts):
    scenario, _ = world
    prod = sandbox.accounts["prod"]

    def connect(ref: AccountRef):
        if ref.account_id == prod:  # prod's role does not trust the scanner
            return account_session(
                prod, endpoint_url=denying_sts, base_session=sandbox.base_session(), client_config=FAST
            )
        return sandbox.account_session(ref.account_id)

    inventories = read_inventories(account_refs(sandbox.accounts), connect=connect, regions=[sandbox.region])
    (failure,) = inventories[prod].failures
    assert (failure.service, failure.code, failure.account) == ("sts", "AccessDenied", prod)
    assert inventories[prod].resources == () and not inventories[prod].reached
    assert all(inventories[sandbox.accounts[e]].resources for e in ("dev", "staging"))

    findings = evaluate(
        DAY, InfraObserved(datetime.now(UTC), inventories), _expected(scenario, inventories, sandbox.region)
    )
    in_prod = [f for f in findings if f.details.get("env") == "prod"]
    assert {f.rule for f in in_prod} == {"infra_not_evaluated"}
    # every repo deployed to prod says so once (the pre-release one skips prod altogether)
    assert sorted(f"{f.org}/{f.repo}" for f in in_prod) == [
        "acme/billing",
        "acme/catalog",
        "acme/orders",
        "acme/payments",
    ]
    assert all(f.details["code"] == "AccessDenied" and f.subject == "prod/sts" for f in in_prod)
    # dev and staging are still judged
    assert any(
        f.rule == "resource_orphaned" or f.rule == "attribute_drift" for f in findings if f.details.get("env") != "prod"
    )


def test_every_service_that_refuses_is_one_recorded_failure_never_an_exception(denying_sts):
    # An account session whose every service answers 403 AccessDenied (a role without read rights).
    session = AccountSession(
        account_id="444444444444",
        role_arn="arn:aws:iam::444444444444:role/drift-readonly",
        endpoint_url=denying_sts,
        client_config=FAST,
        aws_access_key_id="AKIAEXAMPLEKEYID0000",
        aws_secret_access_key="s3cr3t/" + "k" * 33,
        aws_session_token="token",
        region_name="eu-west-2",
    )
    inv = read_account(session, "444444444444", ["eu-west-2"])
    assert inv.resources == () and inv.stacks == ()
    assert {f.service for f in inv.failures} == {"tagging", "ec2", "lambda", "cloudformation", "s3", "iam"}
    assert all(f.code and f.account == "444444444444" for f in inv.failures)
    assert {f.code for f in inv.failures if f.service in ("ec2", "s3", "iam", "cloudformation")} == {"AccessDenied"}
    assert "s3cr3t" not in repr(inv) and "AKIAEXAMPLEKEYID0000" not in repr(inv)


def test_backup_age_is_read_from_s3_and_judged(sandbox, world):
    dev = sandbox.session("dev")
    s3 = dev.client("s3")
    s3.create_bucket(
        Bucket="acme-backups-111111111111", CreateBucketConfiguration={"LocationConstraint": sandbox.region}
    )
    s3.put_object(Bucket="acme-backups-111111111111", Key="orders/2026-11-26.dump", Body=b"x")
    fresh = newest_backup(dev, "acme-backups-111111111111", "orders/", account=sandbox.accounts["dev"])
    empty = newest_backup(dev, "acme-backups-111111111111", "payments/", account=sandbox.accounts["dev"])
    absent = newest_backup(dev, "no-such-bucket-111111111111", "x/", account=sandbox.accounts["dev"])
    assert fresh.newest is not None and fresh.failure is None
    assert empty.newest is None and empty.failure is None
    assert absent.failure is not None and absent.failure.code == "NoSuchBucket"

    backups = {(b.bucket, b.prefix): b for b in (fresh, empty, absent)}
    now = datetime.now(UTC)

    def judge(prefix: str, bucket: str = "acme-backups-111111111111", as_of: datetime = now) -> list[str]:
        repo = RepoInfra(org="acme", repo="orders", backups=BackupExpectation(bucket, prefix, max_age_hours=24))
        return [f.rule for f in evaluate(DAY, InfraObserved(as_of, {}, backups), {"acme/orders": repo})]

    assert judge("orders/") == []
    assert judge("orders/", as_of=now + timedelta(hours=25)) == ["backup_stale"]
    assert judge("payments/") == ["backup_stale"]
    assert judge("x/", bucket="no-such-bucket-111111111111") == ["infra_not_evaluated"]


def test_aws_access_reaches_an_account_with_dagster_aws_retry_settings(sandbox, world):
    access = AwsAccess(endpoint_url=sandbox.url, region_name=sandbox.region, max_attempts=2)
    session = access.connect(sandbox.accounts["staging"], base_session=sandbox.base_session())
    assert session.account_id == sandbox.accounts["staging"]
    assert access.client_config().retries == {"max_attempts": 2, "mode": "standard"}
    assert "Secret" not in repr(session)
