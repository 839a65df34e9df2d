"""Benchmark of the whole pipeline (issue #13): code + process + infra at N repos, and the trend queries.

For each N of ``--repos`` (default 100 and 1,000):

1. seed an org of N product repos over ``--days`` days (about 2% of repos change per day) into a
   sandbox state, with the infra scenario deployed to the AWS emulator (moto server, three
   accounts), both served from their own processes (``drift sandbox serve``,
   ``python -m drift_pipeline.sandbox.aws``), ``--latency-ms`` injected on every GitHub request;
2. a first full scan (every asset, a real Dagster run, ``dg.materialize`` into a fresh DuckDB
   file) of the window's last day but one, then the next day's scan with that day's store;
3. a ``--days`` exact backfill (one range run) into another fresh DuckDB file, whose size gives
   the bytes per repo-day of the store and of its persistent source cache;
4. the README's trend queries over ``--trend-days`` days x N repos of findings generated directly
   into a third DuckDB file (not by scanning): the time of each.

Every scan runs in a child Python process of its own, so its peak RSS (``ru_maxrss``) is that run's
alone; the sandbox's peak RSS (``VmHWM``) is reported beside it. Request counts come from the
sandbox's own counters ("rate-limited": answers that count against the rate limit, i.e. every
answer but a 304) and do not depend on the machine; times do. Prints one table and writes
``benchmarks/results/pipeline-<date>-<commit>.json`` (machine facts, commit, date, every figure,
and whether each cost grows linearly with N).

    uv run --frozen --no-sync python benchmarks/pipeline.py [--repos 100,1000] [--days 30] \
        [--latency-ms 30] [--concurrency 8] [--trend-days 365] [--backfill-max-repos 1000] [--routes]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's drift_pipeline, whichever the environment installed
RESULTS = ROOT / "benchmarks" / "results"
END_DATE = date(2026, 3, 31)  # a Tuesday: the scanned "next day" is a working day
TOKEN = "sandbox-token"
ORG = "acme"
CHANGE_RATE = 0.02


def RATE_LIMIT(repos: int) -> int:
    """GitHub's hourly core limit of an App installation on an org of ``repos`` repos."""
    return min(5000 + 50 * max(repos - 20, 0), 12500)


TARGETS = {  # issue #13, this 2-core machine
    "first_rate_limited_per_repo": 8,
    "next_rate_limited_per_unchanged_repo": 1,
    "next_wall_s_at_1000": 60,
    "first_wall_s_at_1000": 180,
    "peak_rss_mib_at_10000": 1024,
    "trend_query_ms_at_1000": 200,
}

_SEED = """
import json, sys
from datetime import date
from drift_pipeline.sandbox.seed import seed_org
aws = sys.argv[5] or None
r = seed_org(sys.argv[1], repos=int(sys.argv[2]), days=int(sys.argv[3]), end_date=date.fromisoformat(sys.argv[4]),
             aws=aws, change_rate=float(sys.argv[6]))
changed = {}
for e in r.events + r.background_commits:
    changed.setdefault(e.day.isoformat(), set()).add(e.repo)
print(json.dumps({"listed": len(r.repos) + 2, "in_scope": sum(x.in_scope for x in r.repos),
                  "start": r.start_date.isoformat(), "end": r.end_date.isoformat(),
                  "changed_by_day": {d: len(v) for d, v in changed.items()}}))
"""


# -- the servers, each in its own process ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(proc: subprocess.Popen[bytes], probe: Any, what: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            probe()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"{what} did not start; see {log}") from None
            time.sleep(0.2)


class Server:
    """A child process serving HTTP on a free port of 127.0.0.1."""

    def __init__(self, argv: list[str], log: Path, probe_path: str, what: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, *argv, "--port", str(self.port)], stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        _wait_up(self.proc, lambda: urllib.request.urlopen(self.url + probe_path, timeout=5).close(), what, log)

    def peak_rss_mib(self) -> float:
        """The process's peak resident set (VmHWM), MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class GitHubServer(Server):
    def __init__(self, state: Path, log: Path):
        super().__init__(
            ["-m", "drift_pipeline.cli", "sandbox", "serve", "--state", str(state)],
            log,
            "/_sandbox/requests",
            "the GitHub sandbox",
        )

    def control(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(
            f"{self.url}/_sandbox/{what}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())


class AwsServer(Server):
    def __init__(self, log: Path):
        super().__init__(["-m", "drift_pipeline.sandbox.aws"], log, "/moto-api/", "the AWS sandbox")


def _aws_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "MOTO_ACCOUNT_ID")}
    env.update(AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_DEFAULT_REGION="us-east-1")
    return env


# -- one scan, in a child process ----------------------------------------------------------------


def run_scan(db: str, api: str, aws: str, first: str, last: str, concurrency: int) -> dict[str, Any]:
    """The body of ``--scan``: materialise every asset for ``first..last`` into ``db``."""
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from drift_pipeline.definitions import ASSETS
    from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource, ScanScopeResource

    _clock_at(datetime.fromisoformat(last + "T00:00:00+00:00") + timedelta(days=1, hours=2))
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
    started, cpu0 = time.perf_counter(), _cpu()
    result = dg.materialize(
        ASSETS,
        partition_key=first if first == last else None,
        tags=tags,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    return {
        "success": result.success,
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(_cpu() - cpu0, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _clock_at(at: datetime) -> None:
    """The scans' clock, as the nightly run of the last day sees it: two hours after that day.

    Process settings and AWS are live-only (observed when the day ended at most a day before
    "now"); the seeded window ends on a fixed date so that runs compare, so the live-only scans
    are told that it is the night after it, and read what the sandboxes serve now, as they would.
    """
    import drift_pipeline.scans.infra as infra_scan
    import drift_pipeline.scans.process as process_scan

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:  # type: ignore[override]
            moment = at.astimezone(tz) if tz is not None else at.replace(tzinfo=None)
            return (
                cls.fromtimestamp(moment.timestamp(), tz) if tz is not None else cls.fromisoformat(moment.isoformat())
            )

    for module in (process_scan, infra_scan):
        module.datetime = Clock  # type: ignore[attr-defined,misc]


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def scan(
    gh: GitHubServer, aws: AwsServer, db: Path, first: date, last: date, args: argparse.Namespace, repos: int
) -> dict[str, Any]:
    gh.control("POST", "requests/reset")
    # Each phase starts with a full hour's budget, a GitHub App installation's on an org of this
    # size (5,000 + 50 per repo above 20, at most 12,500): a personal token's 5,000 an hour does not
    # cover the first full scan of 1,000 repos, whose remaining repos then fail (each its own).
    budget = args.core_limit or RATE_LIMIT(repos)
    gh.control("POST", "rate_limits", {"reset": True, "core": budget})
    started = time.perf_counter()
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--scan",
            json.dumps([str(db), gh.url, aws.url, first.isoformat(), last.isoformat(), args.concurrency]),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=_aws_env(),
        cwd=ROOT,
    )
    lines = child.stdout.strip().splitlines()
    if child.returncode or not lines:
        raise SystemExit(f"scan {first}..{last} failed:\n{child.stderr[-3000:]}")
    out = json.loads(lines[-1])
    if not out["success"]:
        raise SystemExit(f"the Dagster run {first}..{last} failed:\n{child.stderr[-3000:]}")
    counts = gh.control("GET", "requests")
    total, not_modified = counts["total"], counts["not_modified"]
    statuses = counts["by_status"]
    return {
        **out,
        "process_wall_s": round(time.perf_counter() - started, 2),
        "requests": total,
        "not_modified": not_modified,
        "rate_limited": total - not_modified,
        "throttled": statuses.get("403", 0) + statuses.get("429", 0),
        "rate_limited_per_repo": round((total - not_modified) / repos, 2),
        "not_modified_per_repo": round(not_modified / repos, 2),
        "by_route": counts["by_route"],
        "sandbox_peak_rss_mib": round(gh.peak_rss_mib(), 1),
    }


# -- storage -----------------------------------------------------------------------------------------


def storage(db: Path, repos: int, days: int) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        keys, cache_bytes = con.execute(
            "SELECT count(*), coalesce(sum(strlen(key) + strlen(value)), 0) FROM source_cache"
        ).fetchone() or (0, 0)
        blobs = con.execute("SELECT count(*) FROM blobs").fetchone() if _has(con, "blobs") else None
    size = db.stat().st_size
    return {
        "db_bytes": size,
        "db_bytes_per_repo_day": round(size / (repos * days)),
        "source_cache_keys": keys,
        "source_cache_bytes": cache_bytes,
        "source_cache_bytes_per_repo_day": round(cache_bytes / (repos * days)),
        "blobs": blobs[0] if blobs else None,
    }


def _has(con: Any, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0])


# -- trend queries over generated findings -----------------------------------------------------------

RULES = [  # (category, rule, severity)
    ("code", "check_toml_changed", "warning"),
    ("code", "dependency_changed", "warning"),
    ("code", "workflow_changed", "info"),
    ("code", "invalid_config", "error"),
    ("process", "branch_protection_missing", "error"),
    ("process", "required_reviews_too_low", "warning"),
    ("process", "review_bypassed", "error"),
    ("process", "commit_convention_violated", "warning"),
    ("infra", "resource_missing", "error"),
    ("infra", "attribute_drift", "warning"),
]
TEAMS = ["orders", "web", "payments", "data", "platform"]
TIERS = ["production", "internal", "prototype"]


def readme_queries() -> list[tuple[str, str]]:
    """The README's trend questions, as its test runs them (one list, never copied)."""
    sys.path.insert(0, str(ROOT))
    from drift_pipeline_tests.test_trends import README_QUERIES

    return [(title, sql) for title, sql, _ in README_QUERIES]


def generate_trends(db: Path, repos: int, days: int, seed: int = 0) -> dict[str, Any]:
    """``days`` days x ``repos`` repos of inventory, status, coverage, findings and filed issues.

    Each repo opens a drift episode with probability 0.1 a day (rule drawn from :data:`RULES`),
    which stays for a geometric number of days (mean 20): about two open findings per repo-day.
    Process settings and infra are observed on every day but one in seven (a backfilled day).
    """
    import pandas as pd

    from drift_pipeline.store import DriftStore

    rng = random.Random(seed)
    start = END_DATE - timedelta(days=days - 1)
    names = [f"service-{i:05d}" for i in range(repos)]
    open_: dict[str, list[tuple[str, int, str]]] = {n: [] for n in names}  # repo -> [(fp, rule idx, ends on)]
    started = time.perf_counter()
    ledger: list[dict[str, Any]] = []
    issue = 0
    findings: dict[str, list[Any]] = {c: [] for c in ("scan_date", "repo", "category", "rule", "severity", "fp")}
    for d in range(days):
        day = start + timedelta(days=d)
        for n in names:
            eps = [e for e in open_[n] if e[1] > d]
            if rng.random() < 0.1:
                k = rng.randrange(len(RULES))
                length = 1 + int(rng.expovariate(1 / 20))
                eps.append((f"{n}:{k}:{d}", d + length, str(k)))
                if rng.random() < 0.5:
                    issue += 1
                    ledger.append(
                        {
                            "scan_date": day,
                            "org": ORG,
                            "repo": n,
                            "category": RULES[k][0],
                            "action": "created",
                            "number": issue,
                            "url": f"https://github.example/{ORG}/{n}/issues/{issue}",
                            "fingerprints": json.dumps([f"{n}:{k}:{d}"]),
                        }
                    )
            open_[n] = eps
            for fp, _end, k in eps:
                category, rule, severity = RULES[int(k)]
                for col, value in zip(findings, (day, n, category, rule, severity, fp), strict=True):
                    findings[col].append(value)
    rows = len(findings["fp"])
    first = start.isoformat()
    with DriftStore(db) as store, store.transaction() as con:  # the store's schema, written in bulk
        con.execute(
            f"""INSERT INTO repo_inventory (scan_date, org, repo, team, tier, in_scope)
            SELECT DATE '{first}' + CAST(d AS INTEGER), '{ORG}', printf('service-%05d', i),
                   ['{"','".join(TEAMS)}'][i % {len(TEAMS)} + 1], ['{"','".join(TIERS)}'][i % {len(TIERS)} + 1], true
            FROM range({days}) t(d), range({repos}) r(i)"""
        )
        con.execute(
            f"""INSERT INTO process_scan_status (scan_date, org, repo, mode)
            SELECT DATE '{first}' + CAST(d AS INTEGER), '{ORG}', printf('service-%05d', i), 'read'
            FROM range({days}) t(d), range({repos}) r(i)"""
        )
        con.execute(
            f"""INSERT INTO coverage (scan_date, org, domain, observed, reason)
            SELECT DATE '{first}' + CAST(d AS INTEGER), '{ORG}', dom, d % 7 != 3, 'live-only'
            FROM range({days}) t(d), (VALUES ('process_settings'), ('infra')) v(dom)"""
        )
        frame = pd.DataFrame(findings)
        con.register("_findings", frame)
        con.execute(
            f"""INSERT INTO drift_findings (scan_date, org, repo, project, category, rule, severity, message,
                                            subject, fingerprint)
            SELECT scan_date, '{ORG}', repo, '.', category, rule, severity, rule || ' in ' || repo, fp, fp
            FROM _findings"""
        )
        con.unregister("_findings")
        frame = pd.DataFrame(ledger)
        con.register("_ledger", frame)
        cols = ", ".join(frame.columns)
        con.execute(
            f"INSERT INTO filed_issues ({cols}) SELECT * REPLACE (fingerprints::JSON AS fingerprints) FROM _ledger"
        )
        con.unregister("_ledger")
    return {
        "days": days,
        "findings_rows": rows,
        "filed_issues": len(ledger),
        "generated_s": round(time.perf_counter() - started, 1),
    }


def time_trends(db: Path, runs: int = 3) -> list[dict[str, Any]]:
    """Each README query on a fresh read-only connection: the first run, then the best and the median
    of ``runs`` more."""
    import statistics

    import duckdb

    out = []
    for title, sql in readme_queries():
        with duckdb.connect(str(db), read_only=True) as con:
            t = time.perf_counter()
            n = len(con.execute(sql).fetchall())
            first = time.perf_counter() - t
            warm = []
            for _ in range(runs):
                t = time.perf_counter()
                con.execute(sql).fetchall()
                warm.append(time.perf_counter() - t)
        out.append(
            {
                "query": title,
                "rows": n,
                "first_ms": round(first * 1000, 1),
                "best_ms": round(min(warm) * 1000, 1),
                "median_ms": round(statistics.median(warm) * 1000, 1),
            }
        )
    return out


# -- one size ----------------------------------------------------------------------------------------


def bench_size(repos: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    root = tmp / f"n{repos}"
    root.mkdir()
    out: dict[str, Any] = {"repos": repos}
    aws = AwsServer(root / "aws.log")
    gh = None
    try:
        t = time.perf_counter()
        seeded = subprocess.run(
            [
                sys.executable,
                "-c",
                _SEED,
                str(root / "state"),
                str(repos),
                str(args.days),
                END_DATE.isoformat(),
                aws.url,
                str(CHANGE_RATE),
            ],
            check=False,
            capture_output=True,
            text=True,
            env=_aws_env(),
            cwd=ROOT,
        )
        if seeded.returncode:
            raise SystemExit(f"seeding {repos} repos failed:\n{seeded.stderr[-3000:]}")
        org = json.loads(seeded.stdout.strip().splitlines()[-1])
        out["seed"] = {
            "seconds": round(time.perf_counter() - t, 1),
            "listed": org["listed"],
            "in_scope": org["in_scope"],
            "days": args.days,
        }
        first, last = date.fromisoformat(org["start"]), date.fromisoformat(org["end"])
        changed = org["changed_by_day"].get(last.isoformat(), 0)
        out["seed"]["changed_on_next_day"] = changed
        _say(f"N={repos}: seeded {org['listed']} repos ({org['in_scope']} in scope) in {out['seed']['seconds']}s")
        gh = GitHubServer(root / "state", root / "sandbox.log")
        gh.control("POST", "faults", {"latency_ms": args.latency_ms})
        day1 = last - timedelta(days=1)
        db = root / "scan.duckdb"
        out["first_scan"] = scan(gh, aws, db, day1, day1, args, repos)
        _say(f"N={repos}: first full scan {_brief(out['first_scan'])}")
        out["next_scan"] = scan(gh, aws, db, last, last, args, repos)
        unchanged = max(1, repos - changed)
        out["next_scan"]["changed_repos"] = changed
        # an upper bound: every rate-limited request charged to the unchanged repos
        out["next_scan"]["rate_limited_per_unchanged_repo_at_most"] = round(
            out["next_scan"]["rate_limited"] / unchanged, 2
        )
        _say(f"N={repos}: next day's scan {_brief(out['next_scan'])}")
        if repos <= args.backfill_max_repos:
            bdb = root / "backfill.duckdb"
            out["backfill"] = scan(gh, aws, bdb, first, last, args, repos)
            out["backfill"]["days"] = args.days
            out["storage"] = storage(bdb, repos, args.days)
            _say(f"N={repos}: {args.days}-day backfill {_brief(out['backfill'])}")
    finally:
        if gh is not None:
            gh.stop()
        aws.stop()
    if args.no_trends:
        return out
    return bench_trends(repos, args, root, out)


def bench_trends(repos: int, args: argparse.Namespace, root: Path, out: dict[str, Any]) -> dict[str, Any]:
    """The trend phase of one size: generate the findings, time the README queries."""
    tdays = args.trend_days if repos <= 1000 else args.trend_days_large
    tdb = root / "trends.duckdb"
    out["trends"] = generate_trends(tdb, repos, tdays)
    out["trends"]["queries"] = time_trends(tdb, runs=args.trend_runs)
    out["trends"]["db_bytes"] = tdb.stat().st_size
    _say(
        f"N={repos}: trends over {tdays} days ({out['trends']['findings_rows']:,} findings): "
        + ", ".join(f"{q['best_ms']:.0f}ms" for q in out["trends"]["queries"])
    )
    return out


def _brief(r: dict[str, Any]) -> str:
    return (
        f"{r['wall_s']}s, {r['requests']} requests ({r['rate_limited_per_repo']}/repo rate-limited, "
        f"{r['not_modified_per_repo']}/repo 304), peak RSS {r['peak_rss_mib']} MiB"
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- growth, table, facts ----------------------------------------------------------------------------


def growth(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """For each cost, its ratio per 10x repos and whether that is linear (ratio within 0.5..1.6 of N's)."""
    costs = {
        "first_scan.wall_s": lambda s: s["first_scan"]["wall_s"],
        "first_scan.requests": lambda s: s["first_scan"]["requests"],
        "first_scan.peak_rss_mib": lambda s: s["first_scan"]["peak_rss_mib"],
        "next_scan.wall_s": lambda s: s["next_scan"]["wall_s"],
        "next_scan.requests": lambda s: s["next_scan"]["requests"],
        "next_scan.peak_rss_mib": lambda s: s["next_scan"]["peak_rss_mib"],
        "backfill.wall_s": lambda s: s["backfill"]["wall_s"],
        "backfill.requests": lambda s: s["backfill"]["requests"],
    }
    for i in range(len(readme_queries())):
        costs[f"trend_query_{i + 1}.best_ms"] = lambda s, i=i: s["trends"]["queries"][i]["best_ms"]
    out: dict[str, Any] = {}
    for name, get in costs.items():
        points = []
        for s in sorted(sizes, key=lambda s: s["repos"]):
            try:
                points.append((s["repos"], get(s)))
            except (KeyError, IndexError):
                continue
        if len(points) < 2:
            continue
        steps = []
        for (n0, v0), (n1, v1) in zip(points, points[1:], strict=False):
            scale = n1 / n0
            ratio = v1 / v0 if v0 else None
            steps.append({"from": n0, "to": n1, "ratio": round(ratio, 2) if ratio else None, "repos_ratio": scale})
        linear = all(st["ratio"] is not None and st["ratio"] <= 1.6 * st["repos_ratio"] for st in steps)
        out[name] = {
            "points": points,
            "steps": steps,
            "at_most_linear": linear,
            "sublinear": all(st["ratio"] is not None and st["ratio"] < 0.5 * st["repos_ratio"] for st in steps),
        }
    return out


def facts() -> dict[str, Any]:
    import dagster
    import duckdb

    # a copy of a commit outside git (an export) names it in DRIFT_BENCH_COMMIT
    commit = (
        os.environ.get("DRIFT_BENCH_COMMIT")
        or subprocess.run(
            ["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    )
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--", "drift_pipeline"],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    )
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


def table(sizes: list[dict[str, Any]]) -> str:
    head = f"{'repos':>6} {'phase':<14} {'wall s':>8} {'req':>7} {'RL/repo':>8} {'304/repo':>8} {'RSS MiB':>8} {'sbx MiB':>8}"
    lines = [head, "-" * len(head)]
    for s in sizes:
        for key, label in (("first_scan", "first full"), ("next_scan", "next day"), ("backfill", "backfill")):
            r = s.get(key)
            if not r:
                continue
            if key == "backfill":
                label = f"backfill {r['days']}d"
            lines.append(
                f"{s['repos']:>6} {label:<14} {r['wall_s']:>8.1f} {r['requests']:>7} {r['rate_limited_per_repo']:>8.2f} "
                f"{r['not_modified_per_repo']:>8.2f} {r['peak_rss_mib']:>8.0f} {r['sandbox_peak_rss_mib']:>8.0f}"
            )
        if "next_scan" in s:
            lines.append(
                f"{'':>6} {'':<14} next day: {s['next_scan']['changed_repos']} changed repos, "
                f"at most {s['next_scan']['rate_limited_per_unchanged_repo_at_most']} rate-limited per unchanged repo"
            )
        if "storage" in s:
            st = s["storage"]
            lines.append(
                f"{'':>6} {'storage':<14} DuckDB {st['db_bytes_per_repo_day']:,} B/repo-day, source cache "
                f"{st['source_cache_bytes_per_repo_day']:,} B/repo-day ({st['source_cache_keys']:,} keys)"
            )
        t = s.get("trends") or {"queries": []}
        for q in t["queries"]:
            lines.append(
                f"{s['repos']:>6} {'trend ' + str(t['days']) + 'd':<14} {q['best_ms']:>8.1f} ms (first {q['first_ms']:.0f} ms)  {q['query']}"
            )
    return "\n".join(lines)


def merge(paths: list[Path], out: Path) -> None:
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
    machine = merged["machine"]
    path = (
        out / f"pipeline-{machine['date'][:10]}-{machine['commit'][:8]}-{'-'.join(str(s['repos']) for s in sizes)}.json"
    )
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=1, default=str) + "\n")
    print(f"results: {path}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--scan":
        db, api, aws, first, last, concurrency = json.loads(sys.argv[2])
        profile = os.environ.get("DRIFT_BENCH_PROFILE")  # a directory: one cProfile dump per scan
        if profile:
            import cProfile

            with cProfile.Profile() as prof:
                out = run_scan(db, api, aws, first, last, int(concurrency))
            prof.dump_stats(Path(profile) / f"{Path(db).stem}-{first}-{last}.prof")
        else:
            out = run_scan(db, api, aws, first, last, int(concurrency))
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", default="100,1000", help="comma-separated org sizes (product repos, >= 8)")
    parser.add_argument("--days", type=int, default=30, help="days of seeded history (the backfill's window)")
    parser.add_argument("--latency-ms", type=int, default=30, help="latency the sandbox adds to every request")
    parser.add_argument("--concurrency", type=int, default=8, help="GitHub requests in flight at most (1..32)")
    parser.add_argument("--trend-days", type=int, default=365, help="days of generated findings")
    parser.add_argument("--trend-days-large", type=int, default=90, help="days of generated findings above 1,000 repos")
    parser.add_argument(
        "--core-limit",
        type=int,
        default=0,
        help="the sandbox's hourly request budget per phase (default: a GitHub App installation's on an org "
        "of the size, at most 12,500); a larger one measures the machine's costs at sizes whose first scan "
        "GitHub's budget would spread over hours",
    )
    parser.add_argument("--backfill-max-repos", type=int, default=1000, help="skip the backfill above this size")
    parser.add_argument("--no-trends", action="store_true", help="skip the trend queries")
    parser.add_argument(
        "--trends-only", action="store_true", help="run only the trend phase (no sandbox, no scans) at each --repos"
    )
    parser.add_argument("--trend-runs", type=int, default=3, help="timed runs of each trend query after the first")
    parser.add_argument(
        "--merge", nargs="+", type=Path, help="merge results JSON files of runs at other sizes into one (no run)"
    )
    parser.add_argument("--routes", action="store_true", help="also print requests by route")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory of the JSON results")
    args = parser.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    sizes = [int(x) for x in args.repos.split(",") if x.strip()]
    if any(n < 8 for n in sizes) or args.days < 2 or not 1 <= args.concurrency <= 32 or args.trend_runs < 1:
        parser.error("need every --repos >= 8, --days >= 2, --concurrency 1..32 and --trend-runs >= 1")
    if args.trends_only and args.no_trends:
        parser.error("--trends-only and --no-trends exclude each other")
    machine = facts()
    results = []
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        for n in sizes:
            if args.trends_only:
                root = Path(tmp) / f"n{n}"
                root.mkdir()
                results.append(bench_trends(n, args, root, {"repos": n}))
            else:
                results.append(bench_size(n, args, Path(tmp)))
    print(table(results))
    if args.routes:
        for s in results:
            for key in ("first_scan", "next_scan", "backfill"):
                if key in s:
                    routes = sorted(s[key]["by_route"].items(), key=lambda kv: -kv[1])
                    print(f"{s['repos']} {key}: " + ", ".join(f"{k} {v}" for k, v in routes))
    report = {
        "machine": machine,
        "settings": {
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "core_limit": args.core_limit or "github-app-budget",
            "days": args.days,
            "change_rate": CHANGE_RATE,
            "trend_days": args.trend_days,
            "trend_days_large": args.trend_days_large,
            "trend_runs": args.trend_runs,
            "trends_only": args.trends_only,
        },
        "targets": TARGETS,
        "sizes": results,
        "growth": growth(results),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"pipeline-{machine['date'][:10]}-{machine['commit'][:8]}-{'-'.join(map(str, sizes))}.json"
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"results: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
