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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from drift_pipeline.core.standards.model import DEFAULT_TIER, TIERS, RepoStandards
from drift_pipeline.core.standards.patterns import SYNTAX, pattern_error

TIER_SEVERITY = {"production": "error", "internal": "warning", "prototype": "info"}
CONVENTIONAL_TYPES = ("feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert")
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order
DEFAULT_FORBIDDEN_IGNORE = ("**/node_modules/**", "**/.git/**")
# Tables that cannot be judged from GitHub after the fact, and what of them is left out.
NOT_EVALUATED = {
    "coverage": "[process.coverage]: coverage thresholds are measured by CI runs, not visible in settings or history",
    "changesets": "[process.changesets]: per-PR changeset files and bump types are not evaluated "
    "(only .changeset/config.json presence is)",
    "docs": "[process.docs]: docs content, size, staleness and coverage are not evaluated (only the folder's presence is)",
    "backups": "[process.backups]: backups are S3 objects, judged by the infra family, not by process",
}


@dataclass(frozen=True)
class BypassActor:
    actor_type: str  # Integration | OrganizationAdmin | RepositoryRole | Team | DeployKey
    actor_id: int | None  # None: any actor of that type
    bypass_mode: str = "always"  # always | pull_request


@dataclass(frozen=True)
class CodeownersRule:
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class RequiredFile:
    paths: tuple[str, ...]  # alternatives: any one present satisfies; a path ending in "/" is a folder
    key: str  # the config key that requires it


@dataclass(frozen=True)
class RequiredWorkflow:
    name: str  # as configured: "ci.yml", "ci" or ".github/workflows/ci.yml"
    jobs: tuple[str, ...]  # job ids the workflow must define ([process.ci] jobs)
    key: str


@dataclass(frozen=True)
class TagProtection:
    patterns: tuple[str, ...]
    prevent_deletion: bool = True
    prevent_update: bool = True


@dataclass(frozen=True)
class HookPolicy:
    require_husky: bool
    require_hooks: tuple[str, ...]


@dataclass(frozen=True)
class CommitPolicy:
    pattern: str | None
    types: tuple[str, ...]  # empty: any type (unless conventional, then CONVENTIONAL_TYPES)
    require_scope: bool
    max_subject_length: int | None
    conventional: bool


@dataclass(frozen=True)
class TicketPolicy:
    pattern: str
    require_in_commits: bool
    require_in_branch: bool


@dataclass(frozen=True)
class BranchPolicy:
    pattern: str | None
    exclude: tuple[str, ...]
    require_issue: bool
    issue_pattern: str | None


@dataclass(frozen=True)
class PrPolicy:
    max_files: int | None
    max_lines: int | None
    require_issue: bool
    issue_keywords: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class ProcessExpectations:
    """Everything one repository's config expects of its process, with where each came from."""

    tier: str
    severity: str
    source: str | None = None  # the config file the expectations were read from
    require_branch_protection: bool = False
    ruleset_name: str | None = None
    ruleset_branch: str | None = None
    enforcement: str = "active"
    required_reviews: int | None = None
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    require_status_checks: tuple[str, ...] = ()
    require_branches_up_to_date: bool = False
    require_signed_commits: bool = False
    enforce_admins: bool = False
    bypass_actors: tuple[BypassActor, ...] | None = None  # None: not configured (not checked)
    tag_protection: TagProtection | None = None
    require_codeowners: bool = False
    codeowners_rules: tuple[CodeownersRule, ...] | None = None  # None: not configured
    forbidden_files: tuple[str, ...] = ()
    forbidden_ignore: tuple[str, ...] = DEFAULT_FORBIDDEN_IGNORE
    forbidden_message: str | None = None
    required_files: tuple[RequiredFile, ...] = ()
    required_workflows: tuple[RequiredWorkflow, ...] = ()
    hooks: HookPolicy | None = None
    commits: CommitPolicy | None = None
    tickets: TicketPolicy | None = None
    branches: BranchPolicy | None = None
    pr: PrPolicy | None = None
    not_evaluated: tuple[str, ...] = ()  # present keys this pipeline does not judge (for metadata)
    problems: tuple[str, ...] = ()  # values skipped because of their type

    @property
    def requires_reviews(self) -> bool:
        return bool(self.required_reviews)

    @property
    def expects_branch_settings(self) -> bool:
        return any(
            (
                self.require_branch_protection,
                self.requires_reviews,
                self.dismiss_stale_reviews,
                self.require_code_owner_reviews,
                self.require_status_checks,
                self.require_branches_up_to_date,
                self.require_signed_commits,
                self.enforce_admins,
                self.bypass_actors is not None,
            )
        )


class _Reader:
    """Typed reads of a config mapping that skip, and describe, any value of the wrong type."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.problems: list[str] = []

    def table(self, *path: str) -> Mapping[str, Any] | None:
        node: Any = self.config
        for i, key in enumerate(path):
            if not isinstance(node, Mapping):
                self.problems.append(f"{'.'.join(path[:i])}: expected a table, found {type(node).__name__}; ignored")
                return None
            node = node.get(key)
            if node is None:
                return None
        if not isinstance(node, Mapping):
            self.problems.append(f"{'.'.join(path)}: expected a table, found {type(node).__name__}; ignored")
            return None
        return node

    def get(self, table: Mapping[str, Any] | None, path: str, key: str, kind: type | tuple[type, ...]) -> Any:
        if table is None or key not in table or table[key] is None:
            return None
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # True is no int
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problems.append(f"{path}.{key}: expected {names}, found {type(table[key]).__name__}; ignored")
            return None
        return value

    def flag(self, table: Mapping[str, Any] | None, path: str, key: str, default: bool = False) -> bool:
        value = self.get(table, path, key, bool)
        return default if value is None else value

    def count(self, table: Mapping[str, Any] | None, path: str, key: str) -> int | None:
        value = self.get(table, path, key, int)
        if value is not None and value < 0:
            self.problems.append(f"{path}.{key}: expected a number >= 0, found {value}; ignored")
            return None
        return value

    def strings(self, table: Mapping[str, Any] | None, path: str, key: str) -> tuple[str, ...] | None:
        value = self.get(table, path, key, list)
        if value is None:
            return None
        bad = [v for v in value if not isinstance(v, str) or not v]
        if bad:
            self.problems.append(f"{path}.{key}: {len(bad)} item(s) that are not non-empty strings ignored")
        return tuple(v for v in value if isinstance(v, str) and v)

    def regex(self, table: Mapping[str, Any] | None, path: str, key: str) -> str | None:
        value = self.get(table, path, key, str)
        if value is None:
            return None
        why = pattern_error(value)
        if why:
            self.problems.append(f"{path}.{key}: not a valid regular expression in {SYNTAX} ({why}); ignored")
            return None
        return value

    def enabled(self, table: Mapping[str, Any] | None, path: str) -> bool:
        return table is not None and self.flag(table, path, "enabled")


def _bypass_actors(r: _Reader, ruleset: Mapping[str, Any] | None) -> tuple[BypassActor, ...] | None:
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


def _codeowners_rules(r: _Reader, table: Mapping[str, Any] | None) -> tuple[CodeownersRule, ...] | None:
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


def _workflows(r: _Reader, ci: Mapping[str, Any] | None, ci_on: bool) -> tuple[RequiredWorkflow, ...]:
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


def build_expectations(
    config: Mapping[str, Any] | None,
    tier: str = DEFAULT_TIER,
    *,
    source: str | None = None,
    severity: str | None = None,
) -> ProcessExpectations:
    """The process expectations of one resolved config (after ``[extends]`` and defaults)."""
    r = _Reader(config if isinstance(config, Mapping) else {})
    if config is not None and not isinstance(config, Mapping):
        r.problems.append(f"config: expected a table, found {type(config).__name__}; nothing expected")
    if tier not in TIERS:
        r.problems.append(f"tier {tier!r} is not one of {TIERS}; {DEFAULT_TIER} used")
        tier = DEFAULT_TIER
    repo = r.table("process", "repo")
    repo_on = r.enabled(repo, "process.repo")
    ruleset = r.table("process", "repo", "ruleset") if repo_on else None
    enforcement = r.get(ruleset, "process.repo.ruleset", "enforcement", str) or "active"
    if enforcement == "disabled":
        ruleset = None
    branches = r.table("process", "branches")
    branches_on = r.enabled(branches, "process.branches")

    reviews = [
        v
        for v in (
            r.count(ruleset, "process.repo.ruleset", "required_reviews"),
            r.count(branches, "process.branches", "required_reviews"),
        )
        if v is not None
    ]
    checks = dict.fromkeys(
        (r.strings(ruleset, "process.repo.ruleset", "require_status_checks") or ())
        + (r.strings(branches, "process.branches", "require_status_checks") or ())
    )
    tags = r.table("process", "repo", "tag_protection") if repo_on else None
    tag_patterns = r.strings(tags, "process.repo.tag_protection", "patterns")

    codeowners = r.table("process", "codeowners")
    forbidden = r.table("process", "forbidden_files")
    forbidden_on = r.enabled(forbidden, "process.forbidden_files")
    ignore = r.strings(forbidden, "process.forbidden_files", "ignore") if forbidden_on else None
    ci = r.table("process", "ci")
    hooks = r.table("process", "hooks")
    commits = r.table("process", "commits")
    tickets = r.table("process", "tickets")
    pr = r.table("process", "pr")

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

    for table, path, keys, why in (
        (hooks, "process.hooks", ("commands", "protected_branches"), "hook contents are not inspected"),
        (ci, "process.ci", ("actions", "commands"), "only workflow files and job ids are checked"),
    ):
        if r.enabled(table, path):
            named = [k for k in keys if table and table.get(k)]
            if named:
                not_evaluated.append(f"[{path}] {', '.join(named)}: {why}")
    hook_policy = None
    if r.enabled(hooks, "process.hooks"):
        hook_policy = HookPolicy(
            r.flag(hooks, "process.hooks", "require_husky", True),
            r.strings(hooks, "process.hooks", "require_hooks") or (),
        )
        if not hook_policy.require_husky and hook_policy.require_hooks:
            not_evaluated.append(
                "[process.hooks] require_hooks without husky: such hooks live in .git/hooks, "
                "which is not part of the repository tree"
            )
    commit_policy = None
    conventional = r.flag(commits, "process.commits", "conventional")
    if r.enabled(commits, "process.commits") or conventional:
        on = r.enabled(commits, "process.commits")
        commit_policy = CommitPolicy(
            pattern=r.regex(commits, "process.commits", "pattern") if on else None,
            types=(r.strings(commits, "process.commits", "types") or ()) if on else (),
            require_scope=r.flag(commits, "process.commits", "require_scope") if on else False,
            max_subject_length=r.count(commits, "process.commits", "max_subject_length") if on else None,
            conventional=conventional,
        )
    ticket_policy = None
    if r.enabled(tickets, "process.tickets"):
        pattern = r.regex(tickets, "process.tickets", "pattern")
        if pattern:
            ticket_policy = TicketPolicy(
                pattern,
                r.flag(tickets, "process.tickets", "require_in_commits", True),
                r.flag(tickets, "process.tickets", "require_in_branch"),
            )
        else:
            r.problems.append("process.tickets: enabled without a pattern; ticket references not checked")
    branch_policy = None
    if branches_on:
        branch_policy = BranchPolicy(
            r.regex(branches, "process.branches", "pattern"),
            r.strings(branches, "process.branches", "exclude") or (),
            r.flag(branches, "process.branches", "require_issue"),
            r.regex(branches, "process.branches", "issue_pattern"),
        )
    pr_policy = None
    if r.enabled(pr, "process.pr"):
        pr_policy = PrPolicy(
            r.count(pr, "process.pr", "max_files"),
            r.count(pr, "process.pr", "max_lines"),
            r.flag(pr, "process.pr", "require_issue"),
            r.strings(pr, "process.pr", "issue_keywords") or (),
            r.strings(pr, "process.pr", "exclude") or (),
        )

    return ProcessExpectations(
        tier=tier,
        severity=severity or TIER_SEVERITY[tier],
        source=source,
        require_branch_protection=(repo_on and r.flag(repo, "process.repo", "require_branch_protection"))
        or r.flag(branches, "process.branches", "protection"),
        ruleset_name=r.get(ruleset, "process.repo.ruleset", "name", str),
        ruleset_branch=r.get(ruleset, "process.repo.ruleset", "branch", str),
        enforcement=enforcement,
        required_reviews=max(reviews) if reviews else None,
        dismiss_stale_reviews=r.flag(ruleset, "process.repo.ruleset", "dismiss_stale_reviews"),
        require_code_owner_reviews=r.flag(ruleset, "process.repo.ruleset", "require_code_owner_reviews"),
        require_status_checks=tuple(checks),
        require_branches_up_to_date=r.flag(ruleset, "process.repo.ruleset", "require_branches_up_to_date"),
        require_signed_commits=r.flag(ruleset, "process.repo.ruleset", "require_signed_commits"),
        enforce_admins=r.flag(ruleset, "process.repo.ruleset", "enforce_admins"),
        bypass_actors=_bypass_actors(r, ruleset),
        tag_protection=TagProtection(
            tag_patterns,
            r.flag(tags, "process.repo.tag_protection", "prevent_deletion", True),
            r.flag(tags, "process.repo.tag_protection", "prevent_update", True),
        )
        if tag_patterns
        else None,
        require_codeowners=repo_on and r.flag(repo, "process.repo", "require_codeowners"),
        codeowners_rules=_codeowners_rules(r, codeowners) if r.enabled(codeowners, "process.codeowners") else None,
        forbidden_files=(r.strings(forbidden, "process.forbidden_files", "files") or ()) if forbidden_on else (),
        forbidden_ignore=DEFAULT_FORBIDDEN_IGNORE if ignore is None else ignore,
        forbidden_message=r.get(forbidden, "process.forbidden_files", "message", str) if forbidden_on else None,
        required_files=tuple(required),
        required_workflows=_workflows(r, ci, r.enabled(ci, "process.ci")),
        hooks=hook_policy,
        commits=commit_policy,
        tickets=ticket_policy,
        branches=branch_policy,
        pr=pr_policy,
        not_evaluated=tuple(not_evaluated),
        problems=tuple(dict.fromkeys(r.problems)),
    )


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
