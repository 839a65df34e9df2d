"""Each rule family's assets, found from the one list of families (``drift_pipeline.core.rules.FAMILIES``).

How a family's assets module is found, without registration or package scanning: by its category.
The family of category ``X`` keeps its Dagster wiring in ``drift_pipeline.defs.assets.X``, a module that
defines two names:

- ``FINDINGS``: the asset writing the family's findings table; its key is ``X_drift``
  (``RuleFamily.findings_table``), the table ``drift_findings`` unions;
- ``ASSETS``: every asset of the family, ``FINDINGS`` included, upstream first.

This module imports ``drift_pipeline.defs.assets.<category>`` for each family, in the order of
``FAMILIES``, once, and checks the two names; a missing module or name fails at load with a
message naming the module and what it must define. Nothing registers itself on import.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import dagster as dg

from drift_pipeline.core.rules import FAMILIES
from drift_pipeline.core.rules.base import RuleFamily


@dataclass(frozen=True)
class FamilyAssets:
    family: RuleFamily
    findings: dg.AssetsDefinition
    assets: tuple[dg.AssetsDefinition, ...]


def family_assets(family: RuleFamily) -> FamilyAssets:
    """The assets module of ``family``: ``drift_pipeline.defs.assets.<category>``, checked."""
    name = f"{__package__}.{family.category}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ImportError(
            f"rule family {family.category!r} has no assets module: create {name} "
            f"defining FINDINGS and ASSETS (see {__name__})"
        ) from exc
    findings, assets = getattr(module, "FINDINGS", None), getattr(module, "ASSETS", None)
    if not isinstance(findings, dg.AssetsDefinition) or not isinstance(assets, tuple):
        raise ImportError(f"{name} must define FINDINGS (the findings asset) and ASSETS (a tuple of assets)")
    if findings.key.to_user_string() != family.findings_table or findings not in assets:
        raise ImportError(f"{name}: FINDINGS must be the asset {family.findings_table!r} and be listed in ASSETS")
    return FamilyAssets(family, findings, assets)


FAMILY_ASSETS: tuple[FamilyAssets, ...] = tuple(family_assets(f) for f in FAMILIES)
