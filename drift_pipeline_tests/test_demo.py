"""`make demo` stays working: its driver, end to end, without serving the UI."""

from __future__ import annotations

import subprocess
import sys

from drift_pipeline.store import DriftStore


def test_demo_seeds_backfills_and_reports_findings(tmp_path):
    base = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "drift_pipeline.demo", "--no-serve", "--dir", str(base), "--days", "7", "--repos", "8"],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "findings per day" in proc.stdout
    with DriftStore(base / "drift.duckdb", read_only=True) as store:
        days = store.rows("SELECT count(DISTINCT scan_date) AS n FROM repo_inventory")[0]["n"]
        rules = {r["rule"] for r in store.rows("SELECT DISTINCT rule FROM drift_findings")}
    assert days == 7
    assert {"dependency_changed", "check_toml_removed", "tier_ruleset_mismatch", "invalid_config"} <= rules
    assert (base / "SCENARIO.md").read_text().startswith("# Demo org `acme`")
