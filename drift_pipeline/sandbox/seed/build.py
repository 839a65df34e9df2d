"""``seed_org``: the catalogue, trees, history and settings put together into a sandbox state."""

from __future__ import annotations

import random
import re
import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import yaml

from drift_pipeline.core.errors import UsageError
from drift_pipeline.core.standards.org_config import CONFIG_REPO
from drift_pipeline.sandbox import seed_files as F
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.seed.catalogue import (
    DEFAULT_END_DATE,
    MIN_REPOS,
    REGISTRY_DATA,
    REGISTRY_REPO,
    TEAMS,
    _core_specs,
    _extra_specs,
    _out_of_scope_specs,
    _Spec,
    email_of,
)
from drift_pipeline.sandbox.seed.configs import backup_bucket
from drift_pipeline.sandbox.seed.expectations import _process_expectations, _projects, _scope
from drift_pipeline.sandbox.seed.fastimport import _fast_import
from drift_pipeline.sandbox.seed.history import (
    _Commit,
    _scripted_commits,
    scripted_days,
)
from drift_pipeline.sandbox.seed.process_history import PrPlan, process_commits, seed_teams
from drift_pipeline.sandbox.seed.report import (
    README_BEGIN,
    README_END,
    SeededRepo,
    SeedReport,
    readme_scenario,
)
from drift_pipeline.sandbox.seed.repos import _Seeding
from drift_pipeline.sandbox.seed.settings import _org_ruleset
from drift_pipeline.sources.gitutil import Author


def seed_org(
    state_dir: Path | str,
    *,
    org: str = "acme",
    repos: int = 12,
    days: int = 14,
    seed: int = 0,
    end_date: date | None = None,
    aws: Any = None,
    force: bool = False,
    change_rate: float | None = None,
) -> SeedReport:
    """Seed a demo org into ``state_dir`` and return what a scan should find.

    ``repos`` counts product repos (minimum 8); registry, config and out-of-scope repos come on
    top. ``end_date`` is the last day of the ``days``-day window (default ``DEFAULT_END_DATE``).
    ``aws`` (an AWS sandbox object or an endpoint URL) also deploys the infra scenario.
    An org that already exists in the state is refused unless ``force`` (which wipes it first).
    ``change_rate`` (0..1): the chance per working day that each generated ``service-NN`` repo gets
    a background commit (benchmarks); by default one in three of them changes with chance 0.1.
    """
    _check_args(org, repos, days, change_rate)
    end = end_date or DEFAULT_END_DATE
    start = end - timedelta(days=days - 1)
    state = _new_org(SandboxState.open(state_dir), org, force)
    product = _core_specs() + _extra_specs(repos - MIN_REPOS, change_rate)
    others = _out_of_scope_specs()
    scripted, plans = _scripted({s.name: s for s in product + others}, start, days, seed, org)
    run = _Seeding(state, org, seed, start, days, scripted, plans)
    _seed_fixed_repos(state, org, start, sorted({t for t in TEAMS}))
    run.write_all(product + others)
    state.add_org_ruleset(org, _org_ruleset())
    state.save()

    seeded, expectations, details = _seeded_repos(product + others, run.baseline_cfgs, org)
    aws_text: str | None = None
    infra_cases: tuple[tuple[str, str, str], ...] = ()
    if aws is not None:
        aws_text, infra_cases = _deploy_infra(aws, org, [s for s in product if s.infra], seed)
    return run.report(Path(state_dir), end, seeded, expectations, details, aws_text, infra_cases)


def _check_args(org: str, repos: int, days: int, change_rate: float | None) -> None:
    """Refuse (``UsageError``) what the scripted scenario cannot be seeded with."""
    if repos < MIN_REPOS:
        raise UsageError(f"--repos must be at least {MIN_REPOS} (the scripted scenario needs them), got {repos}")
    if days < 1:
        raise UsageError(f"--days must be at least 1, got {days}")
    if change_rate is not None and not 0 <= change_rate <= 1:
        raise UsageError(f"change_rate must be between 0 and 1, got {change_rate}")
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", org):
        raise UsageError(f"invalid org name {org!r}")


def _new_org(state: SandboxState, org: str, force: bool) -> SandboxState:
    """The org created in ``state`` (wiped first if it exists and ``force``) with its people and teams."""
    if _org_exists(state, org):
        if not force:
            raise UsageError(f"org {org!r} already exists in {state.root}; use --force to wipe and re-seed it")
        _wipe_org(state, org)
    state.add_org(org, name=org.capitalize())
    for team in TEAMS.values():
        for name, login in team:
            state.add_user(login, name=name, emails=[email_of(name, org)])
    seed_teams(state, org)
    return state


def _scripted(
    specs: dict[str, _Spec], start: date, days: int, seed: int, org: str
) -> tuple[dict[str, list[_Commit]], dict[int, PrPlan]]:
    """The scripted commits per repo, and how each process deviation among them reaches the default branch."""
    scripted = _scripted_commits(specs, start, days, random.Random(f"{seed}:scripted"), org)
    plans: dict[int, PrPlan] = {}  # id(_Commit) -> how it reaches the default branch
    for repo_name, c, plan in _process_deviations(specs, start, days, seed, org):
        scripted[repo_name].append(c)
        plans[id(c)] = plan
    return scripted, plans


def _seeded_repos(
    specs: list[_Spec], baseline_cfgs: dict[str, dict[str, Any]], org: str
) -> tuple[tuple[SeededRepo, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The oracle per repo: what it is, and the process findings (rule ids, details) of the in-scope ones."""
    seeded: list[SeededRepo] = []
    expectations: dict[str, tuple[str, ...]] = {}
    details: dict[str, tuple[str, ...]] = {}
    for spec in specs:
        seeded.append(repo := _seeded_repo(spec, org))
        if repo.in_scope and repo.config_file is not None:
            found = _process_expectations(spec, baseline_cfgs[spec.name], org)
            if found:
                expectations[spec.name] = tuple(k for k, _ in found)
                details[spec.name] = tuple(f"{k}: {d}" for k, d in found)
    return tuple(seeded), expectations, details


def _seeded_repo(spec: _Spec, org: str) -> SeededRepo:
    """One repo as a scan should see it at the head: metadata, scope, config, projects, protection."""
    in_scope, reason = _scope(spec)
    tier = spec.tier
    if "repo-metadata.yaml" in spec.tree:
        tier = (yaml.safe_load(str(spec.tree["repo-metadata.yaml"])) or {}).get("tier", tier)
    return SeededRepo(
        name=spec.name,
        full_name=f"{org}/{spec.name}",
        tier=tier if spec.metadata else None,
        status=spec.status if spec.metadata else None,
        team=spec.team if spec.metadata else None,
        language=spec.language,
        in_scope=in_scope,
        scope_reason=reason,
        config_file=next((n for n in ("standards.toml", "check.toml") if n in spec.tree), None),
        projects=_projects(spec),
        default_branch=spec.default_branch,
        head_sha=spec.shas[-1],
        archived=spec.archived,
        protection=spec.protection,
        infra_stacks=tuple(spec.cfg.get("infra", {}).get("stacks", [])) if spec.infra else (),
    )


def _process_deviations(
    specs: dict[str, _Spec], start: date, days: int, seed: int, org: str
) -> list[tuple[str, _Commit, PrPlan]]:
    """The scripted process deviations as commits (their own random stream: the rest stays as it was)."""
    rng = random.Random(f"{seed}:process")
    slot = scripted_days(days)

    def day(n: int) -> date:
        return start + timedelta(days=slot[n] - 1)

    def at(d: date, lo: int, hi: int) -> datetime:
        return datetime.combine(d, time(rng.randint(lo, hi - 1), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC)

    def author(spec: _Spec) -> Author:
        name, _login = rng.choice(TEAMS[spec.team])
        return Author(name, email_of(name, org))

    out = []
    for repo, when, message, who, change, plan in process_commits(specs, day, at, author, org):
        if repo in specs:
            out.append((repo, _Commit(when, message, who, change), plan))
    return out


def _seed_fixed_repos(state: SandboxState, org: str, start: date, teams: list[str]) -> None:
    """The registry (verbatim community rulesets) and the drift config repo."""
    author = Author("Alex Morgan", email_of("Alex Morgan", org))
    born = datetime.combine(start - timedelta(days=400), time(10, 12, 5), tzinfo=UTC)
    reg = state.create_repo(
        org,
        REGISTRY_REPO,
        private=False,
        created_at=born,
        description="Shared check.toml rulesets for every repo ({language}[-frontend]-{tier}).",
    )
    files: dict[str, str | bytes | None] = {
        "LICENSE": (REGISTRY_DATA / "LICENSE").read_bytes(),
        "README.md": F.registry_readme(org),
    }
    for path in sorted((REGISTRY_DATA / "rulesets").glob("*.toml")):
        files[f"rulesets/{path.name}"] = path.read_bytes()
    _fast_import(reg, "main", [(files, "feat: import community rulesets (4bba461)", author, born)])

    cfg_born = born + timedelta(days=30, hours=3)
    repo = state.create_repo(
        org, CONFIG_REPO, created_at=cfg_born, description="Organisation drift-scan configuration."
    )
    _fast_import(
        repo,
        "main",
        [
            (
                {
                    "drift.config.yaml": F.drift_config(teams),
                    "README.md": f"# drift-config\n\nConfiguration for the daily drift scan of `{org}`.\n",
                    ".github/workflows/drift-scan.yml": F.drift_scan_workflow(org),
                },
                "chore: add drift scan configuration",
                author,
                cfg_born,
            )
        ],
    )


def _deploy_infra(aws: Any, org: str, specs: list[_Spec], seed: int) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """Deploy the infra scenario: its description and (rule, repo, what) per finding a scan must make."""
    from drift_pipeline.sandbox.infra_seed import InfraRepo, Status, deploy_org_infra, stack_template

    infra_repos = [
        InfraRepo(
            full_name=f"{org}/{s.name}",
            project=".",
            status=cast(Status, s.status or "active"),
            stacks={st: stack_template(st) for st in s.cfg["infra"]["stacks"]},
            commit_sha=s.shas[-1],
            accounts=dict(s.cfg["infra"]["accounts"]),
            stale_backup=("prod", backup_bucket(s), s.backups) if s.backups else None,
        )
        for s in specs
        if s.cfg.get("infra", {}).get("enabled")
    ]
    scenario = deploy_org_infra(aws, infra_repos, seed=seed)
    cases = tuple(
        (str(d.rule), d.repo.split("/", 1)[1], f"{d.env} ({d.account}): {d.description}")
        for d in scenario.expected_findings()
    )
    return scenario.describe(), cases


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
    state.data.get("teams", {}).pop(org, None)
    state.data["orgs"].pop(org, None)
    shutil.rmtree(state.root / "repos" / org, ignore_errors=True)


def update_readme(readme: Path, state_dir: Path) -> None:
    """Regenerate the README's scenario block for the default parameters (``python -m ...seed``)."""
    report = seed_org(state_dir, force=True)
    text = readme.read_text()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + readme_scenario(report) + text[end:])
