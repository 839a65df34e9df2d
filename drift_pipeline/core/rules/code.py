"""Code drift: one day's config snapshot of a repo against the snapshot before it.

Pure: records in, findings out. Two families:

- *state* findings, true on every day they hold (same fingerprint each day): ``invalid_config``,
  ``registry_unresolved``, ``tier_ruleset_mismatch``, ``project_without_standards``;
- *change* findings, for a tracked file whose content differs from the previous snapshot:
  ``check_toml_added|changed|removed``, ``dependency_changed``, ``workflow_changed``,
  ``metadata_changed``, each with the unified diff and every commit that touched the file in
  the window. Their subject includes the new blob sha, so each change is its own drift.

Diffs never carry secrets: secret-named files are withheld, and every other diff is masked with
``redaction.mask_secrets`` (whole contents first, so multi-line keys go too, then line by line).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.base import Finding, RuleFamily, RuleSpec, make_finding

MAX_DIFF_LINES = 200
SECRET_NAMES = (".env", ".pem", ".key", "id_rsa", ".p12", ".pfx", "credentials", "secrets")


def _rule(severity: str, rid: str, title: str, fix: str) -> RuleSpec:
    return RuleSpec(rid, "code", severity, title, fix)


# Rule ids: extend, never rename (stored findings and open issues refer to them).
SPECS: tuple[RuleSpec, ...] = (
    _rule(
        "warning",
        "check_toml_added",
        "Standards config added",
        "Review the new config: confirm it extends the right rulesets for the repo's tier.",
    ),
    _rule(
        "warning",
        "check_toml_changed",
        "Standards config changed",
        "Review the change; if it loosens a standard, revert it or record why in the PR.",
    ),
    _rule(
        "error",
        "check_toml_removed",
        "Standards config removed",
        "Restore the config file, or retire the project in repo-metadata.yaml (status = deprecated).",
    ),
    _rule(
        "warning",
        "dependency_changed",
        "Tool config changed",
        "Check that the tool config still satisfies the declared standards; revert loosened settings.",
    ),
    _rule(
        "warning",
        "workflow_changed",
        "Workflow changed",
        "Check that required jobs and checks still run on every pull request.",
    ),
    _rule(
        "info",
        "metadata_changed",
        "Repository metadata changed",
        "Confirm the new tier, status or team with the platform team.",
    ),
    _rule(
        "warning",
        "project_without_standards",
        "Project without standards",
        "Add a check.toml (or standards.toml) to the project that extends the rulesets for its tier.",
    ),
    _rule(
        "error",
        "tier_ruleset_mismatch",
        "Rulesets do not match the tier",
        "Extend a ruleset ending in `-<tier>`, or correct the tier in `repo-metadata.yaml`.",
    ),
    _rule(
        "error",
        "invalid_config",
        "Invalid standards config",
        "Fix the file so that it parses and only uses known keys (run `drift config check`).",
    ),
    _rule(
        "error",
        "registry_unresolved",
        "Ruleset registry could not be resolved",
        "Check `[extends]` registry and rulesets: the registry must exist and hold `rulesets/<name>.toml`.",
    ),
)


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
    kind: str  # config | metadata | workflow | dependency
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
    still_present: frozenset[str] = frozenset()  # paths no longer tracked that still exist


def evaluate(day: date, today: Mapping[str, RepoCode], before: Mapping[str, RepoCode] | None) -> list[Finding]:
    """All code findings of ``day`` (observed: ``today``; expected: ``before``, None on the first day)."""
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
        out.append(
            make_finding(
                FAMILY.spec(rule),
                scan_date=day,
                org=repo.org,
                repo=repo.repo,
                project=project,
                severity="error" if any(p.severity == "error" for p in problems) else "warning",
                message=f"{where}: {first.message}{more}",
                subject=subject,
                commit_sha=repo.head_sha,
                commit_url=repo.head_url,
                details={
                    "file": first.file,
                    "key": first.key,
                    "problems": [
                        {"line": p.line, "key": p.key, "message": p.message, "severity": p.severity} for p in problems
                    ],
                },
            )
        )
    for state in repo.projects:
        if state.config_file is None and state.type is not None:
            out.append(
                make_finding(
                    FAMILY.spec("project_without_standards"),
                    scan_date=day,
                    org=repo.org,
                    repo=repo.repo,
                    project=state.path,
                    subject=state.path,
                    message=f"{state.type} project {state.path} has no check.toml or standards.toml",
                    commit_sha=repo.head_sha,
                    commit_url=repo.head_url,
                    details={"project_type": state.type, "expected": ["standards.toml", "check.toml"]},
                )
            )
    return out


# -- changes ----------------------------------------------------------------------------------
_CHANGE_RULE = {
    "config": ("check_toml_added", "check_toml_changed", "check_toml_removed"),
    "metadata": ("metadata_changed",) * 3,
    "workflow": ("workflow_changed",) * 3,
    "dependency": ("dependency_changed",) * 3,
}
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
                continue  # a repo newly in scope: only its configs count as added
            change = 0
        else:
            if path in repo.still_present:
                continue  # no longer tracked (its tool was switched off), not removed
            change = 2
        state = new or old
        assert state is not None
        out.append(_change_finding(day, repo, state, old, new, change))
    return out


def _change_finding(
    day: date, repo: RepoCode, state: TrackedState, old: TrackedState | None, new: TrackedState | None, change: int
) -> Finding:
    rule = _CHANGE_RULE[state.kind][change]
    commits = repo.commits.get(state.path, ())
    newest = commits[0] if commits else None
    what = {
        "config": "standards config",
        "metadata": "repository metadata",
        "workflow": "workflow",
        "dependency": f"{state.tool or 'tool'} config",
    }[state.kind]
    by = f" in {newest.sha[:7]} by {newest.author}" if newest else ""
    if len(commits) > 1:
        by += f" (+{len(commits) - 1} more commit{'s' if len(commits) > 2 else ''})"
    diff, withheld, truncated = unified_diff(state.path, old.content if old else None, new.content if new else None)
    return make_finding(
        FAMILY.spec(rule),
        scan_date=day,
        org=repo.org,
        repo=repo.repo,
        project=state.project,
        subject=f"{state.path}@{new.blob_sha if new else 'deleted'}",
        message=f"{what} {state.path} {_VERB[change]}{by}",
        commit_sha=newest.sha if newest else repo.head_sha,
        commit_url=newest.url if newest else repo.head_url,
        details={
            "path": state.path,
            "change": _VERB[change],
            "kind": state.kind,
            "tool": state.tool,
            "old_blob_sha": old.blob_sha if old else None,
            "new_blob_sha": new.blob_sha if new else None,
            "diff": diff,
            "diff_withheld": withheld,
            "diff_truncated": truncated,
            "commits": [
                {
                    "sha": c.sha,
                    "url": c.url,
                    "author": c.author,
                    "date": c.date.isoformat(),
                    "message": mask_secrets(c.message),
                }
                for c in commits
            ],
        },
    )


def looks_secret(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.startswith(".env") or any(name.endswith(s) or name == s.strip(".") for s in SECRET_NAMES)


def unified_diff(
    path: str, old: str | None, new: str | None, max_lines: int = MAX_DIFF_LINES
) -> tuple[str, bool, bool]:
    """``(diff, withheld, truncated)``: secret files' diffs are withheld, tokens masked, long diffs capped."""
    if looks_secret(path):
        return "", True, False
    lines = list(
        difflib.unified_diff(
            mask_secrets(old or "").splitlines(keepends=True),
            mask_secrets(new or "").splitlines(keepends=True),
            fromfile=f"a/{path}" if old is not None else "/dev/null",
            tofile=f"b/{path}" if new is not None else "/dev/null",
        )
    )
    lines = [mask_secrets(line if line.endswith("\n") else line + "\n") for line in lines]
    truncated = len(lines) > max_lines
    if truncated:
        lines = lines[:max_lines] + [f"... {len(lines) - max_lines} more diff lines not shown\n"]
    return "".join(lines), False, truncated


FAMILY: RuleFamily[Mapping[str, RepoCode], Mapping[str, RepoCode] | None] = RuleFamily(
    category="code", rules=SPECS, evaluate=evaluate
)
