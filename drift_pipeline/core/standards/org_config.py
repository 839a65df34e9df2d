"""The org-wide scan settings in the central config repo (``drift-config/drift.config.yaml``).

Only what the scan uses is read: ``exclude``, a list of repo-name globs (``legacy-*``) that are
never in scope. Other keys are kept in ``raw`` for other readers. A bad file gives problems and
no exclusions, never an exception; the file is bounded like every input
(:mod:`drift_pipeline.core.standards.limits`: size, nesting, alias expansion, echoed values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from drift_pipeline.core.standards.globs import glob_error, glob_match
from drift_pipeline.core.standards.limits import (
    MAX_LIST_ITEMS,
    MAX_ORG_CONFIG_BYTES,
    InputRejected,
    load_yaml,
    quote,
    shorten,
    size_problem,
    yaml_error_line,
    yaml_error_text,
)
from drift_pipeline.core.standards.model import Problem

CONFIG_REPO = "drift-config"
CONFIG_FILE = "drift.config.yaml"


@dataclass(frozen=True)
class OrgConfig:
    exclude: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def excluded_by(self, repo: str) -> str | None:
        """The first exclude pattern matching ``repo``, or None."""
        for pattern in self.exclude:
            if glob_match(pattern, repo):
                return pattern
        return None


def _refused(file: str, message: str, line: int | None = None) -> OrgConfig:
    return OrgConfig(problems=(Problem(file, None, line, f"{message}; no repo is excluded"),))


def parse_org_config(text: str, file: str = f"{CONFIG_REPO}/{CONFIG_FILE}") -> OrgConfig:
    too_big = size_problem(text, MAX_ORG_CONFIG_BYTES)
    if too_big:
        return _refused(file, f"{file} is {too_big}")
    try:
        raw = load_yaml(text) if text.strip() else {}
    except InputRejected as exc:
        return _refused(file, f"{file} {exc}", exc.line)
    except yaml.YAMLError as exc:
        return _refused(file, f"not valid YAML ({yaml_error_text(exc)})", yaml_error_line(exc))
    except Exception as exc:
        return _refused(file, f"could not be parsed as YAML ({type(exc).__name__})")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return _refused(file, f"expected a mapping at the top, found {type(raw).__name__}")
    exclude = raw.get("exclude", [])
    if not isinstance(exclude, list):
        return OrgConfig(
            problems=(
                Problem(file, "exclude", None, f"expected a list of repo-name globs, found {type(exclude).__name__}"),
            ),
            raw=raw,
        )
    good, problems = [], []
    if len(exclude) > MAX_LIST_ITEMS:
        problems.append(
            Problem(
                file,
                "exclude",
                None,
                f"expected at most {MAX_LIST_ITEMS} patterns, found "
                f"{len(exclude)}; only the first {MAX_LIST_ITEMS} are used",
            )
        )
    for i, pattern in enumerate(exclude[:MAX_LIST_ITEMS]):
        error = glob_error(pattern) if isinstance(pattern, str) else "expected a string"
        if error:
            problems.append(Problem(file, f"exclude[{i}]", None, f"{quote(pattern)}: {shorten(error)}"))
        else:
            good.append(pattern)
    return OrgConfig(tuple(good), tuple(problems), raw)
