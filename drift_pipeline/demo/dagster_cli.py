"""``python -m drift_pipeline.demo.dagster_cli dev ...``: Dagster's own CLI with its beta, preview and
supersession warnings silenced (``dagster dev`` warns that ``dg dev`` supersedes it)."""

import sys

from drift_pipeline.demo.serve import quiet_warnings

quiet_warnings()

from dagster._cli import main  # noqa: E402 - after the warning filters

sys.argv[0] = "dagster"
main()
