"""GitHub's read shapes of branches, classic branch protection and rulesets (the rest: ``render.py``)."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github.render import account, node_id, q


# -- branches and protection ------------------------------------------------------------------
def branch(
    base: str,
    full: str,
    name: str,
    sha: str,
    protected: bool,
    commit_json: dict[str, Any] | None,
    protection: dict[str, Any] | None,
) -> dict[str, Any]:
    api = f"{base}/repos/{full}"
    out: dict[str, Any] = {
        "name": name,
        "commit": commit_json or {"sha": sha, "url": f"{api}/commits/{sha}"},
        "protected": protected,
        "protection_url": f"{api}/branches/{q(name)}/protection",
    }
    if commit_json is not None:
        checks = (protection or {}).get("required_status_checks") or None
        out["_links"] = {"self": f"{api}/branches/{q(name)}", "html": f"{base}/{full}/tree/{q(name)}"}
        out["protection"] = {
            "enabled": protected,
            "required_status_checks": {
                "enforcement_level": ("everyone" if (protection or {}).get("enforce_admins") else "non_admins")
                if checks
                else "off",
                "contexts": list((checks or {}).get("contexts") or []),
                "checks": _checks(checks),
            },
        }
    return out


def _checks(checks: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not checks:
        return []
    if checks.get("checks") is not None:
        return [{"context": c["context"], "app_id": c.get("app_id")} for c in checks["checks"]]
    return [{"context": c, "app_id": None} for c in checks.get("contexts") or []]


def status_checks(url: str, checks: dict[str, Any], enforce_admins: bool) -> dict[str, Any]:
    contexts = list(checks.get("contexts") or [c["context"] for c in checks.get("checks") or []])
    return {
        "url": url,
        "strict": bool(checks.get("strict")),
        "contexts": contexts,
        "contexts_url": f"{url}/contexts",
        "checks": _checks(checks),
        "enforcement_level": "everyone" if enforce_admins else "non_admins",
    }


def pr_reviews(url: str, reviews: dict[str, Any], base: str, ids: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "url": url,
        "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews")),
        "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews")),
        "required_approving_review_count": int(reviews.get("required_approving_review_count") or 0),
        "require_last_push_approval": bool(reviews.get("require_last_push_approval")),
    }
    dr = reviews.get("dismissal_restrictions")
    if dr:
        out["dismissal_restrictions"] = {
            "url": f"{url}/dismissal_restrictions",
            "users_url": f"{url}/dismissal_restrictions/users",
            "teams_url": f"{url}/dismissal_restrictions/teams",
            "users": [account(base, u, ids(u)) for u in dr.get("users") or []],
            "teams": [_team(base, t) for t in dr.get("teams") or []],
            "apps": [],
        }
    bp = reviews.get("bypass_pull_request_allowances")
    if bp:
        out["bypass_pull_request_allowances"] = {
            "users": [account(base, u, ids(u)) for u in bp.get("users") or []],
            "teams": [_team(base, t) for t in bp.get("teams") or []],
            "apps": [],
        }
    return out


def _team(base: str, slug: str) -> dict[str, Any]:
    return {
        "name": slug,
        "slug": slug,
        "id": sum(map(ord, slug)),
        "node_id": node_id("Team", sum(map(ord, slug))),
        "description": None,
        "parent": None,
        "type": "organization",
        "url": f"{base}/teams/{q(slug)}",
        "html_url": f"{base}/teams/{q(slug)}",
        "permission": "push",
        "privacy": "closed",
        "members_url": f"{base}/teams/{q(slug)}/members{{/member}}",
        "repositories_url": f"{base}/teams/{q(slug)}/repos",
    }


def protection(url: str, body: dict[str, Any], base: str, ids: Any) -> dict[str, Any]:
    """The read shape of ``GET .../protection`` from a stored ``PUT`` request body."""
    enforce = bool(body.get("enforce_admins"))
    out: dict[str, Any] = {"url": url}
    if body.get("required_status_checks"):
        out["required_status_checks"] = status_checks(
            f"{url}/required_status_checks", body["required_status_checks"], enforce
        )
    if body.get("required_pull_request_reviews"):
        out["required_pull_request_reviews"] = pr_reviews(
            f"{url}/required_pull_request_reviews", body["required_pull_request_reviews"], base, ids
        )
    sig = body.get("required_signatures")
    out["required_signatures"] = {
        "url": f"{url}/required_signatures",
        "enabled": bool(sig.get("enabled") if isinstance(sig, dict) else sig),
    }
    out["enforce_admins"] = {"url": f"{url}/enforce_admins", "enabled": enforce}
    for key in (
        "required_linear_history",
        "allow_force_pushes",
        "allow_deletions",
        "block_creations",
        "required_conversation_resolution",
        "lock_branch",
        "allow_fork_syncing",
    ):
        val = body.get(key)
        out[key] = {"enabled": bool(val.get("enabled") if isinstance(val, dict) else val)}
    if body.get("restrictions"):
        out["restrictions"] = restrictions(f"{url}/restrictions", body["restrictions"], base, ids)
    return out


def restrictions(url: str, r: dict[str, Any], base: str, ids: Any) -> dict[str, Any]:
    return {
        "url": url,
        "users_url": f"{url}/users",
        "teams_url": f"{url}/teams",
        "apps_url": f"{url}/apps",
        "users": [account(base, u, ids(u)) for u in r.get("users") or []],
        "teams": [_team(base, t) for t in r.get("teams") or []],
        "apps": [],
    }


def ruleset(base: str, full: str, rs: dict[str, Any], *, summary: bool, bypass: bool = True) -> dict[str, Any]:
    """A ruleset; ``bypass=False`` (no write access to it) omits ``bypass_actors``, as GitHub does."""
    if rs["source_type"] == "Organization":
        self_url = f"{base}/orgs/{q(rs['source'])}/rulesets/{rs['id']}"
        html = f"{base}/organizations/{q(rs['source'])}/settings/rules/{rs['id']}"
    else:
        self_url = f"{base}/repos/{full}/rulesets/{rs['id']}"
        html = f"{base}/{full}/rules/{rs['id']}"
    out: dict[str, Any] = {
        "id": rs["id"],
        "name": rs.get("name", f"ruleset-{rs['id']}"),
        "target": rs.get("target", "branch"),
        "source_type": rs["source_type"],
        "source": rs["source"],
        "enforcement": rs.get("enforcement", "active"),
        "node_id": node_id("RepositoryRuleset", rs["id"]),
        "_links": {"self": {"href": self_url}, "html": {"href": html}},
        "created_at": rs.get("created_at", "2024-01-01T00:00:00Z"),
        "updated_at": rs.get("updated_at", rs.get("created_at", "2024-01-01T00:00:00Z")),
    }
    if not summary:
        if bypass:
            out["bypass_actors"] = rs.get("bypass_actors", [])
        out["current_user_can_bypass"] = "never"
        out["conditions"] = rs.get("conditions") or {}
        out["rules"] = [rule(r) for r in rs.get("rules", [])]
    return out


# GitHub answers every pull_request rule with all five parameters (its create API requires them);
# a rule stored with fewer (older seeds, hand-written states) gets GitHub's defaults for the rest
PULL_REQUEST_DEFAULTS: dict[str, Any] = {
    "required_approving_review_count": 0,
    "dismiss_stale_reviews_on_push": False,
    "require_code_owner_review": False,
    "require_last_push_approval": False,
    "required_review_thread_resolution": False,
}


def rule(r: dict[str, Any]) -> dict[str, Any]:
    """One ruleset rule as GitHub reads it back: ``type`` and, where it has any, ``parameters``."""
    out: dict[str, Any] = {"type": r["type"]}
    params = r.get("parameters")
    if r["type"] == "pull_request":
        params = {**PULL_REQUEST_DEFAULTS, **(params or {})}
    if params is not None:
        out["parameters"] = params
    return out
