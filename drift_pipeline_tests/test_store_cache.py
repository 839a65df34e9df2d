"""The persistent source cache reads in bulk: counts of queries, not times (issue #13).

A lookup loads the key's whole family (``tree:``, ``etags:``...) in one query; the next day's scan of
the seeded org asks a few queries per asset, not one per repo. Values read are held compressed.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from drift_pipeline.defs.assets.catalog import ASSETS
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.seed import seed_org
from drift_pipeline.store import DriftStore, PersistentCache
from drift_pipeline.store import cache as cache_module
from drift_pipeline.store.cache import _ranges, family
from drift_pipeline.store.lake import LakeStore
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.test_store_lake import store_resource

REPOS = 40
FAMILIES = ("blob:", "etag:", "etags:", "expected:", "tree:")  # the keys the GitHub source keeps


def tree_value(i: int) -> str:
    entries = [{"path": f"src/module_{n}/check.toml", "sha": f"{i:04d}{n:036d}", "size": 100 + n} for n in range(50)]
    return json.dumps({"trees": [{"sha": f"{i:040d}", "entries": entries}]})


def filled(store: DriftStore) -> None:
    cache = store.source_cache()
    for i in range(REPOS):
        cache[f"tree:acme/r{i}"] = tree_value(i)
        cache[f"etags:http://api/repos/acme/r{i}"] = json.dumps({"etag": f'"{i}"'})
    cache["plain"] = "no family"
    assert cache.flush() == 2 * REPOS + 1


def test_family_of_a_key():
    assert family("tree:acme/a") == "tree:"
    assert family("etags:http://h/repos/o/r") == "etags:"
    assert family("etag:http://h/orgs/o/repos") == "etag:"
    assert family("plain") is None


def test_a_family_loads_in_one_query_and_its_misses_ask_nothing(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        filled(store)
        cache = store.source_cache()
        for i in range(REPOS):
            assert json.loads(cache[f"tree:acme/r{i}"])["trees"][0]["sha"] == f"{i:040d}"
        assert cache.get("tree:acme/missing") is None and "tree:acme/r0" in cache
        assert cache.queries == 2 and cache.lookups == REPOS + 2  # its keys and sizes, then its values
        # "etag:" is its own family: "etags:" keys sort after "etag;" and are not loaded with it
        assert cache.get("etag:http://api/orgs/acme/repos") is None and cache.queries == 3
        assert all(cache[f"etags:http://api/repos/acme/r{i}"] for i in range(REPOS))
        assert cache.queries == 5
        assert cache["plain"] == "no family" and cache.get("other") is None
        assert cache.queries == 7  # a key without a family is looked up alone


def test_a_large_family_is_read_in_chunks_of_bounded_size(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        filled(store)
        stored = [
            (r["key"], r["n"])
            for r in store.rows(
                "SELECT key, octet_length(packed) AS n FROM source_cache WHERE key LIKE 'tree:%' ORDER BY key"
            )
        ]
        chunk = 2_000  # bytes as stored (compressed): what one query materialises
        cache = PersistentCache(store, chunk_bytes=chunk)
        assert [json.loads(cache[f"tree:acme/r{i}"])["trees"][0]["sha"] for i in range(REPOS)] == [
            f"{i:040d}" for i in range(REPOS)
        ]
        assert cache.queries == 1 + len(_ranges(stored, chunk))
        assert cache.queries - 1 >= sum(n for _, n in stored) // chunk > 5 and cache.get("tree:acme/nope") is None


def test_ranges_split_sorted_keys_by_size_and_keep_a_keys_rows_together():
    rows = [("a", 5), ("b", 5), ("b", 5), ("c", 20), ("d", 1)]
    assert _ranges(rows, 10) == [("a", "b"), ("c", "c"), ("d", "d")]
    assert _ranges(rows, 100) == [("a", "d")] and _ranges([], 10) == []


def test_values_read_and_written_are_held_compressed(tmp_path):
    path = tmp_path / "d.duckdb"
    with DriftStore(path) as store:
        filled(store)
        cache = store.source_cache()
        raw = sum(len(cache[f"tree:acme/r{i}"]) for i in range(REPOS))
        held = cache.held_bytes()
        assert held * 4 < raw, (held, raw)
        cache["tree:acme/r0"] = tree_value(1000)  # written: held compressed until flush, and read back
        assert held < cache.held_bytes() < held + len(tree_value(1000)) // 4
        assert cache["tree:acme/r0"] == tree_value(1000)
        assert cache.flush() == 1
        assert cache.held_bytes() * 4 < raw and cache["tree:acme/r0"] == tree_value(1000)
        assert cache.queries == 2  # the flushed value is answered from memory
    with DriftStore(path) as store:
        assert store.source_cache()["tree:acme/r0"] == tree_value(1000)


def test_a_value_written_before_its_family_loads_is_not_replaced_by_the_stored_one(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        filled(store)
        cache = store.source_cache()
        cache["tree:acme/r3"] = "new"
        assert cache["tree:acme/r4"] == tree_value(4)  # loads the family
        assert cache["tree:acme/r3"] == "new" and cache.flush() == 1
    with DriftStore(tmp_path / "d.duckdb") as store:
        assert store.source_cache()["tree:acme/r3"] == "new"


def test_on_the_lake_a_family_load_takes_each_keys_newest_row(tmp_path):
    config = store_resource(f"sqlite://{tmp_path}/catalog.sqlite", str(tmp_path / "data"), None).lake_config()
    with LakeStore(config) as store:
        filled(store)
        old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
        # two writers flushed the same new key at once: two rows (a lake has no keys); the newest wins
        store.write(
            lambda con: con.executemany(
                "INSERT INTO source_cache (key, value, stored_at) VALUES (?, ?, ?)",
                [["tree:acme/both", "newer", new], ["tree:acme/both", "older", old - timedelta(days=1)]],
            )
        )
        cache = store.source_cache()
        assert cache["tree:acme/both"] == "newer" and cache["tree:acme/r7"] == tree_value(7)
        assert cache.queries == 2
        cache["tree:acme/both"] = "one"
        assert cache.flush() == 1
    with LakeStore(config) as store:
        assert store.source_cache()["tree:acme/both"] == "one"
        assert store.rows("SELECT count(*) AS n FROM source_cache WHERE key = 'tree:acme/both'") == [{"n": 1}]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeded")
    report = seed_org(root / "state", org="acme", repos=8, days=3, seed=5, end_date=datetime(2026, 4, 30).date())
    with GitHubSandbox(root / "state") as server:
        yield report, Pipeline(server, root / "drift.duckdb")


def test_the_next_days_scan_of_the_seeded_org_asks_a_few_cache_queries_not_one_per_repo(seeded, monkeypatch):
    report, pipeline = seeded
    caches: list[PersistentCache] = []
    opened = DriftStore.source_cache

    def recording(store: DriftStore) -> PersistentCache:
        cache = opened(store)
        caches.append(cache)
        return cache

    monkeypatch.setattr(DriftStore, "source_cache", recording)
    assert pipeline.run(report.end_date - timedelta(days=1), assets=ASSETS).success
    caches.clear()
    assert pipeline.run(report.end_date, assets=ASSETS).success
    repos = sum(r.in_scope for r in report.repos)
    lookups, queries = sum(c.lookups for c in caches), sum(c.queries for c in caches)
    # every asset that reads GitHub looks up each repo's entries (measured: 208 lookups for 7 repos)
    assert caches and lookups >= 3 * len(caches) * repos / 2, (lookups, repos)
    # and sends two queries per family it asks for (keys, then values: a few MiB per query), a
    # bound that does not grow with the org until its cache outgrows CHUNK_BYTES
    assert all(c.queries <= 2 * len(FAMILIES) for c in caches), [(c.lookups, c.queries) for c in caches]
    assert queries <= 2 * len(FAMILIES) * len(caches) and lookups >= 5 * queries, (lookups, queries)


def test_a_flush_larger_than_a_batch_is_written_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "FLUSH_BYTES", 600)  # about one compressed tree per insert
    path = tmp_path / "d.duckdb"
    with DriftStore(path) as store:
        cache = store.source_cache()
        for i in range(REPOS):
            cache[f"tree:acme/r{i}"] = tree_value(i)
        assert cache.flush() == REPOS and cache.flush() == 0
    with DriftStore(path) as store:
        again = store.source_cache()
        assert all(again[f"tree:acme/r{i}"] == tree_value(i) for i in range(REPOS))


def test_values_are_stored_compressed_and_an_older_stores_text_rows_still_read(tmp_path):
    path = tmp_path / "d.duckdb"
    with duckdb.connect(str(path)) as con:  # a store from before values were packed
        con.execute(
            "CREATE TABLE source_cache (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, "
            "stored_at TIMESTAMPTZ DEFAULT current_timestamp)"
        )
        con.executemany("INSERT INTO source_cache (key, value) VALUES (?, ?)", [["tree:acme/old", tree_value(1)]])
    with DriftStore(path) as store:  # the upgrade adds the column; the old row is read as it is
        cache = store.source_cache()
        assert cache["tree:acme/old"] == tree_value(1)
        cache["tree:acme/new"] = tree_value(2)
        assert cache.flush() == 1
        rows = {r["key"]: r for r in store.rows("SELECT key, value, packed FROM source_cache")}
    assert rows["tree:acme/old"]["packed"] is None and rows["tree:acme/old"]["value"] == tree_value(1)
    new = rows["tree:acme/new"]
    assert new["value"] == "" and zlib.decompress(new["packed"]).decode() == tree_value(2)
    assert len(new["packed"]) * 4 < len(tree_value(2))  # what DuckDB is handed and holds: the compressed size
    with DriftStore(path) as store:
        cache = store.source_cache()
        cache["tree:acme/old"] = tree_value(3)  # written again: packed like the rest
        cache.flush()
        assert store.rows("SELECT count(*) AS n FROM source_cache WHERE packed IS NULL") == [{"n": 0}]
        assert store.source_cache()["tree:acme/old"] == tree_value(3)


def test_a_damaged_packed_value_is_an_absent_key_not_an_error(tmp_path):
    with DriftStore(tmp_path / "d.duckdb") as store:
        filled(store)
        store.write(
            lambda con: con.execute(
                "UPDATE source_cache SET packed = ?::BLOB WHERE key = 'tree:acme/r5'", [b"\x78\x01not zlib"]
            )
        )
        cache = store.source_cache()
        assert cache.get("tree:acme/r5") is None and "tree:acme/r5" not in cache
        assert cache["tree:acme/r6"] == tree_value(6)
        cache["tree:acme/r5"] = tree_value(5)  # the source's answer, written again
        assert cache.flush() == 1 and cache["tree:acme/r5"] == tree_value(5)
