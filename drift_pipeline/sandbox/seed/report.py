"""The seed report: what was seeded and what a scan should find, as data, text and README block."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class SeededProject:
    path: str  # "." = repo root
    language: str  # "typescript" | "python"
    config: str | None  # "check.toml" / "standards.toml" in that directory, or None


@dataclass(frozen=True)
class SeededRepo:
    name: str
    full_name: str
    tier: str | None  # None: no metadata
    status: str | None
    team: str | None
    language: str  # "typescript" | "python" | "monorepo" | "none"
    in_scope: bool  # what a scan's scope rule should decide at the end of the window
    scope_reason: str
    config_file: str | None  # root config at the head: "check.toml" / "standards.toml" / None
    projects: tuple[SeededProject, ...]
    default_branch: str
    head_sha: str
    archived: bool = False
    protection: str = "none"  # "classic" | "ruleset" | "none" (the org ruleset applies anyway)
    infra_stacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeededEvent:
    day: date
    repo: str
    project: str  # "." = repo root
    kind: str  # the rule id a scan should raise (or "source_changed": not drift)
    paths: tuple[str, ...]
    commit_shas: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class SeededProcessFinding:
    """One process finding a scan of the window must raise for a scripted deviation."""

    day: date
    repo: str
    rule: str  # the process rule id
    subject: str  # a commit sha, or "pr#<n>"
    expected: Any
    actual: Any
    description: str


@dataclass(frozen=True)
class SeededCase:
    """One scripted case of one rule id: the day a scan first shows it, the repo, what happened."""

    rule: str
    category: str  # "code" | "process" | "infra"
    day: date
    repo: str
    what: str


@dataclass(frozen=True)
class SeedReport:
    org: str
    state_dir: str
    start_date: date  # day 1 of the window
    end_date: date  # day ``days``
    days: int
    seed: int
    repos: tuple[SeededRepo, ...]
    events: tuple[SeededEvent, ...]  # scripted drift, in day order
    background_commits: tuple[SeededEvent, ...]  # ordinary changes in the window: not drift
    process_expectations: dict[str, tuple[str, ...]]  # repo -> expected process rule ids
    process_details: dict[str, tuple[str, ...]]  # repo -> "rule: expected vs actual"
    aws: str | None = None  # InfraScenario.describe() when AWS was seeded
    process_activity: tuple[SeededProcessFinding, ...] = ()  # what a process scan of the window must find
    pull_requests: int = 0  # merged PRs in the window (every other window commit of a product repo)
    cases: tuple[SeededCase, ...] = ()  # every scripted case, by category and rule (cases.rule_cases)
    not_scripted: dict[str, str] = dataclasses.field(default_factory=dict)  # rule id -> why the demo lacks it

    def rules_shown(self) -> set[str]:
        """The rule ids the scripted history makes a scan raise."""
        return {c.rule for c in self.cases}

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), default=_json_default))

    def repo(self, name: str) -> SeededRepo:
        return next(r for r in self.repos if r.name == name)

    def events_of(self, kind: str) -> list[SeededEvent]:
        return [e for e in self.events if e.kind == kind]

    def describe(self) -> str:
        return _describe(self)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    raise TypeError(type(obj).__name__)


def _cell(value: Any) -> str:
    return json.dumps(value).replace("|", "\\|")


def _describe(r: SeedReport) -> str:
    """The report as Markdown: one section per part of the scenario, in the README's order."""
    lines = [
        f"# Demo org `{r.org}`",
        "",
        f"Window: {r.start_date} .. {r.end_date} ({r.days} days, seed {r.seed}); state in `{r.state_dir}`.",
        "",
    ]
    for section in _SECTIONS:
        lines += section(r)
    return "\n".join(lines) + "\n"


def _repos_section(r: SeedReport) -> list[str]:
    """The repositories table (scope, config, projects, protection, head), and the fixed repos."""
    lines = [
        "## Repositories",
        "",
        "| repo | tier | status | team | language | in scope | config | projects | protection | head |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for repo in r.repos:
        projects = ", ".join(f"{p.path}{'' if p.config else ' (no config)'}" for p in repo.projects) or "-"
        scope = "yes" if repo.in_scope else f"no: {repo.scope_reason}"
        lines.append(
            f"| {repo.name} | {repo.tier or '-'} | {repo.status or '-'} | {repo.team or '-'} | "
            f"{repo.language} | {scope} | {repo.config_file or '-'} | {projects} | "
            f"{repo.protection} | {repo.head_sha[:7]} |"
        )
    return lines + [
        "",
        "Also: `standards-community` (registry, the community rulesets verbatim) and "
        "`drift-config` (`drift.config.yaml`, excludes `legacy-*`). An org ruleset "
        "(deletion, non_fast_forward on the default branch) covers every repo but `legacy-*`.",
        "",
    ]


def _events_section(r: SeedReport) -> list[str]:
    """The scripted code events table: what a code scan should find, on which day."""
    lines = [
        "## Scripted code events (what a scan should find)",
        "",
        "| day | repo | project | finding | paths | commits | what |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in r.events:
        lines.append(
            f"| {e.day} | {e.repo} | {e.project} | `{e.kind}` | {', '.join(e.paths)} | "
            f"{', '.join(s[:7] for s in e.commit_shas)} | {e.description} |"
        )
    return lines


def _process_section(r: SeedReport) -> list[str]:
    """The process settings expected to differ from each repo's head config."""
    lines = ["", "## Process expectations (settings now vs the head config)", ""]
    if not r.process_expectations:
        lines.append("None.")
    for name, kinds in r.process_expectations.items():
        lines.append(f"- **{name}**: " + "; ".join(r.process_details.get(name, kinds)))
    return lines + [
        "",
        "Every other in-scope repo is compliant with its `[process.*]` tables: through classic "
        "protection (`classic`), a repo ruleset (`ruleset`), or only an org ruleset that targets it "
        "by name (`org`).",
        "",
    ]


def _activity_section(r: SeedReport) -> list[str]:
    """How the window's commits reached the default branches, and the deviations a process scan must find."""
    lines = [
        "## Process activity (how the window's commits reached the default branches)",
        "",
        f"{r.pull_requests} commits came through pull requests: a tracking issue, a branch "
        "`<type>/<TICKET>-<slug>`, a body `Closes #N`, two approvals by others than the author, "
        "a rebase merge. The deviations a process scan must find:",
        "",
        "| day | repo | finding | subject | expected | actual | what |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in r.process_activity:
        subject = f.subject if f.subject.startswith("pr#") else f.subject[:7]
        lines.append(
            f"| {f.day} | {f.repo} | `{f.rule}` | {subject} | `{_cell(f.expected)}` | "
            f"`{_cell(f.actual)}` | {f.description} |"
        )
    if not r.process_activity:
        lines.append("| - | - | - | - | - | - | none |")
    return lines


def _background_section(r: SeedReport) -> list[str]:
    """The window's ordinary commits, listed so that nobody takes them for drift."""
    lines = ["", "## Background commits (not drift)", ""]
    if not r.background_commits:
        lines.append("None.")
    for e in r.background_commits:
        lines.append(f"- {e.day} {e.repo}: {e.description} ({e.commit_shas[0][:7]})")
    return lines


def _cases_section(r: SeedReport) -> list[str]:
    """Every rule id: the cases that show it (day, repo, what), then the ones seed data cannot show."""
    lines = ["", "## Every rule id: where and when the demo shows it", ""]
    lines += [
        f"{len(r.rules_shown())} rule ids in {len(r.cases)} cases. Settings and AWS are live-only: a scan sees "
        "them on the last day (today's scan); code and activity on the day their commits landed.",
        "",
        "| rule | category | day | repo | case |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{c.rule}` | {c.category} | {c.day} | {c.repo} | {c.what.replace('|', '/')} |" for c in r.cases]
    for rule, why in sorted(r.not_scripted.items()):
        lines.append(f"| `{rule}` | - | - | - | not scripted: {why} |")
    return lines


def _aws_section(r: SeedReport) -> list[str]:
    """The infra scenario as deployed, or which repos declare ``[infra]`` when AWS was not seeded."""
    if r.aws:
        return ["", "## AWS", "", r.aws]
    infra = ", ".join(f"{x.name} ({x.status})" for x in r.repos if x.infra_stacks)
    return ["", "## AWS", "", f"Not seeded (pass `--aws-endpoint`). Repos with `[infra]`: {infra}."]


_SECTIONS = (
    _repos_section,
    _events_section,
    _process_section,
    _activity_section,
    _background_section,
    _cases_section,
    _aws_section,
)

README_BEGIN = "<!-- demo-scenario:begin (generated by drift_pipeline.sandbox.seed.readme_scenario) -->"
README_END = "<!-- demo-scenario:end -->"
README_STATE_DIR = ".sandbox/demo"


def readme_scenario(report: SeedReport) -> str:
    """``report.describe()`` as the README's generated block (headings nested, neutral path)."""
    text = report.describe().replace(f"`{report.state_dir}`", f"`{README_STATE_DIR}`")
    text = re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", text, flags=re.M)
    return f"{README_BEGIN}\n{text.rstrip()}\n{README_END}"
