"""The AWS demo scenario: stacks per env, drift tags, and each injected drift seen through boto3."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drift_pipeline.sandbox.aws import AwsSandbox
from drift_pipeline.sandbox.infra_seed import (
    InfraRepo,
    deploy_org_infra,
    stack_template,
)

FAST = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)
DRIFT_TAGS = ("drift:repo", "drift:project", "drift:env", "drift:commit")


def scenario_repos() -> list[InfraRepo]:
    """The five repos of the infra scenario (the inventory tests read the same world)."""
    return [
        InfraRepo(
            full_name="acme/orders",
            stacks={"orders-api": stack_template("orders-api", variant=1)},
            commit_sha="a" * 40,
        ),
        InfraRepo(
            full_name="acme/payments",
            project="services/api",
            stacks={"payments-api": stack_template("payments-api")},
            commit_sha="b" * 40,
        ),
        InfraRepo(
            full_name="acme/catalog",
            stacks={"catalog-api": stack_template("catalog-api", variant=2)},
            commit_sha="c" * 40,
        ),
        InfraRepo(
            full_name="acme/search",
            status="pre-release",
            stacks={"search-api": stack_template("search-api")},
            commit_sha="d" * 40,
        ),
        InfraRepo(
            full_name="acme/billing",
            status="deprecated",
            stacks={"billing-api": stack_template("billing-api")},
            commit_sha="e" * 40,
        ),
    ]


@pytest.fixture(scope="module")
def sandbox():
    with AwsSandbox(client_config=FAST) as sb:
        yield sb


@pytest.fixture(scope="module")
def scenario(sandbox):
    """Deployed once per module; the tests below only read it."""
    sandbox.reset()
    return deploy_org_infra(sandbox, scenario_repos(), seed=0)


@pytest.fixture(scope="module")
def scratch():
    """A second server for tests that deploy themselves (reset before each use)."""
    with AwsSandbox(client_config=FAST) as sb:
        yield sb


def _stack_names(session) -> set[str]:
    summaries = session.client("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


def _tags_by_arn(session) -> dict[str, dict[str, str]]:
    pages = session.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate()
    return {
        m["ResourceARN"]: {t["Key"]: t["Value"] for t in m["Tags"]}
        for page in pages
        for m in page["ResourceTagMappingList"]
    }


# -- templates ---------------------------------------------------------------------------------


def test_stack_template_is_json_with_env_parameter_and_service_resources():
    template = json.loads(json.dumps(stack_template("orders-api")))
    assert template["Parameters"]["Env"]["Type"] == "String"
    types = {r["Type"] for r in template["Resources"].values()}
    assert types == {
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::EC2::SecurityGroup",
        "AWS::IAM::Role",
    }
    bucket_name = template["Resources"]["Bucket"]["Properties"]["BucketName"]
    assert bucket_name == {"Fn::Sub": "orders-api-${Env}-${AWS::AccountId}"}


def test_stack_template_variants_add_a_table_then_an_ingress_rule():
    v0, v1, v2 = (stack_template("orders-api", variant=v) for v in (0, 1, 2))
    assert "Table" not in v0["Resources"] and "Table" in v1["Resources"]
    ingress = v2["Resources"]["SecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [r["FromPort"] for r in ingress] == [443, 8443]
    assert stack_template("orders-api", variant=1) == v1  # deterministic


@pytest.mark.parametrize("bad", ["Orders", "orders_api", "1orders", "x" * 41, ""])
def test_stack_template_with_unusable_stack_name_raises_value_error(bad):
    with pytest.raises(ValueError, match="stack name"):
        stack_template(bad)


# -- deployment --------------------------------------------------------------------------------


def test_deploy_creates_each_stack_per_env_and_skips_prod_for_pre_release(sandbox, scenario):
    everywhere = ("orders-api", "payments-api", "catalog-api", "billing-api")
    expected = {
        "dev": {f"{s}-dev" for s in (*everywhere, "search-api")},
        "staging": {f"{s}-staging" for s in (*everywhere, "search-api")},
        "prod": {f"{s}-prod" for s in everywhere},  # search is pre-release
    }
    for env, names in expected.items():
        assert _stack_names(sandbox.session(env)) == names
    assert {(d.env, d.stack_name) for d in scenario.deployed} == {
        (env, n) for env, names in expected.items() for n in names
    }


def _arn(rtype: str, physical_id: str, account: str) -> str:
    return {
        "AWS::S3::Bucket": f"arn:aws:s3:::{physical_id}",
        "AWS::SQS::Queue": f"arn:aws:sqs:eu-west-2:{account}:{physical_id.rsplit('/', 1)[-1]}",
        "AWS::EC2::SecurityGroup": f"arn:aws:ec2:eu-west-2:{account}:security-group/{physical_id}",
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:eu-west-2:{account}:table/{physical_id}",
    }[rtype]


def test_every_deployed_resource_carries_its_stacks_drift_tags(sandbox, scenario):
    (missing,) = scenario.of_kind("missing")
    checked = 0
    for env, account in sandbox.accounts.items():
        session = sandbox.session(env)
        tags = _tags_by_arn(session)
        cf, iam = session.client("cloudformation"), session.client("iam")
        for stack in (d for d in scenario.deployed if d.env == env):
            want = {
                "drift:repo": stack.repo,
                "drift:project": stack.project,
                "drift:env": env,
                "drift:commit": stack.commit_sha,
            }
            assert {k: tags[stack.stack_id][k] for k in DRIFT_TAGS} == want
            listed = cf.list_stack_resources(StackName=stack.stack_name)
            for res in listed["StackResourceSummaries"]:
                if (stack.stack_name, res["LogicalResourceId"]) == (
                    missing.stack_name,
                    missing.logical_id,
                ):
                    continue  # deleted out of band
                if res["ResourceType"] == "AWS::IAM::Role":  # IAM is not in the tagging API
                    pairs = iam.list_role_tags(RoleName=res["PhysicalResourceId"])["Tags"]
                    got = {t["Key"]: t["Value"] for t in pairs}
                else:
                    got = tags[_arn(res["ResourceType"], res["PhysicalResourceId"], account)]
                assert {k: got.get(k) for k in DRIFT_TAGS} == want, res
                checked += 1
    # 14 stacks x 4 resources, a table in each orders and catalog stack (6), one deleted
    assert checked == 14 * 4 + 6 - 1
    bucket_tags = _tags_by_arn(sandbox.session("dev"))["arn:aws:s3:::search-api-dev-111111111111"]
    assert bucket_tags["service"] == "search-api"  # the template's own tags are kept


def test_injected_drift_lands_on_three_different_active_repos(scenario):
    placed = {k: scenario.of_kind(k) for k in ("orphaned", "missing", "ingress_changed")}
    assert all(len(v) == 1 for v in placed.values())
    repos = {v[0].repo for v in placed.values()}
    assert len(repos) == 3 and repos <= {"acme/orders", "acme/payments", "acme/catalog"}


def test_orphan_is_tagged_for_its_repo_and_in_no_stack(sandbox, scenario):
    (orphan,) = scenario.of_kind("orphaned")
    session = sandbox.session(orphan.env)
    assert _tags_by_arn(session)[orphan.arn]["drift:repo"] == orphan.repo
    cf = session.client("cloudformation")
    physical = {
        r["PhysicalResourceId"].rsplit("/", 1)[-1]
        for name in _stack_names(session)
        for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]
    }
    assert orphan.resource_id not in physical
    assert orphan.rule == "resource_orphaned"


def test_missing_resource_is_in_template_and_stack_but_gone(sandbox, scenario):
    (missing,) = scenario.of_kind("missing")
    session = sandbox.session(missing.env)
    cf = session.client("cloudformation")
    template = cf.get_template(StackName=missing.stack_name)["TemplateBody"]
    assert template["Resources"][missing.logical_id]["Type"] == missing.resource_type
    listed = cf.describe_stack_resource(StackName=missing.stack_name, LogicalResourceId=missing.logical_id)[
        "StackResourceDetail"
    ]
    assert listed["ResourceStatus"] == "CREATE_COMPLETE"
    with pytest.raises(ClientError):
        _look_up(session, missing.resource_type, missing.resource_id)
    assert missing.arn not in _tags_by_arn(session)
    # Only that env lost it: the same declared resource exists in the other envs.
    stack = missing.stack_name.removesuffix(f"-{missing.env}")
    for env in (e for e in sandbox.accounts if e != missing.env):
        other = sandbox.session(env)
        physical = other.client("cloudformation").describe_stack_resource(
            StackName=f"{stack}-{env}", LogicalResourceId=missing.logical_id
        )["StackResourceDetail"]["PhysicalResourceId"]
        _look_up(other, missing.resource_type, physical.rsplit("/", 1)[-1])


def _look_up(session, resource_type: str, name: str) -> None:
    if resource_type == "AWS::S3::Bucket":
        session.client("s3").head_bucket(Bucket=name)
    else:
        session.client("sqs").get_queue_url(QueueName=name)


def test_security_group_has_an_ingress_rule_its_template_does_not_declare(sandbox, scenario):
    (changed,) = scenario.of_kind("ingress_changed")
    session = sandbox.session(changed.env)
    group = session.client("ec2").describe_security_groups(GroupIds=[changed.resource_id])["SecurityGroups"][0]
    actual = {
        (p["IpProtocol"], p["FromPort"], p["ToPort"], r["CidrIp"])
        for p in group["IpPermissions"]
        for r in p["IpRanges"]
    }
    template = session.client("cloudformation").get_template(StackName=changed.stack_name)
    declared = {
        (r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"])
        for r in template["TemplateBody"]["Resources"][changed.logical_id]["Properties"]["SecurityGroupIngress"]
    }
    assert actual - declared == {("tcp", 22, 22, "0.0.0.0/0")}
    assert declared <= actual
    assert changed.rule == "attribute_drift"


def test_deprecated_repo_stays_deployed_and_is_reported_per_env(sandbox, scenario):
    remaining = scenario.of_kind("deprecated_remaining")
    assert {(d.repo, d.env) for d in remaining} == {("acme/billing", env) for env in ("dev", "staging", "prod")}
    assert all(d.rule == "deprecated_resources_remaining" for d in remaining)
    assert "billing-api-prod" in _stack_names(sandbox.session("prod"))


def test_pre_release_without_prod_is_listed_as_expected_not_drift(scenario):
    (entry,) = scenario.of_kind("prerelease_not_in_prod")
    assert (entry.repo, entry.env, entry.is_drift) == ("acme/search", "prod", False)
    assert entry not in scenario.expected_findings()
    text = scenario.describe()
    assert "Expected, not drift" in text and "`search-api-prod`" in text


# -- determinism and preconditions -------------------------------------------------------------


def test_same_repos_and_seed_give_the_same_scenario_description(scenario, scratch):
    scratch.reset()
    again = deploy_org_infra(scratch.url, scenario_repos(), seed=0)  # another server, by endpoint URL
    assert again.describe() == scenario.describe()
    assert [(d.kind, d.repo, d.env, d.subject) for d in again.drifts] == [
        (d.kind, d.repo, d.env, d.subject) for d in scenario.drifts
    ]


def test_deploy_with_fewer_than_three_active_repos_raises_value_error(scratch):
    repos = [r for r in scenario_repos() if r.full_name != "acme/catalog"]
    with pytest.raises(ValueError, match="at least 3 active repos"):
        deploy_org_infra(scratch, repos)


def test_deploy_without_a_security_group_to_open_raises_value_error(scratch):
    no_sg = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    repos = [InfraRepo(full_name=f"acme/r{i}", stacks={f"r{i}-api": no_sg}, commit_sha="f" * 40) for i in range(3)]
    with pytest.raises(ValueError, match="AWS::EC2::SecurityGroup"):
        deploy_org_infra(scratch, repos)


def test_deploy_onto_an_existing_stack_asks_for_a_reset(scratch):
    scratch.reset()
    repos = scenario_repos()
    first = repos[0]
    scratch.session("dev").client("cloudformation").create_stack(
        StackName="orders-api-dev",
        TemplateBody=json.dumps(first.stacks["orders-api"]),
        Parameters=[{"ParameterKey": "Env", "ParameterValue": "dev"}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    with pytest.raises(RuntimeError, match="already exists in account 111111111111.*reset"):
        deploy_org_infra(scratch, repos)
