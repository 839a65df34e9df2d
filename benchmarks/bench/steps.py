"""Where a Dagster run's time went, from its instance's event log (no profiler in the step processes).

For the newest run of an instance: the run's wall (its start event to its end), and per step the time
from the executor's ``STEP_WORKER_STARTING`` (when it starts a process per step; none in process) to
``STEP_START`` (process start and imports), ``STEP_START`` to its end (the step's body), the time the
run had no step body running (executor overhead, waiting for a pool slot), and the events written.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

_END = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


def run_timings(home: Path) -> dict[str, Any]:
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return {}
        run = runs[0]
        logs = instance.all_logs(run.run_id)
    return timings_of(run.run_id, logs)


def timings_of(run_id: str, logs: list[Any]) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    steps: dict[str, dict[str, float]] = {}
    run_start = run_end = None
    for entry in logs:
        kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
        kinds[kind] += 1
        if kind in ("RUN_START", "PIPELINE_START"):
            run_start = entry.timestamp
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run_end = entry.timestamp
        if not entry.step_key:
            continue
        s = steps.setdefault(entry.step_key, {})
        if kind == "STEP_WORKER_STARTING":
            s["first"] = entry.timestamp
        elif kind == "STEP_START":
            s["start"] = entry.timestamp
        elif kind in _END:
            s["end"] = entry.timestamp
    per_step = {
        key: {
            "launch_s": round(s["start"] - s.get("first", s["start"]), 2),
            "body_s": round(s.get("end", s["start"]) - s["start"], 2),
        }
        for key, s in steps.items()
        if "start" in s
    }
    bodies = sorted((s["start"], s["end"]) for s in steps.values() if "start" in s and "end" in s)
    wall = round((run_end or 0) - (run_start or 0), 2) if run_start and run_end else None
    return {
        "run_id": run_id,
        "run_wall_s": wall,
        "steps": len(steps),
        "step_launch_s": round(sum(s["launch_s"] for s in per_step.values()), 2),
        "step_body_s": round(sum(s["body_s"] for s in per_step.values()), 2),
        "no_step_running_s": round(wall - _covered(bodies), 2) if wall is not None else None,
        "events": sum(kinds.values()),
        "events_by_type": dict(kinds.most_common()),
        "per_step": per_step,
    }


def _covered(intervals: list[tuple[float, float]]) -> float:
    """The length of the union of sorted intervals."""
    total, end = 0.0, float("-inf")
    for a, b in intervals:
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total
