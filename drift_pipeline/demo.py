"""``make demo``: a realistic org in the sandbox, its history backfilled, the Dagster UI served.

Steps, each printed as it runs:

1. start the sandboxes in this process: the GitHub API server and moto with three AWS accounts;
2. seed the demo org ``acme`` (``drift sandbox seed``) with ``--days`` days ending yesterday (UTC);
3. backfill every day of the window as one run of the ``daily_drift_scan`` job, recorded in a
   local Dagster instance (``.demo/dagster_home``) and written to ``.demo/drift.duckdb``;
4. print what was found, then serve ``dagster dev`` on http://127.0.0.1:3000 with the same
   environment (schedules and sensors run there against the sandbox) until Ctrl-C.

``--no-serve`` stops after step 3 (CI uses it). Everything lives under ``.demo/``, rebuilt on
every run, so the demo is the same each time for the same day.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORG = "acme"


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def demo_env(base: Path, github_url: str, aws_url: str, start: date) -> dict[str, str]:
    return {
        "DAGSTER_HOME": str(base / "dagster_home"),
        "GITHUB_API_URL": github_url,
        "GITHUB_TOKEN": "sandbox-token",  # the sandbox's own token, not a secret
        "DRIFT_ORGS": ORG,
        "DRIFT_DB_PATH": str(base / "drift.duckdb"),
        "DRIFT_START_DATE": start.isoformat(),
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }


def backfill(start: date, end: date) -> None:
    """Run the daily job once over the whole window (a single-run backfill)."""
    import dagster as dg

    from drift_pipeline.definitions import defs

    job = defs.get_job_def("daily_drift_scan")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
            "demo": "backfill",
        },
        raise_on_error=False,
    )
    if not result.success:
        raise SystemExit("[demo] the backfill run failed: see the run in the Dagster UI or the log above")


def summary(db_path: Path, report_text: str, base: Path) -> None:
    from drift_pipeline.store import DriftStore

    (base / "SCENARIO.md").write_text(report_text)
    with DriftStore(db_path, read_only=True) as store:
        rows = store.rows(
            "SELECT scan_date, rule, count(*) AS n FROM drift_findings GROUP BY ALL ORDER BY scan_date, rule"
        )
        inv = store.rows(
            "SELECT count(*) AS repos, count(*) FILTER (in_scope) AS in_scope FROM repo_inventory "
            "WHERE scan_date = (SELECT max(scan_date) FROM repo_inventory)"
        )[0]
    say(f"latest inventory: {inv['repos']} repos, {inv['in_scope']} in scope")
    say("findings per day (drift_findings):")
    for r in rows:
        print(f"         {r['scan_date']}  {r['rule']:<28} {r['n']}")
    say(f"what the seed scripted (and the scans should find): {base / 'SCENARIO.md'}")
    say(f"query trends: duckdb {db_path}  (see README, 'Querying trends')")


def serve(env: dict[str, str], port: int) -> int:
    say(f"Dagster UI on http://127.0.0.1:{port}  (Ctrl-C stops the UI and the sandboxes)")
    cmd = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "drift_pipeline.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    # dagster dev started from a script ignores SIGINT/SIGTERM unless given default handlers.
    child = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **env},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 (no threads yet)
    )
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            return child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            return 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drift_pipeline.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / ".demo", help="working folder (rebuilt)")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repos", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--no-serve", action="store_true", help="stop after the backfill")
    args = parser.parse_args(argv)

    from drift_pipeline.sandbox.aws import AwsSandbox
    from drift_pipeline.sandbox.github.server import GitHubSandbox
    from drift_pipeline.sandbox.seed import seed_org

    base = args.dir.resolve()
    if base.exists():
        shutil.rmtree(base)
    (base / "dagster_home").mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", base / "dagster_home" / "dagster.yaml")
    end = datetime.now(UTC).date() - timedelta(days=1)

    with AwsSandbox() as aws:
        say(f"AWS sandbox (moto, accounts {', '.join(f'{k}={v}' for k, v in aws.accounts.items())}) at {aws.url}")
        report = seed_org(
            base / "state", org=ORG, repos=args.repos, days=args.days, seed=args.seed, end_date=end, aws=aws
        )
        say(
            f"seeded {ORG}: {len(report.repos)} repos, {len(report.events)} scripted events, "
            f"{report.start_date} .. {report.end_date}"
        )
        with GitHubSandbox(base / "state") as github:
            say(f"GitHub sandbox at {github.url} (token: sandbox-token)")
            env = demo_env(base, github.url, aws.url, report.start_date)
            os.environ.update(env)
            say(f"backfilling {report.start_date} .. {report.end_date} as one run of daily_drift_scan")
            backfill(report.start_date, report.end_date)
            summary(base / "drift.duckdb", report.describe(), base)
            if args.no_serve:
                return 0
            return serve(env, args.port)


if __name__ == "__main__":
    sys.exit(main())
