"""CloudFormation templates in JSON or YAML (short-form intrinsics), parsed within the project's bounds."""

from __future__ import annotations

import json

import pytest

from drift_pipeline.core.rules.infra.template import declared_stack
from drift_pipeline.scans.infra_templates import MAX_TEMPLATE_BYTES, parse_template

YAML = """\
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "orders-${Env}-events"
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ingress
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/8}
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: app
          PolicyDocument:
            Statement:
              - {Sid: Queue, Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}
              - {Sid: Both, Effect: Allow, Action: s3:GetObject, Resource: !GetAtt [Queue, Arn]}
  Conditional:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: app
          PolicyDocument:
            Statement:
              - Sid: Maybe
                Effect: Allow
                Action: s3:PutObject
                Resource: !If [IsProd, !Ref "AWS::NoValue", !Join ["", ["arn:aws:s3:::x-", !Ref Env]]]
"""


def test_short_form_intrinsics_read_as_their_long_form_and_resolve_like_json():
    data, problem = parse_template("infra/orders.yaml", YAML)
    assert problem is None and data is not None
    assert data["AWSTemplateFormatVersion"] == "2010-09-09"  # a date stays text
    assert data["Resources"]["Queue"]["Properties"]["QueueName"] == {"Fn::Sub": "orders-${Env}-events"}
    statements = data["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"] == statements[1]["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    as_json, _ = parse_template("infra/orders.json", json.dumps(data))
    assert as_json == data
    url = "https://sqs.eu-west-2.amazonaws.com/111111111111/orders-dev-events"
    stack = declared_stack(
        "orders",
        "orders-dev",
        data,
        physical_ids={"Queue": url, "Group": "sg-1", "Role": "orders-dev-role", "Conditional": "c"},
        account="111111111111",
        region="eu-west-2",
        parameters={"Env": "dev"},
    )
    role = next(r for r in stack.resources if r.logical_id == "Role")
    policy = role.attributes["inline_policies"]["app"]
    assert policy["Queue"]["Resource"] == ["arn:aws:sqs:eu-west-2:111111111111:orders-dev-events"]
    conditional = next(r for r in stack.resources if r.logical_id == "Conditional")
    assert "inline_policies" not in conditional.attributes  # Fn::If: not knowable, so not compared
    group = next(r for r in stack.resources if r.logical_id == "Group")
    assert group.attributes["ingress"] == ["tcp/443 from 10.0.0.0/8"]


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("Resources:\n  A: !Foo bar\n", 2, "could not determine a constructor for the tag '!Foo'"),
        ("Resources:\n  A: !!python/object/apply:os.system [ls]\n", 2, "could not determine a constructor"),
        ("Resources: [\n", 2, "not valid YAML"),
        ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
         + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                   for p, c in zip("abcdef", "bcdefg", strict=True))
         + "Resources: {}\n", None, "expands to more than"),
        ("Resources:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)) + "  " * 80 + "v: 1\n", None, "deeper"),
        ("- a\n- b\n", 1, "expected a template object with Resources"),
    ],
)  # fmt: skip
def test_hostile_yaml_is_one_problem_with_its_line_never_a_crash(text, line, says):
    data, problem = parse_template("infra/x.yml", text)
    assert data is None and problem is not None
    got_line, _key, message = problem
    assert says in message
    if line is not None:
        assert got_line == line


def test_an_oversized_template_is_refused_before_parsing():
    data, problem = parse_template("infra/x.yaml", "#" * (MAX_TEMPLATE_BYTES + 1))
    assert data is None and problem is not None and "larger than" in problem[2]
