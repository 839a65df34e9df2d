"""Accounts and repositories: the token's user, users, organizations, repo listings, rate limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drift_pipeline.sandbox.github import access, render, settings
from drift_pipeline.sandbox.github.errors import not_accessible
from drift_pipeline.sandbox.github.routes.context import Ctx, Reply, last_modified


def get_authenticated_user(ctx: Ctx) -> Any:
    """The token's user (an App installation token has none: 403 Resource not accessible by integration)."""
    if ctx.token.get("kind") == "app":
        raise not_accessible("app", "https://docs.github.com/rest/users/users#get-the-authenticated-user")
    login = ctx.token["login"]
    return render.user(ctx.base, login, ctx.ids(login))


def get_user(ctx: Ctx, user: str) -> Any:
    """A user or organization account."""
    acct, kind = ctx.state.account(user)
    out = render.user(ctx.base, acct["login"], acct["id"], kind)
    out["public_repos"] = sum(not r["private"] for r in ctx.state.repos_of(acct["login"]))
    return out


def get_org(ctx: Ctx, org: str) -> Any:
    """An organization; to an owner also its owner-only settings (two_factor_requirement_enabled, ...)."""
    o = ctx.state.org(org)
    repos = ctx.state.repos_of(o["login"])
    out = render.org(ctx.base, o, sum(not r["private"] for r in repos), sum(r["private"] for r in repos))
    if settings.is_org_owner(ctx.token):
        members = {m for t in ctx.state.teams_of(o["login"]).values() for m in t.get("members", [])}
        out.update(settings.org_owner_fields(o, len(members)))
    return Reply(out, headers=last_modified(out["updated_at"]))


def repo_json(ctx: Ctx, r: dict[str, Any]) -> dict[str, Any]:
    git = ctx.state.git_repo(r["owner"], r["name"])
    ts = git.newest_commit_ts()
    pushed = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None
    full = f"{r['owner']}/{r['name']}"
    open_issues = sum(i["state"] == "open" for i in ctx.state.data["issues"].get(full, []))
    return render.repo(
        ctx.base,
        {**r, "_open_issues": open_issues},
        ctx.owner_json(r["owner"]),
        pushed,
        access.permissions(ctx.token, r),
    )


def _sorted_repos(ctx: Ctx, repos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sort = ctx.args.get("sort", "created")
    direction = ctx.args.get("direction", "asc" if sort == "full_name" else "desc")
    key = (
        (lambda r: f"{r['owner']}/{r['name']}".lower())
        if sort == "full_name"
        else (lambda r: (r.get("created_at", ""), r["id"]))
    )
    return sorted(repos, key=key, reverse=direction == "desc")


def list_org_repos(ctx: Ctx, org: str) -> Any:
    """Repositories of an organization (type, sort, direction, per_page, page)."""
    ctx.state.org(org)
    kind = ctx.args.get("type", "all")
    repos = ctx.state.repos_of(org)
    repos = [
        r
        for r in repos
        if {
            "public": not r["private"],
            "private": r["private"],
            "forks": r["fork"],
            "sources": not r["fork"],
        }.get(kind, True)
    ]
    return [repo_json(ctx, r) for r in ctx.paginate(_sorted_repos(ctx, repos))]


def list_user_repos(ctx: Ctx, user: str) -> Any:
    """Repositories owned by a user (or organization)."""
    repos = ctx.state.repos_of(user)
    return [repo_json(ctx, r) for r in ctx.paginate(_sorted_repos(ctx, repos))]


def get_repo(ctx: Ctx, owner: str, repo: str) -> Any:
    """A repository, with pushed_at = the newest commit's date, merge settings and organization."""
    r = ctx.state.get_repo(owner, repo)
    out = repo_json(ctx, r)
    org = out["owner"] if out["owner"]["type"] == "Organization" else None
    out.update(settings.repo_fields(r, org))
    return Reply(out, headers=last_modified(out["updated_at"]))


def get_rate_limit(ctx: Ctx) -> Any:
    """The token's rate limits (does not count against them)."""
    resources = {name: ctx.rate(name) for name in ctx.limits}
    return {"resources": resources, "rate": resources["core"]}
