"""A small, explicit org for the pipeline tests: real git history with known dates.

Unlike the demo generator (``sandbox.seed``), every event here is written out so that a test can
state the exact finding it expects, day by day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import Author, commit_files

REGISTRY = Path(__file__).resolve().parents[2] / "drift_pipeline" / "sandbox" / "data" / "registry-community"
ALICE = Author("Alice Doe", "alice@example.com")
BOB = Author("Bob Roe", "bob@example.com")

DAY0 = date(2026, 3, 1)  # baseline: every repo's first commit
DAY1, DAY2, DAY3, DAY4, DAY5 = (date(2026, 3, d) for d in (2, 3, 4, 5, 6))


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


TS_CONFIG = """[extends]
registry = "github:acme/standards-community"
rulesets = ["typescript-internal"]

[code.linting.eslint]
enabled = true

[code.types.tsc]
enabled = true
"""

ESLINT_V1 = "export default [\n  { rules: { 'no-console': 'error' } },\n];\n"
ESLINT_V2 = "export default [\n  { rules: { 'no-console': 'error', eqeqeq: 'error' } },\n];\n"


@dataclass
class OrgFixture:
    state: SandboxState
    shas: dict[str, str] = field(default_factory=dict)  # event name -> commit sha


def build_org(root: Path) -> OrgFixture:
    """acme: web (typescript, internal), mono (workspace monorepo), broken, quiet, nometa, old (archived)."""
    state = SandboxState.open(root)
    state.add_org("acme")
    fx = OrgFixture(state)

    reg = state.create_repo("acme", "standards-community")
    commit_files(
        reg,
        "main",
        {f"rulesets/{p.name}": p.read_text() for p in sorted((REGISTRY / "rulesets").iterdir())},
        "feat: community rulesets",
        ALICE,
        at(DAY0, 8),
    )

    web = state.create_repo("acme", "web")
    fx.shas["web_initial"] = commit_files(
        web,
        "main",
        {
            "package.json": '{"name": "web"}\n',
            "tsconfig.json": '{"compilerOptions": {"strict": true}}\n',
            "eslint.config.js": ESLINT_V1,
            "check.toml": TS_CONFIG,
            "repo-metadata.yaml": "tier: internal\nstatus: active\nteam: storefront\n",
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
            "src/index.ts": "export const a = 1;\n",
        },
        "feat: initial",
        ALICE,
        at(DAY0, 9),
    )
    # day 1: a source-only change (not drift)
    commit_files(web, "main", {"src/index.ts": "export const a = 2;\n"}, "fix: bump", BOB, at(DAY1, 11))
    # day 2: eslint config changes twice in one day
    fx.shas["eslint_1"] = commit_files(
        web, "main", {"eslint.config.js": ESLINT_V2}, "chore: eqeqeq", ALICE, at(DAY2, 10)
    )
    fx.shas["eslint_2"] = commit_files(
        web,
        "main",
        {"eslint.config.js": ESLINT_V2.replace("eqeqeq", "'no-var'")},
        "chore: no-var instead",
        BOB,
        at(DAY2, 15),
    )
    # day 4: tier raised to production: rulesets end in -internal, so they no longer match
    fx.shas["tier"] = commit_files(
        web,
        "main",
        {"repo-metadata.yaml": "tier: production\nstatus: active\nteam: storefront\n"},
        "chore: promote to production",
        ALICE,
        at(DAY4, 9),
    )

    mono = state.create_repo("acme", "mono")
    commit_files(
        mono,
        "main",
        {
            "package.json": '{"name": "mono", "private": true, "workspaces": ["packages/*"]}\n',
            "repo-metadata.yaml": "tier: internal\n",
            "packages/api/package.json": '{"name": "api"}\n',
            "packages/api/check.toml": TS_CONFIG,
            "packages/api/tsconfig.json": "{}\n",
            "packages/ui/package.json": '{"name": "ui"}\n',
            "packages/ui/check.toml": TS_CONFIG,
        },
        "feat: monorepo",
        ALICE,
        at(DAY0, 9),
    )
    # day 3: the ui package deletes its config; a new package arrives without one
    fx.shas["ui_removed"] = commit_files(
        mono, "main", {"packages/ui/check.toml": None}, "chore: drop ui standards", BOB, at(DAY3, 14)
    )
    fx.shas["new_pkg"] = commit_files(
        mono, "main", {"packages/jobs/package.json": '{"name": "jobs"}\n'}, "feat: jobs package", BOB, at(DAY3, 16)
    )

    broken = state.create_repo("acme", "broken")
    commit_files(
        broken,
        "main",
        {
            "check.toml": "[code.linting.ruff]\nenabled = true\n",
            "pyproject.toml": "[project]\nname='b'\n",
            "repo-metadata.yaml": "tier: prototype\n",
        },
        "feat: start",
        ALICE,
        at(DAY0, 9),
    )
    fx.shas["broken"] = commit_files(
        broken, "main", {"check.toml": "[code.linting.ruff\nenabled = true\n"}, "wip", ALICE, at(DAY2, 12)
    )

    quiet = state.create_repo("acme", "quiet")
    commit_files(
        quiet,
        "main",
        {
            "check.toml": "[code.linting.ruff]\nenabled = true\n",
            "pyproject.toml": "[project]\nname='q'\n",
            "repo-metadata.yaml": "tier: prototype\n",
        },
        "feat: start",
        ALICE,
        at(DAY0, 9),
    )

    nometa = state.create_repo("acme", "nometa")
    commit_files(nometa, "main", {"check.toml": "", "README.md": "hi\n"}, "init", ALICE, at(DAY0, 9))
    old = state.create_repo("acme", "old", archived=True)
    commit_files(old, "main", {"check.toml": "", "repo-metadata.yaml": "tier: internal\n"}, "init", ALICE, at(DAY0, 9))
    state.save()
    return fx
