"""The Dagster code location: one ``Definitions`` assembled from explicit lists."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions(
    assets=[],
)
