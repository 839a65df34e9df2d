"""Commits, compare, git trees and blobs, contents: everything computed from the bare repository.

Every commit is rendered by :meth:`Ctx.commit_json`, which attributes it to the users owning its
author and committer emails (``null`` for an email nobody owns), as GitHub does.
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import render
from drift_pipeline.sandbox.github.errors import NotFound, Unprocessable
from drift_pipeline.sandbox.github.routes.context import (
    Ctx,
    Reply,
    full_name,
    last_modified,
    nonempty,
    parse_time,
    raw_reply,
)


def list_commits(ctx: Ctx, owner: str, repo: str) -> Any:
    """Commits from sha (default branch); filters path, since, until (committer dates), author (login/email)."""
    r = ctx.state.get_repo(owner, repo)
    git = nonempty(ctx, owner, repo)
    sha = git.must_resolve(ctx.args.get("sha") or r["default_branch"])
    since, until = parse_time(ctx.args.get("since")), parse_time(ctx.args.get("until"))
    commits = git.log(sha, ctx.args.get("path") or None)
    if since:
        commits = [c for c in commits if c.committer_ts >= since.timestamp()]
    if until:
        commits = [c for c in commits if c.committer_ts <= until.timestamp()]
    for key, attr in (("author", "author_email"), ("committer", "committer_email")):
        if ctx.args.get(key):
            who = ctx.args[key].lower()
            commits = [
                c
                for c in commits
                if who in (getattr(c, attr).lower(), (ctx.state.user_for_email(getattr(c, attr)) or "").lower())
            ]
    full = full_name(ctx, owner, repo)
    return [ctx.commit_json(full, c) for c in ctx.paginate(commits)]


def get_commit(ctx: Ctx, owner: str, repo: str, ref: str) -> Any:
    """One commit with stats and files (patches)."""
    git = nonempty(ctx, owner, repo)
    sha = git.resolve(ref)
    if sha is None:
        raise Unprocessable(
            f"No commit found for SHA: {ref}",
            documentation_url="https://docs.github.com/rest/commits/commits#get-a-commit",
        )
    c = git.commit(sha)
    return ctx.commit_json(full_name(ctx, owner, repo), c, git.commit_diff(c))


def compare(ctx: Ctx, owner: str, repo: str, basehead: str) -> Any:
    """Compare base...head: commits (paged, 250 by default), files with patches, ahead/behind."""
    if "..." not in basehead:
        raise NotFound()
    base_ref, head_ref = basehead.split("...", 1)
    git = nonempty(ctx, owner, repo)
    base_sha, head_sha = git.resolve(base_ref), git.resolve(head_ref)
    if base_sha is None or head_sha is None:
        raise NotFound()
    merge_base = git.merge_base(base_sha, head_sha) or base_sha
    ahead, behind = git.count(f"{base_sha}..{head_sha}"), git.count(f"{head_sha}..{base_sha}")
    status = (
        "identical" if not ahead and not behind else "behind" if not ahead else "ahead" if not behind else "diverged"
    )
    full = full_name(ctx, owner, repo)
    commits = git.range(base_sha, head_sha)
    page = ctx.paginate(commits, default=250, maximum=1000)
    return {
        "url": f"{ctx.base}/repos/{full}/compare/{basehead}",
        "html_url": f"{ctx.base}/{full}/compare/{basehead}",
        "permalink_url": f"{ctx.base}/{full}/compare/{base_sha}...{head_sha}",
        "diff_url": f"{ctx.base}/{full}/compare/{basehead}.diff",
        "patch_url": f"{ctx.base}/{full}/compare/{basehead}.patch",
        "base_commit": ctx.commit_json(full, git.commit(base_sha)),
        "merge_base_commit": ctx.commit_json(full, git.commit(merge_base)),
        "status": status,
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": len(commits),
        "commits": [ctx.commit_json(full, c) for c in page],
        "files": [render.file_change(ctx.base, full, head_sha, f) for f in git.diff(merge_base, head_sha).files],
    }


def get_tree(ctx: Ctx, owner: str, repo: str, sha: str) -> Any:
    """A tree by tree sha, commit sha or branch; recursive=1 lists every path."""
    git = ctx.state.git_repo(owner, repo)
    recursive = ctx.args.get("recursive", "") not in ("", "0", "false")
    ref = git.resolve(sha) or sha
    tree_sha, entries = git.tree(ref, recursive)
    return render.tree(ctx.base, full_name(ctx, owner, repo), tree_sha, entries)


def get_blob(ctx: Ctx, owner: str, repo: str, sha: str) -> Any:
    """A blob, base64."""
    git = ctx.state.git_repo(owner, repo)
    data = git.blob(sha)
    return raw_reply(ctx, data) or render.blob(ctx.base, full_name(ctx, owner, repo), sha, data)


def get_contents(ctx: Ctx, owner: str, repo: str, path: str) -> Any:
    """A file (base64) or a directory listing at ref (default branch)."""
    r = ctx.state.get_repo(owner, repo)
    git = ctx.state.git_repo(owner, repo)
    if git.is_empty():
        raise NotFound("This repository is empty.")
    ref = ctx.args.get("ref") or r["default_branch"]
    sha = git.resolve(ref)
    if sha is None:
        raise NotFound(f"No commit found for the ref {ref}")
    entry = git.entry(sha, path)
    if entry is None:
        raise NotFound(documentation_url="https://docs.github.com/rest/repos/contents#get-repository-content")
    full = full_name(ctx, owner, repo)
    modified = last_modified(git.last_change_ts(sha, entry.path))
    if entry.type == "tree":
        listing = [render.content_entry(ctx.base, full, ref, sha, e) for e in git.list_dir(entry.sha, entry.path)]
        return Reply(listing, headers=modified)
    data = git.blob(entry.sha) if entry.type == "blob" else None
    raw = raw_reply(ctx, data, modified) if data is not None else None
    return raw or Reply(render.content_entry(ctx.base, full, ref, sha, entry, data), headers=modified)
