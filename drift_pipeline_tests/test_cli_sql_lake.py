"""``drift sql`` and ``drift trends`` on the DuckLake profile (``DRIFT_STORE=ducklake``): a real lake on a
SQLite catalog with local Parquet (and one on the emulator's S3), written through the store's interface,
read by the CLI in-process and, against a writer, from another process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from drift_pipeline.cli import main
from drift_pipeline.store.lake import LakeConfig, LakeStore
from drift_pipeline_tests.pg import postgres as postgres  # noqa: PLC0414  (the fixture)
from drift_pipeline_tests.test_store_lake import BUCKET, aws_env, moto_s3, pg_catalog, store_resource  # noqa: F401
from drift_pipeline_tests.test_trends import D1, D2, D3, D4, ORG, README_QUERIES, fill_trend_store

BIG = 300  # rows of one write: more than DuckLake inlines into the catalog, so they land as Parquet files
SPIN = "SELECT count(*) AS n FROM repo_inventory, range(1000000000000)"  # runs until --timeout stops it


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> LakeConfig:
    """The trend tests' four days, their issue ledger, and Parquet files some of which are scheduled for
    deletion (a rewritten day, then its old snapshots expired): what a cleanup call would delete."""
    root = tmp_path_factory.mktemp("lake")
    config = LakeConfig.parse(f"sqlite:///{root}/catalog.sqlite", str(root / "data"))
    with LakeStore(config) as store:
        fill_trend_store(store)
        for rows in ("old", "new"):
            store.replace_day(
                D1, "big", {"config_scan_status": [{"repo": f"{rows}{i}", "mode": "read"} for i in range(BIG)]}
            )
        store.write(lambda con: con.execute("CALL ducklake_expire_snapshots('lake', older_than => now())"))
        scheduled = store.rows(
            "SELECT count(*) AS n FROM __ducklake_metadata_lake.ducklake_files_scheduled_for_deletion"
        )
        assert scheduled[0]["n"] >= 1
    return config


@pytest.fixture
def lake_env(lake: LakeConfig, monkeypatch: pytest.MonkeyPatch) -> LakeConfig:
    monkeypatch.setenv("DRIFT_STORE", "ducklake")
    monkeypatch.setenv("DRIFT_LAKE_CATALOG", lake.catalog)
    monkeypatch.setenv("DRIFT_LAKE_DATA", lake.data)
    monkeypatch.delenv("DRIFT_DB_PATH", raising=False)
    return lake


def drift(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def files(root: str) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


@pytest.mark.parametrize(("title", "sql", "expected"), README_QUERIES, ids=[q[0] for q in README_QUERIES])
def test_readme_queries_run_on_the_lake(capsys, lake_env, title, sql, expected):
    code, out, _ = drift(capsys, "sql", sql, "--json")
    payload = json.loads(out)
    assert code == 0, title
    assert payload["rows"] == expected and payload["store"] == "ducklake"


def test_trends_on_the_lake_match_the_file(capsys, lake_env, monkeypatch):
    code, out, _ = drift(capsys, "trends", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["groups"] == ["code", "infra", "process"]
    assert [r["counts"] for r in payload["rows"]] == [
        {"code": 1, "infra": None, "process": None},
        {"code": 2, "infra": 1, "process": 2},
        {"code": 1, "infra": None, "process": None},
        {"code": 1, "infra": 0, "process": 2},
    ]
    assert payload["rows"][0]["not_observed"] == ["infra", "process_settings"]
    code, out, _ = drift(capsys, "trends", "--by", "team", "--csv", "--days", "2")
    assert code == 0 and out.splitlines() == [
        "scan_date,blue,green,red,not_observed",
        f"{D3},0,0,1,infra;process_settings",
        f"{D4},1,2,0,",
    ]
    monkeypatch.setenv("DRIFT_DB_PATH", "/nonexistent/drift.duckdb")  # the pipeline ignores it on a lake: so do we
    code, out, _ = drift(capsys, "sql", "SELECT count(*) AS n FROM repo_inventory WHERE org = 'acme'", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": 12}]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM repo_inventory",
        "INSERT INTO repo_inventory (scan_date, org, repo) VALUES ('2026-01-01', 'x', 'y')",
        "CREATE TABLE t AS SELECT 1",
        "CREATE TABLE memory.main.t AS SELECT 1",
        "UPDATE __ducklake_metadata_lake.ducklake_snapshot SET schema_version = 99",
        "SELECT 1; DROP TABLE repo_inventory",
        "SET enable_external_access = true",
        "SELECT * FROM ducklake_cleanup_old_files('lake', cleanup_all => true)",
        "SELECT (SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)) AS n",
        "CALL ducklake_merge_adjacent_files('lake')",
        "WITH x AS (FROM ducklake_rewrite_data_files('lake')) SELECT * FROM x",
        "SELECT * FROM query('SELECT 1')",
        "CHECKPOINT",
    ],
)
def test_a_write_is_refused_and_the_lake_is_unchanged(capsys, lake_env, query):
    before = files(lake_env.data)
    code, out, err = drift(capsys, "sql", query)
    assert files(lake_env.data) == before  # unchecked, the cleanup deletes a scheduled file, the merge writes one
    assert code == 2 and out == "" and err.startswith("drift: query refused") and err.count("\n") == 1, err
    code, out, _ = drift(capsys, "sql", "SELECT count(*) AS n FROM config_scan_status", "--json")
    assert json.loads(out)["rows"] == [{"n": BIG}]


def test_no_file_outside_the_lake_can_be_read_or_written(capsys, lake_env, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc\n")
    other = tmp_path / "other.sqlite"
    catalog = lake_env.sqlite_file
    for query in (
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM '{secret}'",  # a replacement scan: refused by DuckDB's own setting
        f"SELECT * FROM read_parquet('{lake_env.data}**/*.parquet')",
        f"SELECT * FROM sqlite_scan('{catalog}', 'ducklake_metadata')",  # SQLite files bypass the setting
        f"ATTACH 'ducklake:sqlite:{other}' AS other (DATA_PATH '{tmp_path}/d')",  # so does ATTACH
        f"ATTACH '{catalog}' AS cat (TYPE sqlite)",  # the catalog, read-write
        f"COPY (SELECT 1) TO '{lake_env.data}out.csv'",  # the data path is readable, never writable
        f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
        "INSTALL httpfs",
    ):
        code, _, err = drift(capsys, "sql", query)
        assert code == 2 and err.count("\n") == 1, (query, err)
        assert "query refused" in err or "without access to other files" in err, (query, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.csv"]
    assert not any(name.endswith(".csv") for name in files(lake_env.data))
    code, out, _ = drift(capsys, "sql", "SELECT count(DISTINCT repo) AS n FROM config_scan_status", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": BIG}]  # the lake's own Parquet files are read


def test_a_query_past_its_timeout_is_stopped_with_exit_3(capsys, lake_env):
    started = time.monotonic()
    code, _, err = drift(capsys, "sql", SPIN, "--timeout", "0.5")
    assert code == 3 and "--timeout" in err and time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("env", "args", "code", "says"),
    [
        ({"DRIFT_STORE": "iceberg"}, [], 2, "DRIFT_STORE='iceberg': expected duckdb (the default) or ducklake"),
        ({"DRIFT_LAKE_CATALOG": ""}, [], 2, "DuckLake catalog not set (DRIFT_LAKE_CATALOG"),
        ({"DRIFT_LAKE_DATA": "ftp://x"}, [], 2, "DuckLake data path 'ftp://x': unknown scheme 'ftp'"),
        ({"DRIFT_LAKE_CATALOG": "mysql://h/db"}, [], 2, "unknown scheme 'mysql'"),
        ({}, ["--db", "x.duckdb"], 2, "--db: DRIFT_STORE=ducklake reads the lake"),
        ({"DRIFT_LAKE_CATALOG": "sqlite:///{tmp}/none.sqlite"}, [], 3, "no DuckLake catalog at"),
        ({"DRIFT_LAKE_CATALOG": "postgresql://drift@127.0.0.1:1/lake"}, [], 3, "could not be opened"),
        ({"DRIFT_LAKE_CATALOG": "sqlite:///{tmp}/notes.txt"}, [], 3, "could not be"),
    ],
)
@pytest.mark.parametrize("command", ["sql", "trends"])
def test_a_misconfigured_or_unreachable_lake_is_one_line(
    capsys, lake_env, monkeypatch, tmp_path, command, env, args, code, says
):
    (tmp_path / "notes.txt").write_text("not a catalog\n" * 100)
    monkeypatch.setenv("PGPASSWORD", "never-shown")
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    argv = ["sql", "SELECT 1", *args] if command == "sql" else ["trends", *args]
    got, out, err = drift(capsys, *argv)
    assert (got, out) == (code, "") and says in err and err.count("\n") == 1, err
    assert "never-shown" not in err and not (tmp_path / "none.sqlite").exists()


# -- a reader never blocks a writer of another process --------------------------------------------
@pytest.fixture
def reader(lake_env: LakeConfig, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``drift sql`` in another process, inside a query on the lake that only --timeout ends (8 s of query)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from drift_pipeline.cli import main; sys.exit(main())"]
        + ["sql", SPIN, "--timeout", "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)


def _in_query(proc: subprocess.Popen, catalog: Path) -> bool:
    """The reader has attached the catalog and is spinning in its query (its CPU time grows)."""
    fds = Path(f"/proc/{proc.pid}/fd")
    try:
        opened = any(os.readlink(fd) == str(catalog) for fd in fds.iterdir())
        ticks = int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[11])
    except (FileNotFoundError, ProcessLookupError):
        return False
    if not opened:
        return False
    time.sleep(0.5)
    later = int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[11])
    return later - ticks >= 20  # 0.2 s of CPU in 0.5 s: the spin, not an idle wait


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc to see the reader inside its query")
def test_a_reader_holding_drift_sql_open_never_blocks_a_writer(capsys, lake_env, reader):
    assert lake_env.sqlite_file is not None
    with LakeStore(lake_env) as writer:
        writer.attach()
        deadline = time.monotonic() + 60
        while not _in_query(reader, lake_env.sqlite_file):
            assert reader.poll() is None, reader.stderr.read() if reader.stderr else ""
            assert time.monotonic() < deadline, "the reader never started its query"
        started = time.monotonic()
        writer.replace_day(date(2026, 3, 11), "writer", {"repo_inventory": [{"repo": "w"}]})
        took = time.monotonic() - started
        assert writer.retried == 0  # the commit never conflicted with the reader
    assert reader.poll() is None and took < 5  # committed while the reader was still inside its query
    _, err = reader.communicate(timeout=60)
    assert reader.returncode == 3 and "--timeout 8s" in err  # and the reader ended only by its timeout
    code, out, _ = drift(capsys, "sql", "SELECT repo FROM repo_inventory WHERE org = 'writer'", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"repo": "w"}]


# -- data on S3 --------------------------------------------------------------------------------------
def test_a_lake_on_s3_is_read_and_other_objects_are_not(capsys, moto_s3, aws_env, tmp_path, monkeypatch):  # noqa: F811
    import boto3

    prefix = uuid.uuid4().hex[:8]
    catalog, data = f"sqlite:///{tmp_path}/catalog.sqlite", f"s3://{BUCKET}/{prefix}"
    with store_resource(catalog, data, moto_s3).store() as store:
        store.replace_day(D2, ORG, {"repo_inventory": [{"repo": f"r{i}"} for i in range(BIG)]})
    boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").put_object(
        Bucket=BUCKET, Key="outside/secret.csv", Body=b"token\nabc\n"
    )
    for name, value in {
        "DRIFT_STORE": "ducklake",
        "DRIFT_LAKE_CATALOG": catalog,
        "DRIFT_LAKE_DATA": data,
        "AWS_ENDPOINT_URL_S3": moto_s3,
    }.items():
        monkeypatch.setenv(name, value)
    code, out, _ = drift(capsys, "sql", "SELECT count(DISTINCT repo) AS n FROM repo_inventory", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": BIG}]
    for query in (f"SELECT * FROM 's3://{BUCKET}/outside/secret.csv'", f"COPY (SELECT 1) TO '{data}/x.csv'"):
        code, _, err = drift(capsys, "sql", query)
        assert code == 2 and err.count("\n") == 1, (query, err)


# -- a PostgreSQL catalog (the scale-out profile) ------------------------------------------------------
def test_a_lake_on_postgresql_is_read_and_other_servers_are_not(capsys, postgres, tmp_path, monkeypatch):
    catalog = pg_catalog(postgres, monkeypatch)  # the password only in PGPASSWORD
    config = LakeConfig.parse(catalog, str(tmp_path / "data"))
    with LakeStore(config) as store:
        store.replace_day(D2, ORG, {"repo_inventory": [{"repo": f"r{i}"} for i in range(BIG)]})
    for name, value in {
        "DRIFT_STORE": "ducklake",
        "DRIFT_LAKE_CATALOG": catalog,
        "DRIFT_LAKE_DATA": config.data,
    }.items():
        monkeypatch.setenv(name, value)
    code, out, _ = drift(capsys, "sql", "SELECT count(DISTINCT repo) AS n FROM repo_inventory", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": BIG}]
    dsn = f"host={postgres.host} port={postgres.port} user={postgres.user} dbname=postgres"
    for query in (f"SELECT * FROM postgres_query('{dsn}', 'SELECT 1')", f"ATTACH '{dsn}' AS pg (TYPE postgres)"):
        code, _, err = drift(capsys, "sql", query)
        assert code == 2 and err.startswith("drift: query refused") and postgres.password not in err, (query, err)
