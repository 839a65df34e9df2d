"""CloudFormation templates of the demo services, as committed in each repo's ``infra/``."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.infra_seed.records import _STACK_NAME


def stack_template(stack: str, *, variant: int = 0) -> dict[str, Any]:
    """A CloudFormation template (JSON as a dict) for one service stack, as committed in a repo.

    Names derive from the stack and the ``Env`` parameter, so one template serves every env;
    bucket names add the account id (one S3 namespace across accounts). ``variant`` is the
    template's revision: 0 = bucket, queue, security group, IAM role; 1 adds a DynamoDB table;
    2 also lengthens the queue's visibility timeout and opens 8443 to the internal network.

    Long because the template is one literal, written out as CloudFormation reads it.
    """
    if not _STACK_NAME.match(stack):
        raise ValueError(
            f"stack name {stack!r} must be lowercase letters, digits and '-', at most 40 "
            "characters, starting with a letter (it becomes part of bucket and role names)"
        )
    if variant < 0:
        raise ValueError(f"variant must be >= 0, got {variant}")
    ingress = [_rule(443, "10.0.0.0/8")]  # HTTPS from the internal network
    if variant >= 2:
        ingress.append(_rule(8443, "10.0.0.0/8"))  # admin API, internal only
    resources: dict[str, Any] = {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Sub": f"{stack}-${{Env}}-${{AWS::AccountId}}"},
                "Tags": [{"Key": "service", "Value": stack}, {"Key": "data", "Value": "internal"}],
            },
        },
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": f"{stack}-${{Env}}-events"},
                "VisibilityTimeout": 120 if variant >= 2 else 60,
                "MessageRetentionPeriod": 345600,
            },
        },
        "SecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupName": {"Fn::Sub": f"{stack}-${{Env}}"},
                "GroupDescription": f"{stack}: service ingress",
                "SecurityGroupIngress": ingress,
            },
        },
        "AppRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": f"{stack}-${{Env}}-app"},
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "app-access",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                                    "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:PutObject"],
                                    "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                                },
                            ],
                        },
                    }
                ],
            },
        },
    }
    if variant >= 1:
        resources["Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": f"{stack}-${{Env}}"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{stack}: service infrastructure (revision {variant})",
        "Parameters": {
            "Env": {
                "Type": "String",
                "AllowedValues": ["dev", "staging", "prod"],
                "Description": "Deployment environment; the stack is deployed as <stack>-<Env>.",
            }
        },
        "Resources": resources,
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Bucket"}},
            "QueueUrl": {"Value": {"Ref": "Queue"}},
            "SecurityGroupId": {"Value": {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}},
            "AppRoleArn": {"Value": {"Fn::GetAtt": ["AppRole", "Arn"]}},
        },
    }


def _rule(port: int, cidr: str) -> dict[str, Any]:
    # No "Description": moto's CloudFormation drops rule descriptions, which a scan comparing
    # template and described group would then report as drift in every env.
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": cidr}
