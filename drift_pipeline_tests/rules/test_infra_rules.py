"""The infra rule family, pure: records in, findings out (table-driven where the shape allows)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from drift_pipeline.core.rules.findings import contract_violations
from drift_pipeline.core.rules.infra import FAMILY, SPECS, evaluate
from drift_pipeline.core.rules.infra.attributes import compare, policy_statements, sg_rules_from_permissions
from drift_pipeline.core.rules.infra.records import (
    AccountInventory,
    ExpectedEnv,
    InfraObserved,
    ObservedResource,
    ObservedStack,
    ObservedStackResource,
    ReadFailure,
    RepoInfra,
)
from drift_pipeline.core.rules.infra.template import declared_stack, expected_env
from drift_pipeline.core.standards.infra_manifest import ManifestEntry

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DEV, PROD = "111111111111", "333333333333"
REGION = "eu-west-2"
TAGS = {"drift:repo": "acme/orders", "drift:project": "."}

TEMPLATE_V0: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String"}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "orders-${Env}-events"}}},
        "SecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "x",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}],
            },
        },
        "AppRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": "orders-${Env}-app"},
                "Policies": [
                    {
                        "PolicyName": "app-access",
                        "PolicyDocument": {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sqs:SendMessage",
                                    "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject"],
                                    "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                                },
                            ]
                        },
                    }
                ],
            },
        },
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Enabled"}}},
    },
}
TEMPLATE_V1 = {
    **TEMPLATE_V0,
    "Resources": {**TEMPLATE_V0["Resources"], "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}}},
}


def _stack(env: str, account: str, *, table: bool = False) -> ObservedStack:
    res = [
        ObservedStackResource(
            "Queue", f"https://sqs.{REGION}.amazonaws.com/{account}/orders-{env}-events", "AWS::SQS::Queue"
        ),
        ObservedStackResource("SecurityGroup", f"sg-{env}", "AWS::EC2::SecurityGroup"),
        ObservedStackResource("AppRole", f"orders-{env}-app", "AWS::IAM::Role"),
        ObservedStackResource("Bucket", f"orders-{env}-{account}", "AWS::S3::Bucket"),
    ]
    if table:
        res.append(ObservedStackResource("Table", f"orders-{env}", "AWS::DynamoDB::Table"))
    return ObservedStack(
        name=f"orders-api-{env}",
        stack_id=f"arn:aws:cloudformation:{REGION}:{account}:stack/orders-api-{env}/1",
        account=account,
        region=REGION,
        status="CREATE_COMPLETE",
        tags=dict(TAGS),
        resources=tuple(res),
        parameters={"Env": env},
    )


def _resources(env: str, account: str, *, table: bool = False) -> list[ObservedResource]:
    def r(arn: str, rtype: str, physical: str, **attributes: Any) -> ObservedResource:
        return ObservedResource(arn, rtype, physical, account, REGION, dict(TAGS), attributes)

    statements = {
        "app-access": policy_statements(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sqs:SendMessage",
                        "Resource": f"arn:aws:sqs:{REGION}:{account}:orders-{env}-events",
                    },
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::orders-{env}-{account}/*"},
                ]
            }
        )
    }
    out = [
        r(f"arn:aws:sqs:{REGION}:{account}:orders-{env}-events", "AWS::SQS::Queue", f"orders-{env}-events"),
        r(
            f"arn:aws:ec2:{REGION}:{account}:security-group/sg-{env}",
            "AWS::EC2::SecurityGroup",
            f"sg-{env}",
            ingress=["tcp/443 from 10.0.0.0/8"],
            egress=["all to 0.0.0.0/0"],
        ),
        r(
            f"arn:aws:iam::{account}:role/orders-{env}-app",
            "AWS::IAM::Role",
            f"orders-{env}-app",
            inline_policies=statements,
            attached_policies=[],
        ),
        r(f"arn:aws:s3:::orders-{env}-{account}", "AWS::S3::Bucket", f"orders-{env}-{account}", versioning="Enabled"),
    ]
    if table:
        out.append(
            r(f"arn:aws:dynamodb:{REGION}:{account}:table/orders-{env}", "AWS::DynamoDB::Table", f"orders-{env}")
        )
    return out


def _world(
    *,
    status: str = "active",
    mutate: Any = None,
    failures: tuple[ReadFailure, ...] = (),
    prod_template: dict[str, Any] = TEMPLATE_V0,
    prod_table: bool = False,
    drop_stack: bool = False,
) -> tuple[InfraObserved, dict[str, RepoInfra]]:
    dev_res, prod_res = _resources("dev", DEV), _resources("prod", PROD, table=prod_table)
    if mutate:
        dev_res = mutate(dev_res)
    dev_stacks = () if drop_stack else (_stack("dev", DEV),)
    observed = InfraObserved(
        NOW,
        {
            DEV: AccountInventory(DEV, (REGION,), tuple(dev_res), dev_stacks, failures, frozenset({"AWS::IAM::Role"})),
            PROD: AccountInventory(PROD, (REGION,), tuple(prod_res), (_stack("prod", PROD, table=prod_table),)),
        },
    )
    envs = (
        expected_env("dev", DEV, "d" * 40, {"orders-api": TEMPLATE_V0}, {s.name: s for s in dev_stacks}, region=REGION),
        expected_env(
            "prod",
            PROD,
            "p" * 40,
            {"orders-api": prod_template},
            {s.name: s for s in observed.accounts[PROD].stacks},
            region=REGION,
        ),
    )
    repo = RepoInfra(
        org="acme", repo="orders", status=status, envs=envs, commit_url_base="https://gh/acme/orders/commit/"
    )
    return observed, {"acme/orders": repo}


def _rules(findings: list[Any]) -> list[tuple[str, str]]:
    return sorted((f.rule, f.subject) for f in findings)


def _drop(arn_part: str):
    return lambda res: [r for r in res if arn_part not in r.arn]


def _replace_attr(arn_part: str, **attributes: Any):
    return lambda res: [replace(r, attributes={**r.attributes, **attributes}) if arn_part in r.arn else r for r in res]


def _add(resource: ObservedResource):
    return lambda res: [*res, resource]


ORPHAN = ObservedResource(
    f"arn:aws:sqs:{REGION}:{DEV}:orders-legacy", "AWS::SQS::Queue", "orders-legacy", DEV, REGION, TAGS
)
OTHER_REPO = replace(ORPHAN, arn=f"arn:aws:sqs:{REGION}:{DEV}:x", tags={"drift:repo": "acme/payments"})
OTHER_PROJECT = replace(ORPHAN, arn=f"arn:aws:sqs:{REGION}:{DEV}:y", tags={**TAGS, "drift:project": "svc/a"})
BY_STACK_TAG = replace(
    ORPHAN, arn=f"arn:aws:sqs:{REGION}:{DEV}:z", tags={"aws:cloudformation:stack-name": "orders-api-dev"}
)
WIDER = policy_statements(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{REGION}:{DEV}:orders-dev-events",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::orders-dev-{DEV}/*",
            },
        ]
    }
)


@pytest.mark.parametrize(
    ("mutate", "want"),
    [
        (None, []),
        (_drop("orders-dev-events"), [("resource_missing", "dev/orders-api-dev/Queue")]),
        (_drop("role/orders-dev-app"), [("resource_missing", "dev/orders-api-dev/AppRole")]),
        (_add(ORPHAN), [("resource_orphaned", ORPHAN.arn)]),
        (_add(OTHER_REPO), []),
        (_add(OTHER_PROJECT), []),
        (_add(BY_STACK_TAG), [("resource_orphaned", BY_STACK_TAG.arn)]),
        (
            _replace_attr("sg-dev", ingress=["tcp/22 from 0.0.0.0/0", "tcp/443 from 10.0.0.0/8"]),
            [("attribute_drift", "dev/orders-api-dev/SecurityGroup:ingress[tcp/22 from 0.0.0.0/0]")],
        ),
        (
            _replace_attr("sg-dev", ingress=[]),
            [("attribute_drift", "dev/orders-api-dev/SecurityGroup:ingress[tcp/443 from 10.0.0.0/8]")],
        ),
        (
            _replace_attr("role/orders-dev-app", inline_policies={"app-access": WIDER}),
            [("attribute_drift", "dev/orders-api-dev/AppRole:inline_policies[app-access/#2]")],
        ),
        (
            _replace_attr("s3:::orders-dev", versioning="Suspended"),
            [("attribute_drift", "dev/orders-api-dev/Bucket:versioning")],
        ),
    ],
)
def test_active_repo_findings(mutate, want):
    observed, expected = _world(mutate=mutate)
    findings = evaluate(DAY, observed, expected)
    assert _rules(findings) == want
    for f in findings:
        # infra joins FAMILIES with its assets (next step): until then its ids are unknown to the registry
        assert [v for v in contract_violations(f.row()) if not v.startswith("unknown rule id")] == []
        assert "expected" in f.details and "actual" in f.details
        assert f.commit_sha == "d" * 40 and f.commit_url == "https://gh/acme/orders/commit/" + "d" * 40


def test_attribute_drift_details_hold_expected_and_actual_per_item():
    observed, expected = _world(mutate=_replace_attr("role/orders-dev-app", inline_policies={"app-access": WIDER}))
    (finding,) = evaluate(DAY, observed, expected)
    assert finding.details["item"] == "app-access/#2"
    assert finding.details["expected"]["Action"] == ["s3:GetObject"]
    assert finding.details["actual"]["Action"] == ["s3:DeleteObject", "s3:GetObject"]
    assert finding.details["method"] == "project"


def test_a_stack_not_deployed_is_missing_unless_cloudformation_was_unreadable():
    observed, expected = _world(drop_stack=True)
    assert ("resource_missing", "dev/orders-api-dev") in _rules(evaluate(DAY, observed, expected))
    failure = ReadFailure(DEV, "cloudformation", "AccessDenied", "no", REGION)
    observed, expected = _world(drop_stack=True, failures=(failure,))
    # no missing stack and no "orphans" either: what the stacks declare is unknown
    assert _rules(evaluate(DAY, observed, expected)) == [("infra_not_evaluated", f"dev/cloudformation/{REGION}")]


def test_unreadable_service_is_not_evaluated_and_never_missing():
    failure = ReadFailure(DEV, "iam", "AccessDenied", "iam: not authorized")
    observed, expected = _world(mutate=_drop("role/orders-dev-app"), failures=(failure,))
    findings = evaluate(DAY, observed, expected)
    assert _rules(findings) == [("infra_not_evaluated", "dev/iam")]
    assert findings[0].details["code"] == "AccessDenied"


def test_unassumed_or_unscanned_account_is_not_evaluated():
    observed, expected = _world(mutate=_drop("orders-dev-events"))
    sts = ReadFailure(DEV, "sts", "AccessDenied", "cannot assume")
    observed = replace(observed, accounts={DEV: AccountInventory(DEV, (REGION,), failures=(sts,))})  # prod unscanned
    findings = evaluate(DAY, observed, expected)
    assert [(f.rule, f.subject, f.details["code"]) for f in findings] == [
        ("infra_not_evaluated", "dev/sts", "AccessDenied"),
        ("infra_not_evaluated", "prod/sts", "NotScanned"),
    ]


def test_deprecated_repo_lists_every_leftover_and_nothing_else():
    observed, expected = _world(status="deprecated", mutate=_add(ORPHAN))
    findings = evaluate(DAY, observed, expected)
    assert _rules(findings) == [
        ("deprecated_resources_remaining", "dev/orders-api-dev"),
        ("deprecated_resources_remaining", "dev/outside-stacks"),
        ("deprecated_resources_remaining", "prod/orders-api-prod"),
    ]
    dev = next(f for f in findings if f.subject == "dev/orders-api-dev")
    assert dev.details["resources"] == sorted(r.arn for r in _resources("dev", DEV))
    # a stack resource already deleted is not listed as remaining
    observed, expected = _world(status="deprecated", mutate=_drop("orders-dev-events"))
    dev = next(f for f in evaluate(DAY, observed, expected) if f.subject == "dev/orders-api-dev")
    assert dev.details["resources"] == sorted(r.arn for r in _resources("dev", DEV) if "events" not in r.arn)
    assert next(f for f in findings if f.subject == "dev/outside-stacks").details["resources"] == [ORPHAN.arn]


def test_pre_release_repo_skips_prod_entirely():
    observed, expected = _world(status="pre-release", prod_template=TEMPLATE_V1)  # prod Table would be missing
    assert evaluate(DAY, observed, expected) == []
    observed, expected = _world(prod_template=TEMPLATE_V1)
    assert _rules(evaluate(DAY, observed, expected)) == [("resource_missing", "prod/orders-api-prod/Table")]


def test_resource_added_after_the_prod_commit_is_not_expected_in_prod():
    # dev runs the newer template (with a Table), prod still the older commit's: no Table expected in prod.
    observed, expected = _world(prod_template=TEMPLATE_V0)
    assert evaluate(DAY, observed, expected) == []
    # a Table in prod that the prod commit does not declare is tied to the repo but undeclared
    observed, expected = _world(prod_template=TEMPLATE_V0, prod_table=True)
    assert _rules(evaluate(DAY, observed, expected)) == [
        ("resource_orphaned", f"arn:aws:dynamodb:{REGION}:{PROD}:table/orders-prod")
    ]


def test_nothing_deployed_means_nothing_expected_and_tagged_leftovers_are_orphans():
    env = expected_env("dev", DEV, None, {"orders-api": TEMPLATE_V0}, {}, region=REGION)
    assert env == ExpectedEnv("dev", DEV, None)
    observed, expected = _world()
    repo = expected["acme/orders"]
    findings = evaluate(DAY, observed, {"x": replace(repo, envs=(env,))})
    assert _rules(findings) == sorted(("resource_orphaned", r.arn) for r in _resources("dev", DEV))


def test_manifest_entries_are_declared_and_missing_when_absent_with_their_line():
    observed, expected = _world(mutate=_add(ORPHAN))
    repo = expected["acme/orders"]
    gone = "arn:aws:sns:eu-west-2:111111111111:gone"
    dev = replace(repo.envs[0], manifest=(ManifestEntry(ORPHAN.arn, 3), ManifestEntry(gone, 4)))
    repo = replace(repo, envs=(dev, repo.envs[1]), manifest_file="infra/manifest.txt")
    (finding,) = evaluate(DAY, observed, {"x": repo})
    assert (finding.rule, finding.subject) == ("resource_missing", gone)
    assert (finding.details["manifest"], finding.details["line"]) == ("infra/manifest.txt", 4)
    assert "infra/manifest.txt:4" in finding.message


def test_accountless_manifest_entry_is_missing_only_when_no_account_has_it():
    observed, expected = _world()
    repo = expected["acme/orders"]
    prod_bucket = f"arn:aws:s3:::orders-prod-{PROD}"  # exists in prod only
    anywhere = (ManifestEntry(prod_bucket, 1), ManifestEntry("arn:aws:s3:::nowhere", 2), ManifestEntry("sg-dev", 3))
    findings = evaluate(DAY, observed, {"x": replace(repo, manifest_anywhere=anywhere)})
    assert _rules(findings) == [("resource_missing", "arn:aws:s3:::nowhere")]
    # one account unread: absence is not proven, so nothing is claimed missing
    sts = ReadFailure(PROD, "sts", "AccessDenied", "no")
    observed = replace(
        observed, accounts={**observed.accounts, PROD: AccountInventory(PROD, (REGION,), failures=(sts,))}
    )
    findings = evaluate(DAY, observed, {"x": replace(repo, manifest_anywhere=anywhere)})
    assert _rules(findings) == [("infra_not_evaluated", "prod/sts")]


def test_fingerprints_are_stable_across_days_and_reads():
    observed, expected = _world(mutate=_add(ORPHAN))
    first = evaluate(DAY, observed, expected)
    second = evaluate(date(2026, 11, 27), _world(mutate=_add(ORPHAN))[0], expected)
    assert [f.fingerprint for f in first] == [f.fingerprint for f in second]


def test_template_intrinsics_resolve_and_unknowable_properties_are_not_compared():
    stack = declared_stack(
        "orders-api",
        "orders-api-dev",
        TEMPLATE_V0,
        physical_ids={r.logical_id: r.physical_id for r in _stack("dev", DEV).resources},
        account=DEV,
        region=REGION,
        parameters={"Env": "dev"},
    )
    role = next(r for r in stack.resources if r.logical_id == "AppRole")
    assert role.arn == f"arn:aws:iam::{DEV}:role/orders-dev-app"
    assert role.attributes["inline_policies"]["app-access"]["#1"]["Resource"] == [
        f"arn:aws:sqs:{REGION}:{DEV}:orders-dev-events"
    ]
    assert role.attributes["inline_policies"]["app-access"]["#2"]["Resource"] == [f"arn:aws:s3:::orders-dev-{DEV}/*"]
    unknown = {
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {"PolicyName": "p", "PolicyDocument": {"Statement": [{"Resource": {"Fn::ImportValue": "x"}}]}}
                    ]
                },
            }
        }
    }
    (r,) = declared_stack("s", "s-dev", unknown, physical_ids={"R": "role"}, account=DEV, region=REGION).resources
    assert "inline_policies" not in r.attributes


@pytest.mark.parametrize(
    ("permissions", "names"),
    [
        (
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            ["tcp/22 from 0.0.0.0/0"],
        ),
        ([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}], ["all from 0.0.0.0/0"]),
        (
            [{"IpProtocol": "udp", "FromPort": 1000, "ToPort": 2000, "UserIdGroupPairs": [{"GroupId": "sg-1"}]}],
            ["udp/1000-2000 from sg-1"],
        ),
    ],
)
def test_security_group_rules_are_named(permissions, names):
    assert sg_rules_from_permissions(permissions) == names


def test_compare_only_checks_what_is_declared():
    assert compare("AWS::S3::Bucket", {}, {"versioning": "Suspended"}) == []
    (diff,) = compare("AWS::Lambda::Function", {"environment_names": ["A"]}, {"environment_names": ["A", "B"]})
    assert (diff.name, diff.expected, diff.actual) == ("environment_names[B]", None, "B")


def test_family_declares_the_design_rule_ids():
    assert FAMILY.category == "infra" and FAMILY.findings_table == "infra_drift"
    assert [s.id for s in SPECS] == [
        "resource_missing",
        "resource_orphaned",
        "attribute_drift",
        "deprecated_resources_remaining",
        "backup_stale",
        "infra_not_evaluated",
    ]
