"""Several orgs: the nightly schedule fans out one run per org, and per-org runs add up to one run.

The sandbox serves two orgs (the pipeline tests' ``acme`` and a small ``globex`` seeded here). Real
runs of the code assets, over real HTTP, into real DuckDB files; the concurrent case runs two
``dagster asset materialize`` processes at once on one DuckDB file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from drift_pipeline.cli import main as drift
from drift_pipeline.defs.assets.catalog import assets_of
from drift_pipeline.defs.assets.inventory import repo_inventory
from drift_pipeline.defs.jobs import daily_scan_schedule_for
from drift_pipeline.defs.orgs import ORG_TAG, org_run_config
from drift_pipeline.defs.resources import AwsResource, DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.pipeline.orgfixture import ALICE, DAY0, DAY2, TS_CONFIG, at, build_org

CODE = assets_of("code")
DAY = DAY2.isoformat()
ORGS = ["acme", "globex"]
TABLES = ("repo_inventory", "code_drift", "drift_findings")


def seed_globex(root: Path) -> None:
    """A second org: one typescript repo whose config stops parsing on DAY2, one quiet python repo."""
    state = SandboxState.open(root)
    state.add_org("globex")
    app = state.create_repo("globex", "app")
    commit_files(
        app,
        "main",
        {
            "package.json": '{"name": "app"}\n',
            "check.toml": TS_CONFIG.replace("acme/", "globex/"),
            "repo-metadata.yaml": "tier: production\nteam: payments\n",
        },
        "feat: app",
        ALICE,
        at(DAY0, 9),
    )
    commit_files(app, "main", {"check.toml": "[code.linting.eslint\n"}, "wip", ALICE, at(DAY2, 11))
    tool = state.create_repo("globex", "tool")
    commit_files(
        tool,
        "main",
        {
            "pyproject.toml": "[project]\nname='tool'\n",
            "check.toml": "[code.linting.ruff]\nenabled = true\n",
            "repo-metadata.yaml": "tier: prototype\n",
        },
        "feat: tool",
        ALICE,
        at(DAY0, 10),
    )
    state.save()


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubSandbox]:
    org = build_org(tmp_path_factory.mktemp("orgs"))
    seed_globex(org.state.root)
    with GitHubSandbox(org.state.root) as server:
        yield server


def resources(server: GitHubSandbox, db: Path, orgs: str) -> dict:
    return {
        "github": GitHubResource(
            api_url=server.url, token="sandbox-token", backoff_seconds=0, seconds_between_writes=0
        ),
        "scope": ScanScopeResource(orgs=orgs),
        "aws": AwsResource(accounts={}),
        "store": DriftStoreResource(database=str(db)),
    }


def day_rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of the day in the compared tables, as sorted tuples (columns in table order)."""
    with DriftStore(db) as store:
        return {
            table: sorted(
                tuple(json.dumps(v, sort_keys=True, default=str) for v in r.values())
                for r in store.rows(f"SELECT * FROM {table} WHERE scan_date = ?", [DAY2])
            )
            for table in TABLES
        }


def test_the_schedule_asks_for_one_run_per_org_and_for_one_org_one_run_as_before():
    tick = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)

    several = daily_scan_schedule_for(ORGS)(context)
    assert isinstance(several, list)
    assert [(r.run_key, r.partition_key, r.tags, r.run_config) for r in several] == [
        (f"daily:2026-03-03:{org}", "2026-03-03", {ORG_TAG: org}, org_run_config(org)) for org in ORGS
    ]
    one = daily_scan_schedule_for(["acme"])(context)
    assert isinstance(one, dg.RunRequest)
    assert (one.run_key, one.partition_key, one.tags, one.run_config) == ("daily:2026-03-03", "2026-03-03", {}, {})
    assert daily_scan_schedule_for(["acme", "acme"])(context) == one  # a repeated org is one org


def test_per_org_runs_store_the_same_rows_as_one_run_over_both_orgs(github: GitHubSandbox, tmp_path: Path):
    together, apart = tmp_path / "together.duckdb", tmp_path / "apart.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    one = dg.materialize(
        CODE, partition_key=DAY, resources=resources(github, together, "acme,globex"), instance=instance
    )
    assert one.success
    tick = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    for request in daily_scan_schedule_for(ORGS)(dg.build_schedule_context(scheduled_execution_time=tick)):
        # the deployment's scope lists both orgs; the request's run config narrows the run to one
        result = dg.materialize(
            CODE,
            partition_key=request.partition_key,
            resources=resources(github, apart, "acme,globex"),
            run_config=request.run_config,
            tags=request.tags,
            instance=instance,
        )
        assert result.success
        org = request.tags[ORG_TAG]
        assert instance.get_run_by_id(result.run_id).tags[ORG_TAG] == org
        logs = [(e.step_key, e.message) for e in instance.all_logs(result.run_id) if e.step_key and e.message]
        # every step of the run reads only its org: none re-scans or rewrites the other org's rows
        assert {step for step, m in logs if m.startswith(f"{org} {DAY}:")} >= {"repo_inventory", "config_snapshots"}
        others = tuple(f"{o} {DAY}:" for o in ORGS if o != org)
        assert [(step, m) for step, m in logs if m.startswith(others)] == []

    rows = day_rows(together)
    assert {t: len(r) for t, r in rows.items()} == {t: len(r) for t, r in day_rows(apart).items()}
    assert rows == day_rows(apart)
    with DriftStore(together) as store:
        orgs = {r["org"] for r in store.rows("SELECT DISTINCT org FROM drift_findings WHERE scan_date = ?", [DAY2])}
    assert orgs == set(ORGS)


def trends(db: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    """``drift trends --by repo --json`` on ``db``, without the line naming the file."""
    assert drift(["trends", "--by", "repo", "--json", "--db", str(db)]) == 0
    return {k: v for k, v in json.loads(capsys.readouterr().out).items() if k != "database"}


def test_two_spellings_of_an_org_are_one_org_for_the_schedule():
    tick = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    requests = daily_scan_schedule_for(["ACME", "GloBex", "acme"])(
        dg.build_schedule_context(scheduled_execution_time=tick)
    )
    assert isinstance(requests, list)  # keys and tags keep the configured spelling (the schedule asks no API)
    assert [(r.run_key, r.tags) for r in requests] == [
        ("daily:2026-03-03:ACME", {ORG_TAG: "ACME"}),
        ("daily:2026-03-03:GloBex", {ORG_TAG: "GloBex"}),
    ]
    assert ScanScopeResource(orgs="Acme, acme,ACME").org_list() == ["Acme"]


def test_orgs_configured_in_another_case_are_stored_and_reported_as_github_spells_them(
    github: GitHubSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """GitHub names ignore case: DRIFT_ORGS=ACME,GloBex is acme and globex in every row, log and report."""
    instance = dg.DagsterInstance.ephemeral()
    reference = tmp_path / "reference.duckdb"
    assert dg.materialize(
        CODE, partition_key=DAY, resources=resources(github, reference, "acme,globex"), instance=instance
    ).success
    tick = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    fanned = tmp_path / "fanned.duckdb"
    for request in daily_scan_schedule_for(["ACME", "GloBex"])(
        dg.build_schedule_context(scheduled_execution_time=tick)
    ):
        result = dg.materialize(
            CODE,
            partition_key=request.partition_key,
            resources=resources(github, fanned, "ACME,GloBex"),
            run_config=request.run_config,  # scope: the org as configured; tag drift/org: the same
            tags=request.tags,
            instance=instance,
        )
        assert result.success
        org = request.tags[ORG_TAG].lower()  # as GitHub spells it
        logs = [(e.step_key, e.message) for e in instance.all_logs(result.run_id) if e.step_key and e.message]
        assert {step for step, m in logs if m.startswith(f"{org} {DAY}:")} >= {"repo_inventory", "config_snapshots"}
    with DriftStore(fanned) as store:
        stored = {t: {r["org"] for r in store.rows(f"SELECT DISTINCT org FROM {t}")} for t in TABLES}
    assert stored == dict.fromkeys(TABLES, set(ORGS))
    assert day_rows(fanned) == day_rows(reference)
    assert trends(fanned, capsys) == trends(reference, capsys)


def test_an_org_named_in_two_cases_is_inventoried_once_as_github_spells_it(github: GitHubSandbox, tmp_path: Path):
    inventories = {}
    for orgs in ("Acme,acme", "acme"):
        db = tmp_path / f"inventory-{orgs}.duckdb"
        assert dg.materialize([repo_inventory], partition_key=DAY, resources=resources(github, db, orgs)).success
        with DriftStore(db) as store:
            inventories[orgs] = sorted(json.dumps(r, default=str) for r in store.rows("SELECT * FROM repo_inventory"))
    assert inventories["Acme,acme"] and all('"org": "acme"' in r for r in inventories["Acme,acme"])
    assert inventories["Acme,acme"] == inventories["acme"]


def test_two_orgs_run_at_the_same_time_in_two_processes_on_one_duckdb_file_lose_nothing(
    github: GitHubSandbox, tmp_path: Path
):
    reference = tmp_path / "reference.duckdb"
    one = dg.materialize(
        CODE,
        partition_key=DAY,
        resources=resources(github, reference, "acme,globex"),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert one.success

    db = tmp_path / "shared.duckdb"
    procs = {}
    for org in ORGS:
        home = tmp_path / f"home-{org}"  # an instance each: no shared pool, so they meet at the file lock
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": "sandbox-token",
            "DRIFT_ORGS": ",".join(ORGS),
            "DRIFT_DB_PATH": str(db),
        }
        procs[org] = subprocess.Popen(
            [
                *(sys.executable, "-m", "dagster", "asset", "materialize", "-m", "drift_pipeline.definitions"),
                *("--select", ",".join(a.key.to_user_string() for a in CODE), "--partition", DAY),
                # the location's executor runs in process: one import per run
                *("--config-json", json.dumps(org_run_config(org))),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {org: p.communicate(timeout=600)[0] for org, p in procs.items()}
    for org, p in procs.items():
        assert p.returncode == 0, outputs[org][-4000:]
        assert "RUN_SUCCESS" in outputs[org]
    assert day_rows(db) == day_rows(reference)
