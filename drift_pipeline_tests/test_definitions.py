import subprocess
import sys

from drift_pipeline.definitions import defs


def test_definitions_load_and_validate():
    assert defs is not None
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "drift_pipeline.definitions"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
