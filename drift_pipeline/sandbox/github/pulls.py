"""Pull requests of the GitHub sandbox: data and behaviour, no HTTP.

A pull request is an issue, as on GitHub: it lives in ``state.data["issues"]`` (so it shares the
issue numbers and shows in issue listings and search) with a ``pull`` record::

    {"head_ref", "head_sha", "base_ref", "base_sha" (the merge base when opened), "commit_shas"
     (head commits, oldest first), "merged_at", "merge_commit_sha", "merged_by", "additions",
     "deletions", "changed_files", "reviews": [{"id", "user", "state", "body", "submitted_at",
     "commit_id"}]}

:func:`open_pull`, :func:`add_review` and :func:`merge_pull` build pull requests with real git
commits (explicit dates, so the same inputs give the same shas) for the demo org and the tests;
the read functions serve the routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from drift_pipeline.sandbox.github.errors import NotFound, Unprocessable
from drift_pipeline.sandbox.github.gitrepo import GitRepo
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.github.state_issues import _iso
from drift_pipeline.sources.gitutil import Author, GitError, commit_files, git, git_text, rev_parse

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED")
_PULL_DOCS = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"


# -- building (seed and tests) ------------------------------------------------------------------
def open_pull(
    state: SandboxState,
    owner: str,
    repo: str,
    *,
    head: str,
    title: str,
    user: str,
    author: Author,
    when: datetime,
    files: Mapping[str, str | bytes | None] | None = None,
    message: str | None = None,
    base: str | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """Open a pull request from ``head`` into ``base`` (default branch); returns the issue record.

    With ``files``, ``head`` is first created from the base tip (when absent) and one commit with
    ``files`` is made on it (``message`` or the title), so the PR carries real commits.
    """
    r = state.get_repo(owner, repo)
    base = base or r["default_branch"]
    path = state.repo_git_dir(r["owner"], r["name"])
    base_tip = rev_parse(path, f"refs/heads/{base}")
    if base_tip is None:
        raise Unprocessable(errors=[{"resource": "PullRequest", "code": "invalid", "field": "base"}])
    if files is not None:
        if rev_parse(path, f"refs/heads/{head}") is None:
            git(path, "update-ref", f"refs/heads/{head}", base_tip)
        commit_files(path, head, files, message or title, author, when)
    head_sha = rev_parse(path, f"refs/heads/{head}")
    if head_sha is None:
        raise Unprocessable(errors=[{"resource": "PullRequest", "code": "invalid", "field": "head"}])
    issue = state.create_issue(r["owner"], r["name"], title=title, user=user, body=body, when=when)
    issue["pull"] = _pull_record(GitRepo(path), head, head_sha, base, base_tip)
    return issue


def _pull_record(git_repo: GitRepo, head: str, head_sha: str, base: str, base_tip: str) -> dict[str, Any]:
    merge_base = git_repo.merge_base(base_tip, head_sha) or base_tip
    diff = git_repo.diff(merge_base, head_sha)
    return {
        "head_ref": head,
        "head_sha": head_sha,
        "base_ref": base,
        "base_sha": merge_base,
        "commit_shas": [c.sha for c in git_repo.range(merge_base, head_sha)],
        "merged_at": None,
        "merge_commit_sha": None,
        "merged_by": None,
        "additions": diff.additions,
        "deletions": diff.deletions,
        "changed_files": len(diff.files),
        "reviews": [],
    }


def add_review(
    state: SandboxState,
    owner: str,
    repo: str,
    number: int,
    *,
    user: str,
    review_state: str,
    when: datetime,
    body: str = "",
    commit_id: str | None = None,
) -> dict[str, Any]:
    """Submit a review (APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED) on the PR's head."""
    if review_state not in REVIEW_STATES:
        raise Unprocessable(errors=[{"resource": "PullRequestReview", "code": "invalid", "field": "event"}])
    pr = pull(state, owner, repo, number)
    review = {
        "id": state.next_id(),
        "user": user,
        "state": review_state,
        "body": body,
        "submitted_at": _iso(when),
        "commit_id": commit_id or pr["pull"]["head_sha"],
    }
    pr["pull"]["reviews"].append(review)
    pr["updated_at"] = review["submitted_at"]
    return review


def merge_pull(
    state: SandboxState,
    owner: str,
    repo: str,
    number: int,
    *,
    by: str,
    committer: Author,
    when: datetime,
    method: str = "merge",
    message: str | None = None,
) -> str:
    """Merge the PR onto its base branch with a real commit (``merge``: two parents; ``squash``: one).

    The tree is git's three-way merge of the base tip and the head; a conflict is a 405-style
    refusal (422 here). Returns the merge commit sha.
    """
    pr = pull(state, owner, repo, number)
    p = pr["pull"]
    if pr["state"] != "open":
        raise Unprocessable("Pull Request is not mergeable")
    r = state.get_repo(owner, repo)
    path = state.repo_git_dir(r["owner"], r["name"])
    base_tip = rev_parse(path, f"refs/heads/{p['base_ref']}")
    if base_tip is None:
        raise Unprocessable("Base branch was deleted")
    out = git(path, "merge-tree", "--write-tree", base_tip, p["head_sha"], check=False).decode()
    tree = out.split("\n", 1)[0].strip()
    if not tree or "CONFLICT" in out:
        raise Unprocessable("Pull Request is not mergeable")
    if method == "squash":
        text = message or f"{pr['title']} (#{pr['number']})"
        parents = ["-p", base_tip]
    elif method == "merge":
        text = message or f"Merge pull request #{pr['number']} from {r['owner']}/{p['head_ref']}\n\n{pr['title']}"
        parents = ["-p", base_tip, "-p", p["head_sha"]]
    else:
        raise Unprocessable(errors=[{"resource": "PullRequest", "code": "invalid", "field": "merge_method"}])
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    stamp = f"{int(when.timestamp())} {when.strftime('%z')}"
    env = {
        "GIT_AUTHOR_NAME": committer.name,
        "GIT_AUTHOR_EMAIL": committer.email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
        "GIT_COMMITTER_DATE": stamp,
    }
    sha = git_text(path, "commit-tree", tree, *parents, "-m", text, env=env).strip()
    git(path, "update-ref", f"refs/heads/{p['base_ref']}", sha)
    at = _iso(when)
    p.update(merged_at=at, merge_commit_sha=sha, merged_by=by)
    pr.update(state="closed", closed_at=at, updated_at=at, state_reason=None)
    return sha


def close_pull(state: SandboxState, owner: str, repo: str, number: int, *, when: datetime) -> dict[str, Any]:
    """Close a PR without merging it."""
    pr = pull(state, owner, repo, number)
    at = _iso(when)
    pr.update(state="closed", closed_at=at, updated_at=at)
    return pr


# -- reads (the routes) -------------------------------------------------------------------------
def pulls_of(state: SandboxState, owner: str, repo: str) -> list[dict[str, Any]]:
    return [i for i in state.issues_of(owner, repo) if "pull" in i]


def pull(state: SandboxState, owner: str, repo: str, number: int) -> dict[str, Any]:
    for issue in state.issues_of(owner, repo):
        if issue["number"] == int(number) and "pull" in issue:
            return issue
    raise NotFound(documentation_url=_PULL_DOCS)


def list_pulls(
    state: SandboxState,
    owner: str,
    repo: str,
    *,
    state_filter: str = "open",
    head: str | None = None,
    base: str | None = None,
    sort: str = "created",
    direction: str | None = None,
) -> list[dict[str, Any]]:
    """GitHub's ``GET /pulls`` filters: state open|closed|all, ``head=user:ref``, ``base=ref``."""
    r = state.get_repo(owner, repo)
    if state_filter not in ("open", "closed", "all"):
        raise Unprocessable(errors=[{"resource": "Issue", "code": "invalid", "field": "state"}])
    out = []
    for pr in pulls_of(state, owner, repo):
        p = pr["pull"]
        if state_filter != "all" and pr["state"] != state_filter:
            continue
        if base and p["base_ref"] != base:
            continue
        if head:
            user, _, ref = head.rpartition(":")
            if (user and user.lower() != r["owner"].lower()) or p["head_ref"] != ref:
                continue
        out.append(pr)
    # GitHub: desc by default when sorting by created (or nothing), otherwise asc
    reverse = (direction or ("desc" if sort == "created" else "asc")) == "desc"
    if sort == "updated":
        out.sort(key=lambda i: (i["updated_at"], i["number"]), reverse=reverse)
    elif sort == "popularity":
        out.sort(key=lambda i: (i.get("comments", 0), i["number"]), reverse=reverse)
    elif sort == "long-running":
        out.sort(key=lambda i: (i["created_at"], i["number"]), reverse=not reverse)
    else:
        out.sort(key=lambda i: (i["created_at"], i["number"]), reverse=reverse)
    return out


def commit_pulls(state: SandboxState, owner: str, repo: str, sha: str) -> list[dict[str, Any]]:
    """The PRs associated with a commit, as GitHub lists them.

    A commit on the default branch: the merged PRs that brought it (its merge or squash commit,
    or one of its head commits). A commit elsewhere: the merged and open PRs that contain it.
    """
    r = state.get_repo(owner, repo)
    git_repo = state.git_repo(owner, repo)
    full = git_repo.resolve(sha)
    if full is None:
        raise NotFound(f"No commit found for SHA: {sha}")
    tip = git_repo.resolve(r["default_branch"])
    on_default = _is_ancestor(git_repo, full, tip)
    out = []
    for pr in pulls_of(state, owner, repo):
        p = pr["pull"]
        if full != p["merge_commit_sha"] and full not in p["commit_shas"]:
            continue
        if on_default and p["merged_at"] is None:
            continue
        if not on_default and pr["state"] == "closed" and p["merged_at"] is None:
            continue
        out.append(pr)
    out.sort(key=lambda i: i["number"], reverse=True)
    return out


def _is_ancestor(git_repo: GitRepo, sha: str, tip: str | None) -> bool:
    if tip is None:
        return False
    try:
        git(git_repo.path, "merge-base", "--is-ancestor", sha, tip)
    except GitError:  # exit 1: not an ancestor
        return False
    return True


def pull_files(state: SandboxState, owner: str, repo: str, number: int) -> tuple[str, Any]:
    """The PR's head sha and its diff against the merge base (``/pulls/{n}/files``)."""
    p = pull(state, owner, repo, number)["pull"]
    return p["head_sha"], state.git_repo(owner, repo).diff(p["base_sha"], p["head_sha"])


def record_merged_pull(
    state: SandboxState,
    owner: str,
    repo: str,
    *,
    head: str,
    commit_shas: list[str],
    title: str,
    user: str,
    opened: datetime,
    merged_by: str,
    merged_at: datetime,
    body: str | None = None,
    reviews: tuple[tuple[str, str, datetime], ...] = (),
) -> dict[str, Any]:
    """A PR already rebase-merged: ``commit_shas`` (oldest first) are on the base branch as they are.

    For histories written in one go (the demo org): the PR's head commits are the base branch's
    commits and ``merge_commit_sha`` is the last of them, as GitHub records a rebase merge. The
    head branch is not kept (deleted after merge). ``reviews`` are ``(login, state, when)``.
    """
    r = state.get_repo(owner, repo)
    git_repo = state.git_repo(owner, repo)
    first = git_repo.commit(commit_shas[0])
    base_sha = first.parents[0] if first.parents else None
    diff = git_repo.diff(base_sha, commit_shas[-1]) if base_sha else git_repo.commit_diff(first)
    issue = state.create_issue(r["owner"], r["name"], title=title, user=user, body=body, when=opened)
    issue["pull"] = {
        "head_ref": head,
        "head_sha": commit_shas[-1],
        "base_ref": r["default_branch"],
        "base_sha": base_sha or commit_shas[0],
        "commit_shas": list(commit_shas),
        "merged_at": None,
        "merge_commit_sha": None,
        "merged_by": None,
        "additions": diff.additions,
        "deletions": diff.deletions,
        "changed_files": len(diff.files),
        "reviews": [],
    }
    for login, review_state, when in reviews:
        add_review(state, owner, repo, issue["number"], user=login, review_state=review_state, when=when)
    at = _iso(merged_at)
    issue["pull"].update(merged_at=at, merge_commit_sha=commit_shas[-1], merged_by=merged_by)
    issue.update(state="closed", closed_at=at, updated_at=at)
    return issue
