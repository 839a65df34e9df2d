"""Organization and repository settings of the sandbox, with the values GitHub gives a new one.

- A repository's merge settings (``allow_*_merge``, ``delete_branch_on_merge``, ...) are in
  ``GET /repos/{owner}/{repo}`` for every token with push access (set them with
  ``SandboxState.set_repo_settings``).
- An organization's owner-only fields (``default_repository_permission``,
  ``two_factor_requirement_enabled``, ``members_can_*``, ``billing_email``, ``plan``, ...) are in
  ``GET /orgs/{org}`` only for an owner: a classic or fine-grained token whose user administers
  the org (``admin``), or an App installation with the ``organization_administration``
  permission. Everybody else gets the public fields (set them with ``SandboxState.set_org_settings``).

Settings are checked when set: an unknown key or a value of the wrong type is a ``ValueError``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from drift_pipeline.sandbox.github.apps import FULL_PERMISSIONS

REPO_MERGE_DEFAULTS: dict[str, Any] = {
    "allow_merge_commit": True,
    "allow_squash_merge": True,
    "allow_rebase_merge": True,
    "allow_auto_merge": False,
    "allow_update_branch": False,
    "delete_branch_on_merge": False,
    "use_squash_pr_title_as_default": False,
    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
    "squash_merge_commit_message": "COMMIT_MESSAGES",
    "merge_commit_title": "MERGE_MESSAGE",
    "merge_commit_message": "PR_TITLE",
}

ORG_OWNER_DEFAULTS: dict[str, Any] = {
    "default_repository_permission": "read",
    "default_repository_branch": "main",
    "two_factor_requirement_enabled": False,
    "web_commit_signoff_required": False,
    "members_can_create_repositories": True,
    "members_allowed_repository_creation_type": "all",
    "members_can_create_public_repositories": True,
    "members_can_create_private_repositories": True,
    "members_can_create_internal_repositories": False,
    "members_can_create_pages": True,
    "members_can_create_public_pages": True,
    "members_can_create_private_pages": True,
    "members_can_fork_private_repositories": False,
    "members_can_delete_repositories": True,
    "members_can_change_repo_visibility": True,
    "members_can_invite_outside_collaborators": True,
    "members_can_delete_issues": False,
    "members_can_create_teams": True,
    "members_can_view_dependency_insights": True,
    "display_commenter_full_name_setting_enabled": False,
    "readers_can_create_discussions": True,
    "deploy_keys_enabled_for_repositories": True,
    "billing_email": None,  # None: the org's email, else billing@<org>.example (GitHub requires one)
}
# Settings that GitHub allows to be null (the others must keep their default's type).
_NULLABLE = {"default_repository_permission", "default_repository_branch", "two_factor_requirement_enabled",
             "members_can_create_repositories", "members_can_fork_private_repositories", "billing_email"}  # fmt: skip
_CHOICES = {
    "default_repository_permission": ("read", "write", "admin", "none"),
    "members_allowed_repository_creation_type": ("all", "private", "none"),
    "squash_merge_commit_title": ("PR_TITLE", "COMMIT_OR_PR_TITLE"),
    "squash_merge_commit_message": ("PR_BODY", "COMMIT_MESSAGES", "BLANK"),
    "merge_commit_title": ("PR_TITLE", "MERGE_MESSAGE"),
    "merge_commit_message": ("PR_BODY", "PR_TITLE", "BLANK"),
}


def check(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` when every key is a known ``kind`` ("repo" or "org") setting of the right type."""
    defaults = REPO_MERGE_DEFAULTS if kind == "repo" else ORG_OWNER_DEFAULTS
    for key, value in values.items():
        if key not in defaults:
            raise ValueError(f"unknown {kind} setting {key!r}; known: {', '.join(sorted(defaults))}")
        if value is None and key in _NULLABLE:
            continue
        want = type(defaults[key]) if defaults[key] is not None else str
        if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
            raise ValueError(f"{kind} setting {key}: expected {want.__name__}, got {value!r}")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ValueError(f"{kind} setting {key}: expected one of {_CHOICES[key]}, got {value!r}")
    return dict(values)


def repo_fields(r: dict[str, Any], organization: dict[str, Any] | None) -> dict[str, Any]:
    """The keys of ``GET /repos/{owner}/{repo}`` that listings lack: merge settings,
    ``organization`` (an org-owned repo's org) and ``temp_clone_token``."""
    out = {**REPO_MERGE_DEFAULTS, **r.get("settings", {})}
    if organization is not None:
        out["organization"] = organization
    # a short-lived clone token for a private repo (opaque, stable here), "" for a public one
    digest = hashlib.sha256(f"{r['id']}:{r['owner']}/{r['name']}".encode()).hexdigest().upper()
    out["temp_clone_token"] = "A" + digest[:28] if r.get("private") else ""
    return out


def is_org_owner(token: dict[str, Any] | None) -> bool:
    """Whether ``token`` sees an organization's owner-only fields."""
    if token is None:
        return False
    kind = token.get("kind", "classic")
    if kind == "classic":
        return bool(token.get("admin", True))
    if kind == "jwt":
        return False
    return (token.get("permissions") or {}).get("organization_administration") in ("read", "write")


def org_owner_fields(org: dict[str, Any], seats: int) -> dict[str, Any]:
    """The owner-only fields of ``GET /orgs/{org}``."""
    out = {**ORG_OWNER_DEFAULTS, **org.get("settings", {})}
    if out["billing_email"] is None:
        out["billing_email"] = org.get("email") or f"billing@{org['login'].lower()}.example"
    seats = max(seats, 1)
    out.update(
        private_gists=0,
        disk_usage=0,
        collaborators=0,
        plan={"name": "free", "space": 976562499, "private_repos": 10000, "filled_seats": seats, "seats": seats},
    )
    return out


def token_permissions(admin: bool) -> dict[str, str]:
    """The default permissions of a fine-grained or installation token: every read a scan makes,
    with ``administration`` only when ``admin``."""
    perms = dict(FULL_PERMISSIONS)
    if not admin:
        perms.pop("administration")
    return perms
