"""A profile summary: where a scan's main thread spent its time, by concern, from cProfile dumps.

Each function's own time (``tottime``) is charged to one concern by where the function lives, so
the concerns add up to the profiled total; beside them, the cumulative time of a few entry points
(the event log's writes, module imports, the instance's storage). cProfile sees the main thread
only: the GitHub requests run on the source's worker threads, so their time shows as the main
thread waiting (``waiting on worker threads``), not as PyGithub's.

    uv run --frozen --no-sync python benchmarks/bench/profile.py dump.prof [...]
"""

from __future__ import annotations

import pstats
import sys
from pathlib import Path
from typing import Any

CONCERNS: tuple[tuple[str, tuple[str, ...]], ...] = (  # the first match wins
    ("imports (module loading)", ("<frozen importlib", "importlib/", "<frozen zipimport", "marshal.loads")),
    ("waiting on worker threads", ("of '_thread.lock' objects", "threading.py", "concurrent/futures")),
    ("Dagster event log and instance storage", ("dagster/_core/storage/", "sqlalchemy/", "sqlite3", "_sqlite3")),
    ("PyGithub object construction", ("site-packages/github/",)),
    (
        "HTTP client (requests, urllib3, sockets)",
        ("urllib3/", "requests/", "http/client", "socket", "ssl.py", "select"),
    ),
    ("DuckDB", ("duckdb",)),
    ("YAML/TOML parsing", ("site-packages/yaml/", "tomllib", "tomli", "tomlkit", "_yaml")),
    ("our rules and standards (core)", ("drift_pipeline/core/",)),
    ("our scans, sources and store", ("drift_pipeline/",)),
    ("pandas/pyarrow", ("pandas/", "pyarrow/", "numpy/")),
    ("Dagster run and step machinery", ("dagster", "pydantic")),
    ("git subprocesses", ("subprocess.py", "posix.waitpid", "posix.read")),
)
ENTRY_POINTS = {  # (file part, function name) -> label
    ("dagster/_core/instance/", "handle_new_event"): "event log writes (DagsterInstance.handle_new_event)",
    ("dagster/_core/instance/", "report_dagster_event"): "events reported (DagsterInstance.report_dagster_event)",
    ("<frozen importlib._bootstrap>", "_find_and_load"): "imports (_find_and_load)",
    ("dagster/_core/execution/plan/execute_step.py", "core_dagster_event_sequence_for_step"): "step bodies",
}


def concern(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    for label, parts in CONCERNS:
        if any(p in where for p in parts):
            return label
    return "other"


def summarize(path: Path) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    by: dict[str, float] = {}
    entry: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tt, ct, _callers) in raw.items():
        by[concern(filename, name)] = by.get(concern(filename, name), 0.0) + tt
        for (part, fn), label in ENTRY_POINTS.items():
            if fn == name and part in filename:
                entry[label] = max(entry.get(label, 0.0), ct)
    total = sum(by.values())
    return {
        "profile": path.name,
        "total_s": round(total, 2),
        "by_concern_s": {k: round(v, 2) for k, v in sorted(by.items(), key=lambda kv: -kv[1])},
        "entry_points_cumulative_s": {k: round(v, 2) for k, v in sorted(entry.items())},
    }


def render(summary: dict[str, Any]) -> str:
    lines = [f"{summary['profile']}: {summary['total_s']} s profiled (main thread)"]
    for label, s in summary["by_concern_s"].items():
        share = 100 * s / summary["total_s"] if summary["total_s"] else 0
        lines.append(f"  {s:>8.2f} s {share:>5.1f}%  {label}")
    for label, s in summary["entry_points_cumulative_s"].items():
        lines.append(f"  cumulative {s:>8.2f} s  {label}")
    return "\n".join(lines)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(render(summarize(Path(arg))))
