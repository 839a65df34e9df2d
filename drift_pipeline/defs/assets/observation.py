"""What the observation assets share: one scan per org and day, stored with its coverage.

An observation asset (``process_observations``, ``infra_observations``) reads its resources, runs
one scan per org and day, writes each scan's rows together with its coverage row, attaches each
day's numbers to every asset it fills, and ends with one result per asset and check. Its drift
asset later asks the coverage whether the day was observed (:func:`day_observed`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import dagster as dg

from drift_pipeline.scans.perrepo import Progress, progress_logger, source_headroom
from drift_pipeline.store import DriftStore


class Scan(Protocol):
    """One org and day of an observation scan (``ProcessScan``, ``InfraScan``)."""

    org: str
    day: date
    tables: dict[str, list[dict[str, Any]]]

    @property
    def errors(self) -> list[dict[str, Any]]: ...

    def coverage(self) -> dict[str, Any]: ...


def org_progress(context: dg.AssetExecutionContext, source: Any, org: str, day: date) -> Progress:
    """The progress log of one org's scan of one day, with the source's rate-limit headroom."""
    return progress_logger(context.log.info, f"{org} {day}", source_headroom(source))


def store_scan(db: DriftStore, scan: Scan) -> None:
    """The day's rows of one org and its coverage row, in one write unit (other domains' coverage kept)."""
    db.replace_day(scan.day, scan.org, dict(scan.tables), coverage=scan.coverage())


def failures(scan: Scan) -> list[dict[str, Any]]:
    """The repos the scan could not read, each naming its org: the rows at fault of a check."""
    return [{"org": scan.org, **e} for e in scan.errors]


def coverage_metadata(scans: Sequence[Scan]) -> dict[str, dg.MetadataValue]:
    """Whether every org of the day was observed (not when no org was scanned), else the first reason."""
    coverage = [s.coverage() for s in scans]
    reasons = sorted({c["reason"] for c in coverage if c["reason"]})
    return {
        "observed": dg.MetadataValue.bool(all(c["observed"] for c in coverage) if coverage else False),
        "not_observed_reason": dg.MetadataValue.text(reasons[0] if reasons else ""),
    }


def record_assets(
    context: dg.AssetExecutionContext, day: date, metadata: Mapping[dg.AssetKey, Mapping[str, Any]]
) -> None:
    """Attach each asset's ``metadata`` to its materialisation of ``day`` alone (a multi-asset's ``record_day``)."""
    for key, meta in metadata.items():
        context.add_asset_metadata(dict(meta), asset_key=key, partition_key=day.isoformat())


def results(
    keys: Sequence[dg.AssetKey], checks: Sequence[tuple[dg.AssetKey, dg.AssetCheckResult]]
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """What a multi-asset yields at the end: one materialisation per asset, then each check on its asset."""
    for key in keys:
        yield dg.MaterializeResult(asset_key=key)
    for key, check in checks:
        yield check._replace(asset_key=key)


def day_observed(db: DriftStore, day: date, domain: str) -> bool:
    """Whether the coverage says every org stored for ``day`` was observed in ``domain``."""
    covered = db.rows(
        "SELECT bool_and(observed) AS observed FROM coverage WHERE scan_date = ? AND domain = ?", [day, domain]
    )
    return bool(covered and covered[0]["observed"])
