"""All drift of a scan date in one table: the union of the domains' findings."""


import dagster as dg

from drift_pipeline.assets.code import WRITER, code_drift
from drift_pipeline.assets.metadata import findings_metadata
from drift_pipeline.assets.partitions import partition_days
from drift_pipeline.resources import DriftStoreResource
from drift_pipeline.rules.findings import contract_violations

# Each domain's findings table; a new domain adds its asset and table here.
DOMAIN_FINDINGS = {"code_drift": code_drift}


@dg.asset(
    group_name="findings", deps=list(DOMAIN_FINDINGS.values()), **WRITER,
    description="Every finding of the scan date across domains (code, process, infra), with stable "
                "fingerprints: what issues are filed from and what trend queries read.",
    check_specs=[dg.AssetCheckSpec("findings_conform", asset="drift_findings",
                                   description="Every row follows the findings contract "
                                               "(known rule, category, severity, fingerprint)."),
                 dg.AssetCheckSpec("fingerprints_unique", asset="drift_findings",
                                   description="No fingerprint appears twice in one day.")],
)
def drift_findings(context: dg.AssetExecutionContext, store: DriftStoreResource) -> dg.MaterializeResult:
    latest: list[dict] = []
    days = partition_days(context)
    with store.open() as db:
        for day in days:
            orgs = [r["org"] for r in db.rows(
                "SELECT DISTINCT org FROM repo_inventory WHERE scan_date = ?", [day])]
            for org in orgs:
                rows = [r for table in DOMAIN_FINDINGS for r in db.day_rows(table, day, org)]
                db.replace_day(day, org, {"drift_findings": rows})
                if day == days[-1]:
                    latest += rows
    bad = [(r["fingerprint"], v) for r in latest for v in contract_violations(r)]
    seen: dict[tuple, int] = {}
    for r in latest:
        key = (r["org"], r["fingerprint"])
        seen[key] = seen.get(key, 0) + 1
    dupes = [k[1] for k, n in seen.items() if n > 1]
    return dg.MaterializeResult(
        metadata=findings_metadata(latest),
        check_results=[
            dg.AssetCheckResult(check_name="findings_conform", passed=not bad,
                                metadata={"violations": dg.MetadataValue.json(bad[:50])}),
            dg.AssetCheckResult(check_name="fingerprints_unique", passed=not dupes,
                                metadata={"duplicates": dg.MetadataValue.json(dupes[:50])}),
        ],
    )
