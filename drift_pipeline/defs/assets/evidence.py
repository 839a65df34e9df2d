"""``change_evidence``: each day's changes on the default branches and how they were reviewed.

Group ``evidence``, of its own: it is read by auditors, not by the drift issue flow. It reads the store
only (``drift_pipeline.evidence``, the same code as ``drift evidence``), writes nothing, and gives each
day of the run its own numbers (changes, reviewed, exceptions, the share reviewed, whether settings
were observed), so the UI plots them across partitions and previews the day's exceptions. The full
report of any period is ``drift evidence --from D --to D``.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from drift_pipeline.defs.assets.findings import drift_findings
from drift_pipeline.defs.assets.inventory import inventory_orgs
from drift_pipeline.defs.assets.metadata import md_table, record_day
from drift_pipeline.defs.assets.partitions import WRITER, partition_days
from drift_pipeline.defs.assets.process import ACTIVITY
from drift_pipeline.defs.resources import DriftStoreResource
from drift_pipeline.evidence import Report, build, collect, totals
from drift_pipeline.evidence.report import change_id


def evidence_metadata(reports: Sequence[Report]) -> dict[str, dg.MetadataValue]:
    """One day's numbers over its orgs' reports (the same keys every day, 0 when none)."""
    t = {k: sum(totals(r)[k] for r in reports) for k in ("changes", "reviewed", "exceptions", "bypasses")}
    t |= {k: sum(totals(r)[k] for r in reports) for k in ("direct_pushes", "under_reviewed")}
    exceptions = [(r.org, c) for r in reports for c in r.exceptions]
    observed = sum(bool(r.settings_observed_days) for r in reports)
    return {
        "dagster/row_count": dg.MetadataValue.int(t["changes"]),
        **{k: dg.MetadataValue.int(v) for k, v in t.items()},
        "share_reviewed": dg.MetadataValue.float(t["reviewed"] / t["changes"] if t["changes"] else 1.0),
        "settings_observed": dg.MetadataValue.text(
            f"{observed} of {len(reports)} org(s)" if reports else "no org scanned this day"
        ),
        "exceptions_preview": md_table(
            ("org", "change", "tier", "author", "approvals", "required", "verdict"),
            [(org, change_id(c), c.tier, c.author, c.approvals, c.required, c.verdict) for org, c in exceptions],
        ),
    }


@dg.asset(
    group_name="evidence",
    deps=[ACTIVITY, drift_findings],
    **WRITER,  # a reader, in the writers' pool so that it never waits on a write of the same run
    description="Change-management evidence of the scan date: every change that reached a default branch "
    "(a merged pull request, or a direct push), its approvals at merge against the approvals the repo's "
    "config required, and its verdict (reviewed, under-reviewed, direct push, bypass by ACTOR). Read from "
    "the store only; the report of a period: drift evidence --org ORG --from D --to D --html FILE.",
)
def change_evidence(context: dg.AssetExecutionContext, store: DriftStoreResource) -> dg.MaterializeResult:
    days = partition_days(context)
    counts: dict[str, Any] = {"changes": 0, "exceptions": 0}
    with store.open() as db:
        for day in days:
            reports = [build(collect(db.rows, org, day, day)) for org in inventory_orgs(db, day, context)]
            meta = evidence_metadata(reports)
            record_day(context, day, meta)
            counts["changes"] += sum(len(r.changes) for r in reports)
            counts["exceptions"] += sum(len(r.exceptions) for r in reports)
    context.log.info(
        f"change evidence of {len(days)} day(s): {counts['changes']} changes, {counts['exceptions']} exceptions"
    )
    return dg.MaterializeResult()
