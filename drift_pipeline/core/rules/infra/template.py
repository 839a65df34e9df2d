"""Declared state from a CloudFormation template: resources with physical ids, ARNs and attributes.

``declared_stack`` turns the template of a deployed stack (as committed at the deployed commit)
plus the stack's logical -> physical id map into :class:`DeclaredResource` records whose
attributes are in the normalised shape of :mod:`.attributes`. Intrinsics are resolved where the
value is knowable (``Ref``, ``Fn::GetAtt [X, Arn]``, ``Fn::Sub``, pseudo parameters, stack
parameters); a property whose value cannot be resolved is left out (not compared), never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drift_pipeline.core.rules.infra.attributes import (
    BUCKET,
    FUNCTION,
    ROLE,
    SG,
    policy_statements,
    sg_rules_from_template,
)
from drift_pipeline.core.rules.infra.records import DeclaredResource, DeclaredStack, ExpectedEnv, ObservedStack
from drift_pipeline.core.standards.infra_manifest import ManifestEntry


def arn_for(rtype: str, physical_id: str, account: str, region: str) -> str | None:
    """The ARN the tagging API / IAM report for a CloudFormation physical id (None: type not mapped)."""
    if not physical_id:
        return None
    if physical_id.startswith("arn:"):
        return physical_id
    name = physical_id.rstrip("/").rsplit("/", 1)[-1]
    return {
        BUCKET: f"arn:aws:s3:::{physical_id}",
        "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
        SG: f"arn:aws:ec2:{region}:{account}:security-group/{physical_id}",
        ROLE: f"arn:aws:iam::{account}:role/{physical_id}",
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{physical_id}",
        FUNCTION: f"arn:aws:lambda:{region}:{account}:function:{physical_id}",
        "AWS::SNS::Topic": physical_id,
        "AWS::EC2::Instance": f"arn:aws:ec2:{region}:{account}:instance/{physical_id}",
    }.get(rtype)


class _Unresolved(Exception):
    pass


def substitute(text: str, replace: Callable[[str], str]) -> str:
    """``text`` with every ``${name}`` of ``Fn::Sub`` replaced by ``replace(name)``; ``${!x}`` and ``${}`` stay.

    One left-to-right pass, linear in ``text``: a ``${`` with no ``}`` after it ends the scan, since
    no later ``${`` can close either. (The regex this replaces scanned to the end of the text again
    from every unclosed ``${``: 20,000 of them took seconds.)
    """
    out: list[str] = []
    done = 0  # text[:done] is in out
    start = text.find("${")
    while start != -1:
        name_at = start + 2
        if text.startswith(("}", "!"), name_at):
            start = text.find("${", name_at)
            continue
        end = text.find("}", name_at)
        if end == -1:
            break
        out += (text[done:start], replace(text[name_at:end]))
        done = end + 1
        start = text.find("${", done)
    out.append(text[done:])
    return "".join(out)


class _Resolver:
    def __init__(
        self,
        resources: Mapping[str, Any],
        physical: Mapping[str, str],
        params: Mapping[str, str],
        account: str,
        region: str,
        stack_name: str,
    ):
        self.resources, self.physical, self.account, self.region = resources, physical, account, region
        self.names = {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}
        self.names |= {"AWS::StackName": stack_name, **params}

    def ref(self, name: str) -> str:
        if name in self.names:
            return self.names[name]
        if name in self.physical:
            return self.physical[name]
        raise _Unresolved(name)

    def arn(self, logical: str) -> str:
        rtype = self.resources.get(logical, {}).get("Type", "")
        found = arn_for(rtype, self.physical.get(logical, ""), self.account, self.region)
        if found is None:
            raise _Unresolved(f"{logical}.Arn")
        return found

    def sub(self, text: str, local: Mapping[str, Any]) -> str:
        def one(name: str) -> str:
            if name in local:
                return str(self.resolve(local[name]))
            if name.endswith(".Arn"):
                return self.arn(name[: -len(".Arn")])
            return self.ref(name)

        return substitute(text, one)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
                if attr == "Arn":
                    return self.arn(logical)
                raise _Unresolved(f"{logical}.{attr}")
            if key == "Fn::Sub":
                text, local = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
                return self.sub(str(text), local)
            if key == "Fn::Join":
                sep, parts = arg
                return str(sep).join(str(self.resolve(p)) for p in parts)
            if key.startswith("Fn::") or key == "Condition":
                raise _Unresolved(key)
        return {k: self.resolve(v) for k, v in value.items()}


def _attributes(rtype: str, props: Mapping[str, Any], resolver: _Resolver) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def put(name: str, build: Any) -> None:
        try:
            out[name] = build()
        except (_Unresolved, ValueError, TypeError):
            pass  # not knowable from the template: not compared

    if rtype == SG:
        put("ingress", lambda: sg_rules_from_template(resolver.resolve(props.get("SecurityGroupIngress", []))))
        if "SecurityGroupEgress" in props:
            put(
                "egress",
                lambda: sg_rules_from_template(resolver.resolve(props["SecurityGroupEgress"]), outbound=True),
            )
    elif rtype == ROLE:
        if "AssumeRolePolicyDocument" in props:
            put("assume_role_policy", lambda: policy_statements(resolver.resolve(props["AssumeRolePolicyDocument"])))
        put(
            "inline_policies",
            lambda: {
                str(p["PolicyName"]): policy_statements(resolver.resolve(p["PolicyDocument"]))
                for p in props.get("Policies", [])
            },
        )
        if "ManagedPolicyArns" in props:
            put("attached_policies", lambda: sorted(resolver.resolve(props["ManagedPolicyArns"])))
    elif rtype == BUCKET:
        if "PublicAccessBlockConfiguration" in props:
            put("public_access_block", lambda: dict(resolver.resolve(props["PublicAccessBlockConfiguration"])))
        if "BucketEncryption" in props:
            put(
                "encryption",
                lambda: resolver.resolve(props["BucketEncryption"])["ServerSideEncryptionConfiguration"][0][
                    "ServerSideEncryptionByDefault"
                ]["SSEAlgorithm"],
            )
        if "VersioningConfiguration" in props:
            put("versioning", lambda: resolver.resolve(props["VersioningConfiguration"])["Status"])
    elif rtype == FUNCTION:
        for prop, name in (("Runtime", "runtime"), ("MemorySize", "memory"), ("Timeout", "timeout")):
            if prop in props:
                put(name, lambda prop=prop: resolver.resolve(props[prop]))
        if "Environment" in props:
            put("environment_names", lambda: sorted((props["Environment"].get("Variables") or {}).keys()))
    return out


def normalised_attributes(rtype: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised attributes of already resolved properties (CloudFormation's Expected/ActualProperties)."""
    return _attributes(rtype, properties, _Resolver({}, {}, {}, "", "", ""))


def declared_stack(
    stack: str,
    name: str,
    template: Mapping[str, Any],
    *,
    physical_ids: Mapping[str, str],
    account: str,
    region: str,
    parameters: Mapping[str, str] | None = None,
    deployed: bool = True,
) -> DeclaredStack:
    """The declared resources of one deployed stack (``physical_ids``: logical id -> physical id)."""
    resources = template.get("Resources") if isinstance(template.get("Resources"), Mapping) else {}
    assert isinstance(resources, Mapping)
    resolver = _Resolver(resources, physical_ids, dict(parameters or {}), account, region, name)
    declared = []
    for logical_id in sorted(resources):
        body = resources[logical_id] if isinstance(resources[logical_id], Mapping) else {}
        rtype = str(body.get("Type", ""))
        props = body.get("Properties") if isinstance(body.get("Properties"), Mapping) else {}
        physical = physical_ids.get(logical_id)
        declared.append(
            DeclaredResource(
                logical_id=logical_id,
                type=rtype,
                physical_id=physical,
                arn=arn_for(rtype, physical, account, region) if physical else None,
                attributes=_attributes(rtype, props or {}, resolver),
            )
        )
    return DeclaredStack(stack=stack, name=name, resources=tuple(declared), deployed=deployed)


def expected_env(
    env: str,
    account: str,
    commit: str | None,
    templates: Mapping[str, Mapping[str, Any]],
    deployed: Mapping[str, ObservedStack],
    *,
    region: str,
    manifest: tuple[ManifestEntry, ...] = (),
    stack_name: str = "{stack}-{env}",
) -> ExpectedEnv:
    """What ``env`` should hold: each stack of ``templates`` (as committed at ``commit``) as deployed.

    ``templates``: declared stack name -> template at the env's deployed commit; ``deployed``:
    deployed stack name -> the observed stack (its physical ids and parameters). No deployed commit
    means nothing is expected there. A declared stack CloudFormation does not have is
    ``deployed=False`` (the rules report it missing when CloudFormation could be read).
    """
    if commit is None:
        return ExpectedEnv(env=env, account=account, commit=None)
    stacks = []
    for stack in sorted(templates):
        name = stack_name.format(stack=stack, env=env)
        seen = deployed.get(name)
        if seen is None:
            stacks.append(DeclaredStack(stack=stack, name=name, deployed=False))
            continue
        physical = {r.logical_id: r.physical_id for r in seen.resources if r.physical_id}
        stacks.append(
            declared_stack(
                stack,
                name,
                templates[stack],
                physical_ids=physical,
                account=account,
                region=seen.region or region,
                parameters=seen.parameters,
            )
        )
    return ExpectedEnv(env=env, account=account, commit=commit, stacks=tuple(stacks), manifest=manifest)
