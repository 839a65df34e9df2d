"""Benchmark: the code scan against the sandbox: wall time, API requests, peak memory.

Seeds a demo org (in a child process), serves the sandbox from its own process (``drift sandbox
serve``) so that its CPU is not ours, optionally injects latency on every API request, then runs
the pipeline's assets as Dagster runs into a fresh DuckDB file:

1. day 1, cold: nothing cached;
2. the next day: the daily run of day 2, with day 1's cache (ETags, sha-addressed objects);
3. with ``--days`` above 2: the backfill of the whole window as one run, then a re-scan of the
   last day.

Each phase prints wall time, requests (sent, answered 304, rate-limited), requests per repo-day
and the peak RSS of this process so far. Request counts come from the sandbox's own counters and
do not depend on the machine; times do.

    uv run --frozen python benchmarks/code_scan.py [--repos 40] [--days 14] \
        [--latency-ms 30] [--concurrency 8] [--routes]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)  # backfill_policy is beta: not news here

from drift_pipeline.definitions import ASSETS  # noqa: E402
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource, ScanScopeResource  # noqa: E402
from drift_pipeline.store import DriftStore  # noqa: E402

END_DATE = date(2026, 3, 31)
TOKEN = "sandbox-token"
_SEED = """
import json, sys
from datetime import date
from drift_pipeline.sandbox.seed import seed_org
r = seed_org(sys.argv[1], repos=int(sys.argv[2]), days=int(sys.argv[3]), end_date=date.fromisoformat(sys.argv[4]))
print(json.dumps({"listed": len(r.repos) + 2, "in_scope": sum(x.in_scope for x in r.repos),
                  "start": r.start_date.isoformat(), "end": r.end_date.isoformat(), "events": len(r.events)}))
"""


class Sandbox:
    """``drift sandbox serve`` in a child process, driven through its HTTP control plane."""

    def __init__(self, state: Path, log: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "drift_pipeline.cli",
                "sandbox",
                "serve",
                "--state",
                str(state),
                "--port",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.control("GET", "requests")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"the sandbox did not start; see {log}") from None
                time.sleep(0.2)

    def control(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(
            f"{self.url}/_sandbox/{what}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def materialise(sandbox: Sandbox, db: Path, first: date, last: date, concurrency: int) -> None:
    resources = {
        "github": GitHubResource(
            api_url=sandbox.url, token=TOKEN, backoff_seconds=0, seconds_between_writes=0, concurrency=concurrency
        ),
        "scope": ScanScopeResource(orgs="acme"),
        "store": DriftStoreResource(database=str(db)),
    }
    tags = (
        {}
        if first == last
        else {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }
    )
    result = dg.materialize(
        ASSETS,
        partition_key=first.isoformat() if first == last else None,
        tags=tags,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        raise SystemExit("the Dagster run failed")


def phase(
    sandbox: Sandbox, label: str, repos: int, days: int, started: float, cpu: float, verbose: bool
) -> dict[str, Any]:
    wall = time.perf_counter() - started
    counts = sandbox.control("GET", "requests")
    total, routes, statuses = counts["total"], counts["by_route"], counts["by_status"]
    limited = statuses.get("403", 0) + statuses.get("429", 0)
    row = {
        "phase": label,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu_seconds() - cpu, 1),
        "requests": total,
        "not_modified": counts["not_modified"],
        "rate_limited": limited,
        "per_repo_day": round(total / (repos * days), 2),
        "peak_rss_mib": round(peak_rss_mib()),
    }
    print(
        f"{label:<30} {wall:7.1f}s wall {row['cpu_s']:6.1f}s cpu  {total:>6} requests "
        f"({counts['not_modified']} 304, {limited} rate-limited)  {row['per_repo_day']:5.2f}/repo-day  "
        f"peak RSS {row['peak_rss_mib']} MiB",
        flush=True,
    )
    if verbose:
        print("    " + ", ".join(f"{k.split(' ', 1)[1]} {v}" for k, v in sorted(routes.items())))
    sandbox.control("POST", "requests/reset")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=40, help="product repos to seed (at least 8)")
    parser.add_argument("--days", type=int, default=14, help="days in the seeded window (at least 2)")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency the sandbox adds to every API request")
    parser.add_argument("--concurrency", type=int, default=8, help="GitHub requests in flight at most (1..32)")
    parser.add_argument("--routes", action="store_true", help="also print requests by route")
    parser.add_argument("--json", action="store_true", help="print the phases as JSON at the end")
    args = parser.parse_args()
    if args.repos < 8 or args.days < 2 or args.latency_ms < 0 or not 1 <= args.concurrency <= 32:
        parser.error("need --repos >= 8, --days >= 2, --latency-ms >= 0 and --concurrency 1..32")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        seeded = subprocess.run(
            [sys.executable, "-c", _SEED, str(root / "state"), str(args.repos), str(args.days), END_DATE.isoformat()],
            check=True,
            capture_output=True,
            text=True,
        )
        org = json.loads(seeded.stdout.strip().splitlines()[-1])
        first, last = date.fromisoformat(org["start"]), date.fromisoformat(org["end"])
        print(
            f"org: {org['listed']} repos listed, {org['in_scope']} in scope, {args.days} days ({first} .. {last}), "
            f"{org['events']} scripted changes; seeded in {time.perf_counter() - t:.0f}s"
        )
        print(f"sandbox in its own process, {args.latency_ms} ms per request; concurrency {args.concurrency}")
        sandbox = Sandbox(root / "state", root / "sandbox.log")
        rows = []
        try:
            sandbox.control("POST", "faults", {"latency_ms": args.latency_ms})
            db = root / "drift.duckdb"
            n = org["in_scope"]

            def run(label: str, start: date, end: date) -> None:
                t, cpu = time.perf_counter(), cpu_seconds()
                materialise(sandbox, db, start, end, args.concurrency)
                rows.append(phase(sandbox, label, n, (end - start).days + 1, t, cpu, args.routes))

            run("day 1, cold (nothing cached)", first, first)
            run("next day (day 2)", first + timedelta(days=1), first + timedelta(days=1))
            if args.days > 2:
                run(f"backfill of {args.days} days, warm", first, last)
                run("re-scan of the last day", last, last)
        finally:
            sandbox.stop()
        with DriftStore(db, read_only=True) as store:
            modes = store.rows("SELECT mode, count(*) AS n FROM config_scan_status GROUP BY mode ORDER BY mode")
            findings = store.rows("SELECT count(*) AS n FROM drift_findings")[0]["n"]
        print("repo-days by scan mode: " + ", ".join(f"{m['mode']} {m['n']}" for m in modes))
        print(f"findings stored: {findings}")
        if args.json:
            print(
                json.dumps(
                    {
                        "repos": args.repos,
                        "latency_ms": args.latency_ms,
                        "concurrency": args.concurrency,
                        "phases": rows,
                    }
                )
            )


if __name__ == "__main__":
    main()
