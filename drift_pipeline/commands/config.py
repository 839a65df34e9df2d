"""``drift config check``: validate a standards config the way the pipeline reads it."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import click

from drift_pipeline.commands._output import emit, json_option
from drift_pipeline.core.errors import ExitCode, UsageError
from drift_pipeline.core.standards import (
    PathCheck,
    Problem,
    RegistryFetcher,
    check_path,
    parse_registry,
)
from drift_pipeline.sources.registry_clone import GitCloneFetcher


def make_fetcher() -> RegistryFetcher:
    """The fetcher used for ``github:`` registries not mapped by --registry-dir (tests swap it).

    Registries are cloned from the GitHub the pipeline points at: ``GITHUB_API_URL`` (GitHub
    Enterprise Server ``https://HOST/api/v3`` clones from ``https://HOST``), github.com by default.
    """
    try:
        return GitCloneFetcher.for_api_url(os.environ.get("GITHUB_API_URL"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_registry_dirs(values: tuple[str, ...]) -> dict[str, Path]:
    """``DIR`` (any github registry) or ``github:owner/repo[@ref]=DIR`` -> resolver overrides."""
    out: dict[str, Path] = {}
    for value in values:
        if not value.strip():
            raise UsageError("--registry-dir '': expected DIR or github:owner/repo=DIR")
        key, sep, folder = value.partition("=")
        if sep and (key.startswith("github") or "/" in key) and not Path(value).is_dir():
            spec = key if key.startswith("github") else f"github:{key}"
            try:
                ref = parse_registry(spec)
            except ValueError as exc:
                raise UsageError(f"--registry-dir: {exc}") from None
            name = ref.key
        else:
            name, folder = "*", value
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise UsageError(f"--registry-dir: {folder} is not a directory")
        out[name] = path.resolve()
    return out


def _problem_json(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "key": p.key, "line": p.line, "message": p.message, "rule": p.rule, "severity": p.severity}


def build_payload(result: PathCheck) -> dict[str, Any]:
    project = result.project
    standards = result.standards
    meta = project.metadata if project else None
    return {
        "path": result.path,
        "config_file": result.config_file,
        "repo_root": str(result.repo_root) if result.repo_root else None,
        "valid": result.valid,
        "problems": [_problem_json(p) for p in result.problems],
        "tier": meta.tier if meta else None,
        "metadata": (
            {
                "tier": meta.tier,
                "status": meta.status,
                "team": meta.team,
                "source": meta.source,
                "file": meta.file,
                "present": meta.present,
            }
            if meta
            else None
        ),
        "registry": project.registry if project else None,
        "rulesets": list(project.rulesets) if project else [],
        "tier_check": dataclasses.asdict(project.tier_check) if project and project.tier_check else None,
        "config": project.config if project else None,
        "projects": [
            {
                "path": p.path,
                "type": p.type,
                "config_file": p.config_file,
                "registry": p.registry,
                "rulesets": list(p.rulesets),
                "tier": p.metadata.tier,
                "status": p.metadata.status,
                "tier_valid": p.tier_check.valid if p.tier_check else None,
                "valid": p.valid,
                "tracked_files": [dataclasses.asdict(t) for t in p.tracked_files],
            }
            for p in (standards.projects if standards else ())
        ],
        "scope": result.scope,
        "checked_projects": [
            {
                "path": p.path,
                "type": p.type,
                "config_file": p.config_file,
                "valid": p.valid,
                "tier": p.metadata.tier,
                "errors": sum(1 for x in p.problems if x.is_error),
                "warnings": sum(1 for x in p.problems if not x.is_error),
            }
            for p in result.checked
        ],
        "missing_config": [{"path": p.path, "type": p.type} for p in result.missing],
        "workspace_roots": list(standards.workspace_roots) if standards else [],
        "tracked_files": [dataclasses.asdict(t) for t in (standards.tracked_files if standards else ())],
    }


def render_text(payload: dict[str, Any]) -> str:
    lines: list[str] = []
    root = f"  (repo root {payload['repo_root']})" if payload["repo_root"] else ""
    if payload["scope"] == "tree":
        lines.append(
            f"Checked: {payload['path']}: {len(payload['checked_projects'])} project config(s), "
            f"{len(payload['missing_config'])} project(s) without one{root}"
        )
        for p in payload["checked_projects"]:
            verdict = "ok" if p["valid"] else "INVALID"
            lines.append(
                f"  {verdict:<7}  {p['config_file']}  tier {p['tier']}  "
                f"({p['errors']} error(s), {p['warnings']} warning(s))"
            )
        for p in payload["missing_config"]:
            lines.append(f"  missing  {p['path']}  ({p['type']} project without standards.toml or check.toml)")
    else:
        lines.append(f"Config: {payload['config_file'] or payload['path']}{root}")
    meta = payload["metadata"]
    if meta:
        team = f", team {meta['team']}" if meta["team"] else ""
        lines.append(
            f"Tier: {meta['tier']} (from {meta['source']}{', ' + meta['file'] if meta['file'] and meta['file'] != meta['source'] else ''})"
            f", status {meta['status']}{team}"
        )
    if payload["registry"] or payload["rulesets"]:
        lines.append(
            f"Extends: {payload['registry'] or '(no registry)'} -> {', '.join(payload['rulesets']) or '(no rulesets)'}"
        )
    tc = payload["tier_check"]
    if tc:
        lines.append(f"Tier check: {'ok' if tc['valid'] else 'MISMATCH'}: {tc['message']}")
    problems = payload["problems"]
    if problems:
        lines.append(f"Problems ({len(problems)}):")
        for p in problems:
            where = p["file"] + (f":{p['line']}" if p["line"] else "")
            key = f" {p['key']}" if p["key"] else ""
            lines.append(f"  {p['severity']:<7} {where}{key}: {p['message']} [{p['rule']}]")
    if payload["projects"]:
        lines.append(f"Projects ({len(payload['projects'])}):")
        width = max(len(p["path"]) for p in payload["projects"])
        for p in payload["projects"]:
            cfg = p["config_file"] or "(no config)"
            lines.append(f"  {p['path']:<{width}}  {p['type'] or '-':<10}  {cfg}  tier {p['tier']}")
    if payload["workspace_roots"]:
        lines.append(f"Workspace roots: {', '.join(payload['workspace_roots'])}")
    tracked = payload["tracked_files"]
    if tracked:
        lines.append(f"Tracked files ({len(tracked)}):")
        for t in tracked:
            lines.append(f"  {t['path']}  ({t['kind']}{', ' + t['tool'] if t['tool'] else ''})")
    errors = sum(1 for p in problems if p["severity"] == "error")
    warnings = len(problems) - errors
    verdict = "valid" if payload["valid"] else "INVALID"
    lines.append(f"Result: {verdict} ({errors} error(s), {warnings} warning(s))")
    return "\n".join(lines)


@click.group("config")
def config_group() -> None:
    """Standards config files (check.toml / standards.toml)."""


@config_group.command("check")
@click.argument("path", default=".")
@click.option(
    "--registry-dir",
    "registry_dirs",
    multiple=True,
    metavar="[github:owner/repo=]DIR",
    help="Read a github: registry from a local folder instead of fetching it. A bare DIR "
    "serves any github: registry; github:owner/repo=DIR only that one. Repeatable.",
)
@json_option
@click.pass_context
def check_command(ctx: click.Context, path: str, registry_dirs: tuple[str, ...], as_json: bool) -> None:
    """Validate the config at PATH (a config file or a directory holding one; default ".").

    Resolves [extends] rulesets, checks the tier against the repo metadata, detects the
    repository's projects and lists the files whose change counts as drift. When PATH is a
    directory without a config of its own (a monorepo root), every project below it is checked
    and the projects without a config are listed. Exits 0 when valid (warnings, such as projects
    without a config, allowed), 2 when any config has problems or no config was found.
    """
    if not path.strip() or "\0" in path:
        raise UsageError(f"PATH {path[:200]!r}: expected a config file or a directory holding one")
    overrides = parse_registry_dirs(registry_dirs)
    result = check_path(path, registry_dirs=overrides, fetcher=make_fetcher())
    payload = build_payload(result)
    emit(payload, as_json=as_json, text=render_text)
    if not result.valid:
        ctx.exit(int(ExitCode.CONFIG))
