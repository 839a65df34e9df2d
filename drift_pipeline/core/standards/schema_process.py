"""The ``[process]`` section of the strict config schema: hooks, CI, branches, commits,
changesets, PRs, tickets, coverage, the repository ruleset, backups, CODEOWNERS, docs and
forbidden files (check-my-toolkit's keys plus our vision keys ``[process.branches] protection /
required_reviews / require_status_checks``, ``[process.commits] conventional`` and
``[process.ci] required_workflows``). What a valid section expects is read by
:mod:`drift_pipeline.core.standards.process_expectations`.
"""

from __future__ import annotations

from drift_pipeline.core.standards.specs import (
    GLOBS,
    PERCENT,
    STRS,
    ArrayOf,
    Bool,
    Enum,
    Int,
    ListOf,
    MapOf,
    OneOf,
    Regex,
    Str,
    Table,
    tool,
)

_STR_LIST_OR_JOB_MAP = OneOf(STRS, MapOf(STRS), expected="an array of strings or a table of job -> array of strings")

PROCESS = Table(
    fields={
        "hooks": tool(
            {"require_husky": Bool(), "require_hooks": STRS, "commands": MapOf(STRS), "protected_branches": STRS},
            {"require_husky": True},
        ),
        "ci": tool(
            {
                "require_workflows": STRS,
                "jobs": MapOf(STRS),
                "actions": MapOf(STRS),
                "commands": MapOf(_STR_LIST_OR_JOB_MAP),
                "required_workflows": STRS,
            }
        ),  # vision key
        "branches": tool(
            {
                "pattern": Regex(),
                "exclude": STRS,
                "require_issue": Bool(),
                "issue_pattern": Regex(),
                "protection": Bool(),
                "required_reviews": Int(0),  # vision keys
                "require_status_checks": STRS,
            },
            {"require_issue": False},
        ),
        "commits": tool(
            {
                "pattern": Regex(),
                "types": STRS,
                "require_scope": Bool(),
                "max_subject_length": Int(1),
                "conventional": Bool(),
            },  # vision key
            {"require_scope": False},
        ),
        "changesets": tool(
            {
                "require_for_paths": STRS,
                "exclude_paths": STRS,
                "validate_format": Bool(),
                "allowed_bump_types": ListOf(Enum("patch", "minor", "major")),
                "require_description": Bool(),
                "min_description_length": Int(0),
            },
            {"validate_format": True, "require_description": True},
        ),
        "pr": tool(
            {
                "max_files": Int(1),
                "max_lines": Int(1),
                "require_issue": Bool(),
                "issue_keywords": STRS,
                "exclude": GLOBS,
            },
            {"require_issue": False},
        ),
        "tickets": tool(
            {"pattern": Regex(), "require_in_commits": Bool(), "require_in_branch": Bool()},
            {"require_in_commits": True, "require_in_branch": False},
        ),
        "coverage": tool(
            {
                "min_threshold": PERCENT,
                "enforce_in": Enum("ci", "config", "both"),
                "ci_workflow": Str(),
                "ci_job": Str(),
            },
            {"enforce_in": "config"},
        ),
        "repo": tool(
            {
                "require_branch_protection": Bool(),
                "require_codeowners": Bool(),
                "ruleset": Table(
                    fields={
                        "name": Str(),
                        "branch": Str(),
                        "enforcement": Enum("active", "evaluate", "disabled"),
                        "required_reviews": Int(0),
                        "dismiss_stale_reviews": Bool(),
                        "require_code_owner_reviews": Bool(),
                        "require_status_checks": STRS,
                        "require_branches_up_to_date": Bool(),
                        "require_signed_commits": Bool(),
                        "enforce_admins": Bool(),
                        "bypass_actors": ArrayOf(
                            Table(
                                fields={
                                    "actor_type": Enum(
                                        "Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey"
                                    ),
                                    "actor_id": Int(1),
                                    "bypass_mode": Enum("always", "pull_request"),
                                },
                                defaults={"bypass_mode": "always"},
                                required=("actor_type",),
                            )
                        ),
                    },
                    defaults={"name": "Branch Protection", "branch": "main", "enforcement": "active"},
                ),
                "tag_protection": Table(
                    fields={"patterns": STRS, "prevent_deletion": Bool(), "prevent_update": Bool()},
                    defaults={"prevent_deletion": True, "prevent_update": True},
                ),
            },
            {"require_branch_protection": False, "require_codeowners": False},
        ),
        "backups": tool(
            {"bucket": Str(), "prefix": Str(), "max_age_hours": Int(1), "region": Str()}, {"max_age_hours": 24}
        ),
        "codeowners": tool(
            {
                "rules": ArrayOf(
                    Table(fields={"pattern": Str(nonempty=True), "owners": STRS}, required=("pattern", "owners"))
                )
            }
        ),
        "docs": tool(
            {
                "path": Str(),
                "enforcement": Enum("block", "warn"),
                "allowlist": STRS,
                "max_files": Int(0),
                "max_file_lines": Int(0),
                "max_total_kb": Int(0),
                "staleness_days": Int(0),
                "stale_mappings": MapOf(Str()),
                "min_coverage": PERCENT,
                "coverage_paths": STRS,
                "exclude_patterns": STRS,
                "types": MapOf(Table(fields={"required_sections": STRS, "frontmatter": STRS})),
            },
            {"path": "docs/", "enforcement": "warn", "staleness_days": 30},
        ),
        "forbidden_files": tool({"files": GLOBS, "ignore": GLOBS, "message": Str()}),
    }
)
