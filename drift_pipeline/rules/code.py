"""Code drift: one day's config snapshot of a repo against the snapshot before it.

Pure: records in, findings out. Two families:

- *state* findings, true on every day they hold (same fingerprint each day): ``invalid_config``,
  ``registry_unresolved``, ``tier_ruleset_mismatch``, ``project_without_standards``;
- *change* findings, for a tracked file whose content differs from the previous snapshot:
  ``check_toml_added|changed|removed``, ``dependency_changed``, ``workflow_changed``,
  ``metadata_changed``, each with the unified diff and every commit that touched the file in
  the window. Their subject includes the new blob sha, so each change is its own drift.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from drift_pipeline.rules.findings import Finding, make_finding

MAX_DIFF_LINES = 200
SECRET_NAMES = (".env", ".pem", ".key", "id_rsa", ".p12", ".pfx", "credentials", "secrets")


@dataclass(frozen=True)
class CommitRef:
    sha: str
    url: str | None
    author: str
    date: datetime
    message: str


@dataclass(frozen=True)
class TrackedState:
    path: str
    project: str
    kind: str            # config | metadata | workflow | dependency
    tool: str | None
    blob_sha: str | None
    content: str | None


@dataclass(frozen=True)
class ProjectState:
    path: str
    type: str | None
    config_file: str | None


@dataclass(frozen=True)
class ProblemState:
    project: str
    file: str
    key: str | None
    line: int | None
    message: str
    rule: str
    severity: str


@dataclass(frozen=True)
class RepoCode:
    """Everything known about one repo's standards on one day."""
    org: str
    repo: str
    head_sha: str | None
    head_url: str | None
    files: Mapping[str, TrackedState] = field(default_factory=dict)
    projects: tuple[ProjectState, ...] = ()
    problems: tuple[ProblemState, ...] = ()
    commits: Mapping[str, tuple[CommitRef, ...]] = field(default_factory=dict)  # path -> window commits
    still_present: frozenset[str] = frozenset()   # paths no longer tracked that still exist


def evaluate(day: date, today: Mapping[str, RepoCode],
             before: Mapping[str, RepoCode] | None) -> list[Finding]:
    """All code findings of ``day``. ``before`` is None when there is no earlier snapshot."""
    findings: list[Finding] = []
    for name in sorted(today):
        repo = today[name]
        findings += _state_findings(day, repo)
        if before is not None:
            findings += _change_findings(day, repo, before.get(name))
    return findings


# -- state ------------------------------------------------------------------------------------
def _state_findings(day: date, repo: RepoCode) -> list[Finding]:
    out = []
    grouped: dict[tuple[str, str, str], list[ProblemState]] = defaultdict(list)
    for problem in repo.problems:
        subject = f"{problem.file}#{problem.key}" if problem.key else problem.file
        grouped[(problem.project, problem.rule, subject)].append(problem)
    for (project, rule, subject), problems in sorted(grouped.items()):
        first = problems[0]
        where = first.file + (f":{first.line}" if first.line else "")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        out.append(make_finding(
            rule, scan_date=day, org=repo.org, repo=repo.repo, project=project,
            severity="error" if any(p.severity == "error" for p in problems) else "warning",
            message=f"{where}: {first.message}{more}", subject=subject,
            commit_sha=repo.head_sha, commit_url=repo.head_url,
            details={"file": first.file, "key": first.key,
                     "problems": [{"line": p.line, "key": p.key, "message": p.message,
                                   "severity": p.severity} for p in problems]}))
    for project in repo.projects:
        if project.config_file is None and project.type is not None:
            out.append(make_finding(
                "project_without_standards", scan_date=day, org=repo.org, repo=repo.repo,
                project=project.path, subject=project.path,
                message=f"{project.type} project {project.path} has no check.toml or standards.toml",
                commit_sha=repo.head_sha, commit_url=repo.head_url,
                details={"project_type": project.type, "expected": ["standards.toml", "check.toml"]}))
    return out


# -- changes ----------------------------------------------------------------------------------
_CHANGE_RULE = {"config": ("check_toml_added", "check_toml_changed", "check_toml_removed"),
                "metadata": ("metadata_changed",) * 3,
                "workflow": ("workflow_changed",) * 3,
                "dependency": ("dependency_changed",) * 3}
_VERB = ("added", "changed", "removed")


def _change_findings(day: date, repo: RepoCode, prev: RepoCode | None) -> list[Finding]:
    out = []
    old_files: Mapping[str, TrackedState] = prev.files if prev else {}
    for path in sorted(set(repo.files) | set(old_files)):
        new, old = repo.files.get(path), old_files.get(path)
        if new and old:
            if new.blob_sha == old.blob_sha:
                continue
            change = 1
        elif new:
            if prev is None and new.kind != "config":
                continue          # a repo newly in scope: only its configs count as added
            change = 0
        else:
            if path in repo.still_present:
                continue          # no longer tracked (its tool was switched off), not removed
            change = 2
        state = new or old
        assert state is not None
        out.append(_change_finding(day, repo, state, old, new, change))
    return out


def _change_finding(day: date, repo: RepoCode, state: TrackedState, old: TrackedState | None,
                    new: TrackedState | None, change: int) -> Finding:
    rule = _CHANGE_RULE[state.kind][change]
    commits = repo.commits.get(state.path, ())
    newest = commits[0] if commits else None
    what = {"config": "standards config", "metadata": "repository metadata",
            "workflow": "workflow", "dependency": f"{state.tool or 'tool'} config"}[state.kind]
    by = f" in {newest.sha[:7]} by {newest.author}" if newest else ""
    if len(commits) > 1:
        by += f" (+{len(commits) - 1} more commit{'s' if len(commits) > 2 else ''})"
    diff, withheld, truncated = unified_diff(state.path, old.content if old else None,
                                             new.content if new else None)
    return make_finding(
        rule, scan_date=day, org=repo.org, repo=repo.repo, project=state.project,
        subject=f"{state.path}@{new.blob_sha if new else 'deleted'}",
        message=f"{what} {state.path} {_VERB[change]}{by}",
        commit_sha=newest.sha if newest else repo.head_sha,
        commit_url=newest.url if newest else repo.head_url,
        details={"path": state.path, "change": _VERB[change], "kind": state.kind, "tool": state.tool,
                 "old_blob_sha": old.blob_sha if old else None,
                 "new_blob_sha": new.blob_sha if new else None,
                 "diff": diff, "diff_withheld": withheld, "diff_truncated": truncated,
                 "commits": [{"sha": c.sha, "url": c.url, "author": c.author,
                              "date": c.date.isoformat(), "message": c.message} for c in commits]})


def looks_secret(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.startswith(".env") or any(name.endswith(s) or name == s.strip(".") for s in SECRET_NAMES)


def unified_diff(path: str, old: str | None, new: str | None,
                 max_lines: int = MAX_DIFF_LINES) -> tuple[str, bool, bool]:
    """``(diff, withheld, truncated)``: secrets' diffs are withheld, long ones capped."""
    if looks_secret(path):
        return "", True, False
    lines = list(difflib.unified_diff(
        (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null"))
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    truncated = len(lines) > max_lines
    if truncated:
        lines = lines[:max_lines] + [f"... {len(lines) - max_lines} more diff lines not shown\n"]
    return "".join(lines), False, truncated
