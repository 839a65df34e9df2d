"""The processes of ``test_filing_race`` (no tests here), each run as ``python -m`` in its own interpreter.

``hold STORE KEY``: take the filing lock of ``KEY`` on ``STORE`` through :class:`FilingLocks`, say
``held`` on stdout and keep it until killed (a filer that died inside its critical section).
``job STORE DAY API_URL BARRIER N``: wait until ``N`` processes have reached ``BARRIER`` (a directory),
then run the ``file_drift_issues`` job of ``DAY`` on ``STORE`` against the sandbox; print the action
counts as JSON. ``STORE`` is JSON: ``{"db": path}`` or ``{"catalog": ..., "data": ...}`` (a DuckLake).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from drift_pipeline.store import DriftStore

TIMEOUT = 120


def open_store(spec: dict[str, str]) -> DriftStore:
    if "db" in spec:
        return DriftStore(spec["db"])
    from drift_pipeline.store.lake import LakeConfig, LakeStore

    return LakeStore(LakeConfig.parse(spec["catalog"], spec["data"]))


def store_resource(spec: dict[str, str]) -> Any:
    from drift_pipeline.defs.resources import DriftStoreResource

    if "db" in spec:
        return DriftStoreResource(database=spec["db"])
    return DriftStoreResource(backend="ducklake", lake_catalog=spec["catalog"], lake_data=spec["data"])


def hold(spec: dict[str, str], key: str) -> None:
    from drift_pipeline.issues.claim import FilingLocks

    with FilingLocks(open_store(spec)).hold(key):
        print("held", flush=True)
        time.sleep(TIMEOUT * 5)


def barrier(directory: Path, n: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / str(os.getpid())).touch()
    deadline = time.monotonic() + TIMEOUT
    while len(list(directory.iterdir())) < n:
        if time.monotonic() > deadline:
            raise SystemExit("the other filers never came")
        time.sleep(0.01)


def job(spec: dict[str, str], day: str, api_url: str, directory: Path, n: int) -> None:
    import dagster as dg

    from drift_pipeline.defs.issues import file_drift_issues
    from drift_pipeline.defs.resources import GitHubResource

    resources = {
        "github": GitHubResource(api_url=api_url, token="sandbox-token", backoff_seconds=0, seconds_between_writes=0),
        "store": store_resource(spec),
    }
    barrier(directory, n)
    result = file_drift_issues.execute_in_process(
        partition_key=day, resources=resources, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    if not result.success:
        raise SystemExit("the filing job failed")
    print(json.dumps(result.output_for_node("file_drift_issues_op")), flush=True)


if __name__ == "__main__":
    mode, store = sys.argv[1], json.loads(sys.argv[2])
    if mode == "hold":
        hold(store, sys.argv[3])
    else:
        job(store, sys.argv[3], sys.argv[4], Path(sys.argv[5]), int(sys.argv[6]))
