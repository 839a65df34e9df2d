"""Progress of long scans: the one hook (``scans.perrepo``), its Dagster log lines, the CLI's bar on stderr."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drift_pipeline.cli import main
from drift_pipeline.defs.assets.inventory import repo_inventory
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.perrepo import progress_logger
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.orgfixture import DAY2, OrgFixture, build_org

BAR = re.compile(r"inventory: +\d+%\|.*\| (\d+)/\1 ")  # tqdm's finished bar: "inventory: 100%|███| 6/6 [..."


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> OrgFixture:
    return build_org(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def github(org: OrgFixture) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(org.state.root) as server:
        yield server


@pytest.fixture
def sandbox(github: GitHubSandbox) -> GitHubSandbox:
    github.clear_faults()
    github.reset_counts()
    github.reset_rate_limits()
    return github


@pytest.fixture(autouse=True)
def cli_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))
    monkeypatch.delenv("DRIFT_PROGRESS", raising=False)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_hook_is_called_once_per_repo_in_completion_order_ending_at_the_total(sandbox, concurrency):
    source = GitHubSource(sandbox.url, "sandbox-token", backoff=0, concurrency=concurrency)
    calls: list[tuple[int, int, str, int, str]] = []

    def hook(done: int, total: int, repo: str, failed: int) -> None:
        calls.append((done, total, repo, failed, threading.current_thread().name))

    result = scan_inventory(source, "acme", day_end(DAY2), progress=hook)
    repos = [r["repo"] for r in result.rows]
    assert len(repos) > 1
    assert sorted(c[2] for c in calls) == sorted(repos)  # once per repo
    assert [c[0] for c in calls] == list(range(1, len(repos) + 1))  # serialised, counting up
    assert {c[1] for c in calls} == {len(repos)} and calls[-1][0] == calls[-1][1]
    assert calls[-1][3] == sum(bool(r.get("error")) for r in result.rows)
    assert all(c[4].startswith("drift-scan") for c in calls) == (concurrency > 1)  # really from the pool


def test_the_hook_counts_the_repos_that_failed(sandbox):
    sandbox.set_faults({"fail_path": {"pattern": "/repos/acme/web/", "status": 500}})
    source = GitHubSource(sandbox.url, "sandbox-token", backoff=0, retries=0, concurrency=4)
    calls: list[tuple[int, int, str, int]] = []
    result = scan_inventory(source, "acme", day_end(DAY2), progress=lambda *c: calls.append(c))
    failed = [r["repo"] for r in result.rows if r.get("error")]
    assert failed == ["web"]
    assert calls[-1][3] == 1 and calls[-1][0] == calls[-1][1] == len(result.rows)


def test_the_log_lines_come_every_tenth_and_at_the_end_with_headroom():
    lines: list[str] = []
    report = progress_logger(lines.append, "acme 2026-03-03", lambda: (4812, 5000))
    for done in range(1, 1001):
        report(done, 1000, f"r{done}", 3)
    assert len(lines) == 10
    assert lines[0] == "acme 2026-03-03: 100/1000 repos, 3 failed, rate limit 4,812/5,000 left"
    assert lines[-1].startswith("acme 2026-03-03: 1000/1000 repos")
    odd: list[str] = []
    quiet = progress_logger(odd.append, "x")  # no headroom known: no rate-limit part
    for done in range(1, 8):
        quiet(done, 7, "r", 0)
    assert odd == [f"x: {d}/7 repos, 0 failed" for d in range(1, 8)]


def test_a_dagster_run_of_repo_inventory_logs_the_progress_with_counts(sandbox, tmp_path):
    pipeline = Pipeline(sandbox, tmp_path / "drift.duckdb")
    result = pipeline.run(DAY2, assets=[repo_inventory])
    assert result.success
    total = len(pipeline.rows("SELECT repo FROM repo_inventory WHERE scan_date = ?", [DAY2]))
    messages = [e.user_message for e in pipeline.instance.all_logs(result.run_id)]
    progress = [m for m in messages if re.match(rf"acme {DAY2}: \d+/{total} repos", m)]
    assert len(progress) == total  # fewer than 10 repos: one line each
    last = re.fullmatch(
        rf"acme {DAY2}: {total}/{total} repos, 0 failed, rate limit ([\d,]+)/([\d,]+) left", progress[-1]
    )
    assert last is not None
    left, limit = (int(g.replace(",", "")) for g in last.groups())
    assert 0 < left < limit  # the sandbox's real headers, after this run's requests
    assert "sandbox-token" not in "\n".join(messages)


def _code_scan(org: OrgFixture, *extra: str) -> list[str]:
    return ["code", "scan", "--path", str(org.state.root / "repos" / "acme"), "--date", DAY2.isoformat(), *extra]


def test_with_json_there_is_no_bar_even_when_forced_and_stdout_is_json(org, capsys, monkeypatch):
    monkeypatch.setenv("DRIFT_PROGRESS", "always")
    main(_code_scan(org, "--json"))
    out, err = capsys.readouterr()
    assert json.loads(out)["schema_version"] == 1
    assert not BAR.search(err) and "%|" not in err


def test_no_bar_when_stderr_is_not_a_terminal_or_with_no_progress(org, capsys, monkeypatch):
    main(_code_scan(org))
    out, err = capsys.readouterr()
    assert "%|" not in err and "%|" not in out and "scanning acme" in err
    monkeypatch.setenv("DRIFT_PROGRESS", "always")
    main(_code_scan(org, "--no-progress"))
    assert "%|" not in capsys.readouterr().err


def test_a_forced_bar_goes_to_stderr_only(org, capsys, monkeypatch):
    monkeypatch.setenv("DRIFT_PROGRESS", "always")
    main(_code_scan(org))
    out, err = capsys.readouterr()
    assert BAR.search(err) and "baseline configs" in err
    assert "%|" not in out


def test_on_a_terminal_the_bar_appears_on_stderr_and_never_on_stdout(org):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal has a size
    env = {k: v for k, v in os.environ.items() if k != "DRIFT_PROGRESS"}
    env["DRIFT_DB_PATH"] = str(org.state.root / "pty-cli.duckdb")
    code = "import sys; from drift_pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *_code_scan(org)], stdout=subprocess.PIPE, stderr=slave, env=env
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    out, _ = proc.communicate(timeout=120)
    os.close(master)
    err = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1  # the day's drift
    assert BAR.search(err), err[-2000:]
    assert "%|" not in out.decode()
