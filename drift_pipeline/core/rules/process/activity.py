"""What went around the settings: the day's commits on the default branch and the PRs that brought them.

Reconstructable history, so these rules run for every day (past days included). Subjects: the
commit sha for a commit, ``pr#<n>`` for a pull request, so a backfill finds the same fingerprints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from drift_pipeline.core.rules.process.common import Context
from drift_pipeline.core.rules.process.records import ActivityCommit, ProcessActivity, PullRequest
from drift_pipeline.core.standards.globs import GlobError, glob_match
from drift_pipeline.core.standards.patterns import escape
from drift_pipeline.core.standards.patterns import search as _search
from drift_pipeline.core.standards.process_model import CONVENTIONAL_TYPES, CommitPolicy

_CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()]*)\))?!?: \S")
_ISSUE_REF = r"(?:[\w.-]+/[\w.-]+)?#\d+|https?://\S+/issues/\d+"
DEFAULT_ISSUE_PATTERN = r"\d+"


def _glob(pattern: str, path: str) -> bool:
    try:
        return glob_match(pattern, path)
    except GlobError:
        return False


def _pulls(activity: ProcessActivity) -> Iterator[tuple[PullRequest, ActivityCommit]]:
    """Each PR of the day once, with the last commit it brought (the merge or squash commit)."""
    seen: dict[int, tuple[PullRequest, ActivityCommit]] = {}
    for commit in activity.commits:
        if commit.pull_request is not None:
            seen[commit.pull_request.number] = (commit.pull_request, commit)
    yield from seen.values()


def activity_findings(ctx: Context, activity: ProcessActivity) -> None:
    _reviews(ctx, activity)
    for commit in activity.commits:
        if commit.is_merge:
            continue
        if ctx.exp.commits is not None:
            _convention(ctx, commit, ctx.exp.commits)
        tickets = ctx.exp.tickets
        if tickets is not None and tickets.require_in_commits and not _search(tickets.pattern, commit.message):
            ctx.add(
                "ticket_reference_missing",
                commit.sha,
                f"commit {commit.sha[:7]} ({commit.subject[:72]!r}) has no ticket reference",
                {"pattern": tickets.pattern, "in": "commit message"},
                commit.subject,
                commit_sha=commit.sha,
                commit_url=commit.url,
            )
    for pr, commit in _pulls(activity):
        _branch(ctx, pr, commit)
        _pr(ctx, pr, commit)


def _reviews(ctx: Context, activity: ProcessActivity) -> None:
    need = ctx.exp.required_reviews or 0
    if need <= 0:
        return
    for commit in activity.commits:
        if commit.pull_request is None:
            actor = commit.committer or commit.author or "unknown"
            ctx.add(
                "review_bypassed",
                commit.sha,
                f"commit {commit.sha[:7]} was pushed to {activity.branch} directly by {actor}, "
                f"without a pull request ({need} approval(s) required)",
                {"approvals": need, "via": "pull request"},
                {"approvals": 0, "via": "direct push"},
                actor=actor,
                author=commit.author,
                committer=commit.committer,
                commit_sha=commit.sha,
                commit_url=commit.url,
            )
    for pr, commit in _pulls(activity):
        approvals = pr.approvals_at_merge()
        if len(approvals) >= need:
            continue
        actor = pr.merged_by or commit.committer or "unknown"
        ctx.add(
            "review_bypassed",
            f"pr#{pr.number}",
            f"PR #{pr.number} was merged into {activity.branch} by {actor} with {len(approvals)} "
            f"approval(s); {need} required",
            {"approvals": need},
            {"approvals": len(approvals), "approved_by": list(approvals)},
            actor=actor,
            pull_request=pr.number,
            pr_url=pr.url,
            commit_sha=commit.sha,
            commit_url=commit.url,
        )


def convention_problems(subject: str, policy: CommitPolicy) -> list[str]:
    """Why a commit subject breaks the commit convention (empty when it conforms)."""
    problems = []
    if policy.pattern:
        if not _search(policy.pattern, subject):
            problems.append(f"does not match {policy.pattern!r}")
    elif policy.types or policy.conventional or policy.require_scope:
        types = policy.types or CONVENTIONAL_TYPES
        m = _CONVENTIONAL.match(subject)
        if m is None:
            problems.append("not in the form '<type>(<scope>): <description>'")
        else:
            if m.group("type") not in types:
                problems.append(f"type {m.group('type')!r} not one of {', '.join(types)}")
            if policy.require_scope and not (m.group("scope") or "").strip():
                problems.append("no scope")
    if policy.max_subject_length and len(subject) > policy.max_subject_length:
        problems.append(f"subject is {len(subject)} characters, over {policy.max_subject_length}")
    return problems


def _convention(ctx: Context, commit: ActivityCommit, policy: CommitPolicy) -> None:
    problems = convention_problems(commit.subject, policy)
    if problems:
        expected = {
            "pattern": policy.pattern,
            "types": list(policy.types or (CONVENTIONAL_TYPES if not policy.pattern else ())),
            "require_scope": policy.require_scope,
            "max_subject_length": policy.max_subject_length,
        }
        ctx.add(
            "commit_convention_violated",
            commit.sha,
            f"commit {commit.sha[:7]} by {commit.author or commit.committer or 'unknown'}: "
            f"{commit.subject[:72]!r} {'; '.join(problems)}",
            expected,
            commit.subject,
            problems=problems,
            commit_sha=commit.sha,
            commit_url=commit.url,
        )


def _branch(ctx: Context, pr: PullRequest, commit: ActivityCommit) -> None:
    name = pr.head_branch
    tickets = ctx.exp.tickets
    if tickets is not None and tickets.require_in_branch and not _search(tickets.pattern, name):
        ctx.add(
            "ticket_reference_missing",
            f"pr#{pr.number}",
            f"PR #{pr.number}'s branch {name!r} has no ticket reference",
            {"pattern": tickets.pattern, "in": "branch name"},
            name,
            pull_request=pr.number,
            commit_sha=commit.sha,
            commit_url=commit.url,
        )
    policy = ctx.exp.branches
    if policy is None or any(name == e or _glob(e, name) for e in policy.exclude):
        return
    problems = []
    if policy.pattern and not _search(policy.pattern, name):
        problems.append(f"does not match {policy.pattern!r}")
    if policy.require_issue and not _search(policy.issue_pattern or DEFAULT_ISSUE_PATTERN, name):
        problems.append("has no issue number")
    if problems:
        ctx.add(
            "branch_name_violated",
            f"pr#{pr.number}",
            f"PR #{pr.number} merged from branch {name!r}, which {' and '.join(problems)}",
            {
                "pattern": policy.pattern,
                "require_issue": policy.require_issue,
                "issue_pattern": policy.issue_pattern if policy.require_issue else None,
            },
            name,
            problems=problems,
            pull_request=pr.number,
            author=pr.author,
            commit_sha=commit.sha,
            commit_url=commit.url,
        )


def _pr(ctx: Context, pr: PullRequest, commit: ActivityCommit) -> None:
    policy = ctx.exp.pr
    if policy is None:
        return
    if policy.max_files or policy.max_lines:
        if pr.files:
            counted = [f for f in pr.files if not any(_glob(g, f.path) for g in policy.exclude)]
            files, lines = len(counted), sum(f.additions + f.deletions for f in counted)
        else:
            files, lines = 0, pr.additions + pr.deletions
        over = []
        if policy.max_files and files > policy.max_files:
            over.append(f"{files} files > {policy.max_files}")
        if policy.max_lines and lines > policy.max_lines:
            over.append(f"{lines} changed lines > {policy.max_lines}")
        if over:
            ctx.add(
                "pr_too_large",
                f"pr#{pr.number}",
                f"PR #{pr.number} ({pr.title[:60]!r}) is too large: {', '.join(over)}",
                {"max_files": policy.max_files, "max_lines": policy.max_lines},
                {"files": files, "lines": lines},
                excluded=list(policy.exclude),
                pull_request=pr.number,
                author=pr.author,
                commit_sha=commit.sha,
                commit_url=commit.url,
            )
    if policy.require_issue and not _has_issue_reference(ctx, pr, policy.issue_keywords):
        ctx.add(
            "pr_missing_issue_reference",
            f"pr#{pr.number}",
            f"PR #{pr.number} ({pr.title[:60]!r}) references no issue",
            {"issue_keywords": list(policy.issue_keywords) or None, "reference": "an issue (#123) or ticket"},
            {"linked_issues": list(pr.linked_issues)},
            pull_request=pr.number,
            author=pr.author,
            commit_sha=commit.sha,
            commit_url=commit.url,
        )


def _has_issue_reference(ctx: Context, pr: PullRequest, keywords: tuple[str, ...]) -> bool:
    """A linked issue, or an issue (#12, org/repo#12, an issue URL) or ticket reference in the title or body;
    with ``issue_keywords``, only a reference right after one of them ("Closes #12") counts."""
    if pr.linked_issues:
        return True
    text = f"{pr.title}\n{pr.body}"
    refs = [_ISSUE_REF] + ([ctx.exp.tickets.pattern] if ctx.exp.tickets is not None else [])
    if keywords:
        words = "|".join(escape(k) for k in keywords)
        return any(_search(rf"(?i:\b(?:{words})\b:?\s+)(?:{ref})", text) for ref in refs)
    return any(_search(ref, text) for ref in refs)
