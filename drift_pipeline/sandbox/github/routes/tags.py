"""Repository tags: ``GET /repos/{owner}/{repo}/tags``, computed from the bare repository's ``refs/tags``.

GitHub answers each tag with the commit it points to (an annotated tag is peeled to its commit),
zipball / tarball URLs and a node id, newest version first (``git``'s ``-v:refname`` order; the
product never relies on the order). Tags of anything but a commit (a tree, a blob) are not listed.
Paginated like every list route (``per_page`` up to 100, ``Link`` header).
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github.render import node_id, q
from drift_pipeline.sandbox.github.routes.context import Ctx, full_name
from drift_pipeline.sources.gitutil import git_text

_FORMAT = "%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)"


def repo_tags(path: str) -> list[tuple[str, str]]:
    """``(tag, commit sha)`` of every tag naming a commit (annotated tags peeled), newest version first."""
    out = git_text(path, "for-each-ref", "--sort=-v:refname", f"--format={_FORMAT}", "refs/tags")
    tags = []
    for line in out.splitlines():
        name, kind, sha, peeled_kind, peeled = (line.split("\0") + [""] * 5)[:5]
        if kind == "commit":
            tags.append((name, sha))
        elif kind == "tag" and peeled_kind == "commit":
            tags.append((name, peeled))
    return tags


def render_tag(base: str, full: str, name: str, sha: str) -> dict[str, Any]:
    api = f"{base}/repos/{full}"
    return {
        "name": name,
        "zipball_url": f"{api}/zipball/refs/tags/{q(name)}",
        "tarball_url": f"{api}/tarball/refs/tags/{q(name)}",
        "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
        "node_id": node_id("Ref", f"{full}:refs/tags/{name}"),
    }


def list_tags(ctx: Ctx, owner: str, repo: str) -> Any:
    """Tags with the commit each points to (annotated tags peeled), newest version first."""
    full = full_name(ctx, owner, repo)
    git = ctx.state.git_repo(owner, repo)
    return [render_tag(ctx.base, full, name, sha) for name, sha in ctx.paginate(repo_tags(git.path))]
