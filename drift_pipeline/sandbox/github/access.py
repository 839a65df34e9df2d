"""What a token may do on one repo: its user's role there, and GitHub's refusal of admin-only reads.

A token's ``admin`` says whether its user administers the org's repos (an org-wide grant, as a
team with admin on every repo gives). A repo may cap that for one user: ``repo["roles"]`` maps a
login to its role on that repo (GitHub's ``admin``, ``maintain``, ``write``, ``triage``, ``read``),
e.g. a repo whose team kept admin for itself and gave everyone else ``write``. App installation
tokens are no user: their ``permissions`` decide (see :mod:`apps`), and no role applies to them.
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github.errors import NotFound, not_accessible

ROLES = ("read", "triage", "write", "maintain", "admin")  # weakest first


def role_of(token: dict[str, Any] | None, repo: dict[str, Any] | None) -> str:
    """The role of ``token``'s user on ``repo``: the repo's own entry for that login, else
    ``admin`` or ``write`` from the token's org-wide ``admin``."""
    if token is None:
        return "admin"
    org_wide = "admin" if token.get("admin", True) else "write"
    if repo is None or token.get("kind") in ("app", "jwt"):
        return org_wide
    role = (repo.get("roles") or {}).get(str(token.get("login")))
    if role is None:
        return org_wide
    return min(role, org_wide, key=ROLES.index)  # a repo role never raises what the token may do


def is_admin(token: dict[str, Any] | None, repo: dict[str, Any] | None = None) -> bool:
    return role_of(token, repo) == "admin"


def permissions(token: dict[str, Any] | None, repo: dict[str, Any]) -> dict[str, bool]:
    """A repo's ``permissions`` object as GitHub renders it for ``token``'s user."""
    rank = ROLES.index(role_of(token, repo))
    return {
        "admin": rank >= ROLES.index("admin"),
        "maintain": rank >= ROLES.index("maintain"),
        "push": rank >= ROLES.index("write"),
        "triage": rank >= ROLES.index("triage"),
        "pull": True,
    }


def require_admin(token: dict[str, Any] | None, docs: str, repo: dict[str, Any] | None = None) -> None:
    """GitHub's refusal of an admin-only read (of ``repo``, or org-wide), by token kind: a classic
    token (the kind of a token stored without one) 404 "Not Found", a fine-grained token or an App
    installation token 403 "Resource not accessible by personal access token" / "... by integration"."""
    if is_admin(token, repo):
        return
    kind = (token or {}).get("kind", "classic")
    if kind == "classic":
        raise NotFound(documentation_url=docs)
    raise not_accessible(kind, docs)
