"""The infra scan's rows: what ``aws_inventory`` and ``infra_observed`` store, and the records read back.

``observed_row`` keeps the day's observation for ``infra_drift`` (without stack templates and
parameter values, tags and attributes masked); ``stored_observed`` / ``stored_repos`` rebuild the
records the rules judge; ``inventory_rows`` is one row per resource, stack and read failure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import boto3

from drift_pipeline.core.redaction import mask_json, mask_secrets
from drift_pipeline.core.rules.infra.records import (
    TAG_CFN_STACK,
    AccountInventory,
    BackupObservation,
    InfraObserved,
    RepoInfra,
)
from drift_pipeline.scans import process_codec

PROJECT_COMPARISON = "project comparison"
METHODS = {
    "project": PROJECT_COMPARISON,
    "cloudformation": "CloudFormation drift detection",
    "cloudformation+project": "CloudFormation drift detection (some stacks by project comparison)",
}


@dataclass
class World:
    """Every account's inventory of one scan instant, and the sessions that read them (for backups)."""

    observed: InfraObserved
    envs: Mapping[str, str]  # account id -> env name
    sessions: dict[str, boto3.Session] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        return sorted({METHODS.get(inv.drift_method, inv.drift_method) for inv in self.observed.accounts.values()})

    def methods_by_account(self) -> dict[str, str]:
        """``"prod (333333333333)" -> method``: which comparison judged each reached account."""
        return {
            f"{self.envs.get(account, '?')} ({account})": METHODS.get(inv.drift_method, inv.drift_method)
            for account, inv in sorted(self.observed.accounts.items())
            if inv.reached
        }


def _storable(observed: InfraObserved) -> InfraObserved:
    """The observation as stored for ``infra_drift``: without stack templates and parameter values
    (the rules read neither; either may hold a literal secret), tags and attributes masked."""
    accounts = {
        account: replace(
            inv,
            resources=tuple(
                replace(r, tags=mask_json(dict(r.tags)), attributes=mask_json(dict(r.attributes)))
                for r in inv.resources
            ),
            stacks=tuple(
                replace(s, template=None, parameters={k: "" for k in s.parameters}, tags=mask_json(dict(s.tags)))
                for s in inv.stacks
            ),
        )
        for account, inv in observed.accounts.items()
    }
    return InfraObserved(observed.as_of, accounts)


def observed_row(world: World) -> dict[str, Any]:
    return {
        "observed": process_codec.encode(_storable(world.observed)),
        "backups": process_codec.encode(list(world.observed.backups.values())),
        "envs": dict(world.envs),
        "drift_methods": world.methods,
    }


def stored_observed(row: Mapping[str, Any]) -> InfraObserved:
    """The :class:`InfraObserved` that :func:`observed_row` stored."""
    observed = process_codec.decode(InfraObserved, row["observed"])
    backups = [process_codec.decode(BackupObservation, b) for b in json.loads(row["backups"] or "[]")]
    return InfraObserved(observed.as_of, observed.accounts, {(b.bucket, b.prefix): b for b in backups})


def stored_repos(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, RepoInfra], list[dict[str, Any]]]:
    """Each read repo's declared infra and problems, from its ``infra_scan_status`` row."""
    repos: dict[str, RepoInfra] = {}
    problems: list[dict[str, Any]] = []
    for row in rows:
        if row["mode"] != "read" and not row.get("problems"):
            continue
        for data in json.loads(row.get("expected") or "[]"):
            repo = process_codec.decode(RepoInfra, data)
            repos[repo.repo if repo.project == "." else f"{repo.repo}:{repo.project}"] = repo
        problems += [{"repo": row["repo"], **p} for p in _json_list(row.get("problems"))]
    return repos, problems


def _json_list(value: Any) -> list[Any]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


def inventory_rows(world: World) -> list[dict[str, Any]]:
    """One row per resource and stack of every account, and one per read failure (env var names only)."""
    rows: list[dict[str, Any]] = []
    for account, inv in sorted(world.observed.accounts.items()):
        env = world.envs.get(account)
        rows += _account_rows(account, env, inv)
    return rows


def _account_rows(account: str, env: str | None, inv: AccountInventory) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in inv.resources:
        rows.append(
            {
                "account": account,
                "env": env,
                "region": r.region,
                "arn": r.arn,
                "type": r.type,
                "physical_id": r.physical_id,
                "stack": r.tags.get(TAG_CFN_STACK),
                "tags": mask_json(dict(r.tags)),
                "attributes": mask_json(dict(r.attributes)),
            }
        )
    for s in inv.stacks:
        rows.append(
            {
                "account": account,
                "env": env,
                "region": s.region,
                "arn": s.stack_id,
                "type": "AWS::CloudFormation::Stack",
                "physical_id": s.name,
                "stack": s.name,
                "tags": mask_json(dict(s.tags)),
                "attributes": {
                    "status": s.status,
                    "resources": [[x.logical_id, x.type, x.physical_id] for x in s.resources],
                    "parameter_names": sorted(s.parameters),
                },
            }
        )
    for f in inv.failures:
        rows.append(
            {
                "account": account,
                "env": env,
                "region": f.region,
                "arn": f"read-failure:{f.service}",
                "type": None,
                "read_failure": f"{f.code}: {mask_secrets(f.reason)}",
            }
        )
    return rows
