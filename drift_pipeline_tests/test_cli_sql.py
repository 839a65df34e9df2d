"""``drift sql``: read-only queries of the real DuckDB file, hostile inputs, and a real writer process."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from drift_pipeline.cli import main
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.test_store_lock import holding

D1 = date(2026, 1, 1)
REPOS = "SELECT repo, scan_date, config_files FROM repo_inventory ORDER BY repo"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "drift.duckdb"
    with DriftStore(path) as store:
        store.replace_day(
            D1, "acme", {"repo_inventory": [{"repo": "a", "config_files": ["check.toml"]}, {"repo": "b\nnewline"}]}
        )
    return path


def drift_sql(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_table_json_and_csv(capsys, db):
    code, out, _ = drift_sql(capsys, REPOS, "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["repo", "scan_date", "config_files"]
    assert lines[2].split() == ["a", "2026-01-01", '["check.toml"]']
    assert lines[3].split() == ["b\\nnewline", "2026-01-01", "NULL"]
    assert lines[-1] == "(2 rows)"

    code, out, _ = drift_sql(capsys, REPOS, "--db", str(db), "--json")
    payload = json.loads(out)
    assert code == 0 and payload["columns"] == ["repo", "scan_date", "config_files"]
    assert payload["rows"] == [
        {"repo": "a", "scan_date": "2026-01-01", "config_files": '["check.toml"]'},
        {"repo": "b\nnewline", "scan_date": "2026-01-01", "config_files": None},
    ]
    assert payload["truncated"] is False and payload["row_count"] == 2

    code, out, _ = drift_sql(capsys, REPOS, "--db", str(db), "--csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["repo", "scan_date", "config_files"],
        ["a", "2026-01-01", '["check.toml"]'],
        ["b\nnewline", "2026-01-01", ""],
    ]


def test_the_database_comes_from_drift_db_path(capsys, db, monkeypatch):
    monkeypatch.setenv("DRIFT_DB_PATH", str(db))
    code, out, _ = drift_sql(capsys, "SELECT count(*) AS n FROM repo_inventory", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": 2}]


def test_output_is_bounded_by_limit_and_says_so(capsys, db):
    code, out, err = drift_sql(
        capsys, "SELECT * FROM range(1000000000) t(i)", "--db", str(db), "--limit", "3", "--json"
    )
    payload = json.loads(out)
    assert code == 0 and [r["i"] for r in payload["rows"]] == [0, 1, 2] and payload["truncated"] is True
    assert "first 3 rows" in err
    code, out, err = drift_sql(capsys, "SELECT * FROM range(5) t(i)", "--db", str(db), "--limit", "2")
    assert code == 0 and out.splitlines()[-1] == "(2 rows, cut)" and "first 2 rows" in err


@pytest.mark.parametrize(
    "args, says",
    [
        (
            [
                "",
            ],
            "empty",
        ),
        (["  ;  "], "empty"),
        (["DELETE FROM repo_inventory"], "read-only"),
        (["CREATE TABLE x (i INTEGER)"], "read-only"),
        (["UPDATE repo_inventory SET repo = 'z'"], "read-only"),
        (["SET enable_external_access = true"], "locked"),
        (["SELEC 1"], "Parser Error"),
        (["SELECT * FROM no_such_table"], "no_such_table"),
        (["SELECT 'x'::INTEGER"], "Conversion Error"),
        (["SELECT 1", "--limit", "0"], "--limit"),
        (["SELECT 1", "--limit", "-5"], "--limit"),
        (["SELECT 1", "--limit", "1000000000000"], "--limit"),
        (["SELECT 1", "--wait", "-1"], "--wait"),
        (["SELECT 1", "--json", "--csv"], "choose one"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(capsys, db, args, says):
    code, out, err = drift_sql(capsys, *args, "--db", str(db))
    assert code == 2 and says in err and out == ""
    code, out, _ = drift_sql(capsys, "SELECT count(*) AS n FROM repo_inventory", "--db", str(db), "--json")
    assert json.loads(out)["rows"] == [{"n": 2}]  # nothing was changed


def test_no_file_outside_the_database_can_be_read_or_written(capsys, db, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc\n")
    for query in (
        f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
        f"SELECT * FROM read_csv('{secret}')",
        f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
        f"EXPORT DATABASE '{tmp_path / 'export'}'",
        "INSTALL httpfs",
    ):
        code, _, err = drift_sql(capsys, query, "--db", str(db))
        assert code == 2 and "without access to other files" in err, query
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.duckdb", "secret.csv"]


def test_a_missing_or_foreign_file_exits_2_naming_it(capsys, tmp_path):
    missing = tmp_path / "nope.duckdb"
    code, _, err = drift_sql(capsys, "SELECT 1", "--db", str(missing))
    assert code == 2 and str(missing) in err and not missing.exists()
    code, _, err = drift_sql(capsys, "SELECT 1", "--db", str(tmp_path))
    assert code == 2 and str(tmp_path) in err
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database\n" * 100)
    code, _, err = drift_sql(capsys, "SELECT 1", "--db", str(foreign))
    assert code == 2 and str(foreign) in err


def test_a_query_past_its_timeout_is_stopped_with_exit_3(capsys, db):
    code, _, err = drift_sql(capsys, "SELECT count(*) FROM range(1000000000000)", "--db", str(db), "--timeout", "0.5")
    assert code == 3 and "--timeout" in err


def test_a_writer_holding_the_file_is_waited_for_then_exit_3(capsys, db):
    with holding(db, "rw") as holder:
        code, _, err = drift_sql(capsys, "SELECT 1", "--db", str(db), "--wait", "0.3")
        assert code == 3 and str(db) in err and f"PID {holder.proc.pid}" in err and "a writer holds it" in err
        holder.let_go()
    with holding(db, "rw", seconds=1.5) as holder:
        code, out, _ = drift_sql(
            capsys, "SELECT count(*) AS n FROM repo_inventory", "--db", str(db), "--wait", "60", "--json"
        )
        assert holder.released.exists()  # answered only once the writer had let go
    assert code == 0 and json.loads(out)["rows"] == [{"n": 2}]


def test_drift_sql_never_keeps_the_file(capsys, db):
    code, _, _ = drift_sql(capsys, REPOS, "--db", str(db))
    assert code == 0
    DriftStore(db, lock_timeout=0).replace_day(D1, "acme", {"repo_inventory": []})  # no wait needed
    code, out, _ = drift_sql(capsys, "SELECT count(*) AS n FROM repo_inventory", "--db", str(db), "--json")
    assert json.loads(out)["rows"] == [{"n": 0}]


def test_drift_store_duckdb_reads_the_file_and_the_lake_profile_refuses_db(capsys, db, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFT_STORE", "DuckDB ")  # the pipeline's own spelling rules (store_from_env)
    code, out, _ = drift_sql(capsys, "SELECT count(*) AS n FROM repo_inventory", "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": 2}] and json.loads(out)["store"] == "duckdb"
    monkeypatch.setenv("DRIFT_STORE", "ducklake")
    monkeypatch.setenv("DRIFT_LAKE_CATALOG", f"sqlite:///{tmp_path}/catalog.sqlite")
    monkeypatch.setenv("DRIFT_LAKE_DATA", str(tmp_path / "data"))
    code, out, err = drift_sql(capsys, "SELECT 1", "--db", str(db))
    assert code == 2 and out == "" and "--db: DRIFT_STORE=ducklake reads the lake" in err and err.count("\n") == 1
    assert not (tmp_path / "catalog.sqlite").exists()  # refused before anything was opened
