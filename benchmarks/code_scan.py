"""Benchmark: GitHub API requests of the code scan, per repo and day (counts, not seconds).

Seeds a demo org in the sandbox, backfills its window as one Dagster run into a fresh DuckDB
file, then re-scans the last day, and prints how many API requests each phase cost, read from
the sandbox's own counters. Counts are what the shared, noisy machine cannot blur; the wall
time is printed for information only.

    uv run --frozen python benchmarks/code_scan.py [--repos 40] [--days 14]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import dagster as dg

from drift_pipeline.definitions import ASSETS
from drift_pipeline.resources import DriftStoreResource, GitHubResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.seed import seed_org
from drift_pipeline.store import DriftStore


VERBOSE = False


def materialise(server: GitHubSandbox, db: Path, first: date, last: date) -> None:
    resources = {"github": GitHubResource(api_url=server.url, token="sandbox-token", orgs="acme",
                                          backoff_seconds=0, seconds_between_writes=0),
                 "store": DriftStoreResource(database=str(db))}
    tags = {} if first == last else {"dagster/asset_partition_range_start": first.isoformat(),
                                     "dagster/asset_partition_range_end": last.isoformat()}
    result = dg.materialize(ASSETS, partition_key=first.isoformat() if first == last else None, tags=tags,
                            resources=resources, instance=dg.DagsterInstance.ephemeral())
    assert result.success


def phase(server: GitHubSandbox, label: str, repos: int, days: int, started: float) -> None:
    counts = server.request_counts()
    total, routes = counts["total"], counts["by_route"]
    trees = routes.get("GET /repos/{owner}/{repo}/git/trees/{sha}", 0)
    blobs = routes.get("GET /repos/{owner}/{repo}/git/blobs/{sha}", 0)
    print(f"{label:<34} {total:>7} requests  {total / (repos * days):6.2f} per repo-day  "
          f"trees {trees:>4}  blobs {blobs:>5}  304s {counts['not_modified']:>4}  "
          f"({time.perf_counter() - started:.1f}s)")
    if VERBOSE:
        print("    " + ", ".join(f"{k.split(' ', 1)[1]} {v}" for k, v in sorted(routes.items())))
    server.reset_counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=40)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--routes", action="store_true", help="also print requests by route")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.routes
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        report = seed_org(root / "state", repos=args.repos, days=args.days, end_date=date(2026, 3, 31))
        listed = len(report.repos) + 2
        in_scope = sum(r.in_scope for r in report.repos)
        print(f"org: {listed} repos listed, {in_scope} in scope, {args.days} days "
              f"({report.start_date} .. {report.end_date}), {len(report.events)} scripted changes")
        with GitHubSandbox(root / "state") as server:
            db = root / "drift.duckdb"
            t = time.perf_counter()
            materialise(server, db, report.start_date, report.start_date)
            phase(server, "day 1, cold (nothing cached)", in_scope, 1, t)
            t = time.perf_counter()
            materialise(server, db, report.start_date, report.end_date)
            phase(server, f"backfill of {args.days} days, warm", in_scope, args.days, t)
            t = time.perf_counter()
            materialise(server, db, report.end_date, report.end_date)
            phase(server, "re-scan of the last day", in_scope, 1, t)
            with DriftStore(db, read_only=True) as store:
                modes = store.rows("SELECT mode, count(*) AS n FROM config_scan_status GROUP BY mode ORDER BY mode")
                findings = store.rows("SELECT count(*) AS n FROM drift_findings")[0]["n"]
            print("repo-days by scan mode: " + ", ".join(f"{m['mode']} {m['n']}" for m in modes))
            print(f"findings stored: {findings}")


if __name__ == "__main__":
    main()
