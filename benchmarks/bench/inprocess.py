"""A scan through ``dg.materialize`` (ephemeral instance, in process), each in a child process of its own.

The kept figures of the in-process path, beside the path users run (``bench.cli``): the difference
between the two is Dagster's CLI, run and step overhead. The clock is the real one: the seeded
window ends on the real yesterday, so the newest partition is live as it is for the nightly run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.servers import ORG, ROOT, TOKEN, aws_env

SCRIPT = Path(__file__).resolve().parents[1] / "pipeline.py"


def run_scan(db: str, api: str, aws: str, first: str, last: str, concurrency: int) -> dict[str, Any]:
    """The body of ``pipeline.py --scan``: materialise every asset for ``first..last`` into ``db``."""
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from drift_pipeline.definitions import ASSETS
    from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource, ScanScopeResource

    resources = {
        "github": GitHubResource(
            api_url=api, token=TOKEN, backoff_seconds=0, seconds_between_writes=0, concurrency=concurrency
        ),
        "scope": ScanScopeResource(orgs=ORG),
        "store": DriftStoreResource(database=db),
        "aws": AwsResource(endpoint_url=aws, region_name="us-east-1", max_attempts=1),
    }
    tags = (
        {}
        if first == last
        else {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    )
    started = time.perf_counter()
    result = dg.materialize(
        ASSETS,
        partition_key=first if first == last else None,
        tags=tags,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    return {"success": result.success, "run_wall_s": round(time.perf_counter() - started, 2)}


def child_main(payload: str) -> None:
    """``pipeline.py --scan <json>``: one scan, its figures as the last line of stdout."""
    db, api, aws, first, last, concurrency = json.loads(payload)
    profile = os.environ.get("DRIFT_BENCH_PROFILE")  # a directory: one cProfile dump per scan
    if profile:
        import cProfile

        with cProfile.Profile() as prof:
            out = run_scan(db, api, aws, first, last, int(concurrency))
        prof.dump_stats(Path(profile) / f"inprocess-{Path(db).stem}-{first}-{last}.prof")
    else:
        out = run_scan(db, api, aws, first, last, int(concurrency))
    print(json.dumps(out))


def measured(argv: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run ``argv`` to its end: wall, CPU of it and every process it waited for, the largest peak RSS.

    ``os.wait4`` gives the child's own resource usage, which includes its waited-for descendants
    (Dagster's step processes): CPU summed, ``ru_maxrss`` the largest single process.
    """
    started = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=out, env=env, cwd=ROOT)
        assert proc.stdout is not None
        stdout = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": proc.returncode,
        "stdout": stdout,
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def scan(db: Path, api: str, aws: str, first: str, last: str, concurrency: int, log: Path) -> dict[str, Any]:
    """One in-process scan in a child process; raises SystemExit when it fails."""
    payload = json.dumps([str(db), api, aws, first, last, concurrency])
    run = measured([sys.executable, str(SCRIPT), "--scan", payload], aws_env(), log)
    lines = run.pop("stdout").strip().splitlines()
    if run.pop("returncode") or not lines or not json.loads(lines[-1])["success"]:
        raise SystemExit(f"the in-process scan {first}..{last} failed: see {log}")
    return {**run, **json.loads(lines[-1])}
