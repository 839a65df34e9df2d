"""Check one config on disk, as ``drift config check PATH`` does: :func:`check_path`.

PATH is a config file or a directory holding one. The repository root is the nearest ancestor
(of the config's directory, itself included) holding ``.git``, or else the config's directory.
The whole repository is analysed (projects, tracked files); the verdict is about the project
that owns the chosen config: its config and registry problems, its tier check and the metadata
that applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drift_pipeline.standards.analyse import IGNORED_DIRS, analyse_repo
from drift_pipeline.standards.loader import CONFIG_NAMES
from drift_pipeline.standards.model import INVALID_CONFIG, Problem, Project, RepoStandards
from drift_pipeline.standards.readers import LocalDirReader
from drift_pipeline.standards.registry import RegistryFetcher, RegistryResolver


@dataclass(frozen=True)
class PathCheck:
    path: str                         # as given
    config_file: str | None           # repo-relative path of the config checked
    repo_root: Path | None
    standards: RepoStandards | None
    project: Project | None
    problems: tuple[Problem, ...]

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


def check_path(path: Path | str, *, registry_dirs: Mapping[str, Path | str] | None = None,
               fetcher: RegistryFetcher | None = None, resolver: RegistryResolver | None = None) -> PathCheck:
    given = str(path)
    target = Path(path).resolve()
    config = find_config(target)
    if config is None:
        what = "does not exist" if not target.exists() else "holds no standards.toml or check.toml"
        return PathCheck(given, None, None, None, None,
                         (Problem(file=given, key=None, line=None, rule=INVALID_CONFIG,
                                  message=f"{given} {what}"),))
    if config.name not in CONFIG_NAMES:
        return PathCheck(given, None, None, None, None,
                         (Problem(file=given, key=None, line=None, rule=INVALID_CONFIG,
                                  message=f"expected a file named {' or '.join(CONFIG_NAMES)}, "
                                          f"found {config.name}"),))
    root = repo_root_for(config.parent)
    rel_dir = config.parent.relative_to(root).as_posix()
    rel_file = config.relative_to(root).as_posix()
    resolver = resolver or RegistryResolver(fetcher=fetcher, local_overrides=registry_dirs)
    standards = analyse_repo(LocalDirReader(root, skip_dirs=IGNORED_DIRS), resolver)
    project = standards.project(rel_dir if rel_dir else ".")
    if project is None:
        problems = (Problem(file=rel_file, key=None, line=None, rule=INVALID_CONFIG,
                            message=f"{rel_file} is inside an ignored directory ({', '.join(sorted(IGNORED_DIRS))})"),)
    else:
        problems = project.problems
    return PathCheck(given, rel_file, root, standards, project, problems)
