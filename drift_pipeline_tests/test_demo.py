"""`make demo` / `drift demo --no-ui`, end to end through the real command (subprocesses, sandboxes,
Dagster runs, DuckDB): the build, the summary a person reads, reuse, and a busy folder."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from github import Auth, Github

from drift_pipeline.cli import main as drift
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.demo.workdir import DemoDir, DemoParams
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.seed.cases import NOT_SCRIPTED
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.ports import free_port, is_listening

DAYS = 7
ARGS = ["--no-ui", "--days", str(DAYS), "--repos", "8"]
NOISE = re.compile(r'HTTP/1\.1" \d{3}|BetaWarning|PreviewWarning|SupersessionWarning|UserWarning|dagster - DEBUG')


def demo(
    base: Path, *extra: str, module: str = "drift_pipeline.demo", no_ui: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [] if module == "drift_pipeline.demo" else ["demo"]
    return subprocess.run(
        [sys.executable, "-m", module, *command, *(ARGS if no_ui else ARGS[1:]), "--dir", str(base), *extra],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo") / "d"
    proc = demo(base)  # what `make demo` runs, without the UI
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return base, proc


def _line(out: str, prefix: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(prefix))


def test_builds_the_window_and_scripted_findings(built):
    base, _ = built
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        days = store.rows("SELECT count(DISTINCT scan_date) AS n FROM repo_inventory")[0]["n"]
        rules = {r["rule"] for r in store.rows("SELECT DISTINCT rule FROM drift_findings")}
    assert days == DAYS
    assert {"dependency_changed", "check_toml_removed", "tier_ruleset_mismatch", "invalid_config"} <= rules
    assert (base / "SCENARIO.md").read_text().startswith("# Demo org `acme`")


def test_every_rule_id_is_seen_on_the_day_the_scenario_says(built):
    """Every rule id of the product's families is in the store (process_not_evaluated too: one repo's
    settings the demo token may not read); the summary says N of N; every case of SCENARIO.md's table
    is a stored finding of its repo on its day."""
    base, proc = built
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        rows = store.rows("SELECT DISTINCT scan_date, repo, rule FROM drift_findings")
    seen = {r["rule"] for r in rows}
    assert seen == set(RULES) and NOT_SCRIPTED == {}
    line = _line(proc.stdout, "[demo] " + f"{len(RULES)} of {len(RULES)} rule ids seen")
    assert "not seen" not in line
    unread = [r for r in rows if r["rule"] == "process_not_evaluated"]
    assert {r["repo"] for r in unread} == {"notifications-worker"}  # the one repo the token reads as a writer
    report = json.loads((base / "seed-report.json").read_text())
    found = {(str(r["scan_date"]), r["repo"], r["rule"]) for r in rows}
    cases = {(c["day"], c["repo"], c["rule"]) for c in report["cases"]}
    assert cases <= found, sorted(cases - found)
    assert {rule for _, _, rule in cases} == set(RULES)
    scenario = (base / "SCENARIO.md").read_text()
    table = scenario[scenario.index("## Every rule id") :]
    for rule in RULES:
        assert f"| `{rule}` |" in table, rule


def test_history_is_backfilled_then_today_is_scanned_in_full(built):
    """The window but its last day is one backfill run; the last day (the newest partition) is scanned
    on its own, as the nightly schedule runs it: the live-only domains are observed on that day only."""
    base, proc = built
    backfill = re.search(r"backfilling (\S+) \.\. (\S+) \((\d+) days\) as one run of daily_drift_scan", proc.stdout)
    today = re.search(r"today's scan of (\S+) ", proc.stdout)
    assert backfill and today, proc.stdout
    assert proc.stdout.index("backfill done") < today.start() < proc.stdout.index("today's scan done")
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        days = store.rows("SELECT min(scan_date) AS first, max(scan_date) AS last FROM repo_inventory")[0]
        coverage = store.rows(
            "SELECT domain, list(scan_date ORDER BY scan_date) FILTER (observed) AS observed, count(*) AS days "
            "FROM trend_coverage GROUP BY domain"
        )
    assert (str(days["first"]), str(days["last"])) == (backfill.group(1), today.group(1))
    assert int(backfill.group(3)) == DAYS - 1 and backfill.group(2) < today.group(1)  # the window: history + today
    observed = {r["domain"]: [str(d) for d in r["observed"] or []] for r in coverage}
    assert {r["days"] for r in coverage} == {DAYS}
    assert observed["process_settings"] == observed["infra"] == [today.group(1)]
    assert len(observed["code"]) == len(observed["process_activity"]) == DAYS
    line = _line(proc.stdout, "[demo] history per domain")
    assert f"process_settings: observed on 1 of {DAYS} days" in line and f"code: observed on all {DAYS} days" in line


def test_output_is_for_a_person(built):
    _, proc = built
    noise = [line for line in (proc.stdout + proc.stderr).splitlines() if NOISE.search(line)]
    assert noise == []
    assert "Traceback" not in proc.stderr


def test_one_count_of_repos_from_seed_to_inventory(built):
    base, proc = built
    seeded = re.search(r"seeded acme: (\d+) repos listed in acme, (\d+) in scope", proc.stdout)
    listed = re.search(r"repos on (\S+): (\d+) repos listed in acme, (\d+) in scope", proc.stdout)
    assert seeded and listed, proc.stdout
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        row = store.rows(
            "SELECT count(*) AS n, count(*) FILTER (in_scope) AS s FROM repo_inventory WHERE scan_date = ?",
            [listed.group(1)],
        )[0]
    assert (int(seeded.group(1)), int(seeded.group(2))) == (int(listed.group(2)), int(listed.group(3)))
    assert (int(listed.group(2)), int(listed.group(3))) == (row["n"], row["s"])


def test_findings_table_matches_the_store(built):
    base, proc = built
    day = re.search(r"findings on (\S+): (\d+)", proc.stdout)
    assert day, proc.stdout
    lines = proc.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.split()[:1] == ["category"]))
    severities = lines[header].split()[1:-1]
    printed: Counter[tuple[str, str]] = Counter()
    for line in lines[header + 1 : header + 4]:
        category, *counts = line.split()
        for severity, n in zip(severities, counts, strict=False):
            printed[(category, severity)] = int(n)
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        rows = store.rows(
            "SELECT category, severity, count(*) AS n FROM drift_findings WHERE scan_date = ? GROUP BY ALL",
            [day.group(1)],
        )
    assert {(r["category"], r["severity"]): r["n"] for r in rows} == {k: v for k, v in printed.items() if v}
    assert sum(r["n"] for r in rows) == int(day.group(2)) > 0
    assert {r["category"] for r in rows} == {"code", "process", "infra"}


def test_issues_filed_into_the_sandbox_with_their_urls(built):
    base, proc = built
    found = re.search(r"issues filed in the GitHub sandbox for \S+: (\d+)", proc.stdout)
    assert found, proc.stdout
    count = int(found.group(1))
    shown = re.findall(r"^ +acme/(\S+) \[(\w+)\] #(\d+)  (http\S+)$", proc.stdout, flags=re.M)
    assert count > 5 and len(shown) == 5
    assert f"... and {count - 5} more" in proc.stdout
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        filed = store.rows("SELECT DISTINCT repo, category, number FROM filed_issues WHERE action = 'created'")
    assert len(filed) == count
    assert "curl -H 'Authorization: token sandbox-token' URL" in proc.stdout
    port = urlsplit(shown[0][3]).port
    # the issues are really in the sandbox's state, and the printed URLs answer (the sandbox on its port again)
    with GitHubSandbox(base / "state", port=port or 0) as gh:
        client = Github(base_url=gh.url, auth=Auth.Token("sandbox-token"), seconds_between_requests=0)
        for repo, category, number, url in shown:
            issue = client.get_repo(f"acme/{repo}").get_issue(int(number))
            assert f"drift:{category}" in {label.name for label in issue.labels}
            assert url == f"{gh.url}/repos/acme/{repo}/issues/{number}"
            request = urllib.request.Request(url, headers={"Authorization": "token sandbox-token"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert json.load(answer)["number"] == int(number)


def test_example_queries_run_with_drift_sql(built, capsys, tmp_path):
    base, proc = built
    commands = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("drift sql ")]
    assert len(commands) == 3
    assert f"DuckDB file: {base / 'drift.duckdb'}" in proc.stdout
    for command in commands:
        capsys.readouterr()
        assert drift(shlex.split(command)[1:] + ["--json"]) == 0, command
        assert json.loads(capsys.readouterr().out)["rows"], command
    # the trend command it suggests draws its chart (here into tmp_path)
    trends = shlex.split(_line(proc.stdout, "         drift trends").strip())
    chart = tmp_path / "trend.html"
    assert drift([*trends[1 : trends.index("--chart")], "--chart", str(chart)]) == 0
    assert chart.stat().st_size > 1000


ROOT = Path(__file__).resolve().parents[1]
TREND_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def readme_queries() -> tuple[list[str], list[str]]:
    """The docs' SQL (README and docs/): the statements of their ```sql blocks, and the queries of
    their `drift sql` examples."""
    text = "\n".join(page.read_text() for page in TREND_DOCS)
    statements = []
    for block in re.findall(r"^```sql\n(.*?)^```", text, flags=re.M | re.S):
        code = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("--"))
        statements += [" ".join(q.split()) for q in code.split(";") if q.strip()]
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        commands += [" ".join(q.split()) for q in re.findall(r'drift sql --db \S+ "(.*?)"', block, flags=re.S)]
    return statements, commands


def test_readme_trend_sql_is_the_set_checked_row_by_row():
    """Every statement of the README's SQL block is one of test_trends' queries (checked there against
    exact rows on a hand-built store), and the other way round."""
    from drift_pipeline_tests.test_trends import README_QUERIES

    statements, commands = readme_queries()
    assert statements and commands
    assert sorted(statements) == sorted(" ".join(q.split()) for _, q, _ in README_QUERIES)


@pytest.mark.parametrize("kind", ["sql block", "drift sql examples"])
def test_readme_sql_runs_on_the_demo_database(built, capsys, kind):
    """Every query the README shows runs on the demo's database through `drift sql` and answers rows."""
    base, _ = built
    statements, commands = readme_queries()
    for query in statements if kind == "sql block" else commands:
        capsys.readouterr()
        code = drift(["sql", "--db", str(base / "drift.duckdb"), query, "--json"])
        out = capsys.readouterr()
        assert code == 0, f"{query}\n{out.err}"
        assert json.loads(out.out)["rows"], f"no rows on the demo database: {query}"


def test_second_run_reuses_the_build_and_clears_a_stale_pid_file(built, tmp_path):
    base, first = built
    wd = DemoDir(base)
    manifest, db_mtime = wd.manifest_path.read_text(), wd.db.stat().st_mtime_ns
    dead = subprocess.Popen(["true"])
    dead.wait()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    wd.serving_path.write_text(json.dumps({"pids": [dead.pid], "port": closed}))
    proc = demo(base, module="drift_pipeline.cli")  # `drift demo --no-ui`
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "reusing" in proc.stdout and "backfilling" not in proc.stdout and "seeded" not in proc.stdout
    assert re.search(r"reused in [\d.]+ s", proc.stdout)
    assert wd.manifest_path.read_text() == manifest and wd.db.stat().st_mtime_ns == db_mtime
    assert not wd.serving_path.exists()
    # The same summary as the first run (the same counts, issues and URLs).
    assert _line(proc.stdout, "[demo] repos on") == _line(first.stdout, "[demo] repos on")
    assert _line(proc.stdout, "[demo] issues filed") == _line(first.stdout, "[demo] issues filed")
    params = json.loads(manifest)["params"]
    assert wd.reusable(DemoParams(**params)) is not None
    assert wd.reusable(DemoParams(**{**params, "days": params["days"] + 1})) is None


def test_a_demo_serving_from_the_folder_is_left_alone(built):
    base, _ = built
    wd = DemoDir(base)
    before = {p.name: p.stat().st_mtime_ns for p in base.iterdir()}
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        wd.serving_path.write_text(json.dumps({"pids": [], "port": port}))  # only the port answers
        proc = demo(base)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"already serving from {base}: http://127.0.0.1:{port}" in proc.stdout
    wd.serving_path.unlink()
    assert {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == before


def test_a_demo_building_in_the_folder_is_left_alone(built):
    base, _ = built
    before = {p.name: p.stat().st_mtime_ns for p in base.iterdir()}
    with (base / "demo.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = demo(base, "--rebuild")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "another demo is building" in proc.stdout
    assert {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == before


def test_serves_the_ui_refuses_a_second_demo_and_stops_on_ctrl_c(built):
    """`make demo` as a person runs it: the UI and daemon up, Ctrl-C to the terminal's group, all gone."""
    base, _ = built
    wd = DemoDir(base)
    port = free_port()
    cmd = [sys.executable, "-m", "drift_pipeline.demo", *ARGS[1:], "--dir", str(base), "--port", str(port)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job (the demo
        # installs its own Ctrl-C handler, so SIGINT ignored by whoever started it does not matter)
    )
    try:
        deadline = time.monotonic() + 300
        while not (wd.serving_path.exists() and _location(port)) and proc.poll() is None:
            assert time.monotonic() < deadline, "the UI did not come up in 300 s"
            time.sleep(2)
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert _location(port) == [("drift_pipeline", "LOADED")]
        serving = json.loads(wd.serving_path.read_text())
        assert serving["port"] == port and serving["pids"][0] == proc.pid
        second = demo(base)
        assert second.returncode == 3, second.stdout + second.stderr
        assert f"already serving from {base}: http://127.0.0.1:{port}" in second.stdout
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out[-3000:]
    for group in (proc.pid, serving["pids"][1]):  # nothing of the demo's or dagster dev's group is left
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
    sandbox_ports = json.loads(wd.manifest_path.read_text())["ports"].values()
    assert not any(is_listening(p) for p in [port, *sandbox_ports])
    assert not wd.serving_path.exists()
    assert [line for line in out.splitlines() if NOISE.search(line) or "Traceback" in line] == []
    assert "stopping" in out


def _location(port: int) -> list[tuple[str, str]] | None:
    """The code locations the webserver reports through its GraphQL API (None while it is not up)."""
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    loaded = [(e["name"], e["loadStatus"]) for e in entries]
    return loaded if loaded and all(status == "LOADED" for _, status in loaded) else None


@pytest.mark.parametrize(("args", "code"), [(ARGS, 130), (ARGS[1:], 0)], ids=["no-ui", "make-demo"])
def test_ctrl_c_while_building_stops_everything(tmp_path, args, code):
    """Interrupted while seeding: the sandboxes stop, no manifest (the next run rebuilds); `make demo` exits 0."""
    base = tmp_path / "d"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drift_pipeline.demo", *args, "--dir", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # "[demo] AWS sandbox (...) at http://127.0.0.1:PORT": seeding starts
    aws = re.search(r"at http://127\.0\.0\.1:(\d+)$", first.strip())
    assert aws, first
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == code, first + out
    assert "interrupted before the demo was ready" in out
    assert not is_listening(int(aws.group(1)))
    assert not (base / "manifest.json").exists() and not (base / "serving.json").exists()


def test_a_busy_ui_port_is_said_before_anything_changes(built):
    base, _ = built
    before = {p.name: p.stat().st_mtime_ns for p in base.iterdir()}
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        proc = demo(base, "--rebuild", "--port", str(port), module="drift_pipeline.cli", no_ui=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"port {port} is in use" in proc.stdout
    assert {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == before
