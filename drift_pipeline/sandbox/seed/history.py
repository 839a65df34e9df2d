"""The history: baseline commits before the window, background changes in it, the scripted events.

Every commit is planned as a ``_Commit`` (date, message, author, and a change computed from the
repo's tree at that point), then a repo's whole linear history is written with one
``git fast-import`` (``fastimport``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from drift_pipeline.sandbox import seed_files as F
from drift_pipeline.sandbox import seed_files_py as PY
from drift_pipeline.sandbox import seed_files_ts as TS
from drift_pipeline.sandbox.seed.catalogue import TEAMS, _Spec, email_of
from drift_pipeline.sandbox.seed.configs import _config_text, _package_config
from drift_pipeline.sources.gitutil import Author


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
    event_key: str | None = None  # commits sharing a key form one event
    background: bool = False


def _author(spec: _Spec, rng: random.Random, org: str) -> Author:
    name, _login = rng.choice(TEAMS[spec.team])
    return Author(name, email_of(name, org))


def _at(day: date, rng: random.Random, lo: int = 9, hi: int = 17) -> datetime:
    return datetime.combine(day, time(rng.randint(lo, hi), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC)


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
    commits = [
        _Commit(
            _at(born, rng),
            _msg(spec, "chore: initial commit", "Initial commit"),
            _author(spec, rng, org),
            lambda s: dict(s.tree),
        )
    ]
    if spec.product:
        mid = born + timedelta(days=rng.randint(5, max(6, (start - born).days - 10)))
        commits.append(
            _Commit(
                _at(mid, rng),
                _msg(spec, "docs: add on-call section to README", "update readme"),
                _author(spec, rng, org),
                lambda s: {
                    "README.md": str(s.tree["README.md"])
                    + "\n## On call\n\nPage the owning team via the #incidents channel.\n"
                },
            )
        )
    if spec.forbidden_env:
        when = start - timedelta(days=rng.randint(3, 20))
        commits.append(
            _Commit(
                _at(when, rng),
                "chore: add local env for docker compose",
                _author(spec, rng, org),
                lambda s: {".env": F.env_file(s.name)},
            )
        )
    if spec.ci_removed:
        when = start - timedelta(days=rng.randint(3, 20))
        commits.append(
            _Commit(
                _at(when, rng),
                _msg(spec, "ci: remove the CI workflow (the service is deprecated)", "remove ci"),
                _author(spec, rng, org),
                lambda s: {".github/workflows/ci.yml": None},
            )
        )
    return commits


def _background_commits(spec: _Spec, start: date, days: int, rng: random.Random, org: str) -> list[_Commit]:
    """Ordinary source changes inside the window (not drift)."""
    chosen = [
        d for d in range(1, days + 1) if (start + timedelta(days=d - 1)).weekday() < 5 and rng.random() < spec.activity
    ]
    if spec.activity >= 0.25 and not chosen:
        chosen = [rng.randint(1, days)]
    snippets = PY.PY_SNIPPETS if spec.language == "python" else TS.TS_SNIPPETS
    offset = rng.randrange(len(snippets))
    commits = []
    for i, d in enumerate(chosen):
        fn, code = snippets[(offset + i) % len(snippets)]
        path = _src_file(spec)
        kind = "feat" if i % 2 == 0 else "refactor"
        scope = spec.name.split("-")[0]

        def change(s: _Spec, path: str = path, code: str = code) -> dict[str, str | bytes | None]:
            return {path: str(s.tree[path]) + "\n\n" + code}

        message = _msg(spec, f"{kind}({scope}): add {fn} helper", f"add {fn}")
        commits.append(
            _Commit(
                _at(start + timedelta(days=d - 1), rng),
                message,
                _author(spec, rng, org),
                change,
                events=[("source_changed", ".", f"{path}: added {fn}() (not drift)")],
                background=True,
            )
        )
    return commits


def _set(cfg: dict[str, Any], keys: list[str], value: Any) -> None:
    for k in keys[:-1]:
        cfg = cfg[k]
    cfg[keys[-1]] = value


def _scripted_commits(
    specs: dict[str, _Spec], start: date, days: int, rng: random.Random, org: str
) -> dict[str, list[_Commit]]:
    """The scripted events of the demo history, repo -> commits, in day order.

    Long because it is the scenario's script: one ``add`` per scripted event, day by day; split up,
    the story the demo tells would be scattered over several functions.
    """
    slot = scripted_days(days)

    def day(n: int) -> date:
        return start + timedelta(days=slot[n] - 1) if n in slot else start + timedelta(days=n - 1)

    out: dict[str, list[_Commit]] = {name: [] for name in specs}

    def add(repo: str, when: datetime, message: str, change, events, key=None) -> None:
        spec = specs[repo]
        out[repo].append(_Commit(when, message, _author(spec, rng, org), change, events, key))

    # day 3: an eslint rule added (web-storefront); a tsconfig option relaxed (orders-api)
    add(
        "web-storefront",
        _at(day(3), rng, 10, 12),
        "chore(lint): allow explicit any in checkout components",
        lambda s: {
            "eslint.config.js": TS.eslint_config(
                frontend=True, extra_rules=['"@typescript-eslint/no-explicit-any": "off",']
            )
        },
        [("dependency_changed", ".", "eslint.config.js: rule @typescript-eslint/no-explicit-any turned off")],
    )
    add(
        "orders-api",
        _at(day(3), rng, 14, 16),
        "build(tsconfig): relax noUnusedParameters for generated route handlers",
        lambda s: {"tsconfig.json": TS.tsconfig(overrides={"noUnusedParameters": False})},
        [
            (
                "dependency_changed",
                ".",
                "tsconfig.json: noUnusedParameters true -> false "
                "(required by the typescript-production ruleset's tsc settings)",
            )
        ],
    )

    # day 4: required reviews raised in check.toml; a workflow changed; two commits on one day
    def raise_reviews(s: _Spec) -> dict[str, str]:
        _set(s.cfg, ["process", "repo", "ruleset", "required_reviews"], 2)
        return {"check.toml": _config_text(s, s.cfg)}

    add(
        "payments-service",
        _at(day(4), rng, 9, 11),
        "chore(process): require two approving reviews",
        raise_reviews,
        [
            (
                "check_toml_changed",
                ".",
                "check.toml: [process.repo.ruleset] required_reviews 1 -> 2 (the branch protection still requires 1)",
            )
        ],
    )
    add(
        "inventory-service",
        _at(day(4), rng, 11, 13),
        "speed up CI",
        lambda s: {
            ".github/workflows/ci.yml": F.ci_workflow(
                "python", s.default_branch, python_version="3.12", test_continue_on_error=True
            )
        },
        [
            (
                "workflow_changed",
                ".",
                ".github/workflows/ci.yml: Python 3.11 -> 3.12 and the test job made continue-on-error",
            )
        ],
    )

    def bump_httpx(s: _Spec) -> dict[str, str]:
        return {"pyproject.toml": str(s.tree["pyproject.toml"]).replace('"httpx>=0.27"', '"httpx>=0.28"')}

    def add_tenacity(s: _Spec) -> dict[str, str]:
        return {
            "pyproject.toml": str(s.tree["pyproject.toml"]).replace(
                '    "httpx>=0.28",\n', '    "httpx>=0.28",\n    "tenacity>=8.5",\n'
            )
        }

    add(
        "notifications-worker",
        _at(day(4), rng, 9, 11),
        "chore(deps): bump httpx to 0.28",
        bump_httpx,
        [
            (
                "dependency_changed",
                ".",
                "pyproject.toml changed twice on the same day (httpx bump, then "
                "tenacity added): both commits are in the window",
            )
        ],
        key="notif-deps",
    )
    add(
        "notifications-worker",
        _at(day(4), rng, 15, 17),
        "fix(deps): add tenacity for SMS retries",
        add_tenacity,
        [],
        key="notif-deps",
    )

    # day 5: check.toml deleted; a monorepo package added without a config
    add(
        "web-storefront",
        _at(day(5), rng, 13, 15),
        "chore: drop check.toml, lint config lives in eslint now",
        lambda s: {"check.toml": None},
        [
            (
                "check_toml_removed",
                ".",
                "check.toml deleted: the repo no longer declares standards (and so drops out of scope)",
            )
        ],
    )

    def new_package(s: _Spec) -> dict[str, str]:
        base = "packages/metrics-client"
        return {
            f"{base}/package.json": TS.package_json(f"@{org}/metrics-client", "0.1.0"),
            f"{base}/src/index.ts": (
                "export function counter(name: string): { inc(): void } {\n"
                "  let value = 0;\n"
                "  return { inc: () => { value += 1; void name; } };\n}\n"
            ),
        }

    add(
        "data-platform",
        _at(day(5), rng, 10, 12),
        "feat(metrics-client): add metrics client package",
        new_package,
        [
            (
                "project_without_standards",
                "packages/metrics-client",
                "new workspace package packages/metrics-client (package.json) without a check.toml",
            )
        ],
    )

    # day 6: tier raised without changing rulesets; a check.toml broken
    def raise_tier(s: _Spec) -> dict[str, str]:
        return {"repo-metadata.yaml": F.repo_metadata("production", s.status, s.team)}

    add(
        "admin-console",
        _at(day(6), rng, 9, 11),
        "chore: admin-console is now a production service",
        raise_tier,
        [
            ("metadata_changed", ".", "repo-metadata.yaml: tier internal -> production"),
            (
                "tier_ruleset_mismatch",
                ".",
                "tier is production but check.toml extends "
                "typescript-frontend-internal (no ruleset ends with -production)",
            ),
        ],
    )

    def break_toml(s: _Spec) -> dict[str, str]:
        path = "apps/ops-console/check.toml"
        return {path: str(s.tree[path]) + "\n[code.coverage_run\nenabled = true\nmin_threshold = 70\n"}

    add(
        "data-platform",
        _at(day(6), rng, 14, 16),
        "chore(ops-console): enable coverage",
        break_toml,
        [
            ("check_toml_changed", "apps/ops-console", "apps/ops-console/check.toml changed"),
            (
                "invalid_config",
                "apps/ops-console",
                "apps/ops-console/check.toml: unclosed table header "
                "[code.coverage_run (TOML parse error), broken until the end of the window",
            ),
        ],
    )

    # a ruff.toml change in a Python repo
    ruff_day = start + timedelta(days=_ruff_day(days) - 1)
    add(
        "inventory-service",
        _at(ruff_day, rng, 14, 17),
        "tweak lint settings",
        lambda s: {"ruff.toml": PY.ruff_toml(line_length=120, ignore=["E501", "B008"])},
        [("dependency_changed", ".", "ruff.toml: line-length 100 -> 120, B008 ignored")],
    )

    # day 7 (the ruff day): the config-less monorepo package gets a check.toml naming a ruleset the
    # registry does not have
    def ui_kit_config(s: _Spec) -> dict[str, str]:
        return {"packages/ui-kit/check.toml": _package_config("typescript-library-internal", org)}

    add(
        "data-platform",
        _at(ruff_day, rng, 9, 11),
        "chore(ui-kit): add standards config",
        ui_kit_config,
        [
            ("check_toml_added", "packages/ui-kit", "packages/ui-kit/check.toml added"),
            (
                "registry_unresolved",
                "packages/ui-kit",
                "packages/ui-kit/check.toml extends typescript-library-internal, a ruleset the registry "
                "standards-community does not have (announced, never published)",
            ),
        ],
    )
    return out
