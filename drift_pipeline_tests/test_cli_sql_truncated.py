"""``drift sql`` on a damaged store is a runtime failure (exit 3), a file that is no store a usage one (2)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from drift_pipeline.store import DriftStore


def _drift_sql(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from drift_pipeline.cli import main; sys.exit(main())"]
        + ["sql", "SELECT count(*) FROM repo_inventory", "--db", str(db)],
        check=False,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("DRIFT_")},
        timeout=120,
    )


@pytest.mark.parametrize("keep", [0.5, 4096, 100])
def test_a_truncated_database_exits_3_with_one_line(tmp_path, keep):
    db = tmp_path / "drift.duckdb"
    with DriftStore(db) as store:
        rows = [{"repo": f"r{i}", "config_files": ["check.toml"]} for i in range(2000)]
        store.replace_day(date(2026, 1, 1), "acme", {"repo_inventory": rows})
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    proc = _drift_sql(db)
    assert proc.returncode == 3, proc.stderr
    assert str(db) in proc.stderr and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_file_that_is_no_database_still_exits_2(tmp_path):
    foreign = tmp_path / "notes.duckdb"
    foreign.write_bytes(b"not a database\n" * 1000)
    proc = _drift_sql(foreign)
    assert proc.returncode == 2 and str(foreign) in proc.stderr
