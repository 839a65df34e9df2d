"""A backfill of a range is one run: every day gets its own metadata, and every check covers every day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from drift_pipeline.core.rules.base import make_finding
from drift_pipeline.core.rules.code import FAMILY
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.defs.assets.code import code_drift
from drift_pipeline.defs.assets.findings import drift_findings
from drift_pipeline.defs.resources import DriftStoreResource
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.pipeline.orgfixture import DAY0, DAY1, DAY4

DAYS = [DAY0 + timedelta(days=i) for i in range((DAY4 - DAY0).days + 1)]
ASSETS = ("repo_inventory", "config_snapshots", "code_drift", "drift_findings")  # each writes its own table


def test_each_day_of_a_range_run_records_its_own_counts(pipeline, sandbox):
    assert pipeline.run(DAY0, DAY4).success
    for asset in ASSETS:
        stored = {d: pipeline.rows(f"SELECT count(*) AS n FROM {asset} WHERE scan_date = ?", [d])[0]["n"] for d in DAYS}
        recorded = {d: pipeline.latest_metadata(asset, d)["dagster/row_count"] for d in DAYS}
        assert recorded == stored, asset
    findings = [pipeline.latest_metadata("code_drift", d)["dagster/row_count"] for d in DAYS]
    assert len(set(findings)) > 1, findings  # the days differ, and so do their numbers
    assert len({pipeline.latest_metadata("config_snapshots", d)["dagster/row_count"] for d in DAYS}) > 1
    for day in DAYS:
        by_rule = Counter(r["rule"] for r in pipeline.rows("SELECT rule FROM code_drift WHERE scan_date = ?", [day]))
        assert pipeline.latest_metadata("code_drift", day)["findings_by_rule"] == dict(by_rule), day
        assert "archived" in pipeline.latest_metadata("repo_inventory", day)["history_note"]
        # the union's numbers per category and severity, each day its own (the UI plots them)
        union = pipeline.latest_metadata("drift_findings", day)
        rows = pipeline.rows("SELECT category, severity FROM drift_findings WHERE scan_date = ?", [day])
        for category in ("code", "process", "infra"):
            assert union[f"{category}_findings"] == sum(r["category"] == category for r in rows), (day, category)
        for severity, key in (("error", "errors"), ("warning", "warnings"), ("info", "infos")):
            assert union[key] == sum(r["severity"] == severity for r in rows), (day, severity)
    # each day's requests are its own; together they are every request the run made
    requests = sum(
        pipeline.latest_metadata(a, d)["api_requests"] for a in ("repo_inventory", "config_snapshots") for d in DAYS
    )
    assert requests == sandbox.request_counts()["total"]


def test_a_contract_violation_on_an_earlier_day_fails_the_check_naming_that_day(pipeline):
    assert pipeline.run(DAY0, DAY4, selection=["repo_inventory", "config_snapshots", "code_drift"]).success
    # a stray writer (an older version, a hand-made fix) left a row with a rule nobody declares
    planted = make_finding(
        FAMILY.spec("check_toml_changed"),
        scan_date=DAY1,
        org="acme",
        repo="web",
        project=".",
        message="standards config check.toml changed",
        subject="check.toml@feed",
    ).row()
    planted["rule"] = "check_toml_rewritten"
    assert planted["rule"] not in RULES
    with DriftStore(pipeline.db_path) as store:
        store.replace_day(DAY1, "acme", {"code_drift": [planted]})

    result = pipeline.run(DAY0, DAY4, selection=[drift_findings.key], raise_on_error=False)
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "findings_conform"]
    assert check.passed is False
    assert check.metadata["failing_days"].value == [DAY1.isoformat()]
    [fault] = check.metadata["at_fault"].value[DAY1.isoformat()]
    assert (fault["repo"], fault["rule"], fault["fingerprint"]) == (
        "web",
        "check_toml_rewritten",
        planted["fingerprint"],
    )
    assert fault["violations"] == ["unknown rule id 'check_toml_rewritten'"]
    assert DAY1.isoformat() in check.description
    [unique] = [c for c in result.get_asset_check_evaluations() if c.check_name == "fingerprints_unique"]
    assert unique.passed is True and unique.metadata["days_checked"].value == len(DAYS)


def test_findings_assets_run_with_the_store_alone(pipeline):
    assert pipeline.run(DAY0, DAY4, selection=["repo_inventory", "config_snapshots"]).success
    store_only = {"store": DriftStoreResource(database=str(pipeline.db_path))}
    result = pipeline.run(DAY0, DAY4, assets=[code_drift, drift_findings], resources=store_only)
    assert result.success
    assert pipeline.findings(DAY4, "drift_findings") == pipeline.findings(DAY4) != []
