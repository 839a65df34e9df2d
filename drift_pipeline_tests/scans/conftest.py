from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drift_pipeline.cli import main
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline_tests.scans.hostile_org import build_archive_org, build_hostile_org, build_leaky_org

TOKEN = "sandbox-token"


def clones(state: SandboxState) -> Path:
    """The org's repositories as a folder of (bare) clones, for ``--path``."""
    return state.root / "repos" / "acme"


def scan_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["code", "scan", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def rules(payload: dict) -> list[tuple[str, str, str]]:
    return sorted((f["repo"], f["project"], f["rule"]) for f in payload["findings"])


@pytest.fixture
def use_sandbox(monkeypatch, tmp_path):
    def point(server: GitHubSandbox) -> None:
        monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))  # filed_issues of scans that file
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    return point


def _served(state: SandboxState) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(state.root) as server:
        yield server


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> SandboxState:
    return build_hostile_org(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def hostile_github(hostile) -> Iterator[GitHubSandbox]:
    yield from _served(hostile)


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> SandboxState:
    return build_leaky_org(tmp_path_factory.mktemp("leaky"))


@pytest.fixture(scope="module")
def leaky_github(leaky) -> Iterator[GitHubSandbox]:
    yield from _served(leaky)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> SandboxState:
    return build_archive_org(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def archive_github(archive) -> Iterator[GitHubSandbox]:
    yield from _served(archive)


@pytest.fixture
def fresh(request):
    """A module-scoped sandbox with faults cleared and counts reset (pass its fixture name)."""

    def get(name: str) -> GitHubSandbox:
        server = request.getfixturevalue(name)
        server.clear_faults()
        server.reset_counts()
        server.reset_rate_limits()
        return server

    return get
