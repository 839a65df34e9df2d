"""The process scan's activity: the first-parent commits that reached a default branch in a window.

Each commit comes with the merged pull request that brought it (``/commits/{sha}/pulls``, then the
PR with its reviews and files); a commit without one is a direct push. Reconstructable history:
a past day reads the same as it did on the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.process.records import ActivityCommit
from drift_pipeline.sources.github_process import ProcessReader, issue_refs


def day_commits(
    reader: ProcessReader, full: str, branch: str, head: str, start: datetime, end: datetime
) -> tuple[ActivityCommit, ...]:
    """The first-parent commits from the day's head back to the last one before the day, oldest first."""
    listed = {c.get("sha"): c for c in reader.commits_between(full, branch, head, start, end)}
    chain: list[ActivityCommit] = []
    sha: str | None = head
    while sha in listed:
        raw = listed[sha]
        when = _committed_at(raw)
        if when is None or when <= start or when > end:
            break
        parents = [p.get("sha") for p in raw.get("parents") or [] if isinstance(p, dict)]
        chain.append(_commit(reader, full, branch, raw, len(parents) > 1))
        sha = parents[0] if parents else None
    return tuple(reversed(chain))


def _committed_at(raw: Mapping[str, Any]) -> datetime | None:
    commit = _obj(raw.get("commit"))
    who = _obj(commit.get("committer"))
    try:
        return datetime.fromisoformat(str(who.get("date")).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _commit(reader: ProcessReader, full: str, branch: str, raw: Mapping[str, Any], is_merge: bool) -> ActivityCommit:
    sha = str(raw["sha"])
    commit = _obj(raw.get("commit"))
    pulls = [
        p
        for p in reader.commit_pulls(full, sha)
        if p.get("merged_at") and _obj(p.get("base")).get("ref") == branch and isinstance(p.get("number"), int)
    ]
    chosen = next((p for p in pulls if p.get("merge_commit_sha") == sha), pulls[0] if pulls else None)
    login = {
        k: (raw.get(k) or {}).get("login") if isinstance(raw.get(k), dict) else None for k in ("author", "committer")
    }
    return ActivityCommit(
        sha=sha,
        message=mask_secrets(str(commit.get("message") or "")),
        author=login["author"],
        committer=login["committer"],
        url=raw.get("html_url") if isinstance(raw.get("html_url"), str) else None,
        is_merge=is_merge,
        pull_request=reader.pull_request(full, chosen["number"]) if chosen else None,
    )


def activity_row(repo: str, c: ActivityCommit) -> dict[str, Any]:
    pr = c.pull_request
    approvals = pr.approvals_at_merge() if pr else ()
    return {
        "repo": repo,
        "commit_sha": c.sha,
        "commit_url": c.url,
        "subject": c.subject,
        "author": c.author,
        "committer": c.committer,
        "is_merge": c.is_merge,
        "direct_push": pr is None,
        "pr_number": pr.number if pr else None,
        "pr_url": pr.url if pr else None,
        "pr_title": pr.title if pr else None,
        "head_branch": pr.head_branch if pr else None,
        "merged_by": pr.merged_by if pr else None,
        "merged_at": pr.merged_at if pr else None,
        "approvals": len(approvals) if pr else 0,
        "approved_by": list(approvals),
        "files": len(pr.files) if pr else None,
        "lines": (sum(f.additions + f.deletions for f in pr.files) or pr.additions + pr.deletions) if pr else None,
        "refs": list(issue_refs(c.message, *((pr.title, pr.body, pr.head_branch) if pr else ()))),
    }
