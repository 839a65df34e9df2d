"""GitHub's JSON shapes for pull requests: ``pull-request``, ``pull-request-simple``,
``pull-request-review`` and the ``pull_request`` key of an issue (OpenAPI schema names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drift_pipeline.sandbox.github.render import account, node_id


def _link(href: str) -> dict[str, str]:
    return {"href": href}


def issue_pull_key(base: str, full: str, pr: dict[str, Any]) -> dict[str, Any]:
    """The ``pull_request`` key every issue listing gives a pull request."""
    n = pr["number"]
    return {
        "url": f"{base}/repos/{full}/pulls/{n}",
        "html_url": f"{base}/{full}/pull/{n}",
        "diff_url": f"{base}/{full}/pull/{n}.diff",
        "patch_url": f"{base}/{full}/pull/{n}.patch",
        "merged_at": pr["pull"]["merged_at"],
    }


def pull_simple(
    base: str,
    full: str,
    pr: dict[str, Any],
    *,
    user: Callable[[str], dict[str, Any]],
    repo_json: dict[str, Any],
    labels: list[dict[str, Any]],
) -> dict[str, Any]:
    """``pull-request-simple`` (the listing shape); ``repo_json`` is the full repository of head and base."""
    p = pr["pull"]
    n = pr["number"]
    api = f"{base}/repos/{full}"
    url = f"{api}/pulls/{n}"
    owner = full.split("/", 1)[0]
    assignees = [user(a) for a in pr["assignees"]]

    def side(ref: str, sha: str) -> dict[str, Any]:
        return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": user(owner), "repo": repo_json}

    return {
        "url": url,
        "id": pr["id"],
        "node_id": node_id("PullRequest", pr["id"]),
        "html_url": f"{base}/{full}/pull/{n}",
        "diff_url": f"{base}/{full}/pull/{n}.diff",
        "patch_url": f"{base}/{full}/pull/{n}.patch",
        "issue_url": f"{api}/issues/{n}",
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{api}/issues/{n}/comments",
        "statuses_url": f"{api}/statuses/{p['head_sha']}",
        "number": n,
        "state": pr["state"],
        "locked": bool(pr.get("locked")),
        "title": pr["title"],
        "user": user(pr["user"]),
        "body": pr.get("body"),
        "labels": labels,
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pr["created_at"],
        "updated_at": pr["updated_at"],
        "closed_at": pr.get("closed_at"),
        "merged_at": p["merged_at"],
        "merge_commit_sha": p["merge_commit_sha"],
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(p["head_ref"], p["head_sha"]),
        "base": side(p["base_ref"], p["base_sha"]),
        "_links": _pull_links(base, full, n, p["head_sha"]),
        "author_association": "MEMBER",
        "auto_merge": None,
        "draft": False,
    }


def _pull_links(base: str, full: str, n: int, head_sha: str) -> dict[str, dict[str, str]]:
    """The ``_links`` of pull request ``n``: the same URLs as its ``*_url`` keys, each as ``{"href": ...}``."""
    api = f"{base}/repos/{full}"
    url = f"{api}/pulls/{n}"
    return {
        "self": _link(url),
        "html": _link(f"{base}/{full}/pull/{n}"),
        "issue": _link(f"{api}/issues/{n}"),
        "comments": _link(f"{api}/issues/{n}/comments"),
        "review_comments": _link(f"{url}/comments"),
        "review_comment": _link(f"{api}/pulls/comments{{/number}}"),
        "commits": _link(f"{url}/commits"),
        "statuses": _link(f"{api}/statuses/{head_sha}"),
    }


def pull_full(simple: dict[str, Any], pr: dict[str, Any], merged_by: dict[str, Any] | None) -> dict[str, Any]:
    """``pull-request`` (one PR): the simple shape plus merge state and size."""
    p = pr["pull"]
    merged = p["merged_at"] is not None
    return {
        **simple,
        "merged": merged,
        "mergeable": None if pr["state"] == "closed" else True,
        "rebaseable": None if pr["state"] == "closed" else True,
        "mergeable_state": "unknown" if pr["state"] == "closed" else "clean",
        "merged_by": merged_by,
        "comments": pr.get("comments", 0),
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": len(p["commit_shas"]),
        "additions": p["additions"],
        "deletions": p["deletions"],
        "changed_files": p["changed_files"],
    }


def review(base: str, full: str, number: int, rv: dict[str, Any], ids: Callable[[str], int]) -> dict[str, Any]:
    """``pull-request-review``."""
    pr_url = f"{base}/repos/{full}/pulls/{number}"
    html = f"{base}/{full}/pull/{number}#pullrequestreview-{rv['id']}"
    return {
        "id": rv["id"],
        "node_id": node_id("PullRequestReview", rv["id"]),
        "user": account(base, rv["user"], ids(rv["user"])),
        "body": rv.get("body") or "",
        "state": rv["state"],
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": _link(html), "pull_request": _link(pr_url)},
        "submitted_at": rv["submitted_at"],
        "commit_id": rv["commit_id"],
        "author_association": "MEMBER",
    }
