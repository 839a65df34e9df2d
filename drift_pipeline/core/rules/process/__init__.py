"""Process drift: each repo's GitHub settings and its day's default-branch activity, against the
process standards its own resolved config declares (``standards.process_expectations``).

Pure: records in (``records``), findings out. Settings rules (``settings``, ``files``) run only
when the settings were observed (today's partition): a past day's settings are live-only, not
observed, and yield no settings findings at all. Activity rules (``activity``) run for every day.
What the token could not read becomes ``process_not_evaluated`` naming what and why, never a
violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from drift_pipeline.core.rules.base import Finding, RuleFamily
from drift_pipeline.core.rules.process.activity import activity_findings
from drift_pipeline.core.rules.process.common import SPECS, Context
from drift_pipeline.core.rules.process.files import codeowners_findings, tree_findings
from drift_pipeline.core.rules.process.records import RepoProcess
from drift_pipeline.core.rules.process.settings import SettingStatus, branch_findings, branch_statuses, tag_findings
from drift_pipeline.core.standards.process_model import ProcessExpectations

__all__ = ["FAMILY", "SPECS", "SettingStatus", "branch_statuses", "evaluate", "evaluate_repo"]


def evaluate_repo(day: date, observed: RepoProcess, expected: ProcessExpectations) -> list[Finding]:
    """All process findings of one repo on ``day``."""
    ctx = Context(day, observed, expected)
    settings = observed.settings
    if observed.observed_settings and settings is not None:
        branch_findings(ctx, settings)
        tag_findings(ctx, settings)
        codeowners_findings(ctx, settings)
        tree_findings(ctx, settings)
    if observed.activity is not None:
        activity_findings(ctx, observed.activity)
    return ctx.out


def evaluate(
    day: date, observed: Mapping[str, RepoProcess], expected: Mapping[str, ProcessExpectations]
) -> list[Finding]:
    """All process findings of ``day``: every observed repo against its expectations (none: nothing)."""
    findings: list[Finding] = []
    for name in sorted(observed):
        if name in expected:
            findings += evaluate_repo(day, observed[name], expected[name])
    return findings


FAMILY: RuleFamily[Mapping[str, RepoProcess], Mapping[str, ProcessExpectations]] = RuleFamily(
    category="process", rules=SPECS, evaluate=evaluate
)
