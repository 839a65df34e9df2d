"""Each repo's initial file tree: sources, manifests, workflows, metadata, config, CODEOWNERS, infra."""

from __future__ import annotations

import json

from drift_pipeline.sandbox import seed_files as F
from drift_pipeline.sandbox import seed_files_py as PY
from drift_pipeline.sandbox import seed_files_ts as TS
from drift_pipeline.sandbox.seed.catalogue import UNKNOWN_TEAM, _Spec
from drift_pipeline.sandbox.seed.configs import _build_config, _config_text, _package_config


def _initial_tree(spec: _Spec, org: str) -> dict[str, str | bytes]:
    """A repo's first commit: its language's sources, then CI, metadata, config, CODEOWNERS, hooks and infra."""
    lang = "python" if spec.language == "python" else "typescript"
    files: dict[str, str | bytes] = {"README.md": F.readme(spec.name, spec.description, lang, spec.team)}
    files.update(_LANGUAGE_TREES[spec.language](spec, org))
    if spec.language != "none":
        files[".github/workflows/ci.yml"] = F.ci_workflow(lang, spec.default_branch)
    if spec.metadata and spec.config_file != "standards.toml":
        files["repo-metadata.yaml"] = F.repo_metadata(spec.tier, spec.status, spec.team)
    if spec.config_file:
        spec.cfg = _build_config(spec, org)
        files[spec.config_file] = _config_text(spec, spec.cfg)
    if (codeowners := _codeowners(spec, org)) is not None:
        files[".github/CODEOWNERS"] = codeowners
    if spec.hooks:  # husky with the first hook only (the others were never added)
        files[".husky/" + spec.hooks[0]] = F.husky_hook(spec.hooks[0])
    if spec.infra:
        from drift_pipeline.sandbox.infra_seed import stack_template

        for stack in spec.cfg["infra"]["stacks"]:
            files[f"infra/{stack}.json"] = json.dumps(stack_template(stack), indent=2) + "\n"
    return files


def _docs_tree(spec: _Spec, _org: str) -> dict[str, str | bytes]:
    """A repo without code: a plain README and shell scripts (``shared-scripts``) or runbooks."""
    files: dict[str, str | bytes] = {"README.md": f"# {spec.name}\n\n{spec.description}\n"}
    if spec.name == "shared-scripts":
        shell = "#!/usr/bin/env bash\nset -euo pipefail\n"
        files["scripts/rotate-logs.sh"] = shell + "find /var/log/app -mtime +14 -delete\n"
        files["scripts/db-snapshot.sh"] = shell + 'pg_dump "$DATABASE_URL" | gzip > "snapshot-$(date +%F).sql.gz"\n'
    else:
        files["runbooks/payments-outage.md"] = (
            "# Payments outage\n\n1. Check the status page.\n2. Page the payments on-call.\n"
        )
        files["runbooks/db-failover.md"] = "# Database failover\n\nPromote the replica, then update the DNS record.\n"
    return files


def _typescript_tree(spec: _Spec, org: str) -> dict[str, str | bytes]:
    """A TypeScript service or frontend: manifest, compiler and lint config, sources, vitest when covered."""
    files: dict[str, str | bytes] = {
        ".gitignore": F.gitignore("typescript"),
        "package.json": TS.package_json(f"@{org}/{spec.name}", "1.0.0", frontend=spec.frontend),
        "tsconfig.json": TS.tsconfig(frontend=spec.frontend),
        "eslint.config.js": TS.eslint_config(frontend=spec.frontend),
    }
    if spec.frontend:
        files.update(TS.tsx_frontend_sources(spec.name.replace("-", " ").title()))
    else:
        domain = spec.name.split("-")[0]
        files.update(TS.ts_service_sources(domain, domain.rstrip("s")))
    if spec.coverage:
        files["vitest.config.ts"] = TS.vitest_config()
    return files


def _python_tree(spec: _Spec, _org: str) -> dict[str, str | bytes]:
    """A Python (FastAPI) service: pyproject, ruff config and its package's sources."""
    deps = ["fastapi>=0.111", "pydantic>=2.7", "httpx>=0.27"]
    return {
        ".gitignore": F.gitignore("python"),
        "pyproject.toml": PY.pyproject(spec.name, "1.0.0", spec.description, deps),
        "ruff.toml": PY.ruff_toml(),
        **PY.python_sources(spec.package, spec.name.split("-")[0].rstrip("s")),
    }


def _monorepo_tree(spec: _Spec, org: str) -> dict[str, str | bytes]:
    """The pnpm workspace: a frontend app, a library, a package without config, a Python service."""
    files: dict[str, str | bytes] = {
        ".gitignore": F.gitignore("typescript"),
        "package.json": TS.package_json(spec.name, "0.0.0", workspaces=["apps/*", "packages/*", "services/*"]),
        "pnpm-workspace.yaml": "packages:\n  - apps/*\n  - packages/*\n  - services/*\n",
    }
    app = "apps/ops-console"
    files[f"{app}/package.json"] = TS.package_json(f"@{org}/ops-console", "0.7.0", frontend=True)
    files[f"{app}/tsconfig.json"] = TS.tsconfig(frontend=True)
    files[f"{app}/eslint.config.js"] = TS.eslint_config(frontend=True)
    files[f"{app}/check.toml"] = _package_config("typescript-frontend-internal", org)
    files.update(_under(app, TS.tsx_frontend_sources("Ops Console")))
    lib = "packages/shared-utils"
    files[f"{lib}/package.json"] = TS.package_json(f"@{org}/shared-utils", "2.1.0")
    files[f"{lib}/tsconfig.json"] = TS.tsconfig()
    files[f"{lib}/check.toml"] = _package_config("typescript-internal", org)
    files.update(_under(lib, TS.ts_library_sources("shared-utils")))
    kit = "packages/ui-kit"  # the package without a config
    files[f"{kit}/package.json"] = TS.package_json(f"@{org}/ui-kit", "0.3.0", frontend=True)
    files[f"{kit}/src/index.ts"] = 'export { Button } from "./button.js";\n'
    files[f"{kit}/src/button.tsx"] = (
        "export function Button(props: { label: string }): JSX.Element {\n"
        "  return <button type=\"button\">{props.label}</button>;\n}\n"
    )
    svc = "services/ingest"
    files[f"{svc}/pyproject.toml"] = PY.pyproject(
        "ingest", "0.4.0", "Event ingestion service.", ["duckdb>=1.0", "pyarrow>=16.1", "boto3>=1.34"]
    )
    files[f"{svc}/ruff.toml"] = PY.ruff_toml()
    files[f"{svc}/check.toml"] = _package_config("python-internal", org)
    files.update(_under(svc, PY.python_sources("ingest", "batch")))
    return files


def _under(folder: str, files: dict[str, str]) -> dict[str, str | bytes]:
    """``files`` moved into ``folder`` (a workspace package's own tree)."""
    return {f"{folder}/{path}": text for path, text in files.items()}


_LANGUAGE_TREES = {
    "none": _docs_tree,
    "typescript": _typescript_tree,
    "python": _python_tree,
    "monorepo": _monorepo_tree,
}


def _codeowners(spec: _Spec, org: str) -> str | None:
    """The repo's CODEOWNERS: valid (with the standard's patterns, ``infra/`` not updated), broken, or none."""
    if spec.codeowners == "valid" and spec.codeowners_rules:
        extra = [(pattern, f"@{org}/{spec.team}") for pattern, _ in spec.codeowners_rules if pattern != "*"]
        return F.codeowners(org, spec.team, extra=extra)
    if spec.codeowners == "valid":
        return F.codeowners(org, spec.team)
    if spec.codeowners == "invalid":
        broken = [
            ("/apps/ops-console/", f"@{org}/platform"),
            ("/services/ingest/", ""),  # a pattern with no owner
            ("/docs/", "meichen"),  # an owner without "@"
        ]
        return F.codeowners(org, spec.team, extra=broken)
    if spec.codeowners == "unknown-team":  # the team does not exist in the org
        return F.codeowners(org, spec.team, extra=[("/src/", f"@{org}/{UNKNOWN_TEAM}")])
    return None
