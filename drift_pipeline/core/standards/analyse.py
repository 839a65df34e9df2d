"""Whole-repository analysis over any :class:`TreeReader`: :func:`analyse_repo`.

Decisions worth knowing:

- Config files are ``standards.toml`` (preferred) and ``check.toml``; when both sit in one
  directory, standards.toml is used and a warning problem names the ignored check.toml.
- Directories named in :data:`IGNORED_DIRS` are skipped at any depth, for configs too.
- Projects: marker files (``package.json`` -> typescript first, then ``pyproject.toml`` -> python;
  a directory is claimed once). Workspace roots (package.json with truthy ``workspaces``, or
  turbo.json / pnpm-workspace.yaml / lerna.json beside the marker) are not marker projects.
  ``[monorepo] exclude`` globs of the root config (after registry merge) filter marker projects.
  Every directory holding a config file is a project too (type None unless a marker claimed it),
  and the repo root ``.`` is a project whenever the repo has any config file, so workflows and
  the root metadata have an owner.
- Metadata: a directory's own source (its config's ``[metadata]``, then repo-metadata.yaml, then
  .yml) overrides the root's as a whole; otherwise the root's applies. When the tier of a present
  source cannot be learnt (unreadable, refused, not a mapping, unknown tier), no tier check is made.
- Bad input is bounded and local: a config or metadata file that is unreadable, too large, too
  deep or otherwise broken is a problem on that file (see :mod:`~drift_pipeline.core.standards.limits`);
  every other file and project is still analysed. Only a reader's own failure (a source that
  cannot be reached) propagates, for the source layer to record.
- Tracked files per project: its config file (kind config), the metadata file that applies (kind
  metadata), the root's ``.github/workflows/*.yml|yaml`` (root project only, kind workflow), then
  for each enabled tool the built-in files and the tool's ``dependencies`` globs relative to the
  project directory (kind dependency). Only files in the listing are kept; a path is listed once,
  under the first reason in that order (tools in the order of :data:`TOOL_FILES`).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drift_pipeline.core.standards.globs import compile_glob, glob_error, has_magic
from drift_pipeline.core.standards.limits import MAX_CONFIG_BYTES, MAX_JSON_BYTES, MAX_LIST_ITEMS
from drift_pipeline.core.standards.loader import CONFIG_NAMES, line_index, load_config
from drift_pipeline.core.standards.metadata import DEFAULT_METADATA, join, metadata_for_dir
from drift_pipeline.core.standards.model import (
    INVALID_CONFIG,
    TIER_RULESET_MISMATCH,
    ConfigFile,
    Problem,
    Project,
    RepoMetadata,
    RepoStandards,
    TierCheck,
    TrackedFile,
)
from drift_pipeline.core.standards.readers import TreeReader, read_checked
from drift_pipeline.core.standards.registry import RegistryResolver, deep_merge
from drift_pipeline.core.standards.schema import apply_defaults
from drift_pipeline.core.standards.tiers import check_tier

IGNORED_DIRS = frozenset(
    {"node_modules", ".git", "venv", ".venv", "__pycache__", "dist", "build", "coverage", ".next", ".nuxt"}
)
MARKERS = (("package.json", "typescript"), ("pyproject.toml", "python"))
WORKSPACE_FILES = ("turbo.json", "pnpm-workspace.yaml", "lerna.json")
WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml")

# Tool id -> (config table path, built-in files), in reporting order.
TOOL_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "eslint": (
        ("code", "linting", "eslint"),
        ("eslint.config.{js,mjs,cjs}", ".eslintrc.{js,json,yml,yaml}", ".eslintignore"),
    ),
    "ruff": (("code", "linting", "ruff"), ("ruff.toml", ".ruff.toml", "pyproject.toml")),
    "tsc": (("code", "types", "tsc"), ("tsconfig.json", "tsconfig.*.json")),
    "ty": (("code", "types", "ty"), ("ty.toml", "pyproject.toml")),
    "knip": (
        ("code", "unused", "knip"),
        ("knip.json", "knip.jsonc", "knip.js", "knip.ts", "knip.config.js", "knip.config.ts"),
    ),
    "vulture": (("code", "unused", "vulture"), ("pyproject.toml",)),
    "vitest": (("code", "coverage_run"), ("vitest.config.{ts,js,mts,mjs}", "vite.config.{ts,js}")),
    "jest": (("code", "coverage_run"), ("jest.config.{js,ts,mjs,cjs,json}",)),
    "pytest": (("code", "coverage_run"), ("pytest.ini", "pyproject.toml", "setup.cfg", "conftest.py")),
    "secrets": (("code", "security", "secrets"), (".gitleaks.toml", "gitleaks.toml")),
    "pnpmaudit": (("code", "security", "pnpmaudit"), ("pnpm-lock.yaml",)),
    "pipaudit": (("code", "security", "pipaudit"), ("requirements.txt", "pyproject.toml", "setup.py")),
}
COVERAGE_RUNNERS = ("vitest", "jest", "pytest")


def dir_of(path: str) -> str:
    return posixpath.dirname(path) or "."


def is_ignored(path: str) -> bool:
    return any(part in IGNORED_DIRS for part in path.split("/")[:-1])


def _get(data: Mapping[str, Any] | None, path: Iterable[str]) -> Any:
    cur: Any = data
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def enabled_tools(config: Mapping[str, Any] | None) -> list[str]:
    """Tool ids enabled in an effective config, in :data:`TOOL_FILES` order."""
    out = []
    for tool, (table_path, _files) in TOOL_FILES.items():
        table = _get(config, table_path)
        if not isinstance(table, Mapping) or table.get("enabled") is not True:
            continue
        if tool in COVERAGE_RUNNERS and table.get("runner", "auto") not in ("auto", tool):
            continue
        out.append(tool)
    return out


# -- project detection ----------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    projects: tuple[tuple[str, str], ...]  # (path, type), sorted by path
    workspace_roots: tuple[str, ...]


def _is_workspace_root(reader: TreeReader, directory: str, pathset: set[str]) -> bool:
    if any(join(directory, name) in pathset for name in WORKSPACE_FILES):
        return True
    package = join(directory, "package.json")
    if package in pathset:
        text, _why = read_checked(reader, package, MAX_JSON_BYTES)
        try:
            data = json.loads(text) if text else None
        except (ValueError, RecursionError):  # unreadable, not JSON or absurdly nested: no workspace
            return False
        return isinstance(data, dict) and bool(data.get("workspaces"))
    return False


def detect_projects(reader: TreeReader, paths: Iterable[str], exclude: Iterable[str] = ()) -> Detection:
    """Marker-file projects and workspace roots in ``paths`` (ignored directories skipped)."""
    listing = [p for p in paths if not is_ignored(p)]
    pathset = set(listing)
    patterns = [compile_glob(p) for p in list(exclude)[:MAX_LIST_ITEMS] if isinstance(p, str) and not glob_error(p)]
    claimed: set[str] = set()
    projects: list[tuple[str, str]] = []
    roots: list[str] = []
    for marker, kind in MARKERS:
        for path in sorted(p for p in listing if posixpath.basename(p) == marker):
            directory = dir_of(path)
            if directory in claimed:
                continue
            claimed.add(directory)
            if _is_workspace_root(reader, directory, pathset):
                roots.append(directory)
                continue
            if any(rx.match(directory) for rx in patterns):
                continue
            projects.append((directory, kind))
    return Detection(tuple(sorted(projects, key=lambda t: _path_key(t[0]))), tuple(sorted(roots, key=_path_key)))


def _path_key(path: str) -> tuple[bool, str]:
    return (path != ".", path)


# -- tracked files --------------------------------------------------------------------------


def _expand(pattern: str, directory: str, listing: list[str], pathset: set[str]) -> list[str]:
    full = posixpath.normpath(join(directory, pattern))
    if full.startswith("../") or full == ".." or posixpath.isabs(full):
        return []
    if not has_magic(pattern):
        return [full] if full in pathset else []
    if glob_error(full):
        return []
    rx, prefix = compile_glob(full), _literal_dirs(full)
    return [p for p in listing if p.startswith(prefix) and rx.match(p)]


def _literal_dirs(pattern: str) -> str:
    """The whole directories of ``pattern`` before its first wildcard: every path it matches starts so."""
    cut = next((i for i, c in enumerate(pattern) if c in "*?[{\\"), len(pattern))
    return pattern[: pattern.rfind("/", 0, cut) + 1]


def tracked_for(
    directory: str,
    config_file: str | None,
    config: Mapping[str, Any] | None,
    metadata_file: str | None,
    listing: list[str],
    pathset: set[str],
    include_workflows: bool,
) -> tuple[TrackedFile, ...]:
    out: dict[str, TrackedFile] = {}

    def add(path: str, kind: str, tool: str | None = None) -> None:
        if path in pathset and path not in out:
            out[path] = TrackedFile(path, kind, tool)

    if config_file:
        add(config_file, "config")
    if metadata_file:
        add(metadata_file, "metadata")
    if include_workflows:
        for pattern in WORKFLOW_GLOBS:
            for path in _expand(pattern, ".", listing, pathset):
                add(path, "workflow")
    for tool in enabled_tools(config):
        table_path, builtin = TOOL_FILES[tool]
        table = _get(config, table_path)
        custom = table.get("dependencies") if isinstance(table, Mapping) else None
        custom = custom if isinstance(custom, list) else []
        patterns = list(builtin) + [d for d in custom[:MAX_LIST_ITEMS] if isinstance(d, str) and d]
        for pattern in patterns:
            for path in _expand(pattern, directory, listing, pathset):
                add(path, "dependency", tool)
    return tuple(sorted(out.values(), key=lambda t: t.path))


# -- the analysis ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _DirConfig:
    file: str
    loaded: ConfigFile
    effective: dict[str, Any] | None
    registry: str | None
    rulesets: tuple[str, ...]
    has_extends: bool
    rulesets_line: int | None
    problems: tuple[Problem, ...]


def _load_dir_config(reader: TreeReader, files: list[str], resolver: RegistryResolver) -> _DirConfig:
    chosen = next(f for name in CONFIG_NAMES for f in files if posixpath.basename(f) == name)
    problems: list[Problem] = []
    others = [f for f in files if f != chosen]
    for other in others:
        problems.append(
            Problem(
                file=other,
                key=None,
                line=None,
                rule=INVALID_CONFIG,
                severity="warning",
                message=f"both {posixpath.basename(chosen)} and {posixpath.basename(other)} "
                f"are present; {chosen} is used and {other} is ignored",
            )
        )
    text, why = read_checked(reader, chosen, MAX_CONFIG_BYTES)
    if text is None:
        problem = Problem(
            file=chosen,
            key=None,
            line=None,
            rule=INVALID_CONFIG,
            message=f"{chosen} {why or 'could not be read'}; not parsed",
        )
        problems.append(problem)
        return _DirConfig(
            chosen, ConfigFile(chosen, {}, (problem,), parsed=False), None, None, (), False, None, tuple(problems)
        )
    loaded = load_config(text, chosen)
    problems.extend(loaded.problems)
    if not loaded.parsed:
        return _DirConfig(chosen, loaded, None, None, (), False, None, tuple(problems))
    index = line_index(text)
    extends = loaded.data.get("extends")
    extends_line = index.get(("extends", "registry")) or index.get(("extends",))
    resolution = resolver.resolve(extends, chosen, reader, extends_line=extends_line)
    problems.extend(resolution.problems)
    effective = apply_defaults(deep_merge(resolution.merged, loaded.data))
    rulesets_line = index.get(("extends", "rulesets")) or extends_line
    return _DirConfig(
        chosen,
        loaded,
        effective,
        resolution.registry,
        resolution.rulesets,
        isinstance(extends, Mapping),
        rulesets_line,
        tuple(problems),
    )


def _tier_problems(check: TierCheck, file: str, line: int | None, has_rulesets_key: bool) -> list[Problem]:
    if not check.valid:
        return [
            Problem(file=file, key="extends.rulesets", line=line, message=check.message, rule=TIER_RULESET_MISMATCH)
        ]
    if has_rulesets_key and not check.rulesets:
        return [
            Problem(
                file=file,
                key="extends.rulesets",
                line=line,
                severity="warning",
                rule=TIER_RULESET_MISMATCH,
                message="[extends] has a registry but no rulesets, so the tier "
                f"{check.tier!r} is not enforced by any ruleset",
            )
        ]
    return []


def _dedupe(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    seen: dict[Problem, None] = {}
    for p in problems:
        seen.setdefault(p, None)
    return tuple(seen)


def analyse_repo(reader: TreeReader, resolver: RegistryResolver | None = None) -> RepoStandards:
    """Everything the standards say about one repository tree. Never raises on bad content."""
    resolver = resolver or RegistryResolver()
    listing = [p for p in reader.list_paths() if not is_ignored(p)]
    pathset = set(listing)

    config_files = tuple(p for p in listing if posixpath.basename(p) in CONFIG_NAMES)
    by_dir: dict[str, list[str]] = {}
    for path in config_files:
        by_dir.setdefault(dir_of(path), []).append(path)
    configs = {d: _load_dir_config(reader, files, resolver) for d, files in sorted(by_dir.items())}

    root_cfg = configs.get(".")
    root_meta = (
        metadata_for_dir(
            reader, ".", root_cfg.file if root_cfg else None, root_cfg.loaded.data if root_cfg else None, pathset
        )
        or DEFAULT_METADATA
    )

    exclude = _get(root_cfg.effective if root_cfg else None, ("monorepo", "exclude"))
    detection = detect_projects(reader, listing, exclude if isinstance(exclude, list) else ())
    types: dict[str, str | None] = dict(detection.projects)
    for directory in configs:
        types.setdefault(directory, None)
    if configs:
        types.setdefault(".", None)

    projects = [
        _project(
            reader, directory, types[directory], configs.get(directory), root_meta, listing, pathset, bool(configs)
        )
        for directory in sorted(types, key=_path_key)
    ]

    all_problems = list(root_meta.problems)
    for cfg in configs.values():
        all_problems.extend(cfg.problems)
    for project in projects:
        all_problems.extend(project.problems)
    return RepoStandards(
        metadata=root_meta,
        projects=tuple(projects),
        workspace_roots=detection.workspace_roots,
        config_files=config_files,
        problems=_dedupe(all_problems),
    )


def _project(
    reader: TreeReader,
    directory: str,
    kind: str | None,
    cfg: _DirConfig | None,
    root_meta: RepoMetadata,
    listing: list[str],
    pathset: set[str],
    any_config: bool,
) -> Project:
    """One project of the tree: its config, its metadata (its own, else the root's), tier check, tracked files."""
    own_meta = None
    if directory != ".":
        own_meta = metadata_for_dir(
            reader, directory, cfg.file if cfg else None, cfg.loaded.data if cfg else None, pathset
        )
    meta: RepoMetadata = own_meta or root_meta
    problems: list[Problem] = []
    tier_check: TierCheck | None = None
    if cfg is not None:
        problems.extend(cfg.problems)
        if cfg.loaded.parsed and meta.tier_known:
            tier_check = check_tier(meta.tier, cfg.rulesets if cfg.has_extends else None)
            has_rulesets_key = cfg.has_extends and isinstance(_get(cfg.loaded.data, ("extends", "rulesets")), list)
            problems.extend(_tier_problems(tier_check, cfg.file, cfg.rulesets_line, has_rulesets_key))
    problems.extend(meta.problems)
    tracked = tracked_for(
        directory,
        cfg.file if cfg else None,
        cfg.effective if cfg else None,
        meta.file,
        listing,
        pathset,
        include_workflows=(directory == "." and any_config),
    )
    return Project(
        path=directory,
        type=kind,
        config_file=cfg.file if cfg else None,
        config=cfg.effective if cfg else None,
        registry=cfg.registry if cfg else None,
        rulesets=cfg.rulesets if cfg else (),
        metadata=meta,
        tier_check=tier_check,
        tracked_files=tracked,
        problems=_dedupe(problems),
    )
