"""Repository metadata: tier, status and team.

Sources, first found wins within one directory: the ``[metadata]`` table of the directory's
config file (standards.toml, or check.toml), then ``repo-metadata.yaml``, then
``repo-metadata.yml``. A project directory with its own source overrides the repo root's as a
whole (no field-by-field mixing). Bad input never raises: the defaults are used and a problem
says why.

- Empty file, non-mapping, YAML syntax error, unknown tier or status, wrong type for team: a
  warning (as before).
- A file that is present but cannot be read (not UTF-8, permission denied, a failed read), is
  larger than :data:`~drift_pipeline.core.standards.limits.MAX_METADATA_BYTES`, nests too deep or
  expands through aliases beyond the bound: an error on that file. It is *not* absent: the repo
  keeps a metadata source (scope does not change).
- Whenever the tier could not be learnt from a present source, ``tier_known`` is False and the
  analysis makes no tier check, so no tier mismatch is invented from the default.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import yaml

from drift_pipeline.core.standards.limits import (
    MAX_METADATA_BYTES,
    InputRejected,
    load_yaml,
    quote,
    size_problem,
    yaml_error_line,
    yaml_error_text,
)
from drift_pipeline.core.standards.model import (
    DEFAULT_STATUS,
    DEFAULT_TIER,
    INVALID_CONFIG,
    STATUSES,
    TIERS,
    Problem,
    RepoMetadata,
)
from drift_pipeline.core.standards.readers import TreeReader, read_checked

METADATA_NAMES = ("repo-metadata.yaml", "repo-metadata.yml")

DEFAULT_METADATA = RepoMetadata(
    tier=DEFAULT_TIER, status=DEFAULT_STATUS, team=None, source="default", file=None, present=False, problems=()
)
_USING_DEFAULTS = f"using defaults (tier {DEFAULT_TIER}, status {DEFAULT_STATUS}); tier not checked"


def join(directory: str, name: str) -> str:
    return name if directory in ("", ".") else posixpath.join(directory, name)


def _warn(file: str, key: str | None, message: str) -> Problem:
    return Problem(file=file, key=key, line=None, message=message, rule=INVALID_CONFIG, severity="warning")


def _unknown(file: str, problem: Problem) -> RepoMetadata:
    """A present metadata file whose tier could not be learnt."""
    return RepoMetadata(
        DEFAULT_TIER, DEFAULT_STATUS, None, posixpath.basename(file), file, True, (problem,), None, tier_known=False
    )


def unreadable_metadata(file: str, why: str, line: int | None = None) -> RepoMetadata:
    """An error on a metadata file that is there but could not be read or was refused."""
    return _unknown(
        file, Problem(file=file, key=None, line=line, rule=INVALID_CONFIG, message=f"{why}; {_USING_DEFAULTS}")
    )


def metadata_from_mapping(raw: Any, *, source: str, file: str, key_prefix: str = "") -> RepoMetadata:
    """Interpret an already parsed metadata mapping (YAML document or ``[metadata]`` table)."""
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        kind = "empty" if raw is None else type(raw).__name__
        problems.append(_warn(file, None, f"expected a mapping with tier/status/team, found {kind}; {_USING_DEFAULTS}"))
        return RepoMetadata(
            DEFAULT_TIER, DEFAULT_STATUS, None, source, file, True, tuple(problems), None, tier_known=False
        )
    tier_known = True

    def pick(name: str, allowed: tuple[str, ...], default: str) -> str:
        if name not in raw:
            return default
        value = raw[name]
        if isinstance(value, str) and value in allowed:
            return value
        problems.append(
            _warn(
                file,
                key_prefix + name,
                f"expected {name} to be one of {', '.join(allowed)}, found {quote(value)}; using {default!r}",
            )
        )
        return default

    tier = pick("tier", TIERS, DEFAULT_TIER)
    if problems:
        tier_known = False
    status = pick("status", STATUSES, DEFAULT_STATUS)
    team = raw.get("team")
    if team is not None and not isinstance(team, str):
        problems.append(_warn(file, key_prefix + "team", f"expected team to be a string, found {quote(team)}; ignored"))
        team = None
    return RepoMetadata(
        tier, status, team or None, source, file, True, tuple(problems), dict(raw), tier_known=tier_known
    )


def parse_metadata_yaml(text: str, file: str) -> RepoMetadata:
    """Metadata from the text of a repo-metadata.yaml/.yml file. Never raises."""
    source = posixpath.basename(file)
    too_big = size_problem(text, MAX_METADATA_BYTES)
    if too_big:
        return unreadable_metadata(file, f"{file} is {too_big}")
    if not text.strip():
        return RepoMetadata(
            DEFAULT_TIER,
            DEFAULT_STATUS,
            None,
            source,
            file,
            True,
            (_warn(file, None, f"file is empty; using defaults (tier {DEFAULT_TIER}, status {DEFAULT_STATUS})"),),
            None,
        )
    try:
        raw = load_yaml(text)
    except InputRejected as exc:
        return unreadable_metadata(file, f"{file} {exc}", exc.line)
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        return _unknown(
            file,
            Problem(
                file=file,
                key=None,
                line=line,
                rule=INVALID_CONFIG,
                severity="warning",
                message=f"not valid YAML ({yaml_error_text(exc)}); {_USING_DEFAULTS}",
            ),
        )
    except Exception as exc:
        return unreadable_metadata(file, f"could not be parsed as YAML ({type(exc).__name__})")
    return metadata_from_mapping(raw, source=source, file=file)


def metadata_for_dir(
    reader: TreeReader,
    directory: str,
    config_file: str | None,
    config_data: Mapping[str, Any] | None,
    paths: set[str] | None = None,
) -> RepoMetadata | None:
    """The metadata declared in ``directory`` itself, or None when it declares none.

    ``paths`` is the reader's listing when known: a listed file the reader cannot read is an
    unreadable metadata file, not an absent one.
    """
    if config_file and isinstance(config_data, Mapping) and "metadata" in config_data:
        return metadata_from_mapping(
            config_data["metadata"], source=posixpath.basename(config_file), file=config_file, key_prefix="metadata."
        )
    for name in METADATA_NAMES:
        path = join(directory, name)
        if paths is not None and path not in paths:
            continue
        text, why = read_checked(reader, path, MAX_METADATA_BYTES, listed=paths is not None)
        if why is not None:
            return unreadable_metadata(path, f"{path} {why}")
        if text is not None:
            return parse_metadata_yaml(text, path)
    return None
