"""File contents of the demo org: realistic configs, sources and workflows, as plain text.

Pure functions of their arguments (no randomness, no clock), so the generator stays
deterministic. ``dump_toml`` writes the check.toml / standards.toml documents the generator
builds as dicts; every key it is given must exist in the schema (the generator only builds
schema keys), except where a file is broken on purpose. The language-specific files are in
:mod:`~drift_pipeline.sandbox.seed_files_ts` and :mod:`~drift_pipeline.sandbox.seed_files_py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from drift_pipeline.core.standards.org_config import CONFIG_REPO

# -- TOML -----------------------------------------------------------------------------------


class Inline(dict):
    """A dict written as a TOML inline table (``{ severity = "error", max = 4 }``)."""


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Inline):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and not isinstance(value, Inline)


def dump_toml(doc: dict[str, Any], *, comment: str = "") -> str:
    """Write ``doc`` (nested dicts = tables, ``Inline`` = inline tables) as TOML text."""
    blocks: list[str] = []
    if comment:
        blocks.append("\n".join(f"# {line}".rstrip() for line in comment.splitlines()))

    def table(path: list[str], body: dict[str, Any]) -> None:
        scalars = [(k, v) for k, v in body.items() if not _is_table(v)]
        tables = [(k, v) for k, v in body.items() if _is_table(v)]
        if path and (scalars or not tables):
            lines = ["[" + ".".join(_key(p) for p in path) + "]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in scalars]
            blocks.append("\n".join(lines))
        elif scalars:
            blocks.append("\n".join(f"{_key(k)} = {_value(v)}" for k, v in scalars))
        for k, v in tables:
            table([*path, k], v)

    table([], doc)
    return "\n\n".join(blocks) + "\n"


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2) + "\n"


# -- repo metadata ----------------------------------------------------------------------------


def repo_metadata(tier: str | None, status: str | None, team: str | None) -> str:
    """``repo-metadata.yaml``; a key whose value is None is left out."""
    return "".join(
        f"{key}: {value}\n" for key, value in (("tier", tier), ("status", status), ("team", team)) if value is not None
    )


def codeowners(org: str, team: str, *, extra: Sequence[tuple[str, str]] = ()) -> str:
    lines = ["# Code owners: the owning team reviews everything by default.", f"*       @{org}/{team}"]
    lines += [f"{pattern}  {owner}".rstrip() for pattern, owner in extra]
    return "\n".join(lines) + "\n"


def gitignore(language: str) -> str:
    if language == "python":
        return "__pycache__/\n*.pyc\n.venv/\n.pytest_cache/\n.ruff_cache/\ndist/\n"
    return "node_modules/\ndist/\nbuild/\ncoverage/\n*.log\n"


def readme(name: str, description: str, language: str, team: str) -> str:
    run = "pnpm install\npnpm test\npnpm build" if language == "typescript" else "uv sync\nuv run pytest"
    return f"# {name}\n\n{description}\n\nOwned by the **{team}** team.\n\n## Development\n\n```sh\n{run}\n```\n"


# -- CI -------------------------------------------------------------------------------------------


def ci_workflow(
    language: str, branch: str = "main", *, python_version: str = "3.11", test_continue_on_error: bool = False
) -> str:
    head = (
        "name: ci\n\non:\n  push:\n"
        f"    branches: [{branch}]\n  pull_request:\n\npermissions:\n  contents: read\n\njobs:\n"
    )
    if language == "python":
        setup = (
            "      - uses: actions/checkout@v4\n"
            "      - uses: astral-sh/setup-uv@v3\n"
            "        with:\n"
            f'          python-version: "{python_version}"\n'
            "      - run: uv sync --frozen\n"
        )
        jobs = {"lint": "uv run ruff check .", "test": "uv run pytest -q", "build": "uv build"}
    else:
        setup = (
            "      - uses: actions/checkout@v4\n"
            "      - uses: pnpm/action-setup@v4\n"
            "      - uses: actions/setup-node@v4\n"
            "        with:\n"
            "          node-version: 20\n"
            "          cache: pnpm\n"
            "      - run: pnpm install --frozen-lockfile\n"
        )
        jobs = {"lint": "pnpm lint", "test": "pnpm test -- --coverage", "build": "pnpm build"}
    out = head
    for job, run in jobs.items():
        out += f"  {job}:\n    name: {job}\n    runs-on: ubuntu-latest\n"
        if job == "test" and test_continue_on_error:
            out += "    continue-on-error: true\n"
        out += "    steps:\n" + setup + f"      - run: {run}\n"
    return out


def drift_scan_workflow(org: str) -> str:
    return (
        "name: drift-scan\n\non:\n  schedule:\n    - cron: \"0 2 * * *\"\n  workflow_dispatch:\n\n"
        "jobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        f"      - run: drift scan --org {org}\n"
        "        env:\n          GITHUB_TOKEN: ${{ secrets.DRIFT_TOKEN }}\n"
    )


def drift_config(teams: list[str]) -> str:
    lines = [
        "# Organisation-wide drift settings (read by the daily drift scan).",
        "schema:",
        "  tiers: [production, internal, prototype]",
        f"  teams: [{', '.join(teams)}]",
        "exclude:",
        '  - "legacy-*"',
        '  - "standards-community"',
        f'  - "{CONFIG_REPO}"',
    ]
    return "\n".join(lines) + "\n"


def registry_readme(org: str) -> str:
    return (
        "# standards-community\n\n"
        f"Shared rulesets for `{org}` repositories, copied from the public community registry\n"
        "(`chrismlittle123/standards-community`). A repo extends them from its `check.toml`:\n\n"
        "```toml\n[extends]\n"
        f'registry = "github:{org}/standards-community"\n'
        'rulesets = ["typescript-production"]\n```\n\n'
        "Rulesets are named `{language}[-frontend]-{tier}`; the tier must match the repo's\n"
        "`repo-metadata.yaml` tier.\n"
    )


def husky_hook(hook: str) -> str:
    """A husky git hook script (``.husky/<hook>``)."""
    command = {"pre-commit": "pnpm lint-staged", "commit-msg": 'pnpm commitlint --edit "$1"'}.get(hook, "pnpm test")
    return f"{command}\n"


def env_file(service: str) -> str:
    return (
        f"# local settings for {service}\n"
        "DATABASE_URL=postgres://app:app@localhost:5432/app\n"
        "STRIPE_API_KEY=sk_test_placeholder_not_a_real_key\n"
        "LOG_LEVEL=debug\n"
    )
