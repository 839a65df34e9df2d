"""Check configs on disk, as ``drift config check PATH`` does: :func:`check_path`.

PATH is a config file, a directory holding one, or a directory holding none (a monorepo root, or
any folder above packages). The repository root is the nearest ancestor (of the config's
directory, or of PATH, itself included) holding ``.git``, or else that directory itself. The
whole repository is analysed (projects, tracked files).

- A config (file, or the one in PATH): the verdict is about the project that owns it: its config
  and registry problems, its tier check and the metadata that applies to it.
- A directory without a config of its own (``scope == "tree"``): every project detected at or
  below PATH is checked. Each project's config problems count; every marker project (package.json,
  pyproject.toml) without a config is listed and gets a ``project_without_standards`` warning, as
  the pipeline's rule does. When no project below PATH holds a config, that is an error.

``valid`` is False when any problem is an error; warnings do not make a check invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drift_pipeline.core.standards.analyse import IGNORED_DIRS, analyse_repo
from drift_pipeline.core.standards.limits import shorten
from drift_pipeline.core.standards.loader import CONFIG_NAMES
from drift_pipeline.core.standards.model import (
    INVALID_CONFIG,
    PROJECT_WITHOUT_STANDARDS,
    Problem,
    Project,
    RepoStandards,
)
from drift_pipeline.core.standards.readers import LocalDirReader
from drift_pipeline.core.standards.registry import RegistryFetcher, RegistryResolver


@dataclass(frozen=True)
class PathCheck:
    path: str  # as given
    config_file: str | None  # repo-relative path of the config checked ("config" scope)
    repo_root: Path | None
    standards: RepoStandards | None
    project: Project | None  # the project owning config_file ("config" scope)
    problems: tuple[Problem, ...]
    scope: str = "config"  # "config": one config; "tree": every project below a directory
    checked: tuple[Project, ...] = ()  # "tree": the projects with a config, checked
    missing: tuple[Project, ...] = ()  # "tree": marker projects without a config

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)


def find_config(path: Path) -> Path | None:
    if path.is_file():
        return path
    if path.is_dir():
        for name in CONFIG_NAMES:
            if (path / name).is_file():
                return path / name
    return None


def repo_root_for(config_dir: Path) -> Path:
    for candidate in (config_dir, *config_dir.parents):
        if (candidate / ".git").exists():
            return candidate
    return config_dir


def _failure(given: str, message: str) -> PathCheck:
    return PathCheck(
        given, None, None, None, None, (Problem(file=given, key=None, line=None, rule=INVALID_CONFIG, message=message),)
    )


def _dedupe(problems: list[Problem]) -> tuple[Problem, ...]:
    return tuple(dict.fromkeys(problems))


def check_tree(given: str, target: Path, resolver: RegistryResolver) -> PathCheck:
    """Every project at or below the directory ``target`` (which holds no config itself)."""
    root = repo_root_for(target)
    rel = target.relative_to(root).as_posix()
    standards = analyse_repo(LocalDirReader(root, skip_dirs=IGNORED_DIRS), resolver)

    def below(path: str) -> bool:
        return rel in (".", path) or path.startswith(rel + "/")

    projects = [p for p in standards.projects if below(p.path)]
    checked = tuple(p for p in projects if p.config_file)
    missing = tuple(p for p in projects if not p.config_file and p.type)
    problems: list[Problem] = []
    if rel == ".":
        problems.extend(standards.metadata.problems)
    if not checked:
        found = f" (nor does any of its {len(missing)} project(s))" if missing else ""
        problems.append(
            Problem(
                file=given,
                key=None,
                line=None,
                rule=INVALID_CONFIG,
                message=f"{shorten(given)} holds no standards.toml or check.toml{found}",
            )
        )
    for project in checked:
        problems.extend(project.problems)
    for project in missing:
        problems.extend(project.metadata.problems)
        problems.append(
            Problem(
                file=project.path,
                key=None,
                line=None,
                rule=PROJECT_WITHOUT_STANDARDS,
                severity="warning",
                message=f"{project.type} project {project.path} has no standards.toml or check.toml",
            )
        )
    return PathCheck(
        given, None, root, standards, None, _dedupe(problems), scope="tree", checked=checked, missing=missing
    )


def check_path(
    path: Path | str,
    *,
    registry_dirs: Mapping[str, Path | str] | None = None,
    fetcher: RegistryFetcher | None = None,
    resolver: RegistryResolver | None = None,
) -> PathCheck:
    given = str(path)
    try:
        target = Path(path).resolve()
        target.stat()
    except FileNotFoundError:
        return _failure(given, f"{shorten(given)} does not exist")
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long, no permission
        why = (
            "is a symlink loop"
            if isinstance(exc, RuntimeError) or exc.errno == 40
            else f"cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__})"
        )
        return _failure(given, f"{shorten(given)} {why}")
    resolver = resolver or RegistryResolver(fetcher=fetcher, local_overrides=registry_dirs)
    config = find_config(target)
    if config is None:
        if not target.exists():
            return _failure(given, f"{shorten(given)} does not exist")
        if not target.is_dir():
            return _failure(given, f"{shorten(given)} is neither a file nor a directory")
        return check_tree(given, target, resolver)
    if config.name not in CONFIG_NAMES:
        return _failure(given, f"expected a file named {' or '.join(CONFIG_NAMES)}, found {config.name}")
    root = repo_root_for(config.parent)
    rel_dir = config.parent.relative_to(root).as_posix()
    rel_file = config.relative_to(root).as_posix()
    standards = analyse_repo(LocalDirReader(root, skip_dirs=IGNORED_DIRS), resolver)
    project = standards.project(rel_dir if rel_dir else ".")
    problems: tuple[Problem, ...]
    if project is None:
        problems = (
            Problem(
                file=rel_file,
                key=None,
                line=None,
                rule=INVALID_CONFIG,
                message=f"{rel_file} is inside an ignored directory ({', '.join(sorted(IGNORED_DIRS))})",
            ),
        )
    else:
        problems = project.problems
    return PathCheck(given, rel_file, root, standards, project, problems)
