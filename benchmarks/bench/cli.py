"""A scan through the path users run: ``dagster asset materialize`` in a process of its own.

Each phase runs ``dagster asset materialize -m drift_pipeline.definitions --select '*' --partition
<day>`` with a ``DAGSTER_HOME`` that holds a copy of the project's ``dagster.yaml`` (fresh per store),
configured from the environment as a deployment is (``GITHUB_API_URL``, ``DRIFT_ORGS``,
``DRIFT_DB_PATH``, ``AWS_ENDPOINT_URL``). With ``--profile`` the CLI runs under ``python -m cProfile``
(the launching process only; step processes, if the executor starts any, are timed from the event log).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.inprocess import measured
from bench.servers import ORG, ROOT, TOKEN, aws_env
from bench.steps import run_timings


@dataclass
class CliStore:
    """One deployment's state: the DuckDB file and the Dagster instance directory beside it."""

    root: Path
    api: str
    aws: str
    start: str  # DRIFT_START_DATE: the first daily partition

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def db(self) -> Path:
        return self.root / "drift.duckdb"

    def fresh(self) -> CliStore:
        self.root.mkdir(parents=True)
        self.home.mkdir()
        shutil.copy(ROOT / "dagster.yaml", self.home / "dagster.yaml")
        return self

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        env = aws_env()
        for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH", "DRIFT_STORE"):
            env.pop(name, None)
        env.update(
            DAGSTER_HOME=str(self.home),
            GITHUB_API_URL=self.api,
            GITHUB_TOKEN=TOKEN,
            DRIFT_ORGS=ORG,
            DRIFT_DB_PATH=str(self.db),
            DRIFT_START_DATE=self.start,
            AWS_ENDPOINT_URL=self.aws,
            **extra,
        )
        return env


def materialize(
    store: CliStore, day: str, label: str, profile: Path | None, extra_env: dict[str, str]
) -> dict[str, Any]:
    """One ``dagster asset materialize`` of every asset for ``day``: process figures and the run's timings."""
    cli = ["-m", "dagster", "asset", "materialize", "-m", "drift_pipeline.definitions", "--select", "*"]
    prof = ["-m", "cProfile", "-o", str(profile / f"cli-{label}.prof")] if profile else []
    argv = [sys.executable, *prof, *cli, "--partition", day]
    run = measured(argv, store.env(extra_env), store.root / f"{label}.log")
    run.pop("stdout")
    if run.pop("returncode"):
        raise SystemExit(f"dagster asset materialize --partition {day} failed: see {store.root / f'{label}.log'}")
    return {**run, "dagster": run_timings(store.home)}
