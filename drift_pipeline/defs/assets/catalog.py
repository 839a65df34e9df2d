"""Every asset of the code location, in dependency order, derived from the list of rule families.

The inventory (shared by every family), each family's assets (``assets.families``), then the
union of findings and the change evidence read from it. ``definitions.py`` and the daily job read this one tuple.

Owners are applied here, once, to every asset (each asset module sets its description and group;
who answers for the data is a deployment's choice, not the asset's): ``DRIFT_ASSET_OWNERS`` gives
every asset's owners, ``DRIFT_ASSET_OWNERS_<GROUP>`` (``INVENTORY``, ``CODE``, ``PROCESS``,
``INFRA``, ``FINDINGS``, ``EVIDENCE``) those of one group; each a comma-separated list of ``team:NAME`` or email
addresses, default :data:`DEFAULT_OWNERS`. A bad value fails the code location's load with a
message naming the variable and what it expects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

import dagster as dg

from drift_pipeline.core.errors import UsageError
from drift_pipeline.defs.assets.evidence import change_evidence
from drift_pipeline.defs.assets.families import FAMILY_ASSETS
from drift_pipeline.defs.assets.findings import drift_findings
from drift_pipeline.defs.assets.inventory import repo_inventory

OWNERS_VAR = "DRIFT_ASSET_OWNERS"
DEFAULT_OWNERS = ("team:platform",)
# Dagster's own rule for an owner: a team (``team:`` and a name of word characters) or an email.
_OWNER = re.compile(r"team:[\w-]+|[^@\s]+@[^@\s]+\.[^@\s]+")


def _owners(variable: str, raw: str) -> tuple[str, ...]:
    owners = tuple(o.strip() for o in raw.split(",") if o.strip())
    bad = [o for o in owners if not _OWNER.fullmatch(o)]
    if bad or not owners:
        raise UsageError(
            f"environment variable {variable}={raw!r}: expected a comma-separated list of owners, each "
            f"team:NAME (letters, digits, '_' or '-') or an email address; not owners: {bad or [raw]}"
        )
    return owners


def owners_by_group(groups: Sequence[str], env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The owners of each asset group, from ``env`` (see the module docstring)."""
    default = _owners(OWNERS_VAR, env[OWNERS_VAR]) if env.get(OWNERS_VAR, "").strip() else DEFAULT_OWNERS
    known = {f"{OWNERS_VAR}_{g.upper()}": g for g in groups}
    unknown = sorted(k for k in env if k.startswith(f"{OWNERS_VAR}_") and k not in known)
    if unknown:
        raise UsageError(
            f"environment variable {unknown[0]}: no asset group of that name; the groups are "
            + ", ".join(f"{OWNERS_VAR}_{g.upper()}" for g in groups)
        )
    return {g: _owners(k, env[k]) if env.get(k, "").strip() else default for k, g in known.items()}


def _group(spec: dg.AssetSpec) -> str:
    if not spec.group_name:
        raise ValueError(f"asset {spec.key.to_user_string()} has no group: set group_name where it is defined")
    return spec.group_name


def with_owners(
    assets: Sequence[dg.AssetsDefinition], env: Mapping[str, str] = os.environ
) -> tuple[dg.AssetsDefinition, ...]:
    """``assets`` with the owners of their groups (every spec of a multi-asset by its own group)."""
    groups = sorted({_group(spec) for a in assets for spec in a.specs})
    owners = owners_by_group(groups, env)
    return tuple(
        a.map_asset_specs(lambda spec: spec.replace_attributes(owners=list(owners[_group(spec)]))) for a in assets
    )


_FAMILY_KEYS = {f.family.category: {k for a in f.assets for k in a.keys} for f in FAMILY_ASSETS}

ASSETS: tuple[dg.AssetsDefinition, ...] = with_owners(
    (repo_inventory, *(a for f in FAMILY_ASSETS for a in f.assets), drift_findings, change_evidence)
)


def assets_of(*categories: str) -> tuple[dg.AssetsDefinition, ...]:
    """The inventory, the named families' assets and the union: one domain's slice of the graph."""
    unknown = set(categories) - set(_FAMILY_KEYS)
    if unknown:
        raise ValueError(f"no rule family {sorted(unknown)}; families: {list(_FAMILY_KEYS)}")
    chosen = set().union(*(_FAMILY_KEYS[c] for c in categories))
    shared = {repo_inventory.key, drift_findings.key}
    return tuple(a for a in ASSETS if a.keys & (chosen | shared))
