"""Secrets never reach storage: planted credentials in tracked, non-secret-named files."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import duckdb

from drift_pipeline.cli import main
from drift_pipeline.core.redaction import MASK
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.orgfixture import DAY0, DAY1, DAY2
from drift_pipeline_tests.scans.conftest import clones
from drift_pipeline_tests.scans.hostile_org import SECRETS


def every_value(db_path: Path) -> str:
    """Every column of every row of every table of a DuckDB file, as one text."""
    parts = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        assert "config_snapshots" in tables and "code_drift" in tables
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                parts.append(f"{table}: " + " | ".join(map(str, row)))
    return "\n".join(parts)


def leaked(text: str) -> list[str]:
    """The planted kinds found in ``text``, also inside base64 runs (how the API ships blobs)."""
    decoded = []
    for run in re.findall(r"[A-Za-z0-9+/=\\n]{24,}", text):
        try:
            decoded.append(base64.b64decode(run.replace("\\n", ""), validate=False).decode("utf-8", "ignore"))
        except ValueError:
            continue
    whole = text + "\n".join(decoded)
    return [kind for kind, value in SECRETS.items() if value in whole]


def test_planted_secrets_reach_no_table_no_cli_output_and_no_log(leaky, fresh, use_sandbox, tmp_path, capfd, caplog):
    server = fresh("leaky_github")
    use_sandbox(server)
    printed = []
    for where in (["--path", str(clones(leaky))], ["--org", "acme"]):
        for day in (DAY1, DAY2):
            for fmt in (["--json"], ["--all", "--dry-run"]):
                assert main(["code", "scan", *where, "--date", day.isoformat(), *fmt]) == 1
                captured = capfd.readouterr()
                printed.append(captured.out + captured.err)
                if fmt == ["--json"]:
                    payload = json.loads(captured.out)
                    changed = {(f["repo"], f["rule"]): _details(f) for f in payload["findings"]}
                    # the scans did read the planted files: their diffs are there, masked
                    for rule in ("dependency_changed", "workflow_changed"):
                        assert MASK in changed[("web", rule)]["diff"]
    assert leaked("\n".join(printed)) == []

    pipeline = Pipeline(server, tmp_path / "drift.duckdb")
    result = pipeline.run(DAY0, DAY2)
    assert result.success
    stored = every_value(tmp_path / "drift.duckdb")
    assert "chore: tweak settings (ci token" in stored  # the leaking commit message was read and stored
    assert leaked(stored) == []
    drift = {
        (r["rule"], str(r["scan_date"]))
        for r in pipeline.rows("SELECT rule, scan_date FROM code_drift WHERE repo = 'web'")
    }
    assert {("dependency_changed", str(DAY1)), ("workflow_changed", str(DAY2))} <= drift
    assert MASK in stored  # the masked contents and diffs were stored
    captured = capfd.readouterr()
    events = "\n".join(str(event) for event in result.all_events)
    assert leaked(captured.out + captured.err + caplog.text + events) == []


def _details(finding: dict) -> dict:
    details = finding["details"]
    return json.loads(details) if isinstance(details, str) else details
