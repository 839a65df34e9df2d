"""The benchmark's report: targets, growth per 10x repos, machine facts, the printed table, merging runs."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.servers import ROOT

TARGETS = {  # issue #21, at 1,000 repos and 30 ms latency on this 2-core machine; the CLI path
    "cli_warm_and_next_wall_s_at_1000": 30,
    "cli_cold_wall_s_at_1000": 90,
    "cold_rate_limited_per_in_scope_repo": 6,
    "peak_rss_mib_at_10000": 1024,
    "trend_query_ms_at_1000": 200,
}
METRICS = ("wall_s", "cpu_s", "requests", "peak_rss_mib")


def phase_key(p: dict[str, Any]) -> str:
    return f"{p['path']}.{p['phase']}"


def growth(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """For each cost, its ratio from one size to the next and whether that is at most linear."""
    series: dict[str, list[tuple[int, float]]] = {}
    for s in sorted(sizes, key=lambda s: s["repos"]):
        for p in s.get("phases", []):
            for m in METRICS:
                series.setdefault(f"{phase_key(p)}.{m}", []).append((s["repos"], p[m]))
        for i, q in enumerate((s.get("trends") or {}).get("queries", [])):
            series.setdefault(f"trend_query_{i + 1}.best_ms", []).append((s["repos"], q["best_ms"]))
    out: dict[str, Any] = {}
    for name, points in series.items():
        if len(points) < 2:
            continue
        steps = [
            {"from": n0, "to": n1, "ratio": round(v1 / v0, 2) if v0 else None, "repos_ratio": n1 / n0}
            for (n0, v0), (n1, v1) in zip(points, points[1:], strict=False)
        ]
        out[name] = {
            "points": points,
            "steps": steps,
            "at_most_linear": all(st["ratio"] is not None and st["ratio"] <= 1.6 * st["repos_ratio"] for st in steps),
        }
    return out


def facts() -> dict[str, Any]:
    import dagster
    import duckdb

    # a copy of a commit outside git (an export) names it in DRIFT_BENCH_COMMIT
    git = ["git", "-C", str(ROOT)]
    commit = os.environ.get("DRIFT_BENCH_COMMIT") or _out([*git, "rev-parse", "HEAD"])
    dirty = bool(_out([*git, "status", "--porcelain", "--", "drift_pipeline", "dagster.yaml"]))
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": dirty,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "load_average_at_start": os.getloadavg(),
    }


def _out(argv: list[str]) -> str:
    return subprocess.run(argv, check=False, capture_output=True, text=True).stdout.strip()


def table(sizes: list[dict[str, Any]]) -> str:
    head = (
        f"{'repos':>6} {'path':<10} {'phase':<18} {'wall s':>7} {'CPU s':>6} {'sbx CPU':>7} {'req':>6} "
        f"{'RL/repo':>7} {'304/repo':>8} {'RSS MiB':>7} {'sbx MiB':>7}  dagster run / step launch / no step running"
    )
    lines = [head, "-" * len(head)]
    for s in sizes:
        for p in s.get("phases", []):
            d = p.get("dagster") or {}
            run = (
                f"  {d['run_wall_s']} / {d['step_launch_s']} / {d['no_step_running_s']} s ({d['steps']} steps)"
                if d.get("run_wall_s") is not None
                else ""
            )
            lines.append(
                f"{s['repos']:>6} {p['path']:<10} {p['phase']:<18} {p['wall_s']:>7.1f} {p['cpu_s']:>6.1f} "
                f"{p['sandbox_cpu_s']:>7.1f} {p['requests']:>6} {p['rate_limited_per_repo']:>7.2f} "
                f"{p['not_modified_per_repo']:>8.2f} {p['peak_rss_mib']:>7.0f} {p['sandbox_peak_rss_mib']:>7.0f}{run}"
            )
        if "storage" in s:
            st = s["storage"]
            lines.append(
                f"{'':>6} storage: DuckDB {st['db_bytes_per_repo_day']:,} B/repo-day, source cache "
                f"{st['source_cache_bytes_per_repo_day']:,} B/repo-day ({st['source_cache_keys']:,} keys)"
            )
        t = s.get("trends") or {"queries": []}
        for q in t["queries"]:
            lines.append(
                f"{s['repos']:>6} {'trend ' + str(t['days']) + 'd':<29} {q['best_ms']:>7.1f} ms "
                f"(first {q['first_ms']:.0f} ms)  {q['query']}"
            )
    lines += targets(sizes)
    return "\n".join(lines)


def targets(sizes: list[dict[str, Any]]) -> list[str]:
    """Each issue-#21 target at the sizes it names, met or missed (nothing printed for an absent size)."""
    out = []
    for s in sizes:
        cli = {p["phase"]: p for p in s.get("phases", []) if p["path"] == "cli"}
        n = s["repos"]
        for name in ("warm re-run", "next day"):
            if name in cli and n == 1000:
                out.append(
                    _verdict(f"CLI {name} wall", cli[name]["wall_s"], TARGETS["cli_warm_and_next_wall_s_at_1000"])
                )
        if "cold newest day" in cli:
            if n == 1000:
                out.append(
                    _verdict("CLI cold wall", cli["cold newest day"]["wall_s"], TARGETS["cli_cold_wall_s_at_1000"])
                )
            out.append(
                _verdict(
                    f"cold rate-limited per in-scope repo at {n}",
                    cli["cold newest day"]["rate_limited_per_repo"],
                    TARGETS["cold_rate_limited_per_in_scope_repo"],
                )
            )
        if n >= 10000:
            peak = max(p["peak_rss_mib"] for p in s.get("phases", []))
            out.append(_verdict("peak RSS MiB at 10,000", peak, TARGETS["peak_rss_mib_at_10000"]))
        if n == 1000:
            for q in (s.get("trends") or {}).get("queries", []):
                out.append(_verdict(f"trend ms: {q['query'][:40]}", q["best_ms"], TARGETS["trend_query_ms_at_1000"]))
    return ["", "targets (issue #21):", *out] if out else []


def _verdict(what: str, value: float, target: float) -> str:
    return f"  {what}: {value} (target <= {target}): {'met' if value <= target else 'MISSED'}"


def merge(paths: list[Path], out: Path) -> Path:
    """One report of the sizes of several runs (each run's machine facts kept with its sizes)."""
    reports = [json.loads(p.read_text()) for p in paths]
    sizes = sorted(
        ({**s, "machine": r["machine"], "settings": r["settings"]} for r in reports for s in r["sizes"]),
        key=lambda s: s["repos"],
    )
    merged = {
        "machine": reports[-1]["machine"],
        "settings": reports[-1]["settings"],
        "targets": TARGETS,
        "merged_from": [p.name for p in paths],
        "sizes": sizes,
        "growth": growth(sizes),
    }
    print(table(sizes))
    return write(merged, out, [s["repos"] for s in sizes])


def write(report: dict[str, Any], out: Path, sizes: list[int]) -> Path:
    machine = report["machine"]
    out.mkdir(parents=True, exist_ok=True)
    stem = f"pipeline-{machine['date'][:10]}-{machine['commit'][:8]}-{'-'.join(map(str, sizes))}"
    path, n = out / f"{stem}.json", 1
    while path.exists():  # another run of the same commit, day and sizes (say a profiled one): kept too
        n += 1
        path = out / f"{stem}-{n}.json"
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return path
