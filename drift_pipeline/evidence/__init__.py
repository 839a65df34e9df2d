"""Change-management evidence from the store: what reached each default branch, and how it was reviewed.

Pure (no Dagster, no GitHub): :func:`collect.collect` reads the facts through a query function,
:func:`report.build` decides the verdicts and summaries, :mod:`render` writes CSV and HTML. The CLI
(``drift evidence``) and the asset (``change_evidence``) are thin shells around these three.
"""

from drift_pipeline.evidence.collect import Facts, Query, collect, missing_tables, orgs
from drift_pipeline.evidence.render import to_csv, to_html
from drift_pipeline.evidence.report import Change, Report, build, payload, totals, verdict

__all__ = [
    "Change",
    "Facts",
    "Query",
    "Report",
    "build",
    "collect",
    "missing_tables",
    "orgs",
    "payload",
    "to_csv",
    "to_html",
    "totals",
    "verdict",
]
