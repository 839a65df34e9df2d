"""CloudFormation's own drift detection (``sources.aws_cfn_drift``) and the fallback to the project's comparison.

The translation is tested on a real boto3 CloudFormation client with ``botocore.stub.Stubber``
answering in the documented response shapes (that stubs AWS, not our code); the fallback against
the moto server over real HTTP (moto has no drift detection: HTTP 500, botocore cannot parse it).
Both methods must give the same findings for the same out-of-band changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from drift_pipeline.core.rules.infra import evaluate_repo
from drift_pipeline.core.rules.infra.records import (
    AccountInventory,
    InfraObserved,
    ObservedResource,
    ObservedStack,
    ObservedStackResource,
    RepoInfra,
)
from drift_pipeline.core.rules.infra.template import expected_env
from drift_pipeline.sandbox.aws import AwsSandbox
from drift_pipeline.sandbox.infra_seed import stack_template
from drift_pipeline.sources.aws_cfn_drift import (
    MAX_PROPERTIES_CHARS,
    NotOffered,
    detect_region,
    not_offered,
    resource_drift,
    with_detection,
)
from drift_pipeline.sources.aws_inventory import read_account

REGION = "eu-west-2"
ACCOUNT = "111111111111"
STACK = "orders-api-dev"
SG_ID = "sg-0123456789abcdef0"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-api-dev-events"
HTTPS = {"CidrIp": "10.0.0.0/8", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
SSH = {"CidrIp": "0.0.0.0/0", "FromPort": 22, "IpProtocol": "tcp", "ToPort": 22}
DAY = date(2026, 6, 1)


def cfn_client() -> Any:
    return boto3.client(
        "cloudformation",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = cfn_client()
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def _status(state: str, reason: str | None = None) -> dict[str, Any]:
    out = {
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/1",
        "StackDriftDetectionId": "det-1",
        "DetectionStatus": state,
        "Timestamp": datetime(2026, 6, 1, tzinfo=UTC),
    }
    if state == "DETECTION_COMPLETE":
        out |= {"StackDriftStatus": "DRIFTED", "DriftedStackResourceCount": 2}
    if reason:
        out["DetectionStatusReason"] = reason
    return out


def _sg_drift() -> dict[str, Any]:
    props = {"GroupDescription": "orders-api: service ingress", "GroupName": "orders-api-dev"}
    return {
        "StackId": "x",
        "LogicalResourceId": "SecurityGroup",
        "PhysicalResourceId": SG_ID,
        "ResourceType": "AWS::EC2::SecurityGroup",
        "ExpectedProperties": json.dumps({**props, "SecurityGroupIngress": [HTTPS]}),
        "ActualProperties": json.dumps({**props, "SecurityGroupIngress": [HTTPS, SSH]}),
        "PropertyDifferences": [
            {
                "PropertyPath": "/SecurityGroupIngress/1",
                "ExpectedValue": "null",
                "ActualValue": json.dumps(SSH),
                "DifferenceType": "ADD",
            }
        ],
        "StackResourceDriftStatus": "MODIFIED",
        "Timestamp": datetime(2026, 6, 1, tzinfo=UTC),
    }


def _queue_deleted() -> dict[str, Any]:
    return {
        "StackId": "x",
        "LogicalResourceId": "Queue",
        "PhysicalResourceId": QUEUE_URL,
        "ResourceType": "AWS::SQS::Queue",
        "StackResourceDriftStatus": "DELETED",
        "Timestamp": datetime(2026, 6, 1, tzinfo=UTC),
    }


class FakeClock:
    """Time for the poll loop: sleeping advances it (no real waiting in tests)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_detection_is_polled_until_complete_and_every_page_of_resource_drifts_is_read(stubbed):
    client, stub = stubbed
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": STACK})
    for state in ("DETECTION_IN_PROGRESS", "DETECTION_COMPLETE"):
        stub.add_response("describe_stack_drift_detection_status", _status(state), {"StackDriftDetectionId": "det-1"})
    filters = ["MODIFIED", "DELETED"]
    stub.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": [_sg_drift()], "NextToken": "page-2"},
        {"StackName": STACK, "StackResourceDriftStatusFilters": filters},
    )
    stub.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": [_queue_deleted()]},
        {"StackName": STACK, "StackResourceDriftStatusFilters": filters, "NextToken": "page-2"},
    )
    clock = FakeClock()
    found = detect_region(client, [STACK], timeout=60, poll=5, sleep=clock.sleep, clock=clock)
    assert found.fallbacks == {} and clock.slept == [5]
    drifts = found.drifts[STACK]
    assert {k: d.status for k, d in drifts.items()} == {"SecurityGroup": "MODIFIED", "Queue": "DELETED"}
    assert drifts["SecurityGroup"].differences[0].path == "/SecurityGroupIngress/1"


def test_a_detection_that_never_completes_falls_back_after_the_bounded_wait(stubbed):
    client, stub = stubbed
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": STACK})
    for _ in range(4):  # 0, 10, 20, 30 s: then the 30 s budget is spent
        stub.add_response("describe_stack_drift_detection_status", _status("DETECTION_IN_PROGRESS"))
    clock = FakeClock()
    found = detect_region(client, [STACK], timeout=30, poll=10, sleep=clock.sleep, clock=clock)
    assert found.drifts == {} and found.fallbacks == {STACK: "drift detection did not complete within 30 s"}
    assert clock.now == 30


def test_a_failed_detection_or_a_throttled_stack_falls_back_for_that_stack_only(stubbed):
    client, stub = stubbed
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": STACK})
    stub.add_client_error("detect_stack_drift", service_error_code="Throttling", http_status_code=400)
    stub.add_response(
        "describe_stack_drift_detection_status", _status("DETECTION_FAILED", "Failed to detect drift on AWS::Foo")
    )
    found = detect_region(client, [STACK, "other-dev"], timeout=30)
    assert found.drifts == {}
    assert found.fallbacks == {
        "other-dev": "detect_stack_drift: Throttling",
        STACK: "DETECTION_FAILED: Failed to detect drift on AWS::Foo",
    }


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("AccessDenied", 403, "AccessDenied"),
        ("InternalFailure", 500, "HTTP500"),
        ("InvalidAction", 400, "InvalidAction"),
    ],
)
def test_not_offered_is_decided_on_the_error_code_or_the_http_status(stubbed, code, status, reason):
    client, stub = stubbed
    stub.add_client_error("detect_stack_drift", service_error_code=code, http_status_code=status)
    with pytest.raises(NotOffered) as caught:
        detect_region(client, [STACK, "never-asked-dev"])
    assert caught.value.code == reason


def test_hostile_property_documents_are_not_parsed_and_values_are_masked():
    token = "ghp_" + "A" * 36
    item = {
        **_sg_drift(),
        "ExpectedProperties": "{" * 100_000,
        "ActualProperties": json.dumps({"x": "y" * MAX_PROPERTIES_CHARS}),
    }
    item["PropertyDifferences"] = [{"PropertyPath": "/Env", "ExpectedValue": token, "ActualValue": None}]
    drift = resource_drift(item)
    assert drift.expected is None and drift.actual is None
    assert token not in json.dumps(drift.differences[0].__dict__)
    masked = resource_drift({**_sg_drift(), "ActualProperties": json.dumps({"Variables": {"API": token}})})
    assert token not in json.dumps(masked.actual)


# -- the same findings by either method ---------------------------------------------------------


def _repo_and_inventory(stack_drift: dict[str, Any] | None) -> tuple[RepoInfra, InfraObserved]:
    template = stack_template("orders-api")
    physical = {
        "Bucket": f"orders-api-dev-{ACCOUNT}",
        "Queue": QUEUE_URL,
        "SecurityGroup": SG_ID,
        "AppRole": "orders-api-dev-app",
    }
    stack = ObservedStack(
        name=STACK,
        stack_id=f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/1",
        account=ACCOUNT,
        region=REGION,
        status="CREATE_COMPLETE",
        resources=tuple(ObservedStackResource(k, v, template["Resources"][k]["Type"]) for k, v in physical.items()),
        parameters={"Env": "dev"},
        drift=stack_drift,
    )
    env = expected_env("dev", ACCOUNT, "c" * 40, {"orders-api": template}, {STACK: stack}, region=REGION)
    resources = []
    for declared in env.stacks[0].resources:
        if declared.logical_id == "Queue":
            continue  # deleted out of band
        attributes = dict(declared.attributes)
        if declared.logical_id == "SecurityGroup":
            attributes["ingress"] = sorted([*attributes["ingress"], "tcp/22 from 0.0.0.0/0"])  # opened out of band
        resources.append(
            ObservedResource(
                str(declared.arn), declared.type, str(declared.physical_id), ACCOUNT, REGION, {}, attributes
            )
        )
    inv = AccountInventory(
        account=ACCOUNT,
        regions=(REGION,),
        resources=tuple(resources),
        stacks=(stack,),
        complete_types=frozenset({"AWS::EC2::SecurityGroup", "AWS::IAM::Role", "AWS::S3::Bucket"}),
        drift_method="cloudformation" if stack_drift is not None else "project",
    )
    repo = RepoInfra(org="acme", repo="orders", envs=(env,))
    return repo, InfraObserved(datetime(2026, 6, 1, 12, tzinfo=UTC), {ACCOUNT: inv})


def test_cloudformation_detection_and_the_project_comparison_give_the_same_findings(stubbed):
    client, stub = stubbed
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"})
    stub.add_response("describe_stack_drift_detection_status", _status("DETECTION_COMPLETE"))
    stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": [_sg_drift(), _queue_deleted()]})
    detected = detect_region(client, [STACK]).drifts[STACK]

    repo, observed = _repo_and_inventory(None)
    project = evaluate_repo(DAY, observed, repo)
    repo, observed = _repo_and_inventory(detected)
    cloudformation = evaluate_repo(DAY, observed, repo)
    assert {(f.rule, f.subject) for f in project} == {
        ("attribute_drift", f"dev/{STACK}/SecurityGroup:ingress[tcp/22 from 0.0.0.0/0]"),
        ("resource_missing", f"dev/{STACK}/Queue"),
    }
    assert sorted((f.rule, f.subject, f.message, f.fingerprint) for f in cloudformation) == sorted(
        (f.rule, f.subject, f.message, f.fingerprint) for f in project
    )
    by_rule = {f.rule: f for f in cloudformation}
    assert by_rule["attribute_drift"].details["method"] == "cloudformation"
    assert by_rule["resource_missing"].details["evidence"] == "cloudformation drift detection"
    for cfn, own in zip(
        sorted(cloudformation, key=lambda f: f.rule), sorted(project, key=lambda f: f.rule), strict=True
    ):
        assert set(cfn.details) == set(own.details)


def test_a_modified_type_the_project_does_not_normalise_gives_one_finding_per_property_path(stubbed):
    client, stub = stubbed
    queue = {
        **_queue_deleted(),
        "StackResourceDriftStatus": "MODIFIED",
        "ExpectedProperties": json.dumps({"VisibilityTimeout": 60}),
        "ActualProperties": json.dumps({"VisibilityTimeout": 600}),
        "PropertyDifferences": [
            {
                "PropertyPath": "/VisibilityTimeout",
                "ExpectedValue": "60",
                "ActualValue": "600",
                "DifferenceType": "NOT_EQUAL",
            }
        ],
    }
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"})
    stub.add_response("describe_stack_drift_detection_status", _status("DETECTION_COMPLETE"))
    stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": [queue]})
    detected = detect_region(client, [STACK]).drifts[STACK]
    repo, observed = _repo_and_inventory(detected)
    findings = evaluate_repo(DAY, observed, repo)
    queue_findings = [f for f in findings if "Queue" in f.subject]
    assert [(f.rule, f.subject, f.details["expected"], f.details["actual"]) for f in queue_findings] == [
        ("attribute_drift", f"dev/{STACK}/Queue:/VisibilityTimeout", "60", "600")
    ]


# -- the fallback against the emulator over real HTTP -------------------------------------------


def test_the_emulator_offers_no_detection_so_the_account_is_judged_by_the_project_comparison():
    with AwsSandbox(client_config=Config(retries={"max_attempts": 1}, read_timeout=20)) as sandbox:
        sandbox.reset()  # moto's state is per process: start clean, leave clean
        session = sandbox.session("dev")
        session.client("cloudformation").create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(stack_template("orders-api")),
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "dev"}],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        cfn = session.client("cloudformation")
        with pytest.raises(Exception) as raw:  # what moto answers, as botocore sees it
            cfn.detect_stack_drift(StackName=STACK)
        assert not_offered(raw.value) == "ResponseParserError"
        inv = read_account(session, sandbox.accounts["dev"], [sandbox.region], detect_timeout=10)
        assert inv.drift_method == "project" and inv.failures == ()
        assert [s.name for s in inv.stacks] == [STACK] and inv.stacks[0].drift is None
        off = read_account(session, sandbox.accounts["dev"], [sandbox.region], detect_timeout=None)
        assert off.drift_method == "project"
        sandbox.reset()


def test_results_are_attached_to_the_regions_stacks_only_and_fallbacks_counted(stubbed):
    client, stub = stubbed
    here = ObservedStack(STACK, "id-1", ACCOUNT, REGION, "CREATE_COMPLETE")
    failed = ObservedStack("other-dev", "id-2", ACCOUNT, REGION, "CREATE_COMPLETE")
    elsewhere = ObservedStack(STACK, "id-3", ACCOUNT, "us-east-1", "CREATE_COMPLETE")
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": STACK})
    stub.add_client_error("detect_stack_drift", service_error_code="ValidationError", http_status_code=400)
    stub.add_response("describe_stack_drift_detection_status", _status("DETECTION_COMPLETE"))
    stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": [_queue_deleted()]})
    offered, stacks, fallbacks = with_detection(client, [here, failed, elsewhere], REGION, 30)
    assert offered is True and fallbacks == 1
    assert [None if s.drift is None else sorted(s.drift) for s in stacks] == [["Queue"], None, None]
    assert with_detection(client, [elsewhere], REGION, 30) == (None, [elsewhere], 0)  # nothing asked
