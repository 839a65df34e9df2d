"""Benchmark of the whole pipeline (issues #13, #21): the path users run and the in-process one, at N repos.

For each N of ``--repos`` (default 100 and 1,000):

1. seed an org of N product repos over ``--days`` days ending on the real yesterday (about 2% of
   repos change per day) into a sandbox state, the infra scenario deployed to the AWS emulator;
   both served from their own processes, ``--latency-ms`` injected on every GitHub request. The
   clock is the real one: yesterday is the newest daily partition, observed live as the nightly
   run observes it;
2. the path users run (``bench.cli``): ``dagster asset materialize -m drift_pipeline.definitions
   --select '*' --partition <day>`` in its own process with a fresh ``DAGSTER_HOME`` holding the
   project's ``dagster.yaml``: the newest day cold (a fresh store), the same day again (warm), then
   in a second fresh store the day before and the next day (2% of repos changed on it);
3. the same phases in process (``bench.inprocess``: ``dg.materialize``, an ephemeral instance), each
   in a child process of its own, and a ``--days`` exact backfill (one range run) whose store gives
   the bytes per repo-day;
4. the README's trend queries (``drift_pipeline.store.queries``) over ``--trend-days`` days x N
   repos of generated findings (``bench.trends``).

Per phase: wall, our CPU (the scan's process and every process it waited for), the sandbox's CPU,
requests (rate-limited: every answer but a 304; 304s; throttled), peak RSS (the largest process) and,
for the CLI, the Dagster run's own timings from the event log (``bench.steps``). Under the real clock
the day before the newest is past its live window: its process settings and AWS are not observed,
so the next day's live reads find no earlier answers to revalidate (an upper bound on a nightly
run's). Prints one table with the issue's targets and writes ``benchmarks/results/pipeline-<date>-
<commit>-<sizes>.json``.

    uv run --frozen --no-sync python benchmarks/pipeline.py [--repos 100,1000] [--days 30] \
        [--latency-ms 30] [--concurrency 8] [--trend-days 365] [--paths cli,inprocess] \
        [--cli-env DRIFT_EXECUTOR=multiprocess] [--profile DIR] [--routes]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]  # bench.*, and this checkout's drift_pipeline

from bench import cli, daemon, inprocess  # noqa: E402
from bench.profile import render, summarize  # noqa: E402
from bench.report import facts, growth, merge, table, write  # noqa: E402
from bench.servers import CHANGE_RATE, AwsServer, GitHubServer, rate_limit, seed  # noqa: E402
from bench.storage import storage  # noqa: E402
from bench.trends import generate_trends, time_trends  # noqa: E402

RESULTS = BENCH / "results"


class Phases:
    """The phases of one size: each gets a fresh request count and budget, and its figures recorded."""

    def __init__(self, gh: GitHubServer, repos: int, in_scope: int, args: argparse.Namespace):
        self.gh, self.repos, self.in_scope, self.args = gh, repos, in_scope, args
        self.done: list[dict[str, Any]] = []

    def run(self, path: str, phase: str, day: str, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        # Each phase starts with a full hour's budget, a GitHub App installation's on an org of this
        # size (5,000 + 50 per repo above 20, at most 12,500).
        cpu0 = self.gh.start_phase(self.args.core_limit or rate_limit(self.repos))
        figures = {"path": path, "phase": phase, "day": day, **body()}
        figures.update(self.gh.phase_figures(cpu0, self.in_scope))
        self.done.append(figures)
        say(f"N={self.repos} {path} {phase} ({day}): {brief(figures)}")
        return figures


def bench_size(repos: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    root = tmp / f"n{repos}"
    root.mkdir()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    aws = AwsServer(root / "aws.log")
    gh = None
    try:
        org = seed(root / "state", repos, args.days, yesterday, aws)
        changed = org["changed_by_day"].get(yesterday.isoformat(), 0)
        out: dict[str, Any] = {
            "repos": repos,
            "seed": {k: org[k] for k in ("seconds", "listed", "in_scope", "start", "end")}
            | {"days": args.days, "changed_on_newest_day": changed},
        }
        say(f"N={repos}: seeded {org['listed']} repos ({org['in_scope']} in scope) in {org['seconds']}s")
        gh = GitHubServer(root / "state", root / "sandbox.log")
        gh.control("POST", "faults", {"latency_ms": args.latency_ms})
        phases = Phases(gh, repos, org["in_scope"], args)
        first, last = date.fromisoformat(org["start"]), yesterday
        if "cli" in args.paths:
            cli_phases(phases, root, gh.url, aws.url, first, last, args)
        if "inprocess" in args.paths:
            inprocess_phases(phases, root, gh.url, aws.url, first, last, args)
            if repos <= args.backfill_max_repos:
                bdb = root / "backfill.duckdb"
                body = _inproc(bdb, gh.url, aws.url, first, last, args, root)
                phases.run("inprocess", f"backfill {args.days}d", f"{first}..{last}", body)
                out["storage"] = storage(bdb, repos, args.days)
        out["phases"] = phases.done
    finally:
        if gh is not None:
            gh.stop()
        aws.stop()
    if args.no_trends:
        return out
    return bench_trends(repos, args, root, out)


def cli_phases(
    phases: Phases, root: Path, api: str, aws: str, first: date, last: date, args: argparse.Namespace
) -> None:
    """Through ``dagster asset materialize``: newest day cold and warm; then the day before and the next."""
    extra = dict(kv.split("=", 1) for kv in args.cli_env)
    profile = args.profile
    a = cli.CliStore(root / "cli-a", api, aws, first.isoformat()).fresh()
    b = cli.CliStore(root / "cli-b", api, aws, first.isoformat()).fresh()
    day, before = last.isoformat(), (last - timedelta(days=1)).isoformat()
    if "cold" in args.cli_phases:
        phases.run("cli", "cold newest day", day, lambda: cli.materialize(a, day, "cold", profile, extra))
    if "warm" in args.cli_phases:
        phases.run("cli", "warm re-run", day, lambda: cli.materialize(a, day, "warm", profile, extra))
    if "next" in args.cli_phases:
        phases.run("cli", "day before", before, lambda: cli.materialize(b, before, "before", profile, extra))
        phases.run("cli", "next day", day, lambda: cli.materialize(b, day, "next", profile, extra))
    if "backfill" in args.cli_phases and phases.repos <= args.backfill_max_repos:
        c = cli.CliStore(root / "cli-c", api, aws, first.isoformat()).fresh()
        span = f"{first}..{last}"
        phases.run(
            "cli", f"daemon backfill {args.days}d", span, lambda: daemon.backfill(c, first.isoformat(), day, extra)
        )


def inprocess_phases(
    phases: Phases, root: Path, api: str, aws: str, first: date, last: date, args: argparse.Namespace
) -> None:
    """The same four phases through ``dg.materialize`` (an ephemeral instance), each in its own child."""
    day, before = last, last - timedelta(days=1)
    a, b = root / "inproc-a.duckdb", root / "inproc-b.duckdb"
    for db, name, d in (
        (a, "cold newest day", day),
        (a, "warm re-run", day),
        (b, "day before", before),
        (b, "next day", day),
    ):
        phases.run("inprocess", name, d.isoformat(), _inproc(db, api, aws, d, d, args, root))


def _inproc(
    db: Path, api: str, aws: str, first: date, last: date, args: argparse.Namespace, root: Path
) -> Callable[[], dict[str, Any]]:
    return lambda: inprocess.scan(
        db, api, aws, first.isoformat(), last.isoformat(), args.concurrency, root / "inprocess.log"
    )


def bench_trends(repos: int, args: argparse.Namespace, root: Path, out: dict[str, Any]) -> dict[str, Any]:
    """The trend phase of one size: generate the findings, time the README queries."""
    tdays = args.trend_days if repos <= 1000 else args.trend_days_large
    tdb = root / "trends.duckdb"
    out["trends"] = generate_trends(tdb, repos, tdays, datetime.now(UTC).date() - timedelta(days=1))
    out["trends"]["queries"] = time_trends(tdb, runs=args.trend_runs)
    out["trends"]["db_bytes"] = tdb.stat().st_size
    say(
        f"N={repos}: trends over {tdays} days ({out['trends']['findings_rows']:,} findings): "
        + ", ".join(f"{q['best_ms']:.0f}ms" for q in out["trends"]["queries"])
    )
    return out


def brief(r: dict[str, Any]) -> str:
    return (
        f"{r['wall_s']}s (CPU {r['cpu_s']}s, sandbox {r['sandbox_cpu_s']}s), {r['requests']} requests "
        f"({r['rate_limited_per_repo']}/repo rate-limited, {r['not_modified_per_repo']}/repo 304), "
        f"peak RSS {r['peak_rss_mib']} MiB"
    )


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--repos", default="100,1000", help="comma-separated org sizes (product repos, >= 8)")
    add("--days", type=int, default=30, help="days of seeded history (the backfill's window)")
    add("--latency-ms", type=int, default=30, help="latency the sandbox adds to every request")
    add("--concurrency", type=int, default=8, help="GitHub requests in flight at most (1..32), in process")
    add("--paths", default="cli,inprocess", help="which paths to measure: cli, inprocess or both")
    add(
        "--cli-phases",
        default="cold,warm,next,backfill",
        help="CLI phases: cold, warm (needs cold), next (day before + next), backfill (the window through dagster-daemon)",
    )
    add("--cli-env", action="append", default=[], metavar="NAME=VALUE", help="extra environment of the CLI runs")
    add("--profile", type=Path, help="a directory: a cProfile dump of every CLI and in-process scan")
    add("--trend-days", type=int, default=365, help="days of generated findings")
    add("--trend-days-large", type=int, default=90, help="days of generated findings above 1,000 repos")
    add("--core-limit", type=int, default=0, help="the sandbox's hourly budget per phase (default: an App's)")
    add("--backfill-max-repos", type=int, default=1000, help="skip the backfill above this size")
    add("--no-trends", action="store_true", help="skip the trend queries")
    add("--trends-only", action="store_true", help="run only the trend phase (no sandbox, no scans)")
    add("--trend-runs", type=int, default=3, help="timed runs of each trend query after the first")
    add("--merge", nargs="+", type=Path, help="merge results JSON files of runs at other sizes into one (no run)")
    add("--routes", action="store_true", help="also print requests by route")
    add("--out", type=Path, default=RESULTS, help="directory of the JSON results")
    args = parser.parse_args()
    args.sizes = [int(x) for x in args.repos.split(",") if x.strip()]
    args.paths = {p.strip() for p in args.paths.split(",") if p.strip()}
    if any(n < 8 for n in args.sizes) or args.days < 2 or not 1 <= args.concurrency <= 32 or args.trend_runs < 1:
        parser.error("need every --repos >= 8, --days >= 2, --concurrency 1..32 and --trend-runs >= 1")
    if not args.paths or args.paths - {"cli", "inprocess"}:
        parser.error("--paths: cli, inprocess, or cli,inprocess")
    args.cli_phases = {p.strip() for p in args.cli_phases.split(",") if p.strip()}
    if args.cli_phases - {"cold", "warm", "next", "backfill"} or (
        "warm" in args.cli_phases and "cold" not in args.cli_phases
    ):
        parser.error("--cli-phases: cold, warm (after cold), next, backfill")
    if any("=" not in kv for kv in args.cli_env):
        parser.error("--cli-env takes NAME=VALUE")
    if args.trends_only and args.no_trends:
        parser.error("--trends-only and --no-trends exclude each other")
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--scan":
        inprocess.child_main(sys.argv[2])
        return
    args = parse_args()
    if args.merge:
        print(f"results: {merge(args.merge, args.out)}")
        return
    if args.profile:
        import os

        os.environ["DRIFT_BENCH_PROFILE"] = str(args.profile)
    machine = facts()
    results = []
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        for n in args.sizes:
            if args.trends_only:
                root = Path(tmp) / f"n{n}"
                root.mkdir()
                results.append(bench_trends(n, args, root, {"repos": n}))
            else:
                results.append(bench_size(n, args, Path(tmp)))
    print(table(results))
    if args.routes:
        for s in results:
            for p in s.get("phases", []):
                routes = sorted(p["by_route"].items(), key=lambda kv: -kv[1])
                print(f"{s['repos']} {p['path']} {p['phase']}: " + ", ".join(f"{k} {v}" for k, v in routes))
    settings = {k: getattr(args, k) for k in ("latency_ms", "concurrency", "days", "trend_days", "trend_runs")}
    settings |= {"paths": sorted(args.paths), "cli_phases": sorted(args.cli_phases), "cli_env": args.cli_env}
    settings |= {"change_rate": CHANGE_RATE}
    settings |= {"core_limit": args.core_limit or "github-app-budget", "clock": "real (window ends yesterday, UTC)"}
    report = {"machine": machine, "settings": settings, "sizes": results, "growth": growth(results)}
    if args.profile:
        report["profiles"] = [summarize(p) for p in sorted(args.profile.glob("*.prof"))]
        print("\n".join(render(p) for p in report["profiles"]))
    path = write(report, args.out, args.sizes)
    print(f"results: {path.relative_to(BENCH.parent) if path.is_relative_to(BENCH.parent) else path}")


if __name__ == "__main__":
    main()
