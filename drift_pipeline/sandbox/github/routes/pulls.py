"""Pull requests: listings, one PR, its reviews and files, and the PRs of a commit."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import pulls, render, render_pulls
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.routes.accounts import repo_json
from drift_pipeline.sandbox.github.routes.context import Ctx, full_name
from drift_pipeline.sandbox.github.routes.issues import labels_json


def _number(number: str) -> int:
    if not number.isdigit():
        raise NotFound()
    return int(number)


def _simple(ctx: Ctx, owner: str, repo: str, prs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    full = full_name(ctx, owner, repo)
    rj = repo_json(ctx, ctx.state.get_repo(owner, repo))
    return [
        render_pulls.pull_simple(
            ctx.base,
            full,
            pr,
            user=ctx.user_json,
            repo_json=rj,
            labels=labels_json(ctx, owner, repo, full, pr["labels"]),
        )
        for pr in prs
    ]


def list_pulls(ctx: Ctx, owner: str, repo: str) -> Any:
    """Pull requests (state open|closed|all, head=owner:ref, base, sort, direction)."""
    prs = pulls.list_pulls(
        ctx.state,
        owner,
        repo,
        state_filter=ctx.args.get("state", "open"),
        head=ctx.args.get("head") or None,
        base=ctx.args.get("base") or None,
        sort=ctx.args.get("sort", "created"),
        direction=ctx.args.get("direction") or None,
    )
    return _simple(ctx, owner, repo, ctx.paginate(prs))


def get_pull(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """One pull request with merged, merged_by, merge_commit_sha, commits, additions, deletions, changed_files."""
    pr = pulls.pull(ctx.state, owner, repo, _number(number))
    merged_by = pr["pull"]["merged_by"]
    return render_pulls.pull_full(
        _simple(ctx, owner, repo, [pr])[0], pr, ctx.user_json(merged_by) if merged_by else None
    )


def list_reviews(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Reviews of a pull request, oldest first (state APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED)."""
    n = _number(number)
    pr = pulls.pull(ctx.state, owner, repo, n)
    full = full_name(ctx, owner, repo)
    return [render_pulls.review(ctx.base, full, n, rv, ctx.ids) for rv in ctx.paginate(pr["pull"]["reviews"])]


def list_files(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Files of a pull request against its merge base (filename, status, additions, deletions, changes, patch)."""
    head, diff = pulls.pull_files(ctx.state, owner, repo, _number(number))
    full = full_name(ctx, owner, repo)
    return [render.file_change(ctx.base, full, head, f) for f in ctx.paginate(list(diff.files), maximum=100)]


def list_commit_pulls(ctx: Ctx, owner: str, repo: str, sha: str) -> Any:
    """Pull requests associated with a commit (on the default branch: the merged PR that brought it)."""
    return _simple(ctx, owner, repo, ctx.paginate(pulls.commit_pulls(ctx.state, owner, repo, sha)))
