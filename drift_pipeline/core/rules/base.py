"""What every rule family shares: the rule spec, the finding record and the family interface.

A rule family (code, process, infra) is one :class:`RuleFamily` value: its category, the specs of
its rules (id, severity, title, how to fix) and the pure function that evaluates what was observed
against what was expected into :class:`Finding` records. The families are listed once, in
:data:`drift_pipeline.core.rules.FAMILIES`; the registry, the contract check, the findings union, the
asset list and the job selection all derive from that list. Nothing registers itself on import
and no family holds state: a family is data plus one function.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

CATEGORIES = ("code", "process", "infra")
SEVERITIES = ("error", "warning", "info")
ROOT_PROJECT = "."


@dataclass(frozen=True)
class RuleSpec:
    """One rule id and the text a person needs: what it means and how to fix it."""

    id: str
    category: str
    severity: str
    title: str
    fix: str


def fingerprint(org: str, repo: str, project: str, category: str, rule: str, subject: str) -> str:
    """Stable identity of a drift: the same drift seen on two days has the same fingerprint."""
    raw = "\x1f".join((org, repo, project or ROOT_PROJECT, category, rule, subject))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Finding:
    scan_date: date
    org: str
    repo: str
    project: str
    category: str
    rule: str
    severity: str
    message: str
    subject: str  # what the finding is about: a path, a setting, an ARN
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    commit_sha: str | None = None
    commit_url: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.org, self.repo, self.project, self.category, self.rule, self.subject)

    def row(self) -> dict[str, Any]:
        """The DuckDB row (DESIGN's column list, plus ``subject``)."""
        data = asdict(self)
        data["details"] = json.dumps(self.details, sort_keys=True, default=str)
        data["fingerprint"] = self.fingerprint
        return data


def make_finding(
    spec: RuleSpec,
    *,
    scan_date: date,
    org: str,
    repo: str,
    project: str,
    message: str,
    subject: str,
    details: dict[str, Any] | None = None,
    severity: str | None = None,
    commit_sha: str | None = None,
    commit_url: str | None = None,
) -> Finding:
    """A finding of the rule ``spec``; category and default severity come from the spec."""
    return Finding(
        scan_date=scan_date,
        org=org,
        repo=repo,
        project=project or ROOT_PROJECT,
        category=spec.category,
        rule=spec.id,
        severity=severity or spec.severity,
        message=message,
        subject=subject,
        details=details or {},
        commit_sha=commit_sha,
        commit_url=commit_url,
    )


Observed = TypeVar("Observed")
Expected = TypeVar("Expected")


@dataclass(frozen=True)
class RuleFamily(Generic[Observed, Expected]):
    """One rule family: category, rule specs and ``evaluate(day, observed, expected) -> findings``.

    ``observed`` is what the sources read for the scan date, as the family's own records;
    ``expected`` is what it is held against (code: the snapshot of the day before, ``None`` on
    the first day; process and infra: the standards the repo declares). ``evaluate`` is pure and
    returns data only: the text for people is rendered from the specs.

    The family's Dagster wiring lives in ``drift_pipeline.defs.assets.<category>`` (see
    ``drift_pipeline.defs.assets.families``), whose findings asset and table are ``<category>_drift``.
    """

    category: str
    rules: tuple[RuleSpec, ...]
    evaluate: Callable[[date, Observed, Expected], list[Finding]]

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"rule family {self.category!r}: category must be one of {CATEGORIES}")
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule family {self.category!r}: rule ids declared twice: {dupes}")
        for rule in self.rules:
            if rule.category != self.category:
                raise ValueError(
                    f"rule {rule.id!r} declares category {rule.category!r} inside the {self.category!r} family"
                )
            if rule.severity not in SEVERITIES:
                raise ValueError(f"rule {rule.id!r}: severity {rule.severity!r} not one of {SEVERITIES}")
            if not (rule.title and rule.fix):
                raise ValueError(f"rule {rule.id!r}: title and fix text are required")

    @property
    def findings_table(self) -> str:
        """The family's findings asset and DuckDB table: ``<category>_drift``."""
        return f"{self.category}_drift"

    def spec(self, rule_id: str) -> RuleSpec:
        """The spec of one of this family's rules (KeyError names the family when unknown)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"{rule_id!r} is not a rule of the {self.category} family")
