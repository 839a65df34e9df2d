"""The processes of ``test_store_lake_concurrency`` (no tests here): each runs in its own interpreter
(multiprocessing, spawn), so this module imports only the store, not Dagster or the emulator."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from drift_pipeline.store.lake import LakeConfig, LakeStore

START = date(2026, 2, 1)
DAYS = 6
REPOS = 40
SHARED_BLOBS = {f"shared-{i}": f"content {i}" for i in range(5)}  # both writers store these
TIMEOUT = 120


def rows(org: str, day: date) -> dict[str, list[dict[str, Any]]]:
    return {
        "repo_inventory": [{"repo": f"{org}-r{i}", "head_sha": f"{day}-{i}"} for i in range(REPOS)],
        "coverage": [{"domain": "infra", "observed": True, "reason": None}],
    }


def writer(config: LakeConfig, org: str, go: Any, out: Any) -> None:
    """One writer process (``go``: a barrier of the writers): the schema of a fresh lake (both create it
    at once), then every day of the range for ``org``, plus blobs and cache keys both writers share."""
    with LakeStore(config).attach() as store:
        go.wait(TIMEOUT)
        started = time.time()
        for n in range(DAYS):
            day = START + timedelta(days=n)
            store.replace_day(day, org, rows(org, day))
            store.put_blobs({**SHARED_BLOBS, f"{org}-{n}": org})
            cache = store.source_cache()
            cache["shared-key"] = f"{org}-{n}"
            cache[f"{org}-key"] = str(n)
            cache.flush()
        out.put((org, store.retried, started, time.time()))


def reader(config: LakeConfig, ready: Any, written: Any, out: Any) -> None:
    """A reader process that holds one session (a ``reading()`` block) across another process's commit."""
    with LakeStore(config, read_only=True) as store:
        with store.reading():
            before = store.rows("SELECT count(*) AS n FROM repo_inventory")[0]["n"]
            ready.set()
            written.wait(TIMEOUT)
            during = store.rows("SELECT count(*) AS n FROM repo_inventory")[0]["n"]
            days = store.days("repo_inventory")
        after = store.rows("SELECT count(*) AS n FROM repo_inventory")[0]["n"]
    out.put((before, during, len(days), after))


def late_writer(config: LakeConfig, ready: Any, written: Any, out: Any) -> None:
    ready.wait(TIMEOUT)
    with LakeStore(config) as store:
        started = time.monotonic()
        store.replace_day(START + timedelta(days=1), "acme", rows("acme", START))
        store.replace_day(START, "acme", {"repo_inventory": [{"repo": "only-one"}]})
        out.put(("writer", time.monotonic() - started, store.retried))
    written.set()


def same_day_writer(config: LakeConfig, tag: str, go: Any, out: Any) -> None:
    """Replace the same (day, org) again and again, racing another process doing the same."""
    with LakeStore(config).attach() as store:
        go.wait(TIMEOUT)
        for n in range(DAYS):
            store.replace_day(START, "acme", {"repo_inventory": [{"repo": f"{tag}{n}-{i}"} for i in range(REPOS)]})
        out.put((tag, store.retried))
