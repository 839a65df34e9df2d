"""One 60-day demo build for every evidence test (the demo `make demo` builds, without the UI).

The build takes a minute or more, so the whole session shares it. ``DRIFT_EVIDENCE_DEMO_DIR`` names a
folder to build into instead of a temporary one; the demo reuses a build there made with the same
parameters (as ``make demo`` does), which keeps iterating on these tests short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

DAYS = 60
REPOS = 8


@dataclass(frozen=True)
class Demo:
    base: Path
    db: Path
    start: date
    end: date
    seed: dict[str, Any]  # seed-report.json: the scripted history (the oracle)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    given = os.environ.get("DRIFT_EVIDENCE_DEMO_DIR", "").strip()
    base = Path(given) if given else tmp_path_factory.mktemp("evidence-demo") / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "drift_pipeline.demo", "--no-ui", "--days", str(DAYS), "--repos", str(REPOS)]
        + ["--dir", str(base)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    seed = json.loads((base / "seed-report.json").read_text())
    return Demo(
        base, base / "drift.duckdb", date.fromisoformat(seed["start_date"]), date.fromisoformat(seed["end_date"]), seed
    )
