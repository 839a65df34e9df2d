"""The sensor over real drift_findings materialisations in an ephemeral instance (no mocks)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from drift_pipeline.defs.assets.findings import drift_findings
from drift_pipeline.defs.issues import drift_issue_sensor
from drift_pipeline.defs.resources import DriftStoreResource
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.issues.conftest import DAY1, DAY2, code_finding, run_job


def materialise(db: Path, instance: dg.DagsterInstance, day: date, repos: list[str]) -> None:
    """drift_findings of ``day``, computed by the real asset from seeded code_drift rows."""
    with DriftStore(db) as store:
        store.replace_day(
            day,
            "acme",
            {
                "repo_inventory": [{"repo": r, "in_scope": True} for r in repos],
                "code_drift": [code_finding(day, r) for r in repos],
            },
        )
    result = dg.materialize(
        [drift_findings],
        partition_key=day.isoformat(),
        resources={"store": DriftStoreResource(database=str(db))},
        instance=instance,
    )
    assert result.success


def evaluate(instance: dg.DagsterInstance, db: Path, cursor: str | None = None) -> dg.SensorResult:
    # The store resource nests dagster-aws's S3Resource (for a lake): Dagster opens such resources
    # only inside the context manager, as the daemon does.
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": DriftStoreResource(database=str(db))}
    ) as context:
        result = drift_issue_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_one_run_per_new_partition_and_none_for_a_handled_one(sandbox, tmp_path):
    db = tmp_path / "drift.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    materialise(db, instance, DAY1, ["svc"])
    materialise(db, instance, DAY2, ["svc", "web"])

    first = evaluate(instance, db)
    requests = first.run_requests or []
    assert [r.partition_key for r in requests] == ["2026-03-05", "2026-03-06"]
    assert all(r.run_key and r.run_key.startswith(f"issues:{r.partition_key}:") for r in requests)
    assert requests[0].run_key != requests[1].run_key

    assert not evaluate(instance, db, first.cursor).run_requests  # nothing new since the cursor

    # day one is filed by a real run carrying its run key
    run = run_job(sandbox, db, DAY1, instance=instance, dry_run=True)
    assert run.success
    instance.add_run_tags(run.run_id, {"dagster/run_key": requests[0].run_key or ""})
    again = evaluate(instance, db)  # cursor lost: both materialisations are seen again
    assert [r.partition_key for r in again.run_requests or []] == ["2026-03-06"]

    materialise(db, instance, DAY1, ["svc"])  # same findings: same version, already handled
    assert not evaluate(instance, db, again.cursor).run_requests

    materialise(db, instance, DAY1, ["svc", "web"])  # a new finding: a new version, one run
    [new] = evaluate(instance, db, again.cursor).run_requests or []
    assert new.partition_key == "2026-03-05" and new.run_key != requests[0].run_key
