"""A backfill launched as users launch it: an asset backfill in the instance, run by ``dagster-daemon``.

The UI's "Materialize all" over a range of partitions adds an asset backfill to the instance; the
daemon's backfill loop turns it into runs (every asset here has a single-run backfill policy: one
run for the range), the run queue admits it and the default run launcher starts it in a process of
the code location. This phase does exactly that: ``dagster-daemon run -w workspace.yaml`` is
started first (a deployment's daemon, from the project's own workspace), then ``SUBMIT`` adds the
backfill of every asset for ``first..last`` to the instance and waits until the backfill is
completed and its runs have finished. Wall: from the submit to done (the daemon's start-up is
reported apart). CPU: every process of the daemon's session just before it is stopped (the code server, the run
worker's in its waiter's) and the submitter; peak RSS: the largest of them, the run worker's
included: the session's processes are sampled every ``SAMPLE_S`` while the backfill runs (the run
worker exits before the session is read at the end, and its high-water mark with it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from bench.cli import CliStore
from bench.inprocess import measured
from bench.servers import ROOT
from bench.steps import run_timings

LIMIT_S = 3600.0  # the submitter gives up after this
SAMPLE_S = 0.25  # how often the daemon's session is sampled for its processes' peak RSS

SUBMIT = """
import json, sys, time, warnings
import dagster as dg
warnings.filterwarnings("ignore", category=dg.BetaWarning)
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id
from drift_pipeline.definitions import ASSETS, defs

first, last, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
instance = dg.DagsterInstance.get()
graph = defs.resolve_asset_graph()
keys = [key for a in ASSETS for key in a.keys]
names = graph.get(keys[0]).partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(first, last))
backfill = PartitionBackfill.from_asset_partitions(
    backfill_id=make_new_backfill_id(), asset_graph=graph, partition_names=names, asset_selection=keys,
    backfill_timestamp=time.time(), tags={"bench": "daemon-backfill"}, dynamic_partitions_store=instance,
    all_partitions=False, title=None, description=None, run_config=None,
)
submitted = time.monotonic()
instance.add_backfill(backfill)
done = {BulkActionStatus.COMPLETED, BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED,
        BulkActionStatus.FAILED, BulkActionStatus.CANCELED}
first_run = None
while time.monotonic() - submitted < limit:
    status = instance.get_backfill(backfill.backfill_id).status
    runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
    if runs and first_run is None:
        first_run = time.monotonic() - submitted
    if status in done and runs and all(r.dagster_run.is_finished for r in runs):
        break
    time.sleep(0.5)
finished = time.time()
created = min((r.create_timestamp.timestamp() for r in runs), default=None)
started = min((r.start_time for r in runs if r.start_time), default=None)
ended = max((r.end_time for r in runs if r.end_time), default=None)
print(json.dumps({
    "backfill_status": status.value, "runs": len(runs), "partitions": len(names),
    "run_statuses": sorted({r.dagster_run.status.value for r in runs}),
    "first_run_after_s": None if first_run is None else round(first_run, 2),
    "run_created_to_started_s": None if not (created and started) else round(started - created, 2),
    "run_started_to_ended_s": None if not (started and ended) else round(ended - started, 2),
    "run_ended_to_backfill_done_s": None if not ended else round(finished - ended, 2),
}))
"""


def backfill(store: CliStore, first: str, last: str, extra_env: dict[str, str]) -> dict[str, Any]:
    """The daemon running an asset backfill of ``first..last``: wall, CPU, RSS, and how the run went."""
    env = store.env(extra_env)
    log = store.root / "daemon.log"
    started = time.perf_counter()
    with log.open("ab") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", str(ROOT / "workspace.yaml")],
            stdout=out,
            stderr=out,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    sampled = _Sampler(daemon.pid)
    sampled.start()
    try:
        run = measured([sys.executable, "-c", SUBMIT, first, last, str(LIMIT_S)], env, store.root / "daemon-submit.log")
    finally:
        sampled.stop()
        cpu, hwm = _session_usage(daemon.pid)  # before the stop: the run worker's CPU is in its waiter's
        os.killpg(daemon.pid, signal.SIGTERM)
        _, _, usage = os.wait4(daemon.pid, 0)
    lines = run.pop("stdout").strip().splitlines()
    if run.pop("returncode") or not lines:
        raise SystemExit(f"the daemon backfill {first}..{last} failed: see {store.root / 'daemon-submit.log'}")
    outcome = json.loads(lines[-1])
    if outcome["backfill_status"] not in ("COMPLETED", "COMPLETED_SUCCESS") or outcome["run_statuses"] != ["SUCCESS"]:
        raise SystemExit(f"the daemon backfill {first}..{last} did not succeed ({outcome}): see {log}")
    return {
        **run,
        **outcome,
        "cpu_s": round(run["cpu_s"] + cpu, 2),
        "peak_rss_mib": max(run["peak_rss_mib"], round(max(usage.ru_maxrss, hwm, sampled.hwm) / 1024, 1)),
        "processes_sampled": len(sampled.seen),
        "daemon_and_submit_wall_s": round(time.perf_counter() - started, 2),
        "dagster": run_timings(store.home),
    }


class _Sampler(threading.Thread):
    """The largest VmHWM (KiB) of the daemon session's processes (the daemon, the code server, the run
    worker), sampled while the backfill runs; ``seen``: the processes sampled."""

    def __init__(self, sid: int):
        super().__init__(daemon=True)
        self.sid, self.hwm, self.seen = sid, 0, set[int]()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(SAMPLE_S):
            for pid, _, hwm in _session_procs(self.sid):
                self.hwm = max(self.hwm, hwm)
                self.seen.add(pid)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _session_procs(sid: int) -> list[tuple[int, list[str], int]]:
    """``(pid, /proc/<pid>/stat fields after the name, VmHWM KiB)`` of every live process of session ``sid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115 - proc files
            if int(fields[3]) != sid:
                continue
            hwm = 0
            for line in open(f"/proc/{entry}/status"):  # noqa: SIM115 - proc files
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
            found.append((int(entry), fields, hwm))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def _session_usage(sid: int) -> tuple[float, int]:
    """CPU seconds (own and of waited-for children) of every live process of session ``sid``, and the largest VmHWM (KiB)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = _session_procs(sid)
    cpu = sum(sum(int(f) for f in fields[11:15]) / tick for _, fields, _ in procs)  # utime, stime, cutime, cstime
    return cpu, max((hwm for _, _, hwm in procs), default=0)
