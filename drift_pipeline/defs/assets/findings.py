"""All drift of a scan date in one table: the union of every rule family's findings table."""

from collections import Counter
from datetime import date
from typing import Any

import dagster as dg

from drift_pipeline.defs.assets.families import FAMILY_ASSETS
from drift_pipeline.defs.assets.inventory import inventory_orgs
from drift_pipeline.defs.assets.metadata import check_every_day, contract_faults, findings_metadata, record_day
from drift_pipeline.defs.assets.partitions import WRITER, partition_days
from drift_pipeline.defs.resources import DriftStoreResource


@dg.asset(
    group_name="findings",
    deps=[f.findings for f in FAMILY_ASSETS],
    **WRITER,
    description="Every finding of the scan date across domains (code, process, infra), with stable "
    "fingerprints: what issues are filed from and what trend queries read.",
    check_specs=[
        dg.AssetCheckSpec(
            "findings_conform",
            asset="drift_findings",
            description="On every day of the run, every row follows the findings "
            "contract (known rule, category, severity, fingerprint).",
        ),
        dg.AssetCheckSpec(
            "fingerprints_unique",
            asset="drift_findings",
            description="On no day of the run does a fingerprint appear twice.",
        ),
    ],
)
def drift_findings(context: dg.AssetExecutionContext, store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    bad: dict[date, list[dict[str, Any]]] = {}
    dupes: dict[date, list[dict[str, Any]]] = {}
    with store.open() as db:
        for day in days:
            rows: list[dict[str, Any]] = []
            for org in inventory_orgs(db, day, context):
                org_rows = [r for f in FAMILY_ASSETS for r in db.day_rows(f.family.findings_table, day, org)]
                db.replace_day(day, org, {"drift_findings": org_rows})
                rows += org_rows
            bad[day] = contract_faults(rows)
            seen = Counter((r["org"], r["fingerprint"]) for r in rows)
            dupes[day] = [{"org": org, "fingerprint": fp, "rows": n} for (org, fp), n in sorted(seen.items()) if n > 1]
            record_day(context, day, findings_metadata(rows))
    return dg.MaterializeResult(
        check_results=[
            check_every_day("findings_conform", days, bad),
            check_every_day("fingerprints_unique", days, dupes),
        ]
    )
