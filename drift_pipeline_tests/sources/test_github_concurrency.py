"""One GitHubSource shared by many threads, over real HTTP to the sandbox.

Measured on the server side (``recording.RecordingSandbox``): the same records and the same
requests per route as one thread, never more than ``concurrency`` requests in flight, and one
worker's rate limit pausing every worker until the reset.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.gitutil import Author, commit_files
from drift_pipeline_tests.sources.recording import RecordingSandbox

START = datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 4
ME = Author("Dev", "dev@example.com")
REPOS = [f"svc-{i:02d}" for i in range(16)]
SHARED = "[standards]\nshared = true\n"  # the same blob in every repo


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    state = SandboxState.open(tmp_path_factory.mktemp("gh"))
    state.add_org("acme")
    registry = state.create_repo("acme", "drift-config")
    commit_files(registry, "main", {"drift.config.yaml": "exclude: []\n"}, "init", ME, START - timedelta(days=9))
    for n, name in enumerate(REPOS):
        repo = state.create_repo("acme", name)
        commit_files(
            repo, "main", {"check.toml": SHARED, "src/a.txt": f"{name}\n"}, "init", ME, START - timedelta(days=3)
        )
        for day in range(n % DAYS):
            commit_files(
                repo,
                "main",
                {"check.toml": SHARED + f"# day {day}\n"},
                f"day {day}",
                ME,
                START + timedelta(days=day, hours=6),
            )
    state.save()
    with RecordingSandbox(state.root) as gh:
        yield gh


@pytest.fixture
def gh(sandbox):
    sandbox.reset()
    return sandbox


def _read(src: GitHubSource, name: str) -> list[object]:
    """What a scan reads for one repo over the window, registry included."""
    registry = src.get_repo("acme", "drift-config")
    out: list[object] = [src.head_at(registry, START + timedelta(days=DAYS - 1))]
    repo = src.get_repo("acme", name)
    for day in range(DAYS):
        head = src.head_at(repo, START + timedelta(days=day, hours=23))
        if head is None:
            continue
        tree = src.tree(repo.full_name, head.sha)
        out.append((day, head, tree, [src.blob_text(repo.full_name, e.sha) for e in tree]))
    out.append(src.path_commits(repo.full_name, head.sha, "check.toml", START, START + timedelta(days=DAYS)))
    return out


def _scan(gh: RecordingSandbox, workers: int, concurrency: int) -> tuple[list[object], dict[str, int]]:
    src = GitHubSource(gh.url, "sandbox-token", backoff=0, concurrency=concurrency)
    src.plan_window(START, START + timedelta(days=DAYS))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda name: _read(src, name), REPOS))
    return results, gh.app.request_counts()["by_route"]


def test_many_threads_read_the_same_records_with_the_same_requests_as_one(gh):
    serial, serial_routes = _scan(gh, workers=1, concurrency=1)
    assert gh.peak == 1
    gh.reset()
    gh.app.faults.update({"latency_ms": 20})  # so that threads overlap and race for the same keys
    concurrent, concurrent_routes = _scan(gh, workers=12, concurrency=8)
    assert gh.peak > 1  # there was real concurrency
    assert concurrent == serial
    assert concurrent_routes == serial_routes
    # the registry repo and the blob every repo shares were each read once, whoever asked first
    assert concurrent_routes["GET /repos/{owner}/{repo}"] == len(REPOS) + 1
    shared = sum(1 for seen in gh.log if "/git/blobs/" in seen.path)
    assert shared == len({e.sha for r in serial for item in r if isinstance(item, tuple) for e in item[2]})


def test_requests_in_flight_never_exceed_the_bound(gh):
    gh.app.faults.update({"latency_ms": 30})
    _scan(gh, workers=12, concurrency=3)
    assert gh.peak == 3  # reached (12 threads pressed on it) and never exceeded


def test_one_workers_rate_limit_pauses_every_worker_until_the_reset(gh):
    gh.app.faults.update({"latency_ms": 10, "rate_limit": {"count": 1, "path": "/git/trees/"}})
    src = GitHubSource(gh.url, "sandbox-token", backoff=0, concurrency=8, max_rate_limit_wait=10)
    src.plan_window(START, START + timedelta(days=DAYS))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: _read(src, name), REPOS))
    assert len(results) == len(REPOS)
    limited = [s for s in gh.log if s.status == 403]
    assert len(limited) == 1 and gh.app.request_counts()["faults"] == 1  # the fault fired, once
    assert src.gate.pauses == 1
    hit, reopened = limited[0].ended, src.gate.reopens_at
    assert reopened - hit >= 0.9  # the reset was ahead (1 to 2 s)
    # requests already past the gate when the limit came back may land just after it; none later
    during = [s for s in gh.log if hit + 0.25 < s.arrived < reopened - 0.02]
    assert during == []
    after = [s for s in gh.log if s.arrived >= reopened - 0.02]
    assert len(after) > 8  # the work went on after the reset
    before = [s for s in gh.log if s.arrived < limited[0].arrived]
    assert before  # and was under way before the limit
