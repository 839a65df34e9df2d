"""Two filers at once file one issue: real processes (``drift process scan``, the ``file_drift_issues``
job) against one DuckDB file or one DuckLake, over the sandbox's HTTP; a filer that died holding
its claim frees it, and a live one makes the other wait a bounded time, then say so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from drift_pipeline.issues.claim import ENV_WAIT, FilingLocks, group_key, lock_wait
from drift_pipeline.store import DriftStore
from drift_pipeline.store.lake import LakeConfig, LakeStore
from drift_pipeline_tests.issues.conftest import DAY1, code_finding
from drift_pipeline_tests.pipeline import test_process_settings as shared
from drift_pipeline_tests.pipeline.processfixture import DAY
from drift_pipeline_tests.sandbox.conftest import github_client

porg, pserver, run = shared.porg, shared.pserver, shared.run  # the process org of the pipeline tests
PROCS = "drift_pipeline_tests.issues.filing_procs"


def cli_env(url: str, db: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "GITHUB_API_URL": url, "GITHUB_TOKEN": "sandbox-token", "DRIFT_DB_PATH": str(db), **extra}
    env.pop("DRIFT_MARKER_KEY", None)  # the key is made once, in the store, by whichever filer comes first
    return env


def process_scan(env: dict[str, str], repo: str = "weak") -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "drift_pipeline.cli", "process", "scan", "--org", "acme", "--repo", repo]
    args += ["--date", DAY.isoformat(), "--all", "--json"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def process_issues(url: str, repo: str) -> list:
    return list(github_client(url).get_repo(f"acme/{repo}").get_issues(state="all", labels=["drift:process"]))


def holder(spec: dict[str, str], key: str) -> subprocess.Popen[str]:
    """A process holding the filing lock of ``key`` (our FilingLocks), once it has said so."""
    proc = subprocess.Popen(
        [sys.executable, "-m", PROCS, "hold", json.dumps(spec), key], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_two_scans_started_together_file_one_issue(run, tmp_path):
    server = run.server
    server.set_faults({"latency_ms": 150})  # every answer slow: the lookup-to-create window is wide
    env = cli_env(server.url, tmp_path / "drift.duckdb")
    procs = [process_scan(env) for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    server.clear_faults()
    assert [p.returncode for p in procs] == [1, 1], [err[-2000:] for _, err in outs]
    filed = [i for out, _ in outs for i in json.loads(out)["issues"]]
    [issue] = process_issues(server.url, "weak")
    assert sorted(i["action"] for i in filed) == ["created", "found"]
    assert {i["number"] for i in filed} == {issue.number}
    with duckdb.connect(str(tmp_path / "drift.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT action, number FROM filed_issues ORDER BY action").fetchall()
    assert rows == [("created", issue.number), ("found", issue.number)]


def test_a_live_claimant_bounds_the_wait_and_a_killed_one_frees_the_claim(run, tmp_path):
    server, db = run.server, tmp_path / "drift.duckdb"
    DriftStore(db).close()
    held = holder({"db": str(db)}, group_key("acme", "bare", "process"))
    try:
        started = time.monotonic()
        busy = process_scan(cli_env(server.url, db, **{ENV_WAIT: "1.5"}), repo="bare")
        out, err = busy.communicate(timeout=240)
        assert busy.returncode == 3, err[-2000:]  # a filing failure: the run failed, nothing was filed
        assert time.monotonic() - started < 60
        lock = FilingLocks(DriftStore(db)).path(group_key("acme", "bare", "process"))
        assert f"another filer held the lock {lock} for acme/bare process longer than 1.5s ({ENV_WAIT})" in err
        assert "Traceback" not in err and process_issues(server.url, "bare") == []
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT action FROM filed_issues").fetchall() == [("failed",)]
    finally:
        held.send_signal(signal.SIGKILL)  # dies inside its critical section: the kernel lets go of the lock
        held.wait(30)
    started = time.monotonic()
    again = process_scan(cli_env(server.url, db), repo="bare")  # the default wait (120 s) is never needed
    out, err = again.communicate(timeout=240)
    assert again.returncode == 1, err[-2000:]
    assert time.monotonic() - started < 60
    assert [i["action"] for i in json.loads(out)["issues"]] == ["created"]
    assert len(process_issues(server.url, "bare")) == 1


def test_two_filing_jobs_on_one_lake_file_one_issue(sandbox, tmp_path):
    config = LakeConfig.parse(f"sqlite:///{tmp_path}/catalog.sqlite", str(tmp_path / "data"))
    with LakeStore(config) as lake:
        lake.replace_day(DAY1, "acme", {"drift_findings": [code_finding(DAY1, "svc")]})
    spec = {"catalog": config.catalog, "data": config.data}
    sandbox.set_faults({"latency_ms": 150})
    args = [sys.executable, "-m", PROCS, "job", json.dumps(spec), DAY1.isoformat(), sandbox.url]
    args += [str(tmp_path / "barrier"), "2"]
    env = {k: v for k, v in os.environ.items() if k != "DRIFT_MARKER_KEY"}
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    outs = [p.communicate(timeout=240) for p in procs]
    sandbox.clear_faults()
    assert [p.returncode for p in procs] == [0, 0], [err[-3000:] for _, err in outs]
    counts = sorted((json.loads(out.strip().splitlines()[-1]) for out, _ in outs), key=json.dumps)
    assert counts == [{"created": 1}, {"found": 1}]
    assert len(list(github_client(sandbox.url).get_repo("acme/svc").get_issues(state="all"))) == 1
    with LakeStore(config, read_only=True) as lake:
        assert sorted(r["action"] for r in lake.rows("SELECT action FROM filed_issues")) == ["created", "found"]
        assert len(lake.rows("SELECT secret FROM marker_keys")) == 1  # one key, made under the claim


@pytest.mark.parametrize("raw", ["-1", "nan", "inf", "soon", "3601"])
def test_a_bad_lock_wait_is_a_clear_usage_error(raw):
    from drift_pipeline.core.errors import UsageError

    with pytest.raises(UsageError, match=f"{ENV_WAIT}=.*expected the seconds a filer waits for another, 0 to 3600"):
        lock_wait({ENV_WAIT: raw})
    assert lock_wait({ENV_WAIT: " 2.5 "}) == 2.5 and lock_wait({}) == 120
