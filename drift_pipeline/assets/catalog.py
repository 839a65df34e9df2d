"""Every asset of the code location, in dependency order, derived from the list of rule families.

The inventory (shared by every family), each family's assets (``assets.families``), then the
union of findings. ``definitions.py`` and the daily job read this one tuple.
"""

from __future__ import annotations

import dagster as dg

from drift_pipeline.assets.families import FAMILY_ASSETS
from drift_pipeline.assets.findings import drift_findings
from drift_pipeline.assets.inventory import repo_inventory

ASSETS: tuple[dg.AssetsDefinition, ...] = (
    repo_inventory,
    *(a for f in FAMILY_ASSETS for a in f.assets),
    drift_findings,
)


def assets_of(*categories: str) -> tuple[dg.AssetsDefinition, ...]:
    """The inventory, the named families' assets and the union: one domain's slice of the graph."""
    unknown = set(categories) - {f.family.category for f in FAMILY_ASSETS}
    if unknown:
        raise ValueError(f"no rule family {sorted(unknown)}; families: {[f.family.category for f in FAMILY_ASSETS]}")
    chosen = [a for f in FAMILY_ASSETS if f.family.category in categories for a in f.assets]
    return (repo_inventory, *chosen, drift_findings)
