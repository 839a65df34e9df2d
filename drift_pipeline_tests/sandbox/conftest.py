"""Shared fixtures for the sandbox tests: real git repos, a running GitHub sandbox, real clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from drift_pipeline.defs.resources import GitHubResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import DEFAULT_TOKEN, SandboxState
from drift_pipeline.sources.gitutil import Author, git

DEV = Author("Dev One", "dev1@example.com")


def day(n: int, hour: int = 12) -> datetime:
    """A fixed UTC date in March 2024, so histories (and shas) are reproducible."""
    return datetime(2024, 3, n, hour, tzinfo=UTC)


def branch_from(repo: Path, new: str, start: str) -> None:
    git(repo, "update-ref", f"refs/heads/{new}", start)


def app_github(url: str, app: dict[str, Any]) -> GitHubResource:
    """The github resource authenticating as the App of a ``github-app.json`` (``seed_app``), on org acme,
    with no pauses of its own (tests make tokens expire, not waits)."""
    return GitHubResource(
        api_url=url,
        app_id=str(app["app_id"]),
        app_private_key_path=app["private_key_path"],
        app_org="acme",
        backoff_seconds=0,
        max_rate_limit_wait_seconds=5,
        seconds_between_writes=0,
    )


def github_client(url: str, token: str = DEFAULT_TOKEN, **kw: Any) -> Github:
    kw.setdefault("per_page", 100)
    return Github(base_url=url, auth=Auth.Token(token), seconds_between_requests=0, seconds_between_writes=0, **kw)


StartSandbox = Callable[..., tuple[GitHubSandbox, SandboxState]]


@pytest.fixture(scope="module")
def start_github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartSandbox]:
    """``start_github(build, **server_kw)``: a state built by ``build(state)``, served over HTTP."""
    started: list[GitHubSandbox] = []

    def start(build: Callable[[SandboxState], None], **kw: Any) -> tuple[GitHubSandbox, SandboxState]:
        root = tmp_path_factory.mktemp("github")
        state = SandboxState.open(root)
        build(state)
        state.save()
        gh = GitHubSandbox(root, **kw).start()
        started.append(gh)
        return gh, state

    yield start
    for gh in started:
        gh.stop()
