"""The one normalised shape of the attributes drift is checked on, and the per-property comparison.

Both sides go through these functions: the inventory normalises what AWS describes, the declared
side normalises what the template says, so a difference is a real difference and not a shape one.
Only properties the declared side states are compared (a template that says nothing about bucket
versioning has no versioning drift).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SG = "AWS::EC2::SecurityGroup"
ROLE = "AWS::IAM::Role"
BUCKET = "AWS::S3::Bucket"
FUNCTION = "AWS::Lambda::Function"

_PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp"}


def _ports(protocol: str, low: Any, high: Any) -> str:
    if protocol == "all" or low is None:
        return protocol
    return f"{protocol}/{low}" if str(low) == str(high) else f"{protocol}/{low}-{high}"


def _rule(protocol: Any, low: Any, high: Any, source: str, outbound: bool) -> str:
    proto = _PROTOCOLS.get(str(protocol).lower(), str(protocol).lower())
    return f"{_ports(proto, low, high)} {'to' if outbound else 'from'} {source}"


def sg_rules_from_permissions(permissions: Iterable[Mapping[str, Any]], *, outbound: bool = False) -> list[str]:
    """EC2's ``IpPermissions`` shape -> sorted rule names, one per source (CIDR, group, prefix list)."""
    names = set()
    for perm in permissions:
        proto, low, high = perm.get("IpProtocol", "-1"), perm.get("FromPort"), perm.get("ToPort")
        sources = [r.get("CidrIp") for r in perm.get("IpRanges", [])]
        sources += [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", [])]
        sources += [p.get("GroupId") or p.get("GroupName") for p in perm.get("UserIdGroupPairs", [])]
        sources += [p.get("PrefixListId") for p in perm.get("PrefixListIds", [])]
        for source in sources:
            if source:
                names.add(_rule(proto, low, high, str(source), outbound))
    return sorted(names)


def sg_rules_from_template(rules: Iterable[Mapping[str, Any]], *, outbound: bool = False) -> list[str]:
    """CloudFormation's ``SecurityGroupIngress`` / ``Egress`` shape -> sorted rule names."""
    names = set()
    for rule in rules:
        source = (
            rule.get("CidrIp")
            or rule.get("CidrIpv6")
            or rule.get("SourceSecurityGroupId")
            or rule.get("DestinationSecurityGroupId")
            or rule.get("SourcePrefixListId")
            or rule.get("DestinationPrefixListId")
        )
        if source:
            names.add(
                _rule(rule.get("IpProtocol", "-1"), rule.get("FromPort"), rule.get("ToPort"), str(source), outbound)
            )
    return sorted(names)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return sorted(value, key=str) if isinstance(value, list) else [value]


def policy_statements(document: Any) -> dict[str, dict[str, Any]]:
    """A policy document -> {statement name: normalised statement}; the name is its Sid, else ``#<n>``."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return {"#document": {"unparsed": document}}
    if not isinstance(document, Mapping):
        return {}
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    out: dict[str, dict[str, Any]] = {}
    for index, statement in enumerate(statements if isinstance(statements, list) else [], start=1):
        if not isinstance(statement, Mapping):
            continue
        name = str(statement.get("Sid") or f"#{index}")
        norm: dict[str, Any] = {"Effect": statement.get("Effect")}
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement:
                norm[key] = _as_list(statement[key])
        for key in ("Principal", "NotPrincipal", "Condition"):
            if key in statement:
                norm[key] = statement[key]
        out[name] = norm
    return out


@dataclass(frozen=True)
class AttributeDiff:
    """One property that differs: ``item`` names the rule / statement / variable when there is one."""

    prop: str
    item: str | None
    expected: Any
    actual: Any

    @property
    def name(self) -> str:
        return f"{self.prop}[{self.item}]" if self.item else self.prop


def _set_diff(prop: str, expected: Iterable[str], actual: Iterable[str]) -> list[AttributeDiff]:
    want, have = set(expected), set(actual)
    out = [AttributeDiff(prop, rule, None, rule) for rule in sorted(have - want)]  # added out of band
    out += [AttributeDiff(prop, rule, rule, None) for rule in sorted(want - have)]  # removed out of band
    return out


def _statement_diff(prop: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[AttributeDiff]:
    out = []
    for name in sorted(set(expected) | set(actual)):
        if expected.get(name) != actual.get(name):
            out.append(AttributeDiff(prop, name, expected.get(name), actual.get(name)))
    return out


def compare(rtype: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[AttributeDiff]:
    """Every declared property of ``expected`` that ``actual`` does not match, item by item."""
    out: list[AttributeDiff] = []
    for prop in sorted(expected):
        want, have = expected[prop], actual.get(prop)
        if rtype == SG and prop in ("ingress", "egress"):
            out += _set_diff(prop, want or [], have or [])
        elif rtype == ROLE and prop == "inline_policies":
            have = have or {}
            for policy in sorted(set(want) | set(have)):
                if policy not in have:
                    out.append(AttributeDiff(prop, policy, want[policy], None))
                elif policy not in want:
                    out.append(AttributeDiff(prop, policy, None, have[policy]))
                else:
                    out += [
                        AttributeDiff(prop, f"{policy}/{d.item}", d.expected, d.actual)
                        for d in _statement_diff(prop, want[policy], have[policy])
                    ]
        elif rtype == ROLE and prop == "assume_role_policy":
            out += _statement_diff(prop, want or {}, have or {})
        elif prop in ("attached_policies", "environment_names"):
            out += _set_diff(prop, want or [], have or [])
        elif want != have:
            out.append(AttributeDiff(prop, None, want, have))
    return out
