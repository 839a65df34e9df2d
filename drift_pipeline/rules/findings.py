"""The findings contract shared by rules, issues, trends and the CLI (see DESIGN.md).

A :class:`Finding` is one row of the ``drift_findings`` table. Rules only build findings; the text
that tells a person how to fix one lives beside its rule id in :data:`RULES`, so issue bodies and
CLI output render it from one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

CATEGORIES = ("code", "process", "infra")
SEVERITIES = ("error", "warning", "info")
ROOT_PROJECT = "."


@dataclass(frozen=True)
class RuleSpec:
    id: str
    category: str
    severity: str
    title: str
    fix: str


def _spec(category: str, severity: str, rid: str, title: str, fix: str) -> RuleSpec:
    return RuleSpec(rid, category, severity, title, fix)


# Rule ids: extend, never rename (stored findings and open issues refer to them).
RULES: dict[str, RuleSpec] = {s.id: s for s in (
    _spec("code", "warning", "check_toml_added", "Standards config added",
          "Review the new config: confirm it extends the right rulesets for the repo's tier."),
    _spec("code", "warning", "check_toml_changed", "Standards config changed",
          "Review the change; if it loosens a standard, revert it or record why in the PR."),
    _spec("code", "error", "check_toml_removed", "Standards config removed",
          "Restore the config file, or retire the project in repo-metadata.yaml (status = deprecated)."),
    _spec("code", "warning", "dependency_changed", "Tool config changed",
          "Check that the tool config still satisfies the declared standards; revert loosened settings."),
    _spec("code", "warning", "workflow_changed", "Workflow changed",
          "Check that required jobs and checks still run on every pull request."),
    _spec("code", "info", "metadata_changed", "Repository metadata changed",
          "Confirm the new tier, status or team with the platform team."),
    _spec("code", "warning", "project_without_standards", "Project without standards",
          "Add a check.toml (or standards.toml) to the project that extends the rulesets for its tier."),
    _spec("code", "error", "tier_ruleset_mismatch", "Rulesets do not match the tier",
          "Extend a ruleset ending in -<tier>, or correct the tier in repo-metadata.yaml."),
    _spec("code", "error", "invalid_config", "Invalid standards config",
          "Fix the file so that it parses and only uses known keys (run `drift config check`)."),
    _spec("code", "error", "registry_unresolved", "Ruleset registry could not be resolved",
          "Check [extends] registry and rulesets: the registry must exist and hold rulesets/<name>.toml."),
)}


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
    subject: str                      # what the finding is about: a path, a setting, an ARN
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


FINDING_COLUMNS = ("scan_date", "org", "repo", "project", "category", "rule", "severity",
                   "message", "subject", "details", "fingerprint", "commit_sha", "commit_url")


def make_finding(rule: str, *, scan_date: date, org: str, repo: str, project: str, message: str,
                 subject: str, details: dict[str, Any] | None = None, severity: str | None = None,
                 commit_sha: str | None = None, commit_url: str | None = None) -> Finding:
    """Build a finding for a known rule id; severity and category come from its spec."""
    spec = RULES[rule]
    return Finding(scan_date=scan_date, org=org, repo=repo, project=project or ROOT_PROJECT,
                   category=spec.category, rule=rule, severity=severity or spec.severity,
                   message=message, subject=subject, details=details or {},
                   commit_sha=commit_sha, commit_url=commit_url)


def contract_violations(row: dict[str, Any]) -> list[str]:
    """What is wrong with a finding row, against the contract (empty when it conforms)."""
    problems = []
    for col in FINDING_COLUMNS:
        if col not in row:
            problems.append(f"missing column {col}")
    if row.get("category") not in CATEGORIES:
        problems.append(f"category {row.get('category')!r} not one of {CATEGORIES}")
    if row.get("severity") not in SEVERITIES:
        problems.append(f"severity {row.get('severity')!r} not one of {SEVERITIES}")
    spec = RULES.get(str(row.get("rule")))
    if spec is None:
        problems.append(f"unknown rule id {row.get('rule')!r}")
    elif spec.category != row.get("category"):
        problems.append(f"rule {spec.id} belongs to {spec.category}, not {row.get('category')}")
    if not row.get("fingerprint"):
        problems.append("empty fingerprint")
    if not row.get("message"):
        problems.append("empty message")
    return problems
