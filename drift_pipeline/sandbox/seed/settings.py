"""Process settings: classic branch protection, repo and tag rulesets, the org ruleset.

They follow each repo's ``[process.repo]`` table as it stood before the window (the settings
were set up once, back then), except for the deliberate ``deviations``.
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github.state import DEFAULT_TOKEN, SandboxState
from drift_pipeline.sandbox.seed.catalogue import _Spec

# The deliberate differences between a repo's settings and its config (``_Spec.deviations``).
DEVIATIONS = {
    "status_check_missing": "the last required status check is not required",
    "stale_not_dismissed": "stale reviews are not dismissed on push",
    "code_owner_review_off": "code owner review is not required",
    "not_strict": "branches need not be up to date before merging",
    "unsigned": "signed commits are not required",
    "admins_exempt": "classic protection does not include administrators",
    "extra_bypass": "the ruleset's bypass list also names the repository admin role",
    "no_tag_ruleset": "no tag ruleset protects the release tags",
}
ADMIN_ROLE_BYPASS = {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}


def _ruleset_table(cfg: dict[str, Any]) -> dict[str, Any] | None:
    return (cfg.get("process") or {}).get("repo", {}).get("ruleset")


def _classic_body(rs: dict[str, Any], deviations: tuple[str, ...]) -> dict[str, Any]:
    checks = list(rs.get("require_status_checks", []))
    if "status_check_missing" in deviations:
        checks = checks[:-1]
    return {
        "required_status_checks": {"strict": _strict(rs, deviations), "contexts": checks},
        "enforce_admins": bool(rs.get("enforce_admins", False)) and "admins_exempt" not in deviations,
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": bool(rs.get("dismiss_stale_reviews", False))
            and "stale_not_dismissed" not in deviations,
            "require_code_owner_reviews": _code_owners(rs, deviations),
            "required_approving_review_count": int(rs.get("required_reviews", 1)),
        },
        "restrictions": None,
        "required_signatures": {"enabled": _signed(rs, deviations)},
    }


def _strict(rs: dict[str, Any], deviations: tuple[str, ...]) -> bool:
    return bool(rs.get("require_branches_up_to_date", False)) and "not_strict" not in deviations


def _code_owners(rs: dict[str, Any], deviations: tuple[str, ...]) -> bool:
    return bool(rs.get("require_code_owner_reviews", False)) and "code_owner_review_off" not in deviations


def _signed(rs: dict[str, Any], deviations: tuple[str, ...]) -> bool:
    return bool(rs.get("require_signed_commits", False)) and "unsigned" not in deviations


def _bypass(rs: dict[str, Any], deviations: tuple[str, ...]) -> list[dict[str, Any]]:
    """The declared bypass list (none when admins are enforced, the admin role when not), plus the
    admin role for ``extra_bypass``."""
    if "bypass_actors" in rs:
        actors = [dict(a) for a in rs["bypass_actors"]]
    else:
        actors = [] if rs.get("enforce_admins", False) else [dict(ADMIN_ROLE_BYPASS)]
    if "extra_bypass" in deviations and ADMIN_ROLE_BYPASS not in actors:
        actors.append(dict(ADMIN_ROLE_BYPASS))
    return actors


def _repo_ruleset(rs: dict[str, Any], deviations: tuple[str, ...]) -> dict[str, Any]:
    checks = list(rs.get("require_status_checks", []))
    if "status_check_missing" in deviations:
        checks = checks[:-1]
    rules: list[dict[str, Any]] = [
        {"type": "deletion"},
        {"type": "non_fast_forward"},
        {
            "type": "pull_request",
            "parameters": {
                "required_approving_review_count": int(rs.get("required_reviews", 1)),
                "dismiss_stale_reviews_on_push": bool(rs.get("dismiss_stale_reviews", False))
                and "stale_not_dismissed" not in deviations,
                "require_code_owner_review": _code_owners(rs, deviations),
                "require_last_push_approval": False,
                "required_review_thread_resolution": True,
            },
        },
    ]
    if checks:
        rules.append(
            {
                "type": "required_status_checks",
                "parameters": {
                    "required_status_checks": [{"context": c} for c in checks],
                    "strict_required_status_checks_policy": _strict(rs, deviations),
                },
            }
        )
    if _signed(rs, deviations):
        rules.append({"type": "required_signatures"})
    return {
        "name": rs.get("name", "Branch Protection"),
        "target": "branch",
        "enforcement": "active",
        "bypass_actors": _bypass(rs, deviations),
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": rules,
    }


def _tag_ruleset(tp: dict[str, Any]) -> dict[str, Any]:
    rules = []
    if tp.get("prevent_deletion", True):
        rules.append({"type": "deletion"})
    if tp.get("prevent_update", True):
        rules.append({"type": "update"})
    return {
        "name": "Release tags",
        "target": "tag",
        "enforcement": "active",
        "bypass_actors": [],
        "conditions": {"ref_name": {"include": [f"refs/tags/{p}" for p in tp.get("patterns", [])], "exclude": []}},
        "rules": rules,
    }


def _org_ruleset() -> dict[str, Any]:
    return {
        "name": "Org baseline",
        "target": "branch",
        "enforcement": "active",
        "bypass_actors": [],
        "conditions": {
            "ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
            "repository_name": {"include": ["*"], "exclude": ["legacy-*"], "protected": False},
        },
        "rules": [{"type": "deletion"}, {"type": "non_fast_forward"}],
    }


def _apply_settings(state: SandboxState, org: str, spec: _Spec, baseline_cfg: dict[str, Any]) -> None:
    """Protection as configured before the window (the settings were set up once, back then), and
    the scan token's role where it is not admin."""
    if spec.scan_role is not None:
        state.set_repo_role(org, spec.name, state.data["tokens"][DEFAULT_TOKEN]["login"], spec.scan_role)
    rs = _ruleset_table(baseline_cfg)
    if rs is not None and spec.protection == "classic":
        state.set_branch_protection(org, spec.name, spec.default_branch, _classic_body(rs, spec.deviations))
    elif rs is not None and spec.protection == "ruleset":
        state.add_ruleset(org, spec.name, _repo_ruleset(rs, spec.deviations))
    elif rs is not None and spec.protection == "org":  # compliant only through an org ruleset naming it
        org_rs = _repo_ruleset(rs, spec.deviations)
        org_rs["name"] = f"{spec.name} reviews"
        org_rs["conditions"] = {
            **org_rs["conditions"],
            "repository_name": {"include": [spec.name], "exclude": [], "protected": False},
        }
        state.add_org_ruleset(org, org_rs)
    tp = (baseline_cfg.get("process") or {}).get("repo", {}).get("tag_protection")
    if tp and "no_tag_ruleset" not in spec.deviations:
        state.add_ruleset(org, spec.name, _tag_ruleset(tp))


def _effective_protection(spec: _Spec, baseline_cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The branch protection in force as plain values (what a scan would read), or None."""
    rs = _ruleset_table(baseline_cfg)
    if rs is None or spec.protection == "none":
        return None
    if spec.protection == "classic":
        body = _classic_body(rs, spec.deviations)
        pr = body["required_pull_request_reviews"]
        return {
            "reviews": pr["required_approving_review_count"],
            "dismiss": pr["dismiss_stale_reviews"],
            "code_owners": pr["require_code_owner_reviews"],
            "checks": body["required_status_checks"]["contexts"],
            "strict": body["required_status_checks"]["strict"],
            "admins": body["enforce_admins"],
            "signed": body["required_signatures"]["enabled"],
            "bypass": [],
        }
    # a repo ruleset, or an org ruleset with the same rules (protection "org")
    ruleset = _repo_ruleset(rs, spec.deviations)
    rules = {r["type"]: r.get("parameters", {}) for r in ruleset["rules"]}
    pr = rules["pull_request"]
    sc = rules.get("required_status_checks", {})
    return {
        "reviews": pr["required_approving_review_count"],
        "dismiss": pr["dismiss_stale_reviews_on_push"],
        "code_owners": pr["require_code_owner_review"],
        "checks": [c["context"] for c in sc.get("required_status_checks", [])],
        "strict": sc.get("strict_required_status_checks_policy", False),
        "admins": not ruleset["bypass_actors"],
        "signed": "required_signatures" in rules,
        "bypass": ruleset["bypass_actors"],
    }
