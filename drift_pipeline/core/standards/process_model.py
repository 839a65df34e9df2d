"""What a repository's process is expected to be: the frozen records the process rules judge.

Built from a resolved config by :func:`drift_pipeline.core.standards.process_expectations.build_expectations`;
read by :mod:`drift_pipeline.core.rules.process` and the process scan. Pure data, no reading.
"""

from __future__ import annotations

from dataclasses import dataclass

CONVENTIONAL_TYPES = ("feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert")
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order
DEFAULT_FORBIDDEN_IGNORE = ("**/node_modules/**", "**/.git/**")


@dataclass(frozen=True)
class BypassActor:
    actor_type: str  # Integration | OrganizationAdmin | RepositoryRole | Team | DeployKey
    actor_id: int | None  # None: any actor of that type
    bypass_mode: str = "always"  # always | pull_request


@dataclass(frozen=True)
class CodeownersRule:
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class RequiredFile:
    paths: tuple[str, ...]  # alternatives: any one present satisfies; a path ending in "/" is a folder
    key: str  # the config key that requires it


@dataclass(frozen=True)
class RequiredWorkflow:
    name: str  # as configured: "ci.yml", "ci" or ".github/workflows/ci.yml"
    jobs: tuple[str, ...]  # job ids the workflow must define ([process.ci] jobs)
    key: str


@dataclass(frozen=True)
class TagProtection:
    patterns: tuple[str, ...]
    prevent_deletion: bool = True
    prevent_update: bool = True


@dataclass(frozen=True)
class HookPolicy:
    require_husky: bool
    require_hooks: tuple[str, ...]


@dataclass(frozen=True)
class CommitPolicy:
    pattern: str | None
    types: tuple[str, ...]  # empty: any type (unless conventional, then CONVENTIONAL_TYPES)
    require_scope: bool
    max_subject_length: int | None
    conventional: bool


@dataclass(frozen=True)
class TicketPolicy:
    pattern: str
    require_in_commits: bool
    require_in_branch: bool


@dataclass(frozen=True)
class BranchPolicy:
    pattern: str | None
    exclude: tuple[str, ...]
    require_issue: bool
    issue_pattern: str | None


@dataclass(frozen=True)
class PrPolicy:
    max_files: int | None
    max_lines: int | None
    require_issue: bool
    issue_keywords: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class ProcessExpectations:
    """Everything one repository's config expects of its process, with where each came from."""

    tier: str
    severity: str
    source: str | None = None  # the config file the expectations were read from
    require_branch_protection: bool = False
    ruleset_name: str | None = None
    ruleset_branch: str | None = None
    enforcement: str = "active"
    required_reviews: int | None = None
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    require_status_checks: tuple[str, ...] = ()
    require_branches_up_to_date: bool = False
    require_signed_commits: bool = False
    enforce_admins: bool = False
    bypass_actors: tuple[BypassActor, ...] | None = None  # None: not configured (not checked)
    tag_protection: TagProtection | None = None
    require_codeowners: bool = False
    codeowners_rules: tuple[CodeownersRule, ...] | None = None  # None: not configured
    forbidden_files: tuple[str, ...] = ()
    forbidden_ignore: tuple[str, ...] = DEFAULT_FORBIDDEN_IGNORE
    forbidden_message: str | None = None
    required_files: tuple[RequiredFile, ...] = ()
    required_workflows: tuple[RequiredWorkflow, ...] = ()
    hooks: HookPolicy | None = None
    commits: CommitPolicy | None = None
    tickets: TicketPolicy | None = None
    branches: BranchPolicy | None = None
    pr: PrPolicy | None = None
    not_evaluated: tuple[str, ...] = ()  # present keys this pipeline does not judge (for metadata)
    problems: tuple[str, ...] = ()  # values skipped because of their type

    @property
    def requires_reviews(self) -> bool:
        return bool(self.required_reviews)

    @property
    def expects_branch_settings(self) -> bool:
        return any(
            (
                self.require_branch_protection,
                self.requires_reviews,
                self.dismiss_stale_reviews,
                self.require_code_owner_reviews,
                self.require_status_checks,
                self.require_branches_up_to_date,
                self.require_signed_commits,
                self.enforce_admins,
                self.bypass_actors is not None,
            )
        )
