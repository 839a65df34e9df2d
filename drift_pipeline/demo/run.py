"""The demo's steps, each printed as it runs (see the package docstring)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drift_pipeline.core.errors import DriftError, ExitCode
from drift_pipeline.demo.serve import (
    QUIET_RUN_CONFIG,
    ROOT,
    catch_interrupts,
    quiet_logs,
    quiet_warnings,
    serve,
    write_workspace,
)
from drift_pipeline.demo.summary import print_summary, repos_line
from drift_pipeline.demo.workdir import DemoBusy, DemoDir, DemoParams, digest, port_answers

ORG = "acme"
SANDBOX_TOKEN = "sandbox-token"  # the GitHub sandbox's own token, not a secret


class DemoFailed(DriftError):
    exit_code = ExitCode.RUNTIME


@dataclass(frozen=True)
class DemoOptions:
    base: Path
    days: int = 60
    repos: int = 12
    seed: int = 0
    port: int = 3000
    no_ui: bool = False
    rebuild: bool = False


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def demo_env(wd: DemoDir, github_url: str, aws_url: str, start: date) -> dict[str, str]:
    return {
        "DAGSTER_HOME": str(wd.home),
        "GITHUB_API_URL": github_url,
        "GITHUB_TOKEN": SANDBOX_TOKEN,
        "DRIFT_ORGS": ORG,
        "DRIFT_DB_PATH": str(wd.db),
        "DRIFT_START_DATE": start.isoformat(),
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }


def _process_started() -> float:
    """``time.monotonic()`` when this process started (interpreter and imports included), where Linux says."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic()
    return time.monotonic() - max(0.0, age)


def run_demo(opts: DemoOptions) -> int:
    """Build (or reuse) the demo, print the summary, serve the UI unless ``no_ui``; the exit code."""
    started = _process_started()
    quiet_logs()
    wd = DemoDir(opts.base)
    try:
        wd.acquire()
    except DemoBusy as exc:
        say(str(exc))
        return int(ExitCode.RUNTIME)
    catch_interrupts()
    try:
        if not opts.no_ui and port_answers(opts.port):
            say(f"port {opts.port} is in use (another demo or program): pass --port, or --no-ui; nothing was changed")
            return int(ExitCode.RUNTIME)
        return _run(opts, wd, started)
    except KeyboardInterrupt:
        # Everything started here stops on the way out (the sandboxes' and dagster dev's context).
        say("interrupted before the demo was ready: everything it started is stopped; the next run rebuilds")
        # For a person (`make demo`), Ctrl-C is how the demo ends: no `make: *** Error`; scripts get 130.
        return int(ExitCode.INTERRUPTED) if opts.no_ui else 0
    finally:
        wd.release()


def _report_payload(report: Any) -> dict[str, Any]:
    """The seed report as compared between builds: without where it was written or moto's own ids."""
    payload: dict[str, Any] = report.to_dict()
    payload.pop("state_dir", None)
    payload.pop("aws", None)
    return payload


def _seed_counts(report: Any) -> tuple[int, int]:
    from drift_pipeline.core.standards.org_config import CONFIG_REPO
    from drift_pipeline.sandbox.seed import REGISTRY_REPO

    listed = len({r["name"] for r in report["repos"]} | {REGISTRY_REPO, CONFIG_REPO})
    return listed, sum(1 for r in report["repos"] if r["in_scope"])


@contextmanager
def _sandboxes(wd: DemoDir, ports: dict[str, int]) -> Iterator[tuple[Any, Any]]:
    """The AWS and GitHub sandboxes on the ports of the last build when free (URLs in the store name them)."""
    from drift_pipeline.sandbox.aws import AwsSandbox
    from drift_pipeline.sandbox.github.server import GitHubSandbox

    def start(make: Any, name: str) -> Any:
        port = ports.get(name, 0)
        try:
            return make(port).start()
        except OSError:
            if not port:
                raise
            say(f"port {port} of the last build is taken: the {name} sandbox moves, stored URLs name the old port")
            return make(0).start()

    aws = start(lambda p: AwsSandbox(port=p), "aws")
    try:
        github = start(lambda p: GitHubSandbox(wd.state, port=p), "github")
        try:
            yield aws, github
        finally:
            github.stop()
    finally:
        aws.stop()


def _run(opts: DemoOptions, wd: DemoDir, started: float) -> int:
    from drift_pipeline.sandbox.seed import seed_org

    end = datetime.now(UTC).date() - timedelta(days=1)
    params = DemoParams(ORG, opts.repos, opts.days, opts.seed, end.isoformat())
    manifest = None if opts.rebuild else wd.reusable(params)
    if manifest is None:
        wd.clear()
        wd.home.mkdir(parents=True)
        shutil.copy(ROOT / "dagster.yaml", wd.home / "dagster.yaml")
    wd.dismiss_community_nux()  # also in an instance a build before this one made
    ports = {k: int(v) for k, v in (manifest or {}).get("ports", {}).items()}
    with _sandboxes(wd, ports) as (aws, github):
        say(f"AWS sandbox (moto; {', '.join(f'{k}={v}' for k, v in aws.accounts.items())}) at {aws.url}")
        if manifest is None:
            t = time.monotonic()
            report = seed_org(
                wd.state, org=ORG, repos=opts.repos, days=opts.days, seed=opts.seed, end_date=end, aws=aws
            )
            payload = _report_payload(report)
            wd.scenario.write_text(report.describe())
            say(
                f"seeded {ORG}: {repos_line(ORG, *_seed_counts(payload))} at the end of the window, "
                f"{len(report.events)} scripted events, {report.start_date} .. {report.end_date} "
                f"({time.monotonic() - t:.1f} s; the script: {wd.scenario})"
            )
        else:
            payload = json.loads(wd.report_path.read_text())
            say(
                f"reusing {wd.base} (built {manifest.get('built_at')} in {manifest.get('build_seconds')} s for the "
                f"same org, repos, days, seed and day {end}): no seeding, no backfill (--rebuild starts over)"
            )
            if not opts.no_ui:
                _redeploy_aws(aws, opts, end, payload)
        start = date.fromisoformat(payload["start_date"])
        say(f"GitHub sandbox at {github.url} (token: {SANDBOX_TOKEN})")
        env = demo_env(wd, github.url, aws.url, start)
        os.environ.update(env)
        if manifest is None:
            _build(start, end)
        _file_issues(end, github.url, wd.db)
        print_summary(wd.db, ORG, end, SANDBOX_TOKEN, say)
        elapsed = round(time.monotonic() - started, 1)
        if manifest is None:
            wd.write_manifest(
                params,
                payload,
                ports={"aws": urlsplit(aws.url).port, "github": urlsplit(github.url).port},
                built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                build_seconds=elapsed,
            )
        say(f"{'built' if manifest is None else 'reused'} in {elapsed:.1f} s")
        if opts.no_ui:
            say(
                "the sandboxes stop with this command; to open the issue URLs, serve the GitHub sandbox again: "
                f"drift sandbox serve --state {shlex.quote(str(wd.state))} --port {urlsplit(github.url).port}"
            )
            return 0
        write_workspace(wd.workspace)
        return serve(env, wd.workspace, opts.port, lambda pids: wd.record_serving(pids, opts.port), say)


def _redeploy_aws(aws: Any, opts: DemoOptions, end: date, payload: dict[str, Any]) -> None:
    """moto keeps no state between runs: deploy the same AWS scenario again for the served scans."""
    from drift_pipeline.sandbox.seed import seed_org

    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="drift-demo-") as tmp:
        again = seed_org(Path(tmp), org=ORG, repos=opts.repos, days=opts.days, seed=opts.seed, end_date=end, aws=aws)
    if digest(_report_payload(again)) != digest(payload):
        raise DemoFailed("the seed is not reproducible for these parameters: run again with --rebuild")
    say(f"AWS scenario deployed again to the emulator ({time.monotonic() - t:.1f} s)")


def _build(start: date, end: date) -> None:
    """The history, then today's scan: what a team sees after a backfill and one nightly run.

    The days before ``end`` are one backfill run: code and process activity exactly from git
    history, process settings and AWS recorded as not observed (live-only: they ended too long
    ago). ``end`` (the day that ended at the last UTC midnight, the newest daily partition) is
    then scanned on its own as the nightly schedule scans it today: every domain, live ones
    observed now.
    """
    if start < end:
        t = time.monotonic()
        last = end - timedelta(days=1)
        say(
            f"backfilling {start} .. {last} ({(end - start).days} days) as one run of daily_drift_scan: code and "
            "process activity from git history, process settings and AWS recorded as not observed (live-only) ..."
        )
        _run_daily_scan(
            {
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
                "demo": "backfill",
            },
            "backfill",
        )
        say(f"backfill done ({time.monotonic() - t:.1f} s)")
    t = time.monotonic()
    say(
        f"today's scan of {end} (the newest partition, as the nightly schedule runs it): code, process "
        "settings and activity, AWS in dev, staging and prod, live domains observed now ..."
    )
    _run_daily_scan({"demo": "today"}, "today's scan", partition_key=end.isoformat())
    say(f"today's scan done ({time.monotonic() - t:.1f} s)")


def _run_daily_scan(tags: dict[str, str], what: str, partition_key: str | None = None) -> None:
    """One run of the daily job (a partition or a single-run range, by its tags) in the demo's instance."""
    quiet_warnings()
    import dagster as dg

    from drift_pipeline.definitions import defs

    job = defs.get_job_def("daily_drift_scan")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        partition_key=partition_key,
        tags=tags,
        run_config=QUIET_RUN_CONFIG,
        raise_on_error=False,
    )
    if not result.success:
        raise DemoFailed(f"the {what} run {result.run_id} failed: see it in the Dagster UI or the log above")


def _file_issues(day: date, api_url: str, db: Path) -> None:
    """File ``day``'s findings through the ``file_drift_issues`` job, under the run key its sensor uses."""
    quiet_warnings()
    import dagster as dg

    from drift_pipeline.defs.issues import file_drift_issues, run_key
    from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource
    from drift_pipeline.store import DriftStore

    with DriftStore(db, read_only=True) as store:
        key = run_key(store, day)
    if key is None:
        say(f"no findings on {day}: no issue to file")
        return
    instance = dg.DagsterInstance.get()
    done = instance.get_run_records(
        dg.RunsFilter(tags={"dagster/run_key": key}, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1
    )
    if done:
        say(f"issues of {day} already filed by run {done[0].dagster_run.run_id[:8]} (run key {key})")
        return
    # The sandbox has no secondary limit: no pause between writes (production keeps the default).
    resources = {
        "github": GitHubResource(api_url=api_url, token=dg.EnvVar("GITHUB_TOKEN"), seconds_between_writes=0.0),
        "store": DriftStoreResource(database=str(db)),
    }
    job = dg.Definitions(jobs=[file_drift_issues], resources=resources).get_job_def("file_drift_issues")
    t = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        partition_key=day.isoformat(),
        tags={"dagster/run_key": key, "demo": "filing"},
        run_config=QUIET_RUN_CONFIG,
        raise_on_error=False,
    )
    if not result.success:
        raise DemoFailed(f"the file_drift_issues run {result.run_id} for {day} failed: see it in the Dagster UI")
    say(f"filed the issues of {day} with file_drift_issues ({time.monotonic() - t:.1f} s)")
