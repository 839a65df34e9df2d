"""Concurrent reads: the same rows and the same requests as a serial scan, in the same order."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.scans.code import scan_configs
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.orgfixture import DAY0, DAY3, DAY4, OrgFixture, build_org


class TunedPipeline(Pipeline):
    """The real assets, with the GitHub resource's ``concurrency`` set."""

    def __init__(self, server: GitHubSandbox, db_path: Path, concurrency: int):
        super().__init__(server, db_path)
        self.concurrency = concurrency

    def resources(self) -> dict:
        resources = super().resources()
        github = resources["github"]
        resources["github"] = type(github)(**{**github.model_dump(), "concurrency": self.concurrency})
        return resources


WALL_CLOCK = {"source_cache": "stored_at"}  # when a cache entry was written: differs between any two runs


def dump(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of a DuckDB file, in a canonical order (wall-clock columns left out)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        out = {
            t: con.execute(
                f'SELECT * {f"EXCLUDE ({WALL_CLOCK[t]})" if t in WALL_CLOCK else ""} FROM "{t}" ORDER BY ALL'
            ).fetchall()
            for t in tables
        }
    # A blob is cached by sha alone, with the API URL of the repo that read it first; two repos
    # holding the same blob may be read in either order by concurrent workers. Everything else
    # about the entry (sha, size, content) must be identical.
    out["source_cache"] = [_cache_entry(key, value, packed) for key, value, packed in out["source_cache"]]
    return out


def _cache_entry(key: str, value: str, packed: bytes | None) -> tuple[str, Any]:
    text = zlib.decompress(packed).decode() if packed is not None else value
    if key.startswith("blob:"):
        return key, _without_url(text)
    if key.startswith("branch:"):
        return key, _without_read_at(text)
    return key, text


def _without_url(value: str) -> dict:
    body = json.loads(value)
    body.pop("url", None)
    return body


def _without_read_at(value: str) -> dict:
    body = json.loads(value)  # a shared branch answer: when it was read is wall clock too
    body.pop("read_at", None)
    return body


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> OrgFixture:
    return build_org(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def github(org) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(org.state.root) as server:
        yield server


def _run(github: GitHubSandbox, db_path: Path, concurrency: int) -> dict:
    github.clear_faults()
    github.reset_counts()
    pipeline = TunedPipeline(github, db_path, concurrency)
    assert pipeline.run(DAY0, DAY3).success and pipeline.run(DAY4).success  # a backfill, then a next day
    return github.request_counts()["by_route"]


def test_a_backfill_with_8_workers_stores_the_rows_and_makes_the_requests_of_a_serial_one(github, tmp_path):
    serial_requests = _run(github, tmp_path / "serial.duckdb", 1)
    concurrent_requests = _run(github, tmp_path / "concurrent.duckdb", 8)
    assert concurrent_requests == serial_requests
    serial, concurrent = dump(tmp_path / "serial.duckdb"), dump(tmp_path / "concurrent.duckdb")
    assert serial.keys() == concurrent.keys()
    for table in serial:
        assert concurrent[table] == serial[table], table
    assert serial["config_snapshots"] and serial["code_drift"] and serial["repo_inventory"]


def test_scans_return_rows_in_the_serial_order(github):
    """Not only the same rows: the same list, so what is written and printed is deterministic."""
    out = []
    for concurrency in (1, 8):
        source = GitHubSource(github.url, "sandbox-token", backoff=0, concurrency=concurrency)
        inventory = scan_inventory(source, "acme", day_end(DAY3))
        scan = scan_configs(source, "acme", day_end(DAY3), inventory.rows)
        out.append((inventory.rows, scan.tables, scan.blobs, source.requests))
    assert out[0] == out[1]


def test_repos_are_read_in_parallel_when_the_source_allows_it(github):
    """With 80 ms per request, 8 workers overlap the repos' reads; a serial scan pays each in turn."""
    github.clear_faults()
    github.set_faults({"latency_ms": 80})
    try:
        took = {}
        for concurrency in (1, 8):
            source = GitHubSource(github.url, "sandbox-token", backoff=0, concurrency=concurrency)
            start = time.monotonic()
            inventory = scan_inventory(source, "acme", day_end(DAY3))
            scan_configs(source, "acme", day_end(DAY3), inventory.rows)
            took[concurrency] = time.monotonic() - start
            requests = sum(source.requests.values())
        assert took[1] >= requests * 0.08
        assert took[8] < took[1] * 0.6, took
    finally:
        github.clear_faults()
