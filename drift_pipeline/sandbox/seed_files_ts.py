"""File contents of the demo org's TypeScript repos: tsconfig, package.json, eslint, vitest, sources.

Pure functions of their arguments, like :mod:`drift_pipeline.sandbox.seed_files` (whose dumpers
they use); :data:`TS_SNIPPETS` are the functions the background history adds one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drift_pipeline.sandbox.seed_files import dump_json

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
