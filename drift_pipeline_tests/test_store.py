"""The DuckDB store: day replacement, blobs, the persistent source cache (real DuckDB file)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from drift_pipeline.store import DriftStore
from drift_pipeline.store import file as file_store

D1, D2 = date(2026, 1, 1), date(2026, 1, 2)


def test_replacing_a_day_keeps_other_days_and_other_orgs(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}, {"repo": "b"}]})
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "a"}]})
        store.replace_day(D2, "other", {"repo_inventory": [{"repo": "z"}]})
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})
        got = store.rows("SELECT scan_date, org, repo FROM repo_inventory ORDER BY ALL")
    assert [(r["scan_date"], r["org"], r["repo"]) for r in got] == [
        (D1, "acme", "a"),
        (D1, "acme", "b"),
        (D2, "acme", "c"),
        (D2, "other", "z"),
    ]


def test_a_failed_write_leaves_the_previous_rows(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}]})
        with pytest.raises(duckdb.CatalogException, match="no_such_table"):
            store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "b"}], "no_such_table": [{"x": 1}]})
        assert [r["repo"] for r in store.day_rows("repo_inventory", D1, "acme")] == ["a"]


def test_a_day_written_in_batches_is_one_write_unit_and_read_back_in_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(file_store, "INSERT_BATCH", 2)  # 5 rows: three inserts
    with DriftStore(tmp_path / "d.duckdb") as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "old"}]})
        rows = [{"repo": f"r{i}", "tier": "prototype"} for i in (4, 2, 0, 3, 1)]
        bad = [*rows[:4], {"repo": None}]  # the last batch breaks NOT NULL: the earlier batches go too
        with pytest.raises(duckdb.ConstraintException):
            store.replace_day(D1, "acme", {"repo_inventory": bad})
        assert [r["repo"] for r in store.day_rows("repo_inventory", D1, "acme")] == ["old"]
        store.replace_day(D1, "acme", {"repo_inventory": rows})
        batches = list(store.day_batches("repo_inventory", D1, "acme"))
        summary = store.rows("SELECT count(*) AS n FROM summary_repo_days WHERE scan_date = ?", [D1])
    assert [[r["repo"] for r in b] for b in batches] == [["r0", "r1"], ["r2", "r3"], ["r4"]]
    assert all(r["tier"] == "prototype" and r["org"] == "acme" for b in batches for r in b)
    assert summary == [{"n": 5}]  # the day's summary recomputed once, over every batch


def test_json_columns_round_trip_and_latest_day_before(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a", "config_files": ["check.toml"]}]})
        assert store.day_rows("repo_inventory", D1, "acme")[0]["config_files"] == '["check.toml"]'
        assert store.latest_day_before("repo_inventory", D2, "acme") == D1
        assert store.latest_day_before("repo_inventory", D1, "acme") is None


def test_blobs_are_stored_once_by_sha(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        store.put_blobs({"s1": "one", "s2": None})
        store.put_blobs({"s1": "one"})
        assert store.blobs(["s1", "s2", "s3"]) == {"s1": "one", "s2": None}


def test_source_cache_persists_after_flush_only(tmp_path):
    path = tmp_path / "d.duckdb"
    with DriftStore(path) as store:
        cache = store.source_cache()
        cache["k"] = "v"
        assert cache["k"] == "v"
    with DriftStore(path) as store:
        assert "k" not in store.source_cache()
        cache = store.source_cache()
        cache["k"] = "v2"
        assert cache.flush() == 1
    with DriftStore(path) as store:
        assert store.source_cache()["k"] == "v2"


def test_an_older_file_gains_the_columns_added_since(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE repo_inventory (scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL)")
    con.execute("INSERT INTO repo_inventory VALUES ('2026-01-01', 'acme', 'a')")
    con.close()
    with DriftStore(path) as store:
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "b", "html_url": "https://x/acme/b"}]})
        rows = store.rows("SELECT repo, html_url FROM repo_inventory ORDER BY repo")
    assert rows == [{"repo": "a", "html_url": None}, {"repo": "b", "html_url": "https://x/acme/b"}]


def test_a_transaction_commits_all_or_nothing_and_nests(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        with store.transaction():
            store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}]})
            store.put_blobs({"s1": "one"})
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "b"}]})
            store.put_blobs({"s2": "two"})
            raise RuntimeError("boom")
        assert [r["repo"] for r in store.day_rows("repo_inventory", D1, "acme")] == ["a"]
        assert store.blobs(["s1", "s2"]) == {"s1": "one"}


def test_a_read_only_store_refuses_writes_and_never_creates_the_file(tmp_path):
    path = tmp_path / "d.duckdb"
    with DriftStore(path) as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}]})
    with DriftStore(path, read_only=True) as store:
        assert store.days("repo_inventory", "acme") == [D1]
        with pytest.raises(RuntimeError, match="read-only"):
            store.replace_day(D1, "acme", {"repo_inventory": []})
    with pytest.raises(duckdb.IOException, match="does not exist"):
        DriftStore(tmp_path / "missing.duckdb", read_only=True).days("repo_inventory")
    assert not (tmp_path / "missing.duckdb").exists()
