"""Commit statuses: the combined status of a ref and its statuses (``SandboxState.add_commit_status``).

As GitHub: the statuses list is newest first and keeps every status; the combined status takes the
newest status of each context, and its ``state`` is ``failure`` when one of them is ``error`` or
``failure``, ``pending`` when there is none or one is ``pending``, else ``success``.
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import render
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.routes.accounts import repo_json
from drift_pipeline.sandbox.github.routes.context import Ctx, full_name

_DOCS = "https://docs.github.com/rest/commits/statuses"


def _statuses(ctx: Ctx, owner: str, repo: str, ref: str) -> tuple[str, str, list[dict[str, Any]]]:
    """(full name, commit sha, statuses newest first) of ``ref``; 404 for a ref that names no commit."""
    full = full_name(ctx, owner, repo)
    git = ctx.state.git_repo(owner, repo)
    sha = None if git.is_empty() else git.resolve(ref)
    if sha is None:
        raise NotFound(f"No commit found for SHA: {ref}", documentation_url=_DOCS)
    stored = (ctx.state.data.get("statuses") or {}).get(full, {}).get(sha, [])
    return full, sha, list(reversed(stored))


def _status_json(ctx: Ctx, full: str, sha: str, s: dict[str, Any], *, simple: bool = False) -> dict[str, Any]:
    creator = ctx.user_json(s["creator"]) if s.get("creator") else None
    out: dict[str, Any] = {
        "url": f"{ctx.base}/repos/{full}/statuses/{sha}",
        "avatar_url": creator["avatar_url"] if creator else None,
        "id": s["id"],
        "node_id": render.node_id("StatusContext", s["id"]),
        "state": s["state"],
        "description": s.get("description"),
        "target_url": s.get("target_url"),
        "context": s["context"],
        "created_at": s["created_at"],
        "updated_at": s["created_at"],
    }
    if simple:
        out["required"] = False
    else:
        out["creator"] = creator
    return out


def get_combined_status(ctx: Ctx, owner: str, repo: str, ref: str) -> Any:
    """The combined status of a ref: the newest status per context and their state (pending when none)."""
    full, sha, statuses = _statuses(ctx, owner, repo, ref)
    latest = list({s["context"]: s for s in reversed(statuses)}.values())  # newest per context
    states = {s["state"] for s in latest}
    state = (
        "failure" if states & {"error", "failure"} else "pending" if not states or "pending" in states else "success"
    )
    page = ctx.paginate(sorted(latest, key=lambda s: s["id"], reverse=True), default=100)
    return {
        "state": state,
        "statuses": [_status_json(ctx, full, sha, s, simple=True) for s in page],
        "sha": sha,
        "total_count": len(latest),
        "repository": repo_json(ctx, ctx.state.get_repo(owner, repo)),
        "commit_url": f"{ctx.base}/repos/{full}/commits/{sha}",
        "url": f"{ctx.base}/repos/{full}/commits/{sha}/status",
    }


def list_statuses(ctx: Ctx, owner: str, repo: str, ref: str) -> Any:
    """The statuses of a ref, newest first (every status, also those a newer one of its context replaced)."""
    full, sha, statuses = _statuses(ctx, owner, repo, ref)
    return [_status_json(ctx, full, sha, s) for s in ctx.paginate(statuses)]
