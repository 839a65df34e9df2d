"""Several OS processes on one DuckLake at once, for real: writers of different (day, org) partitions
both land, and a reader holding a session neither blocks a writer nor sees its commit mid-session.

Both catalogs: SQLite (WAL) and PostgreSQL (the private cluster of ``pg.py``), data on the emulator's S3.
"""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from drift_pipeline.store.lake import LakeConfig, LakeStore
from drift_pipeline_tests.test_store_lake import BUCKET, pg_catalog, store_resource
from drift_pipeline_tests.test_store_lake import aws_env as aws_env  # noqa: PLC0414 (fixtures)
from drift_pipeline_tests.test_store_lake import moto_s3 as moto_s3  # noqa: PLC0414
from drift_pipeline_tests.test_store_lake import postgres as postgres  # noqa: PLC0414
from drift_pipeline_tests.test_store_lake_procs import (
    DAYS,
    REPOS,
    SHARED_BLOBS,
    START,
    TIMEOUT,
    late_writer,
    reader,
    rows,
    same_day_writer,
    writer,
)

SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter per process, like separate Dagster runs


@pytest.fixture(params=["sqlite", "postgres"])
def lake(request, tmp_path: Path, moto_s3: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> LakeConfig:
    if request.param == "sqlite":
        catalog = f"sqlite:///{tmp_path}/catalog.sqlite"
    else:
        catalog = pg_catalog(request.getfixturevalue("postgres"), monkeypatch)
    return store_resource(catalog, f"s3://{BUCKET}/{uuid.uuid4().hex[:8]}", moto_s3).lake_config()


def test_two_writer_processes_on_different_partitions_both_land(lake):
    go, out = SPAWN.Barrier(2), SPAWN.Queue()
    writers = [SPAWN.Process(target=writer, args=(lake, org, go, out)) for org in ("acme", "globex")]
    for p in writers:
        p.start()
    results = {}
    for _ in writers:
        org, retried, started, finished = out.get(timeout=TIMEOUT)
        results[org] = (retried, started, finished)
    for p in writers:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    (r1, s1, f1), (r2, s2, f2) = results.values()
    assert s1 < f2 and s2 < f1  # they wrote at the same time
    print(f"two writers: {f1 - s1:.1f}s and {f2 - s2:.1f}s, overlapping; units run again after a conflict: {r1 + r2}")
    with LakeStore(lake, read_only=True) as store:
        counts = store.rows("SELECT org, scan_date, count(*) AS n FROM repo_inventory GROUP BY ALL ORDER BY ALL")
        assert counts == [
            {"org": org, "scan_date": START + timedelta(days=n), "n": REPOS}
            for org in ("acme", "globex")
            for n in range(DAYS)
        ]
        assert store.rows("SELECT count(*) AS n FROM coverage") == [{"n": 2 * DAYS}]
        blobs = store.blobs([*SHARED_BLOBS, *(f"{o}-{n}" for o in ("acme", "globex") for n in range(DAYS))])
        assert len(blobs) == len(SHARED_BLOBS) + 2 * DAYS and blobs["shared-0"] == "content 0"
        cache = store.source_cache()
        assert cache["acme-key"] == cache["globex-key"] == str(DAYS - 1)
        assert cache["shared-key"] in (f"acme-{DAYS - 1}", f"globex-{DAYS - 1}")  # one value: the last flush
        assert len(store.rows("SELECT DISTINCT key FROM source_cache")) == 3


def test_a_reader_holding_a_session_never_blocks_a_writer_and_keeps_its_snapshot(lake):
    with LakeStore(lake) as store:
        store.replace_day(START, "acme", rows("acme", START))
    ready, written, out = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    reading = SPAWN.Process(target=reader, args=(lake, ready, written, out))
    writing = SPAWN.Process(target=late_writer, args=(lake, ready, written, out))
    reading.start()
    writing.start()
    got = [out.get(timeout=TIMEOUT), out.get(timeout=TIMEOUT)]
    for p in (reading, writing):
        p.join(TIMEOUT)
        assert p.exitcode == 0
    (_, seconds, retried), (before, during, days, after) = sorted(got, key=lambda r: r[0] != "writer")
    print(f"writer committed two days in {seconds:.2f}s ({retried} retried) while the reader held its session")
    assert retried == 0 and seconds < 15  # never waited for the reader
    assert (before, during, days) == (REPOS, REPOS, 1)  # the reader's snapshot: neither new day nor replacement
    assert after == REPOS + 1  # a new session sees both commits


@pytest.mark.parametrize("lake", ["sqlite"], indirect=True)
def test_two_processes_replacing_the_same_day_leave_one_writers_rows_never_both(lake):
    go, out = SPAWN.Barrier(2), SPAWN.Queue()
    racers = [SPAWN.Process(target=same_day_writer, args=(lake, tag, go, out)) for tag in "AB"]
    for p in racers:
        p.start()
    retried = dict(out.get(timeout=TIMEOUT) for _ in racers)
    for p in racers:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    with LakeStore(lake, read_only=True) as store:
        left = store.rows("SELECT split_part(repo, '-', 1) AS version, count(*) AS n FROM repo_inventory GROUP BY 1")
    assert left in ([{"version": f"A{DAYS - 1}", "n": REPOS}], [{"version": f"B{DAYS - 1}", "n": REPOS}]), left
    print(f"same day raced: last writer wins, units run again {retried}")
