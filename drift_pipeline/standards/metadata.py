"""Repository metadata: tier, status and team.

Sources, first found wins within one directory: the ``[metadata]`` table of the directory's
config file (standards.toml, or check.toml), then ``repo-metadata.yaml``, then
``repo-metadata.yml``. A project directory with its own source overrides the repo root's as a
whole (no field-by-field mixing). Bad input (empty file, non-mapping, YAML syntax error, unknown
tier or status, wrong type for team) never raises: the defaults are used and a problem says why.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import yaml

from drift_pipeline.standards.model import (
    DEFAULT_STATUS,
    DEFAULT_TIER,
    INVALID_CONFIG,
    STATUSES,
    TIERS,
    Problem,
    RepoMetadata,
)
from drift_pipeline.standards.readers import TreeReader

METADATA_NAMES = ("repo-metadata.yaml", "repo-metadata.yml")

DEFAULT_METADATA = RepoMetadata(tier=DEFAULT_TIER, status=DEFAULT_STATUS, team=None, source="default",
                                file=None, present=False, problems=())


def join(directory: str, name: str) -> str:
    return name if directory in ("", ".") else posixpath.join(directory, name)


def _warn(file: str, key: str | None, message: str) -> Problem:
    return Problem(file=file, key=key, line=None, message=message, rule=INVALID_CONFIG, severity="warning")


def metadata_from_mapping(raw: Any, *, source: str, file: str, key_prefix: str = "") -> RepoMetadata:
    """Interpret an already parsed metadata mapping (YAML document or ``[metadata]`` table)."""
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        kind = "empty" if raw is None else type(raw).__name__
        problems.append(_warn(file, None, f"expected a mapping with tier/status/team, found {kind}; "
                                          f"using defaults (tier {DEFAULT_TIER}, status {DEFAULT_STATUS})"))
        return RepoMetadata(DEFAULT_TIER, DEFAULT_STATUS, None, source, file, True, tuple(problems), None)

    def pick(name: str, allowed: tuple[str, ...], default: str) -> str:
        if name not in raw:
            return default
        value = raw[name]
        if isinstance(value, str) and value in allowed:
            return value
        problems.append(_warn(file, key_prefix + name,
                              f"expected {name} to be one of {', '.join(allowed)}, found {value!r}; "
                              f"using {default!r}"))
        return default

    tier = pick("tier", TIERS, DEFAULT_TIER)
    status = pick("status", STATUSES, DEFAULT_STATUS)
    team = raw.get("team")
    if team is not None and not isinstance(team, str):
        problems.append(_warn(file, key_prefix + "team", f"expected team to be a string, found {team!r}; ignored"))
        team = None
    return RepoMetadata(tier, status, team or None, source, file, True, tuple(problems), dict(raw))


def parse_metadata_yaml(text: str, file: str) -> RepoMetadata:
    """Metadata from the text of a repo-metadata.yaml/.yml file."""
    source = posixpath.basename(file)
    if not text.strip():
        return RepoMetadata(DEFAULT_TIER, DEFAULT_STATUS, None, source, file, True,
                            (_warn(file, None, "file is empty; using defaults "
                                               f"(tier {DEFAULT_TIER}, status {DEFAULT_STATUS})"),), None)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = Problem(file=file, key=None, line=line,
                          message=f"not valid YAML ({getattr(exc, 'problem', None) or exc}); using defaults "
                                  f"(tier {DEFAULT_TIER}, status {DEFAULT_STATUS})",
                          rule=INVALID_CONFIG, severity="warning")
        return RepoMetadata(DEFAULT_TIER, DEFAULT_STATUS, None, source, file, True, (problem,), None)
    return metadata_from_mapping(raw, source=source, file=file)


def metadata_for_dir(reader: TreeReader, directory: str, config_file: str | None,
                     config_data: Mapping[str, Any] | None, paths: set[str] | None = None) -> RepoMetadata | None:
    """The metadata declared in ``directory`` itself, or None when it declares none."""
    if config_file and isinstance(config_data, Mapping) and "metadata" in config_data:
        return metadata_from_mapping(config_data["metadata"], source=posixpath.basename(config_file),
                                     file=config_file, key_prefix="metadata.")
    for name in METADATA_NAMES:
        path = join(directory, name)
        if paths is not None and path not in paths:
            continue
        text = reader.read_text(path)
        if text is not None:
            return parse_metadata_yaml(text, path)
    return None
