"""``python -m drift_pipeline.sandbox.seed [README]``: regenerate the sandbox README's demo scenario."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from drift_pipeline.sandbox.seed.build import update_readme

with tempfile.TemporaryDirectory() as tmp:
    update_readme(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "README.md", Path(tmp))
