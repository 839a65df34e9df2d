"""A step's store keeps its last write's connection a moment (``linger_writes``), and lets go of the file after it.

The speed it buys is measured by the demo build (docs/benchmarks.md); these tests pin what other
processes see: the file is held while the connection lingers, free again once it expired, at
``close()`` and right after a failed write, and a long pause inside a ``reading()`` block (a step
scanning between its reads and its write) holds nothing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pytest

from drift_pipeline.store import DriftStore
from drift_pipeline_tests.test_store_lock import D1, D2, repos, seeded, write_from_another_process

FREED_WITHIN = 30.0  # liveness bound for "the file is free again", far above any linger used here


def freed(path: Path) -> bool:
    """Whether another process can write the file, tried until ``FREED_WITHIN``."""
    deadline = time.monotonic() + FREED_WITHIN
    while time.monotonic() < deadline:
        if write_from_another_process(path).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def test_a_lingering_write_holds_the_file_until_close_and_reads_see_the_writes(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path).linger_writes(60)
    store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})
    assert store.days("repo_inventory") == [D1, D2]  # a read through the lingering connection
    held = write_from_another_process(path)
    assert held.returncode != 0 and "lock" in held.stderr.lower()
    store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "d"}]})
    assert [r["repo"] for r in store.day_rows("repo_inventory", D2, "acme")] == ["d"]
    store.close()
    assert write_from_another_process(path).returncode == 0  # at once: nothing waits for the linger
    assert ("2026-01-02", "d") in [(d.isoformat(), r) for d, r in repos(path)]


def test_the_file_is_free_again_once_the_linger_expired(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path).linger_writes(0.2)
    store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})
    assert freed(path)
    store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "e"}]})  # opens again after the expiry
    assert [r["repo"] for r in store.day_rows("repo_inventory", D2, "acme")] == ["e"]
    store.close()


def test_a_pause_inside_a_reading_block_after_a_write_holds_nothing(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path).linger_writes(0.2)
    with store.reading():
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}]})
        assert store.days("repo_inventory") == [D1, D2]  # a read while it lingers takes no lease
        assert freed(path)  # the step "scans" here: no connection is kept
        assert store.days("repo_inventory")[-1] >= D2
    store.close()


def test_a_failed_write_rolls_back_and_lets_go_of_the_file_at_once(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path).linger_writes(60)
    with pytest.raises(duckdb.Error):
        store.write(lambda con: con.execute("INSERT INTO repo_inventory (scan_date) VALUES ('not a date')"))
    assert write_from_another_process(path).returncode == 0  # no linger after a failure inside DuckDB
    assert store.days("repo_inventory")[0] == D1
    store.close()


def test_threads_share_the_lingering_connection_each_in_its_own_transaction(tmp_path):
    path = seeded(tmp_path)
    store = DriftStore(path).linger_writes(60)
    store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "seed"}]})
    errors: list[BaseException] = []

    def work(org: str) -> None:
        try:
            for i in range(5):
                store.replace_day(D2, org, {"repo_inventory": [{"repo": f"{org}-{i}"}]})
                assert [r["repo"] for r in store.day_rows("repo_inventory", D2, org)] == [f"{org}-{i}"]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"org{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert {
        r["org"]: r["repo"] for r in store.rows("SELECT org, repo FROM repo_inventory WHERE scan_date = ?", [D2])
    } == {
        "acme": "seed",
        **{f"org{n}": f"org{n}-4" for n in range(4)},
    }
    store.close()
    assert write_from_another_process(path).returncode == 0
