"""Branches and classic branch protection (the protection sub-resources included).

Branch names may hold slashes (``{branch+}``), so ``.../branches/feature/x/protection`` is the
protection of ``feature/x`` only because the route table lists the protection routes before
the branch route: see ``routes.TABLE``.
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import render_rules
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.routes.context import Ctx, full_name


def list_branches(ctx: Ctx, owner: str, repo: str) -> Any:
    """Branches with protected and protection_url (protected=true filters)."""
    full = full_name(ctx, owner, repo)
    items = sorted(dict(ctx.state.git_repo(owner, repo).branches()).items())
    prot = ctx.args.get("protected")
    out = [(n, s, ctx.state.is_protected(owner, repo, n)) for n, s in items]
    if prot is not None:
        want = prot in ("true", "1")
        out = [b for b in out if b[2] == want]
    return [render_rules.branch(ctx.base, full, n, s, p, None, None) for n, s, p in ctx.paginate(out)]


def get_status_checks(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Required status checks of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("required_status_checks"):
        raise NotFound("Required status checks not enabled")
    return render_rules.status_checks(ctx.url, body["required_status_checks"], bool(body.get("enforce_admins")))


def get_status_check_contexts(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """The contexts of the required status checks of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    checks = body.get("required_status_checks")
    if not checks:
        raise NotFound("Required status checks not enabled")
    return list(checks.get("contexts") or [c["context"] for c in checks.get("checks") or []])


def get_pr_reviews(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Required pull request reviews of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("required_pull_request_reviews"):
        raise NotFound("Required pull request reviews not enabled")
    return render_rules.pr_reviews(ctx.url, body["required_pull_request_reviews"], ctx.base, ctx.ids)


def get_enforce_admins(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Admin enforcement of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    return {"url": ctx.url, "enabled": bool(body.get("enforce_admins"))}


def get_required_signatures(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Commit signature protection of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    sig = body.get("required_signatures")
    return {"url": ctx.url, "enabled": bool(sig.get("enabled") if isinstance(sig, dict) else sig)}


def get_restrictions(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Push restrictions of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("restrictions"):
        raise NotFound("Push restrictions not enabled")
    return render_rules.restrictions(ctx.url, body["restrictions"], ctx.base, ctx.ids)


def _restrictions(ctx: Ctx, owner: str, repo: str, branch: str) -> dict[str, Any]:
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("restrictions"):
        raise NotFound("Push restrictions not enabled")
    return render_rules.restrictions(ctx.url.rsplit("/", 1)[0], body["restrictions"], ctx.base, ctx.ids)


def get_restriction_users(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Users allowed to push to a protected branch."""
    return _restrictions(ctx, owner, repo, branch)["users"]


def get_restriction_teams(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Teams allowed to push to a protected branch."""
    return _restrictions(ctx, owner, repo, branch)["teams"]


def get_restriction_apps(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Apps allowed to push to a protected branch."""
    return _restrictions(ctx, owner, repo, branch)["apps"]


def get_protection(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Classic branch protection (admin read; 404 Branch not protected)."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    return render_rules.protection(ctx.url, body, ctx.base, ctx.ids)


def get_branch(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """A branch with its commit, protected, protection and protection_url."""
    git = ctx.state.git_repo(owner, repo)
    sha = dict(git.branches()).get(branch)
    if sha is None:
        raise NotFound(
            "Branch not found", documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch"
        )
    full = full_name(ctx, owner, repo)
    commit_json = ctx.commit_json(full, git.commit(sha))
    protected = ctx.state.is_protected(owner, repo, branch)  # classic protection or a ruleset
    body = ctx.state.data["protections"].get(full, {}).get(branch)
    return render_rules.branch(ctx.base, full, branch, sha, protected, commit_json, body)
