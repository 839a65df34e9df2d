"""CloudFormation templates as committed: JSON or YAML (short-form intrinsics), parsed within bounds.

A stack ``<stack>`` declared under ``[infra] path`` is the first of ``<stack>.json``,
``<stack>.yaml``, ``<stack>.yml`` and ``<stack>.template`` in the tree. YAML goes through the
project's bounded safe loader (``standards.limits``: nesting depth, alias expansion, recursive
aliases), with CloudFormation's short-form tags read as their long form: ``!Ref X`` ->
``{"Ref": "X"}``, ``!GetAtt A.Arn`` -> ``{"Fn::GetAtt": ["A", "Arn"]}``, ``!Sub``, ``!Join``,
``!If``, ... -> ``{"Fn::<Name>": ...}``, ``!Condition C`` -> ``{"Condition": "C"}``. Any other
``!tag`` is a problem with its line, never executed. Dates stay text
(``AWSTemplateFormatVersion: 2010-09-09``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drift_pipeline.core.standards.limits import (
    InputRejected,
    _BoundedLoader,
    size_problem,
    yaml_error_line,
    yaml_error_text,
)

MAX_TEMPLATE_BYTES = 1024 * 1024  # CloudFormation's own limit for a template body is 1 MB
MAX_TEMPLATE_NODES = 200_000  # YAML values after alias expansion (a 1 MB template has fewer)
EXTENSIONS = (".json", ".yaml", ".yml", ".template")
_FN = [
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
]

Problem = tuple[int | None, str | None, str]  # line, key, message


class _CfnLoader(_BoundedLoader):
    max_nodes = MAX_TEMPLATE_NODES


def _intrinsic(key: str) -> Any:
    def construct(loader: _CfnLoader, node: Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has no other node kinds
            value = None
        if key == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {key: value}

    return construct


def _intrinsic_text(loader: _CfnLoader, node: Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]  # timestamps are scalars


for _name in _FN:
    _CfnLoader.add_constructor(f"!{_name}", _intrinsic(f"Fn::{_name}"))
_CfnLoader.add_constructor("!Ref", _intrinsic("Ref"))
_CfnLoader.add_constructor("!Condition", _intrinsic("Condition"))
_CfnLoader.add_constructor("tag:yaml.org,2002:timestamp", _intrinsic_text)


def load_cfn_yaml(text: str) -> Any:
    """One YAML template document (raises ``InputRejected`` on a bound, ``yaml.YAMLError`` on syntax)."""
    loader = _CfnLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise InputRejected("nested too deeply; not parsed") from None
    finally:
        loader.dispose()


def parse_template(file: str, text: str) -> tuple[Mapping[str, Any] | None, Problem | None]:
    """The template in ``text`` (JSON for ``.json``, else YAML), or None and one problem."""
    too_big = size_problem(text, MAX_TEMPLATE_BYTES)
    if too_big:
        return None, (None, None, too_big)
    if file.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return None, (getattr(exc, "lineno", None), None, f"CloudFormation template is not valid JSON: {exc}")
    else:
        try:
            data = load_cfn_yaml(text)
        except InputRejected as exc:
            return None, (exc.line, None, f"CloudFormation template: {exc}")
        except yaml.YAMLError as exc:
            return None, (
                yaml_error_line(exc),
                None,
                f"CloudFormation template is not valid YAML: {yaml_error_text(exc)}",
            )
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        return None, (1, "Resources", "expected a template object with Resources")
    return data, None
