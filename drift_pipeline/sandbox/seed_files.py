"""File contents of the demo org: realistic configs, sources and workflows, as plain text.

Pure functions of their arguments (no randomness, no clock), so the generator stays
deterministic. ``dump_toml`` writes the check.toml / standards.toml documents the generator
builds as dicts; every key it is given must exist in the schema (the generator only builds
schema keys), except where a file is broken on purpose.
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


# -- TypeScript ---------------------------------------------------------------------------------

TS_COMPILER_OPTIONS = {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": True,
    "noImplicitAny": True,
    "strictNullChecks": True,
    "noUnusedLocals": True,
    "noUnusedParameters": True,
    "noImplicitReturns": True,
    "noFallthroughCasesInSwitch": True,
    "esModuleInterop": True,
    "skipLibCheck": True,
    "forceConsistentCasingInFileNames": True,
    "outDir": "dist",
    "rootDir": "src",
}


def tsconfig(*, frontend: bool = False, overrides: dict[str, Any] | None = None) -> str:
    options = dict(TS_COMPILER_OPTIONS)
    if frontend:
        options.update(
            {
                "module": "ESNext",
                "moduleResolution": "Bundler",
                "jsx": "react-jsx",
                "lib": ["ES2022", "DOM", "DOM.Iterable"],
            }
        )
    options.update(overrides or {})
    return dump_json({"compilerOptions": options, "include": ["src"]})


def package_json(
    name: str,
    version: str,
    *,
    frontend: bool = False,
    workspaces: list[str] | None = None,
    deps: dict[str, str] | None = None,
) -> str:
    if workspaces is not None:
        doc: dict[str, Any] = {
            "name": name,
            "private": True,
            "workspaces": workspaces,
            "scripts": {"build": "pnpm -r build", "lint": "pnpm -r lint", "test": "pnpm -r test"},
            "devDependencies": {"typescript": "^5.5.4", "eslint": "^9.9.0"},
            "packageManager": "pnpm@9.7.0",
        }
        return dump_json(doc)
    if frontend:
        scripts = {"dev": "vite", "build": "tsc -b && vite build", "lint": "eslint .", "test": "vitest run"}
        dependencies = {"react": "^18.3.1", "react-dom": "^18.3.1", "@tanstack/react-query": "^5.51.1"}
        dev = {
            "@types/react": "^18.3.3",
            "@vitejs/plugin-react": "^4.3.1",
            "eslint": "^9.9.0",
            "typescript": "^5.5.4",
            "typescript-eslint": "^8.0.1",
            "vite": "^5.3.5",
            "vitest": "^2.0.5",
        }
    else:
        scripts = {
            "build": "tsc -p tsconfig.json",
            "lint": "eslint .",
            "test": "vitest run",
            "start": "node dist/index.js",
        }
        dependencies = {"fastify": "^4.28.1", "zod": "^3.23.8", "pino": "^9.3.2"}
        dev = {
            "@types/node": "^20.14.14",
            "eslint": "^9.9.0",
            "typescript": "^5.5.4",
            "typescript-eslint": "^8.0.1",
            "vitest": "^2.0.5",
        }
    dependencies.update(deps or {})
    return dump_json(
        {
            "name": name,
            "version": version,
            "private": True,
            "type": "module",
            "scripts": scripts,
            "dependencies": dict(sorted(dependencies.items())),
            "devDependencies": dev,
        }
    )


def eslint_config(*, frontend: bool = False, extra_rules: Sequence[str] = ()) -> str:
    files = '"src/**/*.{ts,tsx}"' if frontend else '"src/**/*.ts"'
    rules = [
        '"no-console": ["error", { allow: ["error", "warn"] }],',
        'eqeqeq: "error",',
        '"prefer-const": "error",',
        '"no-var": "error",',
        '"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],',
        *extra_rules,
    ]
    body = "\n".join(f"      {r}" for r in rules)
    return (
        'import js from "@eslint/js";\n'
        'import tseslint from "typescript-eslint";\n'
        "\n"
        "export default tseslint.config(\n"
        "  js.configs.recommended,\n"
        "  ...tseslint.configs.recommended,\n"
        "  {\n"
        '    ignores: ["dist/**", "node_modules/**", "build/**"],\n'
        "  },\n"
        "  {\n"
        f"    files: [{files}],\n"
        "    rules: {\n"
        f"{body}\n"
        "    },\n"
        "  },\n"
        ");\n"
    )


def vitest_config() -> str:
    return (
        'import { defineConfig } from "vitest/config";\n\n'
        "export default defineConfig({\n"
        "  test: {\n"
        '    coverage: { provider: "v8", reporter: ["text", "lcov"] },\n'
        "  },\n"
        "});\n"
    )


def ts_service_sources(domain: str, entity: str) -> dict[str, str]:
    cls = entity[:1].upper() + entity[1:]
    return {
        "src/index.ts": (
            'import Fastify from "fastify";\n'
            f'import {{ register{cls}Routes }} from "./{domain}.js";\n\n'
            "const app = Fastify({ logger: true });\n"
            f"register{cls}Routes(app);\n\n"
            "const port = Number(process.env.PORT ?? 3000);\n"
            'app.listen({ port, host: "0.0.0.0" }).catch((err: unknown) => {\n'
            "  app.log.error(err);\n"
            "  process.exit(1);\n"
            "});\n"
        ),
        f"src/{domain}.ts": (
            'import type { FastifyInstance } from "fastify";\n'
            'import { z } from "zod";\n\n'
            f"export const {cls}Schema = z.object({{\n"
            "  id: z.string().uuid(),\n"
            "  createdAt: z.string().datetime(),\n"
            '  status: z.enum(["pending", "active", "closed"]),\n'
            "});\n\n"
            f"export type {cls} = z.infer<typeof {cls}Schema>;\n\n"
            f"const store = new Map<string, {cls}>();\n\n"
            f"export function register{cls}Routes(app: FastifyInstance): void {{\n"
            f'  app.get("/{domain}/:id", async (request, reply) => {{\n'
            "    const { id } = request.params as { id: string };\n"
            "    const found = store.get(id);\n"
            "    if (found === undefined) {\n"
            '      return reply.code(404).send({ error: "not found" });\n'
            "    }\n"
            "    return found;\n"
            "  });\n"
            "}\n"
        ),
    }


def tsx_frontend_sources(title: str) -> dict[str, str]:
    return {
        "src/main.tsx": (
            'import { StrictMode } from "react";\n'
            'import { createRoot } from "react-dom/client";\n'
            'import { App } from "./app.js";\n\n'
            'const root = document.getElementById("root");\n'
            "if (root !== null) {\n"
            "  createRoot(root).render(\n"
            "    <StrictMode>\n"
            "      <App />\n"
            "    </StrictMode>,\n"
            "  );\n"
            "}\n"
        ),
        "src/app.tsx": (
            "export function App(): JSX.Element {\n"
            "  return (\n"
            "    <main>\n"
            f"      <h1>{title}</h1>\n"
            "    </main>\n"
            "  );\n"
            "}\n"
        ),
    }


def ts_library_sources(name: str) -> dict[str, str]:
    return {
        "src/index.ts": (
            f"// {name}: shared helpers\n\n"
            "export function assertNever(value: never): never {\n"
            "  throw new Error(`unexpected value: ${String(value)}`);\n"
            "}\n"
        )
    }


# -- Python ---------------------------------------------------------------------------------------


def pyproject(name: str, version: str, description: str, deps: list[str]) -> str:
    lines = [
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "{description}"',
        'requires-python = ">=3.11"',
        "dependencies = [",
        *[f'    "{d}",' for d in deps],
        "]",
        "",
        "[project.optional-dependencies]",
        'dev = ["pytest>=8.2", "ruff>=0.5.5", "vulture>=2.11"]',
        "",
        "[build-system]",
        'requires = ["hatchling"]',
        'build-backend = "hatchling.build"',
    ]
    return "\n".join(lines) + "\n"


def ruff_toml(
    *, line_length: int = 100, select: Sequence[str] = ("E", "F", "I", "UP", "B"), ignore: Sequence[str] = ("E501",)
) -> str:
    return dump_toml(
        {
            "line-length": line_length,
            "target-version": "py311",
            "lint": {"select": list(select), "ignore": list(ignore), "per-file-ignores": {"tests/**": ["S101"]}},
        }
    )


def python_sources(package: str, entity: str) -> dict[str, str]:
    return {
        f"src/{package}/__init__.py": f'"""{package.replace("_", " ")}."""\n\n__version__ = "0.1.0"\n',
        f"src/{package}/{entity}.py": (
            "from __future__ import annotations\n\n"
            "from dataclasses import dataclass\n"
            "from datetime import datetime, timezone\n\n\n"
            "@dataclass(frozen=True)\n"
            f"class {entity.title().replace('_', '')}:\n"
            "    id: str\n"
            "    amount_cents: int\n"
            "    created_at: datetime\n\n\n"
            f"def new_{entity}(id: str, amount_cents: int) -> {entity.title().replace('_', '')}:\n"
            "    if amount_cents < 0:\n"
            '        raise ValueError("amount must not be negative")\n'
            f"    return {entity.title().replace('_', '')}(id, amount_cents, datetime.now(timezone.utc))\n"
        ),
        f"tests/test_{entity}.py": (
            "import pytest\n\n"
            f"from {package}.{entity} import new_{entity}\n\n\n"
            "def test_negative_amount_is_rejected():\n"
            "    with pytest.raises(ValueError):\n"
            f'        new_{entity}("x", -1)\n'
        ),
    }


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


# -- background edits ------------------------------------------------------------------------------

TS_SNIPPETS = [
    (
        "formatAmount",
        "export function formatAmount(cents: number, currency = \"GBP\"): string {\n"
        "  return new Intl.NumberFormat(\"en-GB\", { style: \"currency\", currency }).format(cents / 100);\n}\n",
    ),
    (
        "isExpired",
        "export function isExpired(expiresAt: string, now: Date = new Date()): boolean {\n"
        "  return new Date(expiresAt).getTime() <= now.getTime();\n}\n",
    ),
    (
        "chunk",
        "export function chunk<T>(items: readonly T[], size: number): T[][] {\n"
        "  const out: T[][] = [];\n  for (let i = 0; i < items.length; i += size) {\n"
        "    out.push(items.slice(i, i + size));\n  }\n  return out;\n}\n",
    ),
    (
        "retryDelayMs",
        "export function retryDelayMs(attempt: number): number {\n  return Math.min(30_000, 250 * 2 ** attempt);\n}\n",
    ),
]

PY_SNIPPETS = [
    (
        "format_amount",
        "def format_amount(cents: int, currency: str = \"GBP\") -> str:\n"
        "    return f\"{cents / 100:.2f} {currency}\"\n",
    ),
    (
        "is_expired",
        "def is_expired(expires_at: datetime, now: datetime | None = None) -> bool:\n"
        "    return expires_at <= (now or datetime.now(timezone.utc))\n",
    ),
    (
        "chunked",
        "def chunked(items: list, size: int) -> list[list]:\n"
        "    return [items[i:i + size] for i in range(0, len(items), size)]\n",
    ),
    ("retry_delay", "def retry_delay(attempt: int) -> float:\n    return min(30.0, 0.25 * 2 ** attempt)\n"),
]
