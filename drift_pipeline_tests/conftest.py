"""Session-wide: every GitHub sandbox answer the tests produce is checked against GitHub's own
OpenAPI description (``drift_pipeline/sandbox/github/conformance.py``).

The controlling process (the only process without xdist; the controller with ``-n N``) sets
``DRIFT_SANDBOX_CONFORMANCE`` to a fresh directory in ``pytest_configure``, before xdist starts
its workers, so workers and every sandbox they start (in-process threads, ``drift sandbox
serve`` subprocesses) inherit it; each sandbox process appends its records there. The
controller's ``pytest_sessionfinish`` runs after every worker has finished: it reads all the
records, lists each distinct violation in the terminal summary and sets the exit status to
"tests failed" when there is any not already listed in ``known-deviations.json`` (next to the
vendored description; each entry names the renderer and what GitHub documents).
``DRIFT_SANDBOX_CONFORMANCE=off`` turns the check off.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from drift_pipeline.sandbox.github import conformance

_DIR = pytest.StashKey[Path]()
_PREVIOUS = pytest.StashKey[str | None]()
_SUMMARY = pytest.StashKey[dict[str, Any]]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller's variable is inherited
        return
    previous = os.environ.get(conformance.ENV)
    if previous in ("0", "off"):
        return
    directory = Path(tempfile.mkdtemp(prefix="drift-conformance-"))
    config.stash[_DIR] = directory
    config.stash[_PREVIOUS] = previous
    os.environ[conformance.ENV] = str(directory)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    directory = session.config.stash.get(_DIR, None)
    if directory is None:
        return
    summary = conformance.summarize(directory)
    session.config.stash[_SUMMARY] = summary
    if conformance.failed(summary):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    summary = config.stash.get(_SUMMARY, None)
    if summary is None or not summary["answers"]:
        return
    failed = conformance.failed(summary)
    terminalreporter.write_sep("=", "GitHub sandbox vs GitHub's OpenAPI description", red=failed, green=not failed)
    for line in conformance.report_lines(summary):
        terminalreporter.write_line(line)
    if failed:
        terminalreporter.write_line(f"  records kept in {config.stash[_DIR]}")


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_DIR, None)
    if directory is None:
        return
    previous = config.stash[_PREVIOUS]
    if previous is None:
        os.environ.pop(conformance.ENV, None)
    else:
        os.environ[conformance.ENV] = previous
    summary = config.stash.get(_SUMMARY, None)
    if summary is None or not conformance.failed(summary):
        shutil.rmtree(directory, ignore_errors=True)


# The caller's shell may select a storage profile or a deployment's settings (DRIFT_STORE=ducklake,
# DRIFT_AWS_ACCOUNTS, ...): every test starts from the defaults and sets what it tests itself.
PROFILE_ENV = (
    "DRIFT_STORE",
    "DRIFT_LAKE_CATALOG",
    "DRIFT_LAKE_DATA",
    "DRIFT_AWS_ACCOUNTS",
    "DRIFT_AWS_ROLE",
    "DRIFT_AWS_REGIONS",
    "DRIFT_EXECUTOR",
    "DRIFT_CELERY_CONFIG",
)


@pytest.fixture(autouse=True)
def _default_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROFILE_ENV:
        monkeypatch.delenv(name, raising=False)
