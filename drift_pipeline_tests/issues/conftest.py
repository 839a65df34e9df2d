"""Issue filing over the GitHub sandbox: real HTTP through PyGithub, a real DuckDB file, real findings rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from github import Github

from drift_pipeline.core.rules.base import make_finding
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.defs.issues import file_drift_issues
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import DEFAULT_TOKEN, SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client

REPOS = ("svc", "web")
DAY1, DAY2 = date(2026, 3, 5), date(2026, 3, 6)
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # token-shaped, planted in findings


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubSandbox]:
    root = tmp_path_factory.mktemp("github")
    state = SandboxState.open(root)
    state.add_org("acme")
    repos = [state.create_repo("acme", name) for name in (*REPOS, "drift-config")]
    repos += [state.create_repo("acme", "old", archived=True), state.create_repo("acme", "quiet", has_issues=False)]
    for path in repos:
        commit_files(path, "main", {"README.md": "x\n"}, "init", DEV, day(1))
    state.save()
    with GitHubSandbox(root) as server:
        yield server


@pytest.fixture
def gh(sandbox: GitHubSandbox) -> Github:
    return github_client(sandbox.url)


def code_finding(day_: date, repo: str, path: str = "check.toml", diff_extra: str = "") -> dict[str, Any]:
    sha = hashlib.sha1(repo.encode()).hexdigest()  # a real sha shape: only those are linked
    return make_finding(
        RULES["check_toml_changed"],
        scan_date=day_,
        org="acme",
        repo=repo,
        project=".",
        message=f"standards config {path} changed in {sha[:7]} by Dev One",
        subject=f"{path}@b10b",
        commit_sha=sha,
        commit_url=f"https://github.example/acme/{repo}/commit/{sha}",
        details={
            "path": path,
            "change": "changed",
            "diff": f"--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-tier = \"production\"\n+tier = \"prototype\"\n"
            + diff_extra,
            "diff_withheld": False,
            "diff_truncated": False,
            "commits": [
                {
                    "sha": sha,
                    "url": f"https://github.example/acme/{repo}/commit/{sha}",
                    "author": "Dev One",
                    "date": "2026-03-05T10:00:00+00:00",
                    "message": "Lower the tier",
                }
            ],
        },
    ).row()


def process_finding(day_: date, repo: str, setting: str = "required_reviews") -> dict[str, Any]:
    return make_finding(
        RULES["required_reviews_too_low"],
        scan_date=day_,
        org="acme",
        repo=repo,
        project=".",
        message="main requires 0 approving reviews, 2 expected",
        subject=f"main:{setting}",
        details={"expected": 2, "actual": 0, "branch": "main"},
    ).row()


def day_rows(day_: date, extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    rows = [code_finding(day_, r) for r in REPOS] + [process_finding(day_, r) for r in REPOS]
    return rows + (extra or [])


def write_findings(db_path: Path, day_: date, rows: list[dict[str, Any]]) -> None:
    with DriftStore(db_path) as store:
        store.replace_day(day_, "acme", {"drift_findings": [{**r, "scan_date": day_} for r in rows]})


def resources(sandbox: GitHubSandbox, db_path: Path, seconds_between_writes: float = 0) -> dict[str, Any]:
    return {
        "github": GitHubResource(
            api_url=sandbox.url,
            token=DEFAULT_TOKEN,
            backoff_seconds=0,
            seconds_between_writes=seconds_between_writes,
            max_rate_limit_wait_seconds=10,
        ),
        "store": DriftStoreResource(database=str(db_path)),
    }


def run_job(
    sandbox: GitHubSandbox,
    db_path: Path,
    day_: date,
    instance: dg.DagsterInstance | None = None,
    seconds_between_writes: float = 0,
    **config: Any,
) -> dg.ExecuteInProcessResult:
    return file_drift_issues.execute_in_process(
        partition_key=day_.isoformat(),
        resources=resources(sandbox, db_path, seconds_between_writes),
        run_config={"ops": {"file_drift_issues_op": {"config": config}}} if config else None,
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def issues_of(gh: Github, repo: str, label: str | None = None) -> list[Any]:
    r = gh.get_repo(f"acme/{repo}")
    return list(r.get_issues(state="all", labels=[label] if label else []))
