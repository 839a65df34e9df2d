"""``python -m drift_pipeline.demo [options]`` is ``drift demo [options]`` (what ``make demo`` runs)."""

import sys

from drift_pipeline.cli import main

sys.exit(main(["demo", *sys.argv[1:]]))
