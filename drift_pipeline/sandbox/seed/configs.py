"""Each repo's standards config (``check.toml`` / ``standards.toml``), built from its spec."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox import seed_files as F
from drift_pipeline.sandbox.seed.catalogue import (
    BRANCH_PATTERN,
    COMMIT_TYPES,
    PR_MAX_FILES,
    PR_MAX_LINES,
    REGISTRY_REPO,
    _Spec,
)
from drift_pipeline.sources.aws import DEFAULT_ACCOUNTS


def _ruleset_name(spec: _Spec, tier: str | None = None) -> str:
    tier = tier or spec.tier or "internal"
    lang = "python" if spec.language == "python" else "typescript"
    if lang == "typescript" and spec.frontend and tier != "prototype":
        return f"typescript-frontend-{tier}"
    return f"{lang}-{tier}"


def _status_checks(spec: _Spec) -> list[str]:
    return ["lint", "test", "build"] if spec.tier == "production" else ["lint", "test"]


def _build_config(spec: _Spec, org: str) -> dict[str, Any]:
    """The repo's standards config: metadata (in ``standards.toml``), extends, code, process and infra tables."""
    cfg: dict[str, Any] = {}
    if spec.config_file == "standards.toml" and spec.metadata:
        cfg["metadata"] = {
            "tier": spec.tier,
            "status": spec.status,
            "team": spec.team,
            "project": spec.name,
            "organisation": org,
        }
    cfg["extends"] = {"registry": f"github:{org}/{REGISTRY_REPO}", "rulesets": [_ruleset_name(spec)]}
    if code := _code_table(spec):
        cfg["code"] = code
    if not spec.product and spec.name == "shared-scripts":
        return {"extends": cfg["extends"]}
    cfg["process"] = _process_table(spec, org)
    if spec.infra:
        accounts = {**DEFAULT_ACCOUNTS, **dict(spec.moved_accounts)}
        cfg["infra"] = {"enabled": True, "path": "infra", "stacks": [spec.name], "accounts": accounts}
    return cfg


def _code_table(spec: _Spec) -> dict[str, Any]:
    """``[code]``: the linter settings and coverage run of the repo's language and tier (empty: no table)."""
    code: dict[str, Any] = {}
    if spec.language == "python":
        code["linting"] = {"ruff": {"line-length": 100}}
        if spec.tier == "production":
            code["coverage_run"] = {"enabled": True, "min_threshold": 80, "runner": "pytest"}
    elif spec.language in ("typescript", "monorepo"):
        if spec.frontend:
            code["linting"] = {"eslint": {"rules": {"max-lines": F.Inline(severity="error", max=600)}}}
        elif spec.tier == "production":
            code["linting"] = {"eslint": {"rules": {"no-console": "error"}}}
        if spec.coverage:
            code["coverage_run"] = {"enabled": True, "min_threshold": 85, "runner": "vitest"}
    return code


def _repo_table(spec: _Spec) -> dict[str, Any]:
    """``[process.repo]``: branch protection and the default branch's ruleset the repo declares."""
    ruleset: dict[str, Any] = {
        "branch": spec.default_branch,
        "required_reviews": spec.required_reviews,
        "dismiss_stale_reviews": spec.dismiss_stale,
        "require_code_owner_reviews": spec.code_owner_reviews,
        "require_status_checks": _status_checks(spec),
        "require_branches_up_to_date": spec.tier == "production",
        "enforce_admins": spec.enforce_admins,
    }
    if spec.signed_commits:
        ruleset["require_signed_commits"] = True
    if spec.bypass_actors:
        ruleset["bypass_actors"] = [
            F.Inline(actor_type=kind, actor_id=actor_id, bypass_mode=mode)
            for kind, actor_id, mode in spec.bypass_actors
        ]
    repo: dict[str, Any] = {
        "enabled": True,
        "require_branch_protection": True,
        "require_codeowners": spec.codeowners != "valid" or spec.tier != "prototype",
        "ruleset": ruleset,
    }
    if spec.tag_protection:
        repo["tag_protection"] = {"patterns": ["v*"], "prevent_deletion": True, "prevent_update": True}
    return repo


def _process_table(spec: _Spec, org: str) -> dict[str, Any]:
    """``[process]``: the repo settings, CI, branches and PRs always; the optional checks the spec turns on."""
    process: dict[str, Any] = {"repo": _repo_table(spec)}
    process["ci"] = {"enabled": True, "require_workflows": ["ci.yml"]}
    process["branches"] = {"enabled": True, "pattern": BRANCH_PATTERN}
    process["pr"] = {"enabled": True, "max_files": PR_MAX_FILES, "max_lines": PR_MAX_LINES, "require_issue": True}
    if spec.declares_conventional:
        process["commits"] = {"enabled": True, "conventional": True, "types": COMMIT_TYPES}
    if spec.tickets:
        process["tickets"] = {
            "enabled": True,
            "pattern": spec.tickets,
            "require_in_commits": False,
            "require_in_branch": True,
        }
    if spec.codeowners_rules:
        process["codeowners"] = {
            "enabled": True,
            "rules": [
                F.Inline(pattern=pattern, owners=[o.format(org=org) for o in owners])
                for pattern, owners in spec.codeowners_rules
            ],
        }
    if spec.changesets:
        process["changesets"] = {"enabled": True}
    if spec.hooks:
        process["hooks"] = {"enabled": True, "require_husky": True, "require_hooks": list(spec.hooks)}
    if spec.backups:
        process["backups"] = {
            "enabled": True,
            "bucket": backup_bucket(spec),
            "prefix": spec.backups,
            "max_age_hours": 26,
        }
    if spec.forbidden_env or spec.tier == "production":
        process["forbidden_files"] = {
            "enabled": True,
            "files": ["**/.env", "**/*.pem"],
            "message": "Secrets belong in the secrets manager, not in git.",
        }
    return process


def backup_bucket(spec: _Spec) -> str:
    """The S3 bucket a repo's ``[process.backups]`` names (in prod; bucket names are global)."""
    return f"{spec.name}-backups-{DEFAULT_ACCOUNTS['prod']}"


def _config_text(spec: _Spec, cfg: dict[str, Any]) -> str:
    comment = (
        f"Standards for {spec.name} ({spec.tier or 'no'} tier).\n"
        "Rulesets come from the org registry; local tables below override them."
    )
    return F.dump_toml(cfg, comment=comment)


def _package_config(ruleset: str, org: str) -> str:
    return F.dump_toml(
        {"extends": {"registry": f"github:{org}/{REGISTRY_REPO}", "rulesets": [ruleset]}},
        comment="Package standards (the repo's process settings live in the root check.toml).",
    )
