"""What a repository's resolved config (after ``[extends]``) expects of its GitHub process.

Pure: a resolved config mapping and a tier in, one frozen :class:`ProcessExpectations` out. The
keys are check-my-toolkit's ``[process.*]`` schema (facts file, section 1.3) plus our vision keys
(``[process.branches] protection / required_reviews / require_status_checks``,
``[process.commits] conventional``, ``[process.ci] required_workflows``).

Semantics:

- A check-my-toolkit table applies only when its ``enabled`` is true (the schema default is false).
  Vision keys are explicit statements of intent and apply whenever they are set.
- Where both name the same setting the stricter wins: the higher review count, the union of
  status checks and of required workflows, ``protection`` or ``require_branch_protection``.
- ``[process.repo.ruleset] enforcement = "disabled"`` asks for no branch ruleset: its settings
  are not expected (``require_branch_protection`` still is).
- Required files: the schema has no ``required_files`` key (the DT README's
  ``[process.required_files]`` is rejected by the strict schema). A file is required when an
  enabled tool cannot work without it: ``.changeset/config.json`` for ``[process.changesets]``
  and the docs folder (``[process.docs] path``) for ``[process.docs]``. Everything else those
  tables ask for (per-PR changesets, docs content) is listed in ``not_evaluated``.
- The config has already passed the strict schema; this module is defensive anyway: a value of
  the wrong type is skipped and described in ``problems``, never raised.

The records are in :mod:`~drift_pipeline.core.standards.process_model`, the typed reads in
:mod:`~drift_pipeline.core.standards.config_reader`; this module decides what each table asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from drift_pipeline.core.standards.config_reader import ConfigReader
from drift_pipeline.core.standards.model import DEFAULT_TIER, TIERS, RepoStandards
from drift_pipeline.core.standards.process_model import (
    DEFAULT_FORBIDDEN_IGNORE,
    BranchPolicy,
    BypassActor,
    CodeownersRule,
    CommitPolicy,
    HookPolicy,
    ProcessExpectations,
    PrPolicy,
    RequiredFile,
    RequiredWorkflow,
    TagProtection,
    TicketPolicy,
)

TIER_SEVERITY = {"production": "error", "internal": "warning", "prototype": "info"}
# Tables that cannot be judged from GitHub after the fact, and what of them is left out.
NOT_EVALUATED = {
    "coverage": "[process.coverage]: coverage thresholds are measured by CI runs, not visible in settings or history",
    "changesets": "[process.changesets]: per-PR changeset files and bump types are not evaluated "
    "(only .changeset/config.json presence is)",
    "docs": "[process.docs]: docs content, size, staleness and coverage are not evaluated (only the folder's presence is)",
    "backups": "[process.backups]: backups are S3 objects, judged by the infra family, not by process",
}


def build_expectations(
    config: Mapping[str, Any] | None,
    tier: str = DEFAULT_TIER,
    *,
    source: str | None = None,
    severity: str | None = None,
) -> ProcessExpectations:
    """The process expectations of one resolved config (after ``[extends]`` and defaults)."""
    r = ConfigReader(config if isinstance(config, Mapping) else {})
    if config is not None and not isinstance(config, Mapping):
        r.problems.append(f"config: expected a table, found {type(config).__name__}; nothing expected")
    if tier not in TIERS:
        r.problems.append(f"tier {tier!r} is not one of {TIERS}; {DEFAULT_TIER} used")
        tier = DEFAULT_TIER
    found = ProcessExpectations(tier=tier, severity=severity or TIER_SEVERITY[tier], source=source)
    found = _file_rules(r, _repo_settings(r, found))
    required, not_evaluated = _unjudged(r)
    hooks = _hook_policy(r, not_evaluated)
    ci = r.table("process", "ci")
    return replace(
        found,
        required_files=required,
        required_workflows=_workflows(r, ci, r.enabled(ci, "process.ci")),
        hooks=hooks,
        commits=_commit_policy(r),
        tickets=_ticket_policy(r),
        branches=_branch_policy(r),
        pr=_pr_policy(r),
        not_evaluated=tuple(not_evaluated),
        problems=tuple(dict.fromkeys(r.problems)),
    )


def _repo_settings(r: ConfigReader, found: ProcessExpectations) -> ProcessExpectations:
    """``[process.repo]`` (its ruleset, tag protection, CODEOWNERS) and the ``[process.branches]`` vision keys.

    ``enforcement = "disabled"`` asks for no ruleset; where the ruleset and the vision keys name
    the same setting the stricter wins.
    """
    repo = r.table("process", "repo")
    repo_on = r.enabled(repo, "process.repo")
    ruleset = r.table("process", "repo", "ruleset") if repo_on else None
    rs = "process.repo.ruleset"
    enforcement = r.get(ruleset, rs, "enforcement", str) or "active"
    if enforcement == "disabled":
        ruleset = None
    branches = r.table("process", "branches")
    reviews = [
        v
        for v in (r.count(ruleset, rs, "required_reviews"), r.count(branches, "process.branches", "required_reviews"))
        if v is not None
    ]
    checks = dict.fromkeys(
        (r.strings(ruleset, rs, "require_status_checks") or ())
        + (r.strings(branches, "process.branches", "require_status_checks") or ())
    )
    return replace(
        found,
        require_branch_protection=(repo_on and r.flag(repo, "process.repo", "require_branch_protection"))
        or r.flag(branches, "process.branches", "protection"),
        ruleset_name=r.get(ruleset, rs, "name", str),
        ruleset_branch=r.get(ruleset, rs, "branch", str),
        enforcement=enforcement,
        required_reviews=max(reviews) if reviews else None,
        dismiss_stale_reviews=r.flag(ruleset, rs, "dismiss_stale_reviews"),
        require_code_owner_reviews=r.flag(ruleset, rs, "require_code_owner_reviews"),
        require_status_checks=tuple(checks),
        require_branches_up_to_date=r.flag(ruleset, rs, "require_branches_up_to_date"),
        require_signed_commits=r.flag(ruleset, rs, "require_signed_commits"),
        enforce_admins=r.flag(ruleset, rs, "enforce_admins"),
        bypass_actors=_bypass_actors(r, ruleset),
        tag_protection=_tag_protection(r, repo_on),
        require_codeowners=repo_on and r.flag(repo, "process.repo", "require_codeowners"),
    )


def _tag_protection(r: ConfigReader, repo_on: bool) -> TagProtection | None:
    tags = r.table("process", "repo", "tag_protection") if repo_on else None
    patterns = r.strings(tags, "process.repo.tag_protection", "patterns")
    if not patterns:
        return None
    return TagProtection(
        patterns,
        r.flag(tags, "process.repo.tag_protection", "prevent_deletion", True),
        r.flag(tags, "process.repo.tag_protection", "prevent_update", True),
    )


def _file_rules(r: ConfigReader, found: ProcessExpectations) -> ProcessExpectations:
    """``[process.codeowners]`` rules and ``[process.forbidden_files]``."""
    codeowners = r.table("process", "codeowners")
    forbidden = r.table("process", "forbidden_files")
    on = r.enabled(forbidden, "process.forbidden_files")
    ignore = r.strings(forbidden, "process.forbidden_files", "ignore") if on else None
    return replace(
        found,
        codeowners_rules=_codeowners_rules(r, codeowners) if r.enabled(codeowners, "process.codeowners") else None,
        forbidden_files=(r.strings(forbidden, "process.forbidden_files", "files") or ()) if on else (),
        forbidden_ignore=DEFAULT_FORBIDDEN_IGNORE if ignore is None else ignore,
        forbidden_message=r.get(forbidden, "process.forbidden_files", "message", str) if on else None,
    )


def _unjudged(r: ConfigReader) -> tuple[tuple[RequiredFile, ...], list[str]]:
    """The files enabled tools cannot work without, and what of the enabled tables is not judged."""
    required: list[RequiredFile] = []
    not_evaluated: list[str] = []
    for name, text in NOT_EVALUATED.items():
        table = r.table("process", name)
        if r.enabled(table, f"process.{name}"):
            not_evaluated.append(text)
            if name == "changesets":
                required.append(RequiredFile((".changeset/config.json",), "process.changesets.enabled"))
            elif name == "docs":
                folder = (r.get(table, "process.docs", "path", str) or "docs/").strip("/")
                required.append(RequiredFile((folder + "/",), "process.docs.path"))
    for name, keys, why in (
        ("hooks", ("commands", "protected_branches"), "hook contents are not inspected"),
        ("ci", ("actions", "commands"), "only workflow files and job ids are checked"),
    ):
        table = r.table("process", name)
        if r.enabled(table, f"process.{name}"):
            named = [k for k in keys if table and table.get(k)]
            if named:
                not_evaluated.append(f"[process.{name}] {', '.join(named)}: {why}")
    return tuple(required), not_evaluated


def _hook_policy(r: ConfigReader, not_evaluated: list[str]) -> HookPolicy | None:
    hooks = r.table("process", "hooks")
    if not r.enabled(hooks, "process.hooks"):
        return None
    policy = HookPolicy(
        r.flag(hooks, "process.hooks", "require_husky", True),
        r.strings(hooks, "process.hooks", "require_hooks") or (),
    )
    if not policy.require_husky and policy.require_hooks:
        not_evaluated.append(
            "[process.hooks] require_hooks without husky: such hooks live in .git/hooks, "
            "which is not part of the repository tree"
        )
    return policy


def _commit_policy(r: ConfigReader) -> CommitPolicy | None:
    commits = r.table("process", "commits")
    conventional = r.flag(commits, "process.commits", "conventional")  # a vision key: applies when set
    on = r.enabled(commits, "process.commits")
    if not (on or conventional):
        return None
    return CommitPolicy(
        pattern=r.regex(commits, "process.commits", "pattern") if on else None,
        types=(r.strings(commits, "process.commits", "types") or ()) if on else (),
        require_scope=r.flag(commits, "process.commits", "require_scope") if on else False,
        max_subject_length=r.count(commits, "process.commits", "max_subject_length") if on else None,
        conventional=conventional,
    )


def _ticket_policy(r: ConfigReader) -> TicketPolicy | None:
    tickets = r.table("process", "tickets")
    if not r.enabled(tickets, "process.tickets"):
        return None
    pattern = r.regex(tickets, "process.tickets", "pattern")
    if not pattern:
        r.problems.append("process.tickets: enabled without a pattern; ticket references not checked")
        return None
    return TicketPolicy(
        pattern,
        r.flag(tickets, "process.tickets", "require_in_commits", True),
        r.flag(tickets, "process.tickets", "require_in_branch"),
    )


def _branch_policy(r: ConfigReader) -> BranchPolicy | None:
    branches = r.table("process", "branches")
    if not r.enabled(branches, "process.branches"):
        return None
    return BranchPolicy(
        r.regex(branches, "process.branches", "pattern"),
        r.strings(branches, "process.branches", "exclude") or (),
        r.flag(branches, "process.branches", "require_issue"),
        r.regex(branches, "process.branches", "issue_pattern"),
    )


def _pr_policy(r: ConfigReader) -> PrPolicy | None:
    pr = r.table("process", "pr")
    if not r.enabled(pr, "process.pr"):
        return None
    return PrPolicy(
        r.count(pr, "process.pr", "max_files"),
        r.count(pr, "process.pr", "max_lines"),
        r.flag(pr, "process.pr", "require_issue"),
        r.strings(pr, "process.pr", "issue_keywords") or (),
        r.strings(pr, "process.pr", "exclude") or (),
    )


def _bypass_actors(r: ConfigReader, ruleset: Mapping[str, Any] | None) -> tuple[BypassActor, ...] | None:
    raw = r.get(ruleset, "process.repo.ruleset", "bypass_actors", list)
    if raw is None:
        return None
    out = []
    for i, item in enumerate(raw):
        path = f"process.repo.ruleset.bypass_actors[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("actor_type"), str):
            r.problems.append(f"{path}: expected a table with an actor_type string; ignored")
            continue
        actor_id = r.get(item, path, "actor_id", int)
        mode = r.get(item, path, "bypass_mode", str) or "always"
        out.append(BypassActor(item["actor_type"], actor_id, mode))
    return tuple(out)


def _codeowners_rules(r: ConfigReader, table: Mapping[str, Any] | None) -> tuple[CodeownersRule, ...] | None:
    raw = r.get(table, "process.codeowners", "rules", list)
    if raw is None:
        return None
    rules: dict[str, CodeownersRule] = {}
    for i, item in enumerate(raw):
        path = f"process.codeowners.rules[{i}]"
        pattern = item.get("pattern") if isinstance(item, Mapping) else None
        if not isinstance(pattern, str) or not pattern:
            r.problems.append(f"{path}: expected a table with a non-empty pattern string; ignored")
            continue
        owners = r.strings(item, path, "owners")
        rules[pattern] = CodeownersRule(pattern, owners or ())  # a later rule for a pattern wins
    return tuple(rules.values())


def _workflows(r: ConfigReader, ci: Mapping[str, Any] | None, ci_on: bool) -> tuple[RequiredWorkflow, ...]:
    names: dict[str, str] = {}
    if ci_on:
        for name in r.strings(ci, "process.ci", "require_workflows") or ():
            names.setdefault(name, "process.ci.require_workflows")
    for name in r.strings(ci, "process.ci", "required_workflows") or ():  # vision key
        names.setdefault(name, "process.ci.required_workflows")
    jobs_table = r.get(ci, "process.ci", "jobs", Mapping) if ci_on else None
    jobs: dict[str, tuple[str, ...]] = {}
    for workflow in jobs_table or {}:
        listed = r.strings(jobs_table, "process.ci.jobs", str(workflow))
        if listed is not None:
            jobs[str(workflow)] = listed
            names.setdefault(str(workflow), "process.ci.jobs")
    return tuple(RequiredWorkflow(name, jobs.get(name, ()), key) for name, key in names.items())


def expectations_for_repo(standards: RepoStandards, *, severity: str | None = None) -> ProcessExpectations:
    """The process expectations of a repository: its root project's resolved config.

    Process settings are repository-wide, so the root config (``.``) holds them; a repository
    with no root config takes its shallowest project config, and says so in ``problems``.
    """
    with_config = [p for p in standards.projects if p.config is not None]
    chosen = next((p for p in with_config if p.path == "."), None)
    extra: list[str] = []
    if chosen is None and with_config:
        chosen = min(with_config, key=lambda p: (p.path.count("/"), p.path))
        extra.append(f"no root config; process expectations taken from {chosen.config_file}")
    tier = standards.metadata.tier if standards.metadata.tier_known else DEFAULT_TIER
    if chosen is None:
        found = build_expectations({}, tier, severity=severity)
        return _with_problems(found, ["no config file: no process expectations"])
    found = build_expectations(
        chosen.config,
        chosen.metadata.tier if chosen.metadata.tier_known else tier,
        source=chosen.config_file,
        severity=severity,
    )
    return _with_problems(found, extra) if extra else found


def _with_problems(found: ProcessExpectations, extra: list[str]) -> ProcessExpectations:
    return replace(found, problems=tuple(extra) + found.problems)
