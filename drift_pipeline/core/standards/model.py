"""The records the standards engine returns. Plain, frozen, JSON-friendly data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INVALID_CONFIG = "invalid_config"
REGISTRY_UNRESOLVED = "registry_unresolved"
TIER_RULESET_MISMATCH = "tier_ruleset_mismatch"
PROJECT_WITHOUT_STANDARDS = "project_without_standards"

TIERS = ("production", "internal", "prototype")
STATUSES = ("active", "pre-release", "deprecated")
DEFAULT_TIER = "internal"
DEFAULT_STATUS = "active"


@dataclass(frozen=True)
class Problem:
    file: str  # repo-relative (or as given) path of the file at fault
    key: str | None  # dotted key path, e.g. "process.repo.ruleset.required_reviews"
    line: int | None
    message: str  # says what was expected and what was found
    rule: str = INVALID_CONFIG  # "invalid_config" | "registry_unresolved" | "tier_ruleset_mismatch"
    severity: str = "error"  # "error" | "warning"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def describe(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        key = f" [{self.key}]" if self.key else ""
        return f"{self.severity}: {where}{key}: {self.message} ({self.rule})"


@dataclass(frozen=True)
class ConfigFile:
    """One parsed and validated config file (no registry resolution, no defaults)."""

    file: str
    data: dict[str, Any]
    problems: tuple[Problem, ...]
    parsed: bool = True  # False when the TOML itself could not be parsed

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)


@dataclass(frozen=True)
class RepoMetadata:
    tier: str
    status: str
    team: str | None
    source: str  # "repo-metadata.yaml" | "repo-metadata.yml" | "standards.toml" | "check.toml" | "default"
    file: str | None  # repo-relative path it came from
    present: bool  # a metadata source exists (part of the scope rule)
    problems: tuple[Problem, ...] = ()
    raw: dict[str, Any] | None = field(default=None, compare=False)
    # False when a metadata source exists but its tier could not be learnt (unreadable, refused,
    # not YAML, not a mapping, an unknown tier): the tier shown is the default, and no tier
    # check is made against it, so no mismatch is invented.
    tier_known: bool = True


@dataclass(frozen=True)
class TierCheck:
    valid: bool
    tier: str
    rulesets: tuple[str, ...]
    expected_suffix: str
    matched: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class TrackedFile:
    path: str  # repo-relative
    kind: str  # "config" | "metadata" | "workflow" | "dependency"
    tool: str | None  # tool id for dependency files; None otherwise


@dataclass(frozen=True)
class Project:
    path: str  # "." or "apps/web"
    type: str | None  # "typescript" | "python" | None
    config_file: str | None  # repo-relative path, None when the project has no config
    config: dict[str, Any] | None  # effective config (rulesets merged, local on top, defaults applied)
    registry: str | None
    rulesets: tuple[str, ...]
    metadata: RepoMetadata  # effective for this project
    tier_check: TierCheck | None
    tracked_files: tuple[TrackedFile, ...]
    problems: tuple[Problem, ...]

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)


@dataclass(frozen=True)
class RepoStandards:
    metadata: RepoMetadata
    projects: tuple[Project, ...]  # sorted by path
    workspace_roots: tuple[str, ...]
    config_files: tuple[str, ...]  # every check.toml / standards.toml found (ignored dirs skipped)
    problems: tuple[Problem, ...]  # all problems: metadata, every config, registry, tier

    @property
    def in_scope(self) -> bool:
        return self.metadata.present and bool(self.config_files)

    @property
    def tracked_files(self) -> tuple[TrackedFile, ...]:
        seen: dict[str, TrackedFile] = {}
        for project in self.projects:
            for tracked in project.tracked_files:
                seen.setdefault(tracked.path, tracked)
        return tuple(sorted(seen.values(), key=lambda t: t.path))

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)

    def project(self, path: str) -> Project | None:
        for project in self.projects:
            if project.path == path:
                return project
        return None
