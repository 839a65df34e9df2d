"""The code location the demo serves: ``drift_pipeline.definitions`` without Dagster's beta noise.

Loaded by the code server and every run process of the demo's ``dagster dev`` (named as
``pyproject.toml`` names the location); the definitions are the project's own, unchanged.
"""

from drift_pipeline.demo.serve import quiet_warnings

quiet_warnings()

from drift_pipeline.definitions import defs  # noqa: E402 - after the warning filters

__all__ = ["defs"]
