"""The org-wide scan settings in the central config repo (``drift-config/drift.config.yaml``).

Only what the scan uses is read: ``exclude``, a list of repo-name globs (``legacy-*``) that are
never in scope. Other keys are kept in ``raw`` for other readers. A bad file gives problems and
no exclusions, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from drift_pipeline.standards.globs import glob_error, glob_match
from drift_pipeline.standards.model import Problem

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


def parse_org_config(text: str, file: str = f"{CONFIG_REPO}/{CONFIG_FILE}") -> OrgConfig:
    try:
        raw = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return OrgConfig(problems=(Problem(file, None, mark.line + 1 if mark else None,
                                           f"not valid YAML ({getattr(exc, 'problem', None) or exc}); "
                                           "no repo is excluded"),))
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return OrgConfig(problems=(Problem(file, None, None, f"expected a mapping at the top, found "
                                                             f"{type(raw).__name__}; no repo is excluded"),))
    exclude = raw.get("exclude", [])
    if not isinstance(exclude, list):
        return OrgConfig(problems=(Problem(file, "exclude", None, "expected a list of repo-name globs, "
                                                                  f"found {type(exclude).__name__}"),), raw=raw)
    good, problems = [], []
    for i, pattern in enumerate(exclude):
        error = glob_error(pattern) if isinstance(pattern, str) else "expected a string"
        if error:
            problems.append(Problem(file, f"exclude[{i}]", None, f"{pattern!r}: {error}"))
        else:
            good.append(pattern)
    return OrgConfig(tuple(good), tuple(problems), raw)
