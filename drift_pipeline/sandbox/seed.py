"""``drift sandbox seed``: a realistic demo organisation, with a scripted drift history.

``seed_org(state_dir, org=..., repos=..., days=..., seed=...)`` fills a sandbox state directory
(``SandboxState``: settings in ``state.json``, real bare git repositories on disk) with:

- ``standards-community``: the real community rulesets, verbatim, plus LICENSE and README;
- ``drift-config``: ``drift.config.yaml`` with ``exclude`` globs (``legacy-*``, ...);
- ``repos`` product repos (TypeScript services and frontends, Python services, a workspace
  monorepo) of every tier and status, extending the registry with tier-matching rulesets, some
  with ``standards.toml`` + ``[metadata]`` instead of ``repo-metadata.yaml`` + ``check.toml``;
- out-of-scope repos: config without metadata, no config at all, archived, ``legacy-*``;
- a history of ``days`` days ending at ``end_date`` (every repo's first commit lies before day
  1) with scripted drift events on fixed days, background source changes, and process
  settings (classic protection, repo rulesets, an org ruleset, a tag ruleset) that mostly
  follow each repo's ``[process.repo]`` table and deliberately do not in a few repos;
- optionally the AWS side (``deploy_org_infra``) for the repos that declare ``[infra]``.

Everything is a function of ``(org, repos, days, seed, end_date)``: commit dates are explicit,
randomness comes from ``random.Random`` seeded from ``seed`` (one stream per repo, so adding a
repo does not reshuffle the others), and the library never reads the clock. The returned
:class:`SeedReport` says what a scan of the result should find.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from drift_pipeline.errors import UsageError
from drift_pipeline.gitutil import Author, git
from drift_pipeline.sandbox import seed_files as F
from drift_pipeline.sandbox.github.state import SandboxState

__all__ = [
    "DEFAULT_END_DATE", "MIN_REPOS", "SeedReport", "SeededEvent", "SeededProject", "SeededRepo",
    "seed_org", "scripted_days",
]

MIN_REPOS = 8
# The library's default window end (the CLI defaults to today, UTC). Fixed, so that
# ``seed_org(dir)`` and the README's rendered scenario are reproducible.
DEFAULT_END_DATE = date(2026, 2, 27)
REGISTRY_REPO = "standards-community"
CONFIG_REPO = "drift-config"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
REGISTRY_DATA = Path(__file__).parent / "data" / "registry-community"
CONVENTIONAL = re.compile(r"^(feat|fix|chore|docs|refactor|test|ci|perf|build|style|revert)(\([\w./-]+\))?!?: .+")
COMMIT_TYPES = ["feat", "fix", "chore", "docs", "refactor", "test", "ci", "perf", "build"]

# The cast: a few people per team (name, GitHub login).
TEAMS: dict[str, list[tuple[str, str]]] = {
    "orders": [("Priya Raman", "priya-raman"), ("Tom Becker", "tbecker")],
    "web": [("Lucia Fernandez", "lucia-fdz"), ("Sam Okafor", "samokafor")],
    "payments": [("Hannah Schultz", "hschultz"), ("Ravi Iyer", "ravi-iyer")],
    "data": [("Mei Chen", "meichen"), ("Jonas Lindqvist", "jlindqvist")],
    "platform": [("Alex Morgan", "alexm"), ("Fatima Zahra", "fzahra")],
}


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededProject:
    path: str                   # "." = repo root
    language: str               # "typescript" | "python"
    config: str | None          # "check.toml" / "standards.toml" in that directory, or None


@dataclass(frozen=True)
class SeededRepo:
    name: str
    full_name: str
    tier: str | None            # None: no metadata
    status: str | None
    team: str | None
    language: str               # "typescript" | "python" | "monorepo" | "none"
    in_scope: bool              # what a scan's scope rule should decide at the end of the window
    scope_reason: str
    config_file: str | None     # root config at the head: "check.toml" / "standards.toml" / None
    projects: tuple[SeededProject, ...]
    default_branch: str
    head_sha: str
    archived: bool = False
    protection: str = "none"    # "classic" | "ruleset" | "none" (the org ruleset applies anyway)
    infra_stacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeededEvent:
    day: date
    repo: str
    project: str                # "." = repo root
    kind: str                   # the rule id a scan should raise (or "source_changed": not drift)
    paths: tuple[str, ...]
    commit_shas: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class SeedReport:
    org: str
    state_dir: str
    start_date: date            # day 1 of the window
    end_date: date              # day ``days``
    days: int
    seed: int
    repos: tuple[SeededRepo, ...]
    events: tuple[SeededEvent, ...]             # scripted drift, in day order
    background_commits: tuple[SeededEvent, ...]  # ordinary changes in the window: not drift
    process_expectations: dict[str, tuple[str, ...]]  # repo -> expected process rule ids
    process_details: dict[str, tuple[str, ...]]       # repo -> "rule: expected vs actual"
    aws: str | None = None      # InfraScenario.describe() when AWS was seeded

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


# -- repo specs -----------------------------------------------------------------------------------


@dataclass
class _Spec:
    name: str
    language: str               # typescript | python | monorepo | none
    team: str
    tier: str | None
    status: str | None
    description: str
    frontend: bool = False
    config_file: str | None = "check.toml"   # root config; None: none at all
    metadata: bool = True
    infra: bool = False
    protection: str = "ruleset"              # classic | ruleset | none
    required_reviews: int = 1
    dismiss_stale: bool = True
    code_owner_reviews: bool = True
    signed_commits: bool = False
    enforce_admins: bool = True
    codeowners: str = "valid"                # valid | invalid | missing
    conventional_messages: bool = True
    declares_conventional: bool = False
    forbidden_env: bool = False
    tag_protection: bool = False
    coverage: bool = False
    deviations: tuple[str, ...] = ()         # settings deliberately not matching the config
    default_branch: str = "main"
    archived: bool = False
    private: bool = True
    product: bool = True
    excluded: bool = False                   # by drift.config.yaml exclude globs
    activity: float = 0.0                    # chance of a background change per working day
    # filled while building
    cfg: dict[str, Any] = field(default_factory=dict)
    tree: dict[str, str | bytes] = field(default_factory=dict)
    shas: list[str] = field(default_factory=list)
    window_messages: list[str] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")


def _core_specs() -> list[_Spec]:
    """The eight repos every scenario has: each carries scripted events or process deviations."""
    return [
        _Spec("orders-api", "typescript", "orders", "production", "active",
              "Order intake and lifecycle API (Fastify).", infra=True, protection="classic",
              required_reviews=2, coverage=True, declares_conventional=True, activity=0.3),
        _Spec("web-storefront", "typescript", "web", "production", "active",
              "Customer-facing storefront (React + Vite).", frontend=True, signed_commits=True,
              activity=0.25),
        _Spec("payments-service", "python", "payments", "production", "active",
              "Card and wallet payments, refunds and payouts.", infra=True, protection="classic",
              required_reviews=1, activity=0.15),
        _Spec("data-platform", "monorepo", "data", "internal", "active",
              "Data platform monorepo: ops console, shared packages and the ingest service.",
              codeowners="invalid", activity=0.3),
        _Spec("inventory-service", "python", "orders", "internal", "active",
              "Stock levels and reservations.", config_file="standards.toml", infra=True,
              tag_protection=True, declares_conventional=True, conventional_messages=False,
              activity=0.1),
        _Spec("admin-console", "typescript", "platform", "internal", "active",
              "Back-office console for support staff.", frontend=True, protection="classic",
              forbidden_env=True, deviations=("status_check_missing",)),
        _Spec("notifications-worker", "python", "payments", "prototype", "pre-release",
              "Email and SMS notifications worker (pre-release).", infra=True,
              deviations=("stale_not_dismissed",), activity=0.1),
        _Spec("reporting-service", "python", "data", "internal", "deprecated",
              "Nightly finance reports (deprecated: replaced by data-platform).", infra=True,
              protection="none", codeowners="missing", default_branch="master"),
    ]


# Quiet variations for repos beyond the eight: (name, language, team, tier, status, frontend,
# config file, description).
_EXTRAS = [
    ("search-api", "typescript", "orders", "internal", "active", False, "check.toml",
     "Product search API."),
    ("auth-gateway", "typescript", "platform", "production", "active", False, "check.toml",
     "Authentication gateway and session service."),
    ("ml-experiments", "python", "data", "prototype", "active", False, "standards.toml",
     "Recommendation model experiments."),
    ("customer-portal", "typescript", "web", "production", "active", True, "check.toml",
     "Account self-service portal."),
    ("pricing-engine", "python", "payments", "production", "active", False, "check.toml",
     "Price rules and promotions."),
    ("mobile-bff", "typescript", "web", "internal", "pre-release", False, "check.toml",
     "Backend for the mobile apps (pre-release)."),
    ("feature-flags", "typescript", "platform", "internal", "active", False, "standards.toml",
     "Feature flag service."),
    ("analytics-etl", "python", "data", "internal", "active", False, "check.toml",
     "Event ingestion into the warehouse."),
    ("fraud-scoring", "python", "payments", "production", "active", False, "check.toml",
     "Real-time fraud scoring."),
    ("docs-site", "typescript", "platform", "prototype", "active", True, "check.toml",
     "Developer documentation site."),
]


def _extra_specs(count: int) -> list[_Spec]:
    specs = []
    for i in range(count):
        if i < len(_EXTRAS):
            name, lang, team, tier, status, frontend, cfg, desc = _EXTRAS[i]
        else:
            name, lang, team, tier, status, frontend, cfg, desc = (
                f"service-{i - len(_EXTRAS) + 1:02d}", "typescript" if i % 2 else "python",
                list(TEAMS)[i % len(TEAMS)], ("internal", "production", "prototype")[i % 3],
                "active", False, "check.toml", "Internal service.")
        specs.append(_Spec(name, lang, team, tier, status, desc, frontend=frontend, config_file=cfg,
                           protection="classic" if i % 2 else "ruleset",
                           required_reviews=2 if tier == "production" else 1,
                           declares_conventional=i % 3 == 0,
                           activity=0.1 if i % 3 == 1 else 0.0))
    return specs


def _out_of_scope_specs() -> list[_Spec]:
    return [
        _Spec("shared-scripts", "none", "platform", None, None,
              "Assorted ops scripts (has check.toml, no repo metadata).", metadata=False,
              protection="none", product=False),
        _Spec("ops-runbooks", "none", "platform", None, None,
              "On-call runbooks (no standards config at all).", metadata=False, config_file=None,
              protection="none", product=False, codeowners="missing"),
        _Spec("checkout-v1", "typescript", "web", "production", "deprecated",
              "Old checkout flow (archived).", archived=True, protection="none", product=False),
        _Spec("legacy-monolith", "python", "orders", "production", "deprecated",
              "The original monolith, kept for reference (excluded by drift-config).",
              excluded=True, protection="none", product=False, default_branch="master"),
    ]


# -- configs --------------------------------------------------------------------------------------


def _ruleset_name(spec: _Spec, tier: str | None = None) -> str:
    tier = tier or spec.tier or "internal"
    lang = "python" if spec.language == "python" else "typescript"
    if lang == "typescript" and spec.frontend and tier != "prototype":
        return f"typescript-frontend-{tier}"
    return f"{lang}-{tier}"


def _status_checks(spec: _Spec) -> list[str]:
    return ["lint", "test", "build"] if spec.tier == "production" else ["lint", "test"]


def _build_config(spec: _Spec, org: str) -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    if spec.config_file == "standards.toml" and spec.metadata:
        cfg["metadata"] = {"tier": spec.tier, "status": spec.status, "team": spec.team,
                           "project": spec.name, "organisation": org}
    cfg["extends"] = {"registry": f"github:{org}/{REGISTRY_REPO}", "rulesets": [_ruleset_name(spec)]}
    code: dict[str, Any] = {}
    if spec.language == "python":
        code["linting"] = {"ruff": {"line-length": 100}}
        if spec.tier == "production":
            code["coverage_run"] = {"enabled": True, "min_threshold": 80, "runner": "pytest"}
    elif spec.language in ("typescript", "monorepo"):
        if spec.frontend:
            code["linting"] = {"eslint": {"rules": {"max-lines": F.Inline(severity="error", max=600)}}}
        elif spec.tier == "production":
            code["linting"] = {"eslint": {"rules": {"no-console": "error"}}}
        if spec.coverage:
            code["coverage_run"] = {"enabled": True, "min_threshold": 85, "runner": "vitest"}
    if code:
        cfg["code"] = code
    if not spec.product and spec.name == "shared-scripts":
        return {"extends": cfg["extends"]}
    process: dict[str, Any] = {}
    ruleset: dict[str, Any] = {
        "branch": spec.default_branch,
        "required_reviews": spec.required_reviews,
        "dismiss_stale_reviews": spec.dismiss_stale,
        "require_code_owner_reviews": spec.code_owner_reviews,
        "require_status_checks": _status_checks(spec),
        "require_branches_up_to_date": spec.tier == "production",
        "enforce_admins": spec.enforce_admins,
    }
    if spec.signed_commits:
        ruleset["require_signed_commits"] = True
    process["repo"] = {"enabled": True, "require_branch_protection": True,
                       "require_codeowners": spec.codeowners != "valid" or spec.tier != "prototype",
                       "ruleset": ruleset}
    if spec.tag_protection:
        process["repo"]["tag_protection"] = {"patterns": ["v*"], "prevent_deletion": True,
                                             "prevent_update": True}
    process["ci"] = {"enabled": True, "require_workflows": ["ci.yml"]}
    if spec.declares_conventional:
        process["commits"] = {"enabled": True, "conventional": True, "types": COMMIT_TYPES}
    if spec.forbidden_env or spec.tier == "production":
        process["forbidden_files"] = {"enabled": True, "files": ["**/.env", "**/*.pem"],
                                      "message": "Secrets belong in the secrets manager, not in git."}
    cfg["process"] = process
    if spec.infra:
        cfg["infra"] = {"enabled": True, "path": "infra", "stacks": [spec.name],
                        "accounts": dict(ACCOUNTS)}
    return cfg


def _config_text(spec: _Spec, cfg: dict[str, Any]) -> str:
    comment = (f"Standards for {spec.name} ({spec.tier or 'no'} tier).\n"
               "Rulesets come from the org registry; local tables below override them.")
    return F.dump_toml(cfg, comment=comment)


def _package_config(ruleset: str, org: str) -> str:
    return F.dump_toml({"extends": {"registry": f"github:{org}/{REGISTRY_REPO}", "rulesets": [ruleset]}},
                       comment="Package standards (the repo's process settings live in the root check.toml).")


# -- initial trees -------------------------------------------------------------------------------


def _initial_tree(spec: _Spec, org: str) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {}
    lang = "python" if spec.language == "python" else "typescript"
    files["README.md"] = F.readme(spec.name, spec.description, lang, spec.team)
    if spec.language == "none":
        files["README.md"] = f"# {spec.name}\n\n{spec.description}\n"
        if spec.name == "shared-scripts":
            files["scripts/rotate-logs.sh"] = "#!/usr/bin/env bash\nset -euo pipefail\nfind /var/log/app -mtime +14 -delete\n"
            files["scripts/db-snapshot.sh"] = "#!/usr/bin/env bash\nset -euo pipefail\npg_dump \"$DATABASE_URL\" | gzip > \"snapshot-$(date +%F).sql.gz\"\n"
        else:
            files["runbooks/payments-outage.md"] = "# Payments outage\n\n1. Check the status page.\n2. Page the payments on-call.\n"
            files["runbooks/db-failover.md"] = "# Database failover\n\nPromote the replica, then update the DNS record.\n"
    elif spec.language == "typescript":
        files[".gitignore"] = F.gitignore(lang)
        files["package.json"] = F.package_json(f"@{org}/{spec.name}", "1.0.0", frontend=spec.frontend)
        files["tsconfig.json"] = F.tsconfig(frontend=spec.frontend)
        files["eslint.config.js"] = F.eslint_config(frontend=spec.frontend)
        if spec.frontend:
            files.update(F.tsx_frontend_sources(spec.name.replace("-", " ").title()))
        else:
            domain = spec.name.split("-")[0]
            files.update(F.ts_service_sources(domain, domain.rstrip("s")))
        if spec.coverage:
            files["vitest.config.ts"] = F.vitest_config()
    elif spec.language == "python":
        files[".gitignore"] = F.gitignore(lang)
        deps = ["fastapi>=0.111", "pydantic>=2.7", "httpx>=0.27"]
        files["pyproject.toml"] = F.pyproject(spec.name, "1.0.0", spec.description, deps)
        files["ruff.toml"] = F.ruff_toml()
        files.update(F.python_sources(spec.package, spec.name.split("-")[0].rstrip("s")))
    elif spec.language == "monorepo":
        files[".gitignore"] = F.gitignore("typescript")
        files["package.json"] = F.package_json(spec.name, "0.0.0", workspaces=["apps/*", "packages/*", "services/*"])
        files["pnpm-workspace.yaml"] = "packages:\n  - apps/*\n  - packages/*\n  - services/*\n"
        app = "apps/ops-console"
        files[f"{app}/package.json"] = F.package_json(f"@{org}/ops-console", "0.7.0", frontend=True)
        files[f"{app}/tsconfig.json"] = F.tsconfig(frontend=True)
        files[f"{app}/eslint.config.js"] = F.eslint_config(frontend=True)
        files[f"{app}/check.toml"] = _package_config("typescript-frontend-internal", org)
        for path, text in F.tsx_frontend_sources("Ops Console").items():
            files[f"{app}/{path}"] = text
        lib = "packages/shared-utils"
        files[f"{lib}/package.json"] = F.package_json(f"@{org}/shared-utils", "2.1.0")
        files[f"{lib}/tsconfig.json"] = F.tsconfig()
        files[f"{lib}/check.toml"] = _package_config("typescript-internal", org)
        for path, text in F.ts_library_sources("shared-utils").items():
            files[f"{lib}/{path}"] = text
        kit = "packages/ui-kit"  # the package without a config
        files[f"{kit}/package.json"] = F.package_json(f"@{org}/ui-kit", "0.3.0", frontend=True)
        files[f"{kit}/src/index.ts"] = 'export { Button } from "./button.js";\n'
        files[f"{kit}/src/button.tsx"] = ("export function Button(props: { label: string }): JSX.Element {\n"
                                          "  return <button type=\"button\">{props.label}</button>;\n}\n")
        svc = "services/ingest"
        files[f"{svc}/pyproject.toml"] = F.pyproject("ingest", "0.4.0", "Event ingestion service.",
                                                     ["duckdb>=1.0", "pyarrow>=16.1", "boto3>=1.34"])
        files[f"{svc}/ruff.toml"] = F.ruff_toml()
        files[f"{svc}/check.toml"] = _package_config("python-internal", org)
        for path, text in F.python_sources("ingest", "batch").items():
            files[f"{svc}/{path}"] = text
    if spec.language != "none":
        files[".github/workflows/ci.yml"] = F.ci_workflow(
            "python" if spec.language == "python" else "typescript", spec.default_branch)
    if spec.metadata and spec.config_file != "standards.toml":
        files["repo-metadata.yaml"] = F.repo_metadata(spec.tier, spec.status, spec.team)
    if spec.config_file:
        spec.cfg = _build_config(spec, org)
        files[spec.config_file] = _config_text(spec, spec.cfg)
    if spec.codeowners == "valid":
        files[".github/CODEOWNERS"] = F.codeowners(org, spec.team)
    elif spec.codeowners == "invalid":
        files[".github/CODEOWNERS"] = F.codeowners(org, spec.team, extra=[
            ("/apps/ops-console/", f"@{org}/platform"),
            ("/services/ingest/", ""),           # a pattern with no owner
            ("/docs/", "meichen"),               # an owner without "@"
        ])
    if spec.infra:
        from drift_pipeline.sandbox.infra_seed import stack_template

        for stack in spec.cfg["infra"]["stacks"]:
            files[f"infra/{stack}.json"] = json.dumps(stack_template(stack), indent=2) + "\n"
    return files


# -- history planning -------------------------------------------------------------------------------


def scripted_days(days: int) -> dict[int, int]:
    """Day index (1-based, in the window) of each scripted slot 3..6.

    With ``days >= 6`` slot N is day N. Shorter windows use their last four days (or fewer,
    sharing days), so every event still lands inside the window.
    """
    if days < 1:
        raise ValueError("days must be >= 1")
    if days >= 6:
        return {3: 3, 4: 4, 5: 5, 6: 6}
    start = max(1, days - 3)
    return {slot: min(days, start + i) for i, slot in enumerate((3, 4, 5, 6))}


def _ruff_day(days: int) -> int:
    return 7 if days >= 7 else (2 if days >= 2 else 1)


@dataclass
class _Commit:
    when: datetime
    message: str
    author: Author
    change: Callable[[_Spec], dict[str, str | bytes | None]]
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, project, description)
    event_key: str | None = None      # commits sharing a key form one event
    background: bool = False


def _author(spec: _Spec, rng: random.Random, org: str) -> Author:
    name, _login = rng.choice(TEAMS[spec.team])
    return Author(name, f"{name.lower().replace(' ', '.')}@{org}.example")


def _at(day: date, rng: random.Random, lo: int = 9, hi: int = 17) -> datetime:
    return datetime.combine(day, time(rng.randint(lo, hi), rng.randint(0, 59), rng.randint(0, 59)),
                            tzinfo=timezone.utc)


def _msg(spec: _Spec, conventional: str, plain: str) -> str:
    return conventional if spec.conventional_messages else plain


def _src_file(spec: _Spec) -> str:
    if spec.language == "monorepo":
        return "packages/shared-utils/src/index.ts"
    if spec.language == "python":
        return f"src/{spec.package}/{spec.name.split('-')[0].rstrip('s')}.py"
    if spec.frontend:
        return "src/app.tsx"
    return f"src/{spec.name.split('-')[0]}.ts"


def _baseline_commits(spec: _Spec, start: date, rng: random.Random, org: str) -> list[_Commit]:
    """The initial commit (weeks or months before day 1) and a few follow-ups, all before day 1."""
    born = start - timedelta(days=rng.randint(45, 420))
    commits = [_Commit(_at(born, rng), _msg(spec, "chore: initial commit", "Initial commit"),
                       _author(spec, rng, org), lambda s: dict(s.tree))]
    if spec.product:
        mid = born + timedelta(days=rng.randint(5, max(6, (start - born).days - 10)))
        commits.append(_Commit(_at(mid, rng), _msg(spec, "docs: add on-call section to README", "update readme"),
                               _author(spec, rng, org),
                               lambda s: {"README.md": str(s.tree["README.md"])
                                          + "\n## On call\n\nPage the owning team via the #incidents channel.\n"}))
    if spec.forbidden_env:
        when = start - timedelta(days=rng.randint(3, 20))
        commits.append(_Commit(_at(when, rng), "chore: add local env for docker compose",
                               _author(spec, rng, org), lambda s: {".env": F.env_file(s.name)}))
    return commits


def _background_commits(spec: _Spec, start: date, days: int, rng: random.Random, org: str) -> list[_Commit]:
    """Ordinary source changes inside the window (not drift)."""
    chosen = [d for d in range(1, days + 1)
              if (start + timedelta(days=d - 1)).weekday() < 5 and rng.random() < spec.activity]
    if spec.activity >= 0.25 and not chosen:
        chosen = [rng.randint(1, days)]
    snippets = F.PY_SNIPPETS if spec.language == "python" else F.TS_SNIPPETS
    offset = rng.randrange(len(snippets))
    commits = []
    for i, d in enumerate(chosen):
        fn, code = snippets[(offset + i) % len(snippets)]
        path = _src_file(spec)
        kind = "feat" if i % 2 == 0 else "refactor"
        scope = spec.name.split("-")[0]

        def change(s: _Spec, path: str = path, code: str = code) -> dict[str, str | None]:
            return {path: str(s.tree[path]) + "\n\n" + code}

        message = _msg(spec, f"{kind}({scope}): add {fn} helper", f"add {fn}")
        commits.append(_Commit(_at(start + timedelta(days=d - 1), rng), message, _author(spec, rng, org),
                               change, events=[("source_changed", ".", f"{path}: added {fn}() (not drift)")],
                               background=True))
    return commits


def _set(cfg: dict[str, Any], keys: list[str], value: Any) -> None:
    for k in keys[:-1]:
        cfg = cfg[k]
    cfg[keys[-1]] = value


def _scripted_commits(specs: dict[str, _Spec], start: date, days: int, rng: random.Random,
                      org: str) -> dict[str, list[_Commit]]:
    slot = scripted_days(days)

    def day(n: int) -> date:
        return start + timedelta(days=slot[n] - 1) if n in slot else start + timedelta(days=n - 1)

    out: dict[str, list[_Commit]] = {name: [] for name in specs}

    def add(repo: str, when: datetime, message: str, change, events, key=None) -> None:
        spec = specs[repo]
        out[repo].append(_Commit(when, message, _author(spec, rng, org), change, events, key))

    # day 3: an eslint rule added (web-storefront); a tsconfig option relaxed (orders-api)
    add("web-storefront", _at(day(3), rng, 10, 12),
        "chore(lint): allow explicit any in checkout components",
        lambda s: {"eslint.config.js": F.eslint_config(
            frontend=True, extra_rules=['"@typescript-eslint/no-explicit-any": "off",'])},
        [("dependency_changed", ".", "eslint.config.js: rule @typescript-eslint/no-explicit-any turned off")])
    add("orders-api", _at(day(3), rng, 14, 16),
        "build(tsconfig): relax noUnusedParameters for generated route handlers",
        lambda s: {"tsconfig.json": F.tsconfig(overrides={"noUnusedParameters": False})},
        [("dependency_changed", ".", "tsconfig.json: noUnusedParameters true -> false "
          "(required by the typescript-production ruleset's tsc settings)")])

    # day 4: required reviews raised in check.toml; a workflow changed; two commits on one day
    def raise_reviews(s: _Spec) -> dict[str, str]:
        _set(s.cfg, ["process", "repo", "ruleset", "required_reviews"], 2)
        return {"check.toml": _config_text(s, s.cfg)}

    add("payments-service", _at(day(4), rng, 9, 11), "chore(process): require two approving reviews",
        raise_reviews,
        [("check_toml_changed", ".", "check.toml: [process.repo.ruleset] required_reviews 1 -> 2 "
          "(the branch protection still requires 1)")])
    add("inventory-service", _at(day(4), rng, 11, 13), "speed up CI",
        lambda s: {".github/workflows/ci.yml": F.ci_workflow("python", s.default_branch, python_version="3.12",
                                                             test_continue_on_error=True)},
        [("workflow_changed", ".", ".github/workflows/ci.yml: Python 3.11 -> 3.12 and the test job "
          "made continue-on-error")])

    def bump_httpx(s: _Spec) -> dict[str, str]:
        return {"pyproject.toml": str(s.tree["pyproject.toml"]).replace('"httpx>=0.27"', '"httpx>=0.28"')}

    def add_tenacity(s: _Spec) -> dict[str, str]:
        return {"pyproject.toml": str(s.tree["pyproject.toml"]).replace(
            '    "httpx>=0.28",\n', '    "httpx>=0.28",\n    "tenacity>=8.5",\n')}

    add("notifications-worker", _at(day(4), rng, 9, 11), "chore(deps): bump httpx to 0.28", bump_httpx,
        [("dependency_changed", ".", "pyproject.toml changed twice on the same day (httpx bump, then "
          "tenacity added): both commits are in the window")], key="notif-deps")
    add("notifications-worker", _at(day(4), rng, 15, 17), "fix(deps): add tenacity for SMS retries",
        add_tenacity, [], key="notif-deps")

    # day 5: check.toml deleted; a monorepo package added without a config
    add("web-storefront", _at(day(5), rng, 13, 15), "chore: drop check.toml, lint config lives in eslint now",
        lambda s: {"check.toml": None},
        [("check_toml_removed", ".", "check.toml deleted: the repo no longer declares standards "
          "(and so drops out of scope)")])

    def new_package(s: _Spec) -> dict[str, str]:
        base = "packages/metrics-client"
        return {f"{base}/package.json": F.package_json(f"@{org}/metrics-client", "0.1.0"),
                f"{base}/src/index.ts": ("export function counter(name: string): { inc(): void } {\n"
                                         "  let value = 0;\n"
                                         "  return { inc: () => { value += 1; void name; } };\n}\n")}

    add("data-platform", _at(day(5), rng, 10, 12), "feat(metrics-client): add metrics client package",
        new_package,
        [("project_without_standards", "packages/metrics-client",
          "new workspace package packages/metrics-client (package.json) without a check.toml")])

    # day 6: tier raised without changing rulesets; a check.toml broken
    def raise_tier(s: _Spec) -> dict[str, str]:
        return {"repo-metadata.yaml": F.repo_metadata("production", s.status, s.team)}

    add("admin-console", _at(day(6), rng, 9, 11), "chore: admin-console is now a production service",
        raise_tier,
        [("metadata_changed", ".", "repo-metadata.yaml: tier internal -> production"),
         ("tier_ruleset_mismatch", ".", "tier is production but check.toml extends "
          "typescript-frontend-internal (no ruleset ends with -production)")])

    def break_toml(s: _Spec) -> dict[str, str]:
        path = "apps/ops-console/check.toml"
        return {path: str(s.tree[path]) + "\n[code.coverage_run\nenabled = true\nmin_threshold = 70\n"}

    add("data-platform", _at(day(6), rng, 14, 16), "chore(ops-console): enable coverage",
        break_toml,
        [("check_toml_changed", "apps/ops-console", "apps/ops-console/check.toml changed"),
         ("invalid_config", "apps/ops-console", "apps/ops-console/check.toml: unclosed table header "
          "[code.coverage_run (TOML parse error), broken until the end of the window")])

    # a ruff.toml change in a Python repo
    ruff_day = start + timedelta(days=_ruff_day(days) - 1)
    add("inventory-service", _at(ruff_day, rng, 14, 17), "tweak lint settings",
        lambda s: {"ruff.toml": F.ruff_toml(line_length=120, ignore=["E501", "B008"])},
        [("dependency_changed", ".", "ruff.toml: line-length 100 -> 120, B008 ignored")])
    return out


# -- process settings ------------------------------------------------------------------------------


def _ruleset_table(cfg: dict[str, Any]) -> dict[str, Any] | None:
    return (cfg.get("process") or {}).get("repo", {}).get("ruleset")


def _classic_body(rs: dict[str, Any], deviations: tuple[str, ...]) -> dict[str, Any]:
    checks = list(rs.get("require_status_checks", []))
    if "status_check_missing" in deviations:
        checks = checks[:-1]
    return {
        "required_status_checks": {"strict": bool(rs.get("require_branches_up_to_date", False)),
                                   "contexts": checks},
        "enforce_admins": bool(rs.get("enforce_admins", False)),
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": bool(rs.get("dismiss_stale_reviews", False))
            and "stale_not_dismissed" not in deviations,
            "require_code_owner_reviews": bool(rs.get("require_code_owner_reviews", False)),
            "required_approving_review_count": int(rs.get("required_reviews", 1)),
        },
        "restrictions": None,
        "required_signatures": {"enabled": bool(rs.get("require_signed_commits", False))},
    }


def _repo_ruleset(rs: dict[str, Any], deviations: tuple[str, ...]) -> dict[str, Any]:
    checks = list(rs.get("require_status_checks", []))
    if "status_check_missing" in deviations:
        checks = checks[:-1]
    rules: list[dict[str, Any]] = [
        {"type": "deletion"},
        {"type": "non_fast_forward"},
        {"type": "pull_request", "parameters": {
            "required_approving_review_count": int(rs.get("required_reviews", 1)),
            "dismiss_stale_reviews_on_push": bool(rs.get("dismiss_stale_reviews", False))
            and "stale_not_dismissed" not in deviations,
            "require_code_owner_review": bool(rs.get("require_code_owner_reviews", False)),
            "require_last_push_approval": False,
            "required_review_thread_resolution": True,
        }},
    ]
    if checks:
        rules.append({"type": "required_status_checks", "parameters": {
            "required_status_checks": [{"context": c} for c in checks],
            "strict_required_status_checks_policy": bool(rs.get("require_branches_up_to_date", False)),
        }})
    if rs.get("require_signed_commits"):
        rules.append({"type": "required_signatures"})
    bypass = [] if rs.get("enforce_admins", False) else [
        {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    return {"name": rs.get("name", "Branch Protection"), "target": "branch", "enforcement": "active",
            "bypass_actors": bypass,
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
            "rules": rules}


def _tag_ruleset(tp: dict[str, Any]) -> dict[str, Any]:
    rules = []
    if tp.get("prevent_deletion", True):
        rules.append({"type": "deletion"})
    if tp.get("prevent_update", True):
        rules.append({"type": "update"})
    return {"name": "Release tags", "target": "tag", "enforcement": "active", "bypass_actors": [],
            "conditions": {"ref_name": {"include": [f"refs/tags/{p}" for p in tp.get("patterns", [])],
                                        "exclude": []}},
            "rules": rules}


def _org_ruleset() -> dict[str, Any]:
    return {"name": "Org baseline", "target": "branch", "enforcement": "active", "bypass_actors": [],
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
                           "repository_name": {"include": ["*"], "exclude": ["legacy-*"],
                                               "protected": False}},
            "rules": [{"type": "deletion"}, {"type": "non_fast_forward"}]}


def _apply_settings(state: SandboxState, org: str, spec: _Spec, baseline_cfg: dict[str, Any]) -> None:
    """Protection as configured before the window (the settings were set up once, back then)."""
    rs = _ruleset_table(baseline_cfg)
    if rs is not None and spec.protection == "classic":
        state.set_branch_protection(org, spec.name, spec.default_branch, _classic_body(rs, spec.deviations))
    elif rs is not None and spec.protection == "ruleset":
        state.add_ruleset(org, spec.name, _repo_ruleset(rs, spec.deviations))
    tp = (baseline_cfg.get("process") or {}).get("repo", {}).get("tag_protection")
    if tp:
        state.add_ruleset(org, spec.name, _tag_ruleset(tp))


def _effective_protection(spec: _Spec, baseline_cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The branch protection in force as plain values (what a scan would read), or None."""
    rs = _ruleset_table(baseline_cfg)
    if rs is None or spec.protection == "none":
        return None
    if spec.protection == "classic":
        body = _classic_body(rs, spec.deviations)
        pr = body["required_pull_request_reviews"]
        return {"reviews": pr["required_approving_review_count"], "dismiss": pr["dismiss_stale_reviews"],
                "code_owners": pr["require_code_owner_reviews"],
                "checks": body["required_status_checks"]["contexts"],
                "strict": body["required_status_checks"]["strict"], "admins": body["enforce_admins"],
                "signed": body["required_signatures"]["enabled"]}
    rules = {r["type"]: r.get("parameters", {}) for r in _repo_ruleset(rs, spec.deviations)["rules"]}
    pr = rules["pull_request"]
    sc = rules.get("required_status_checks", {})
    return {"reviews": pr["required_approving_review_count"], "dismiss": pr["dismiss_stale_reviews_on_push"],
            "code_owners": pr["require_code_owner_review"],
            "checks": [c["context"] for c in sc.get("required_status_checks", [])],
            "strict": sc.get("strict_required_status_checks_policy", False),
            "admins": not _repo_ruleset(rs, spec.deviations)["bypass_actors"],
            "signed": "required_signatures" in rules}


def _codeowners_problem(text: str) -> str | None:
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 1:
            return f"line {n}: pattern {parts[0]} has no owner"
        bad = [o for o in parts[1:] if not o.startswith("@") and "@" not in o]
        if bad:
            return f"line {n}: owner {bad[0]!r} is neither @user, @org/team nor an email"
    return None


def _forbidden_match(pattern: str, path: str) -> bool:
    from fnmatch import fnmatch

    if pattern.startswith("**/"):
        return fnmatch(path.rsplit("/", 1)[-1], pattern[3:]) or fnmatch(path, pattern[3:])
    return fnmatch(path, pattern)


def _process_expectations(spec: _Spec, baseline_cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """What a process scan of this repo should report, from its head config vs its settings."""
    cfg = spec.cfg
    process = cfg.get("process") or {}
    found: list[tuple[str, str]] = []
    repo = process.get("repo") or {}
    rs = repo.get("ruleset")
    prot = _effective_protection(spec, baseline_cfg)
    if repo.get("enabled") and repo.get("require_branch_protection") and prot is None:
        found.append(("branch_protection_missing",
                      f"{spec.default_branch} has no classic protection and no repo ruleset "
                      "(only the org ruleset's deletion/non_fast_forward rules)"))
    if repo.get("enabled") and rs and prot is not None:
        if prot["reviews"] < rs.get("required_reviews", 0):
            found.append(("required_reviews_too_low",
                          f"expected {rs['required_reviews']} approving reviews, actual {prot['reviews']}"))
        if rs.get("dismiss_stale_reviews") and not prot["dismiss"]:
            found.append(("stale_reviews_not_dismissed", "expected stale reviews dismissed on push, actual not"))
        if rs.get("require_code_owner_reviews") and not prot["code_owners"]:
            found.append(("code_owner_review_not_required", "expected code owner review"))
        missing = [c for c in rs.get("require_status_checks", []) if c not in prot["checks"]]
        if missing:
            found.append(("status_checks_missing",
                          f"expected status checks {rs['require_status_checks']}, actual {prot['checks']} "
                          f"(missing {missing})"))
        if rs.get("require_branches_up_to_date") and not prot["strict"]:
            found.append(("branches_not_up_to_date", "expected strict status checks"))
        if rs.get("require_signed_commits") and not prot["signed"]:
            found.append(("signed_commits_not_required", "expected signed commits"))
        if rs.get("enforce_admins") and not prot["admins"]:
            found.append(("admins_not_enforced", "expected admins included"))
    if repo.get("enabled") and repo.get("require_codeowners"):
        owners = next((spec.tree[p] for p in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
                       if p in spec.tree), None)
        if owners is None:
            found.append(("codeowners_missing", "require_codeowners = true but there is no CODEOWNERS file"))
        elif (problem := _codeowners_problem(str(owners))) is not None:
            found.append(("codeowners_invalid", f".github/CODEOWNERS {problem}"))
    ff = process.get("forbidden_files") or {}
    if ff.get("enabled"):
        hits = sorted(p for p in spec.tree for g in ff.get("files", []) if _forbidden_match(g, p))
        if hits:
            found.append(("forbidden_file_present", f"{', '.join(hits)} matches {ff['files']}"))
    ci = process.get("ci") or {}
    if ci.get("enabled"):
        for wf in ci.get("require_workflows", []):
            if f".github/workflows/{wf}" not in spec.tree:
                found.append(("required_workflow_missing", f".github/workflows/{wf} is missing"))
    commits = process.get("commits") or {}
    if commits.get("enabled") and commits.get("conventional"):
        bad = [m for m in spec.window_messages if not CONVENTIONAL.match(m)]
        if bad:
            found.append(("commit_convention_violated",
                          f"{len(bad)} commit(s) in the window are not conventional, e.g. {bad[0]!r}"))
    tp = repo.get("tag_protection")
    if repo.get("enabled") and tp and spec.protection == "none":
        found.append(("tag_protection_missing", f"no tag ruleset for {tp.get('patterns')}"))
    return found


# -- scope and projects ---------------------------------------------------------------------------


def _projects(spec: _Spec) -> tuple[SeededProject, ...]:
    paths = set(spec.tree)
    dirs: dict[str, str] = {}
    for marker, lang in (("package.json", "typescript"), ("pyproject.toml", "python")):
        for p in sorted(paths):
            if p == marker or p.endswith("/" + marker):
                d = p[: -len(marker) - 1] if "/" in p else "."
                if any(part in {"node_modules", "dist", "build"} for part in d.split("/")):
                    continue
                if d in dirs:
                    continue
                if marker == "package.json" and json.loads(spec.tree[p]).get("workspaces"):
                    dirs[d] = "workspace-root"
                    continue
                dirs[d] = lang
    out = []
    for d, lang in sorted(dirs.items()):
        if lang == "workspace-root":
            continue
        prefix = "" if d == "." else d + "/"
        config = next((name for name in ("standards.toml", "check.toml") if prefix + name in paths), None)
        out.append(SeededProject(d, lang, config))
    return tuple(out)


def _scope(spec: _Spec) -> tuple[bool, str]:
    if spec.archived:
        return False, "archived"
    if spec.excluded:
        return False, "excluded by drift.config.yaml (legacy-*)"
    root_cfg = next((n for n in ("standards.toml", "check.toml") if n in spec.tree), None)
    has_meta = "repo-metadata.yaml" in spec.tree or (root_cfg == "standards.toml" and spec.metadata)
    if not has_meta and root_cfg is None:
        return False, "no repo metadata and no standards config"
    if not has_meta:
        return False, "no repo metadata (repo-metadata.yaml or standards.toml [metadata])"
    if root_cfg is None:
        return False, "no check.toml / standards.toml at the root"
    return True, f"{'repo-metadata.yaml' if 'repo-metadata.yaml' in spec.tree else 'standards.toml [metadata]'} + {root_cfg}"


# -- state housekeeping ------------------------------------------------------------------------------


def _org_exists(state: SandboxState, org: str) -> bool:
    return org in state.data["orgs"] or any(r.get("owner") == org for r in state.data["repos"].values())


def _wipe_org(state: SandboxState, org: str) -> None:
    prefix = f"{org}/"
    for table in ("repos", "protections", "rulesets", "issues", "labels"):
        for key in [k for k in state.data.get(table, {}) if k.startswith(prefix)]:
            del state.data[table][key]
    for key in [k for k in state.data.get("comments", {}) if k.startswith(prefix)]:
        del state.data["comments"][key]
    state.data.get("org_rulesets", {}).pop(org, None)
    state.data["orgs"].pop(org, None)
    shutil.rmtree(state.root / "repos" / org, ignore_errors=True)


# -- git -----------------------------------------------------------------------------------------


def _fast_import(repo: Path, branch: str,
                 commits: list[tuple[dict[str, str | bytes | None], str, Author, datetime]]) -> list[str]:
    """Write a whole linear history onto ``branch`` with one ``git fast-import``; return the shas.

    The same objects ``gitutil.commit_files`` would make, one commit per entry (files mapped to
    ``None`` are deleted), with explicit dates, but one git process per repository instead of
    several per file: what keeps seeding hundreds of repos for a benchmark fast.
    """
    out = bytearray()
    for mark, (files, message, author, when) in enumerate(commits, 1):
        stamp = f"{int(when.timestamp())} +0000"
        msg = (message + "\n").encode()
        out += (f"commit refs/heads/{branch}\nmark :{mark}\n"
                f"author {author.name} <{author.email}> {stamp}\n"
                f"committer {author.name} <{author.email}> {stamp}\n"
                f"data {len(msg)}\n").encode() + msg
        for path, content in sorted(files.items()):
            if content is None:
                out += f"D {path}\n".encode()
                continue
            data = content.encode() if isinstance(content, str) else content
            out += f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"
        out += b"\n"
    marks = Path(repo) / "seed-marks"  # ``repo`` is the bare repository itself
    try:
        git(repo, "fast-import", "--quiet", "--date-format=raw", f"--export-marks={marks}", input=bytes(out))
        by_mark = dict(line.split(" ", 1) for line in marks.read_text().splitlines())
    finally:
        marks.unlink(missing_ok=True)
    return [by_mark[f":{i}"].strip() for i in range(1, len(commits) + 1)]


# -- the entry point -------------------------------------------------------------------------------


def seed_org(state_dir: Path | str, *, org: str = "acme", repos: int = 12, days: int = 14, seed: int = 0,
             end_date: date | None = None, aws: Any = None, force: bool = False) -> SeedReport:
    """Seed a demo org into ``state_dir`` and return what a scan should find.

    ``repos`` counts product repos (minimum 8); registry, config and out-of-scope repos come on
    top. ``end_date`` is the last day of the ``days``-day window (default ``DEFAULT_END_DATE``).
    ``aws`` (an AWS sandbox object or an endpoint URL) also deploys the infra scenario.
    An org that already exists in the state is refused unless ``force`` (which wipes it first).
    """
    if repos < MIN_REPOS:
        raise UsageError(f"--repos must be at least {MIN_REPOS} (the scripted scenario needs them), got {repos}")
    if days < 1:
        raise UsageError(f"--days must be at least 1, got {days}")
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", org):
        raise UsageError(f"invalid org name {org!r}")
    end = end_date or DEFAULT_END_DATE
    start = end - timedelta(days=days - 1)
    state = SandboxState.open(state_dir)
    if _org_exists(state, org):
        if not force:
            raise UsageError(f"org {org!r} already exists in {state.root}; use --force to wipe and re-seed it")
        _wipe_org(state, org)

    state.add_org(org, name=org.capitalize())
    for team in TEAMS.values():
        for _name, login in team:
            state.add_user(login)

    product = _core_specs() + _extra_specs(repos - MIN_REPOS)
    others = _out_of_scope_specs()
    specs = {s.name: s for s in product + others}
    scripted = _scripted_commits(specs, start, days, random.Random(f"{seed}:scripted"), org)

    events: dict[str, SeededEvent] = {}
    ev_order: list[str] = []
    background: list[SeededEvent] = []
    baseline_cfgs: dict[str, dict[str, Any]] = {}
    window_start = datetime.combine(start, time(0), tzinfo=timezone.utc)

    _seed_fixed_repos(state, org, start, sorted({t for t in TEAMS}))

    for spec in product + others:
        rng = random.Random(f"{seed}:{org}:{spec.name}")
        spec.tree = {}
        initial = _initial_tree(spec, org)
        commits = _baseline_commits(spec, start, rng, org)
        commits[0].change = lambda s, files=initial: dict(files)
        commits += _background_commits(spec, start, days, rng, org) + scripted.get(spec.name, [])
        commits.sort(key=lambda c: c.when)
        git_dir = state.create_repo(org, spec.name, default_branch=spec.default_branch, private=spec.private,
                                    archived=spec.archived, description=spec.description,
                                    created_at=commits[0].when)
        planned: list[tuple[_Commit, dict[str, str | bytes | None]]] = []
        for c in commits:
            if c.when >= window_start and not baseline_cfgs.get(spec.name):
                baseline_cfgs[spec.name] = json.loads(json.dumps(spec.cfg))
            files = c.change(spec)
            for path, content in files.items():
                if content is None:
                    spec.tree.pop(path, None)
                else:
                    spec.tree[path] = content
            planned.append((c, files))
        spec.shas = _fast_import(git_dir, spec.default_branch,
                                 [(files, c.message, c.author, c.when) for c, files in planned])
        for (c, files), sha in zip(planned, spec.shas):
            if c.when >= window_start:
                spec.window_messages.append(c.message)
            for kind, project, description in c.events:
                ev = SeededEvent(c.when.date(), spec.name, project, kind,
                                 tuple(sorted(files)), (sha,), description)
                if c.background:
                    background.append(ev)
                    continue
                key = f"{c.event_key or sha}:{kind}"
                events[key] = ev
                ev_order.append(key)
            if c.event_key and not c.events:   # a follow-up commit of an earlier event
                for key in [k for k in events if k.startswith(c.event_key + ":")]:
                    old = events[key]
                    events[key] = dataclasses.replace(
                        old, paths=tuple(sorted(set(old.paths) | set(files))),
                        commit_shas=old.commit_shas + (sha,))
        baseline_cfgs.setdefault(spec.name, json.loads(json.dumps(spec.cfg)))
        _apply_settings(state, org, spec, baseline_cfgs[spec.name])

    state.add_org_ruleset(org, _org_ruleset())
    state.save()

    seeded: list[SeededRepo] = []
    expectations: dict[str, tuple[str, ...]] = {}
    details: dict[str, tuple[str, ...]] = {}
    for spec in product + others:
        in_scope, reason = _scope(spec)
        root_cfg = next((n for n in ("standards.toml", "check.toml") if n in spec.tree), None)
        tier = spec.tier
        if "repo-metadata.yaml" in spec.tree:
            tier = (yaml.safe_load(str(spec.tree["repo-metadata.yaml"])) or {}).get("tier", tier)
        seeded.append(SeededRepo(
            name=spec.name, full_name=f"{org}/{spec.name}", tier=tier if spec.metadata else None,
            status=spec.status if spec.metadata else None, team=spec.team if spec.metadata else None,
            language=spec.language, in_scope=in_scope,
            scope_reason=reason,
            config_file=root_cfg, projects=_projects(spec), default_branch=spec.default_branch,
            head_sha=spec.shas[-1], archived=spec.archived, protection=spec.protection,
            infra_stacks=tuple(spec.cfg.get("infra", {}).get("stacks", [])) if spec.infra else ()))
        if in_scope and root_cfg is not None:
            found = _process_expectations(spec, baseline_cfgs[spec.name])
            if found:
                expectations[spec.name] = tuple(k for k, _ in found)
                details[spec.name] = tuple(f"{k}: {d}" for k, d in found)

    aws_text = None
    if aws is not None:
        aws_text = _deploy_infra(aws, org, [s for s in product if s.infra], seed)

    ordered = sorted((events[k] for k in dict.fromkeys(ev_order)), key=lambda e: (e.day, e.repo, e.kind))
    return SeedReport(
        org=org, state_dir=str(Path(state_dir)), start_date=start, end_date=end, days=days, seed=seed,
        repos=tuple(seeded), events=tuple(ordered),
        background_commits=tuple(sorted(background, key=lambda e: (e.day, e.repo))),
        process_expectations=expectations, process_details=details, aws=aws_text)


def _seed_fixed_repos(state: SandboxState, org: str, start: date, teams: list[str]) -> None:
    """The registry (verbatim community rulesets) and the drift config repo."""
    author = Author("Alex Morgan", f"alex.morgan@{org}.example")
    born = datetime.combine(start - timedelta(days=400), time(10, 12, 5), tzinfo=timezone.utc)
    reg = state.create_repo(org, REGISTRY_REPO, private=False, created_at=born,
                            description="Shared check.toml rulesets for every repo ({language}[-frontend]-{tier}).")
    files: dict[str, str | bytes] = {"LICENSE": (REGISTRY_DATA / "LICENSE").read_bytes(),
                                     "README.md": F.registry_readme(org)}
    for path in sorted((REGISTRY_DATA / "rulesets").glob("*.toml")):
        files[f"rulesets/{path.name}"] = path.read_bytes()
    _fast_import(reg, "main", [(files, "feat: import community rulesets (4bba461)", author, born)])

    cfg_born = born + timedelta(days=30, hours=3)
    repo = state.create_repo(org, CONFIG_REPO, created_at=cfg_born,
                             description="Organisation drift-scan configuration.")
    _fast_import(repo, "main", [({
        "drift.config.yaml": F.drift_config(teams),
        "README.md": f"# drift-config\n\nConfiguration for the daily drift scan of `{org}`.\n",
        ".github/workflows/drift-scan.yml": F.drift_scan_workflow(org),
    }, "chore: add drift scan configuration", author, cfg_born)])


def _deploy_infra(aws: Any, org: str, specs: list[_Spec], seed: int) -> str:
    from drift_pipeline.sandbox.infra_seed import InfraRepo, deploy_org_infra, stack_template

    infra_repos = [
        InfraRepo(full_name=f"{org}/{s.name}", project=".", status=s.status or "active",
                  stacks={st: stack_template(st) for st in s.cfg["infra"]["stacks"]},
                  commit_sha=s.shas[-1], accounts=dict(s.cfg["infra"]["accounts"]))
        for s in specs if s.cfg.get("infra", {}).get("enabled")
    ]
    scenario = deploy_org_infra(aws, infra_repos, seed=seed)
    return scenario.describe()


# -- rendering -------------------------------------------------------------------------------------


def _describe(r: SeedReport) -> str:
    lines = [f"# Demo org `{r.org}`", "",
             f"Window: {r.start_date} .. {r.end_date} ({r.days} days, seed {r.seed}); state in `{r.state_dir}`.",
             "", "## Repositories", "",
             "| repo | tier | status | team | language | in scope | config | projects | protection | head |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for repo in r.repos:
        projects = ", ".join(f"{p.path}{'' if p.config else ' (no config)'}" for p in repo.projects) or "-"
        scope = "yes" if repo.in_scope else f"no: {repo.scope_reason}"
        lines.append(f"| {repo.name} | {repo.tier or '-'} | {repo.status or '-'} | {repo.team or '-'} | "
                     f"{repo.language} | {scope} | {repo.config_file or '-'} | {projects} | "
                     f"{repo.protection} | {repo.head_sha[:7]} |")
    lines += ["", "Also: `standards-community` (registry, the community rulesets verbatim) and "
              "`drift-config` (`drift.config.yaml`, excludes `legacy-*`). An org ruleset "
              "(deletion, non_fast_forward on the default branch) covers every repo but `legacy-*`.",
              "", "## Scripted code events (what a scan should find)", "",
              "| day | repo | project | finding | paths | commits | what |", "|---|---|---|---|---|---|---|"]
    for e in r.events:
        lines.append(f"| {e.day} | {e.repo} | {e.project} | `{e.kind}` | {', '.join(e.paths)} | "
                     f"{', '.join(s[:7] for s in e.commit_shas)} | {e.description} |")
    lines += ["", "## Process expectations (settings now vs the head config)", ""]
    if not r.process_expectations:
        lines.append("None.")
    for repo, kinds in r.process_expectations.items():
        lines.append(f"- **{repo}**: " + "; ".join(r.process_details.get(repo, kinds)))
    lines += ["", "Every other in-scope repo is compliant with its `[process.*]` tables.", "",
              "## Background commits (not drift)", ""]
    if not r.background_commits:
        lines.append("None.")
    for e in r.background_commits:
        lines.append(f"- {e.day} {e.repo}: {e.description} ({e.commit_shas[0][:7]})")
    lines += ["", "## AWS", ""]
    lines.append(r.aws if r.aws else "Not seeded (pass `--aws-endpoint`). Repos with `[infra]`: " + ", ".join(
        f"{x.name} ({x.status})" for x in r.repos if x.infra_stacks) + ".")
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- demo-scenario:begin (generated by drift_pipeline.sandbox.seed.readme_scenario) -->"
README_END = "<!-- demo-scenario:end -->"
README_STATE_DIR = ".sandbox/demo"


def readme_scenario(report: SeedReport) -> str:
    """``report.describe()`` as the README's generated block (headings nested, neutral path)."""
    text = report.describe().replace(f"`{report.state_dir}`", f"`{README_STATE_DIR}`")
    text = re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", text, flags=re.M)
    return f"{README_BEGIN}\n{text.rstrip()}\n{README_END}"


def update_readme(readme: Path, state_dir: Path) -> None:
    """Regenerate the README's scenario block for the default parameters (``python -m ...seed``)."""
    report = seed_org(state_dir, force=True)
    text = readme.read_text()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + readme_scenario(report) + text[end:])


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        update_readme(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("README.md"),
                      Path(tmp))
