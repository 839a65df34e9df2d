"""The strict schema of check.toml / standards.toml, its validation and its defaults.

The schema is the check-my-toolkit one (every table strict: an unknown key anywhere is an error),
plus the ``[metadata]`` table of the standards.toml successor, plus the keys our own vision uses:
``[process.branches] protection / required_reviews / require_status_checks``,
``[process.commits] conventional``, ``[process.ci] required_workflows`` and
``[infra] path / stacks / [infra.accounts] dev|staging|prod / [infra.deploy] dev|staging|prod``.

Removed keys (ruff ``format``, ``code.formatting.prettier``, ``code.tests``, ``infra.tagging``)
are simply not in the schema, so they are reported as unknown.

The kinds of value are in :mod:`~drift_pipeline.core.standards.specs`; the two large sections in
:mod:`~drift_pipeline.core.standards.schema_code` and :mod:`~drift_pipeline.core.standards.schema_process`;
this module holds ``[infra]``, the root table and the two entry points.

:func:`validate` never raises: it walks the data and returns ``(key path, message)`` pairs, the
key path being a tuple of table keys and array indexes. :func:`apply_defaults` returns a copy
with defaults filled in (every tool ``enabled = false`` unless set; a present eslint or ruff
table defaults to ``enabled = true``); it tolerates invalid data (wrong types are left alone).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from drift_pipeline.core.standards.infra_deploy import deploy_ref_problem
from drift_pipeline.core.standards.schema_code import CODE
from drift_pipeline.core.standards.schema_process import PROCESS
from drift_pipeline.core.standards.specs import (
    GLOBS,
    STRS,
    Bool,
    KeyPath,
    Report,
    Spec,
    Str,
    Table,
    type_name,
)

ACCOUNT_ID = Str(r"[0-9]{12}", expected="a 12-digit AWS account id (string)")


class DeployRef(Spec):
    """An ``[infra.deploy]`` value: a tag glob (``"v*"``), ``"branch"`` or ``"branch:<name>"``."""

    expected = 'a tag glob such as "v*-rc*", "branch" or "branch:<name>"'

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        why = deploy_ref_problem(value)
        if why is not None:
            out.append((path, f"{why}, found {type_name(value)}"))


DEPLOY_REF = DeployRef()

INFRA = Table(
    fields={
        "enabled": Bool(),
        "manifest": Str(),
        "path": Str(),
        "stacks": STRS,  # vision keys
        "accounts": Table(fields={"dev": ACCOUNT_ID, "staging": ACCOUNT_ID, "prod": ACCOUNT_ID}),
        "deploy": Table(fields={"dev": DEPLOY_REF, "staging": DEPLOY_REF, "prod": DEPLOY_REF}),
    },
    defaults={"enabled": False, "manifest": "infra-manifest.json"},
    tool=True,
)

SCHEMA = Table(
    fields={
        "extends": Table(fields={"registry": Str(nonempty=True), "rulesets": STRS}, required=("registry", "rulesets")),
        "code": CODE,
        "process": PROCESS,
        "infra": INFRA,
        "mcp": Table(fields={"standards": Table(fields={"source": Str(nonempty=True)})}),
        "monorepo": Table(fields={"exclude": GLOBS}),
        # Values are checked by the metadata module (so a bad tier is reported once, as a metadata problem).
        "metadata": Table(
            fields={"tier": Str(), "status": Str(), "team": Str(), "project": Str(), "organisation": Str()}
        ),
    }
)


def validate(data: Mapping[str, Any]) -> Report:
    """Every schema problem in ``data`` as ``(key path, message)``; never raises."""
    out: Report = []
    SCHEMA.check(dict(data), (), out)
    return out


def _fill(spec: Table, value: dict[str, Any]) -> None:
    for key, default in spec.defaults.items():
        value.setdefault(key, copy.deepcopy(default))
    for key, child in spec.fields.items():
        if not isinstance(child, Table):
            continue
        if key in value:
            if isinstance(value[key], dict):
                _fill(child, value[key])
        elif _materialises(child):
            fresh: dict[str, Any] = {}
            _fill(child, fresh)
            if child.tool:
                fresh["enabled"] = False
            value[key] = fresh


def _materialises(spec: Table) -> bool:
    return spec.tool or any(isinstance(c, Table) and _materialises(c) for c in spec.fields.values())


def apply_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with the schema defaults filled in."""
    out = copy.deepcopy(dict(data))
    _fill(SCHEMA, out)
    return out
