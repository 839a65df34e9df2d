"""A repo's infra declarations: its ``[infra]`` table, its manifest file, and which commit is deployed where.

Pure: text and parsed config in, records and :class:`Problem` out.

Manifest formats (check-my-toolkit's ``cm infra``):

- v1 JSON ``{"version": 1?, "project": str?, "resources": [str, ...]}``;
- v2 JSON ``{"version": 2, "project": str?, "accounts": {"aws:<id>"|"gcp:<project>": {"alias": str?,
  "resources": [str, ...]}}}``;
- plain text: one ARN or resource id per line; blank lines and ``#`` comments skipped.

The format follows the extension (``.json`` / ``.txt``); any other extension tries JSON, then text.
Every entry keeps its 1-based line, JSON included, so a problem points at the line to fix. A bad
entry is one ``invalid_config`` problem with file and line; the good entries are still returned.

Which commit is deployed where (the ``[infra.deploy]`` convention) is
:mod:`drift_pipeline.core.standards.infra_deploy`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drift_pipeline.core.standards.infra_deploy import EnvRef, deploy_convention
from drift_pipeline.core.standards.limits import depth_message, quote, shorten, size_problem
from drift_pipeline.core.standards.located_json import LocatedJson, TooDeep
from drift_pipeline.core.standards.model import INVALID_CONFIG, Problem

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_MANIFEST_ENTRIES = 10_000
MAX_ENTRY_LENGTH = 2048

_ACCOUNT_KEY = re.compile(r"^(aws|gcp):.+$")
_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")
_GCP = re.compile(r"^projects/[^/\s]+/.+$")
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][\w.:/+=@,-]*$")


# -- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    """One declared resource: an ARN, a GCP path or a plain resource id, with its line."""

    resource: str
    line: int
    account: str | None = None  # "aws:<id>" / "gcp:<project>" (v2 key, or from the ARN); None: unknown
    alias: str | None = None

    @property
    def is_arn(self) -> bool:
        return self.resource.startswith("arn:")


@dataclass(frozen=True)
class Manifest:
    file: str
    format: str  # "v1" | "v2" | "text"
    project: str | None
    entries: tuple[ManifestEntry, ...]

    def for_account(self, account_id: str) -> tuple[ManifestEntry, ...]:
        """Entries naming one AWS account (by the v2 key or the ARN's account field)."""
        key = f"aws:{account_id}"
        return tuple(e for e in self.entries if e.account == key)

    def accountless(self) -> tuple[ManifestEntry, ...]:
        """Entries naming no account (S3 ARNs, plain ids): expected in some account of the repo."""
        return tuple(e for e in self.entries if e.account is None)


@dataclass(frozen=True)
class InfraDeclaration:
    """A repo's ``[infra]`` table after schema validation and defaults."""

    enabled: bool
    path: str | None
    stacks: tuple[str, ...]
    accounts: Mapping[str, str]  # env -> 12-digit account id
    manifest: str | None  # config-relative path of the manifest file
    deploy: Mapping[str, EnvRef] = field(default_factory=dict)  # env -> convention (defaults filled in)


def infra_declaration(config: Mapping[str, Any]) -> InfraDeclaration | None:
    """The ``[infra]`` table of a validated config (``None`` when absent or not enabled).

    Declaring ``path``/``stacks`` counts as enabled: the vision's keys need no ``enabled = true``.
    """
    infra = config.get("infra")
    if not isinstance(infra, Mapping):
        return None
    stacks = tuple(s for s in infra.get("stacks") or () if isinstance(s, str))
    enabled = bool(infra.get("enabled")) or bool(stacks)
    if not enabled:
        return None
    given = infra.get("accounts")
    accounts: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    path = infra.get("path")
    manifest = infra.get("manifest")
    return InfraDeclaration(
        enabled=True,
        path=path if isinstance(path, str) else None,
        stacks=stacks,
        accounts={str(k): str(v) for k, v in accounts.items()},
        manifest=manifest if isinstance(manifest, str) and bool(infra.get("enabled")) else None,
        deploy=deploy_convention(infra.get("deploy")),
    )


# -- manifest parsing --------------------------------------------------------------------------


def parse_manifest(file: str, text: str) -> tuple[Manifest | None, list[Problem]]:
    """Parse a manifest; ``None`` with problems when nothing usable could be read."""
    too_big = size_problem(text, MAX_MANIFEST_BYTES)
    if too_big:
        return None, [_problem(file, None, None, too_big)]
    lower = file.lower()
    if lower.endswith(".txt"):
        return _parse_text(file, text)
    if lower.endswith(".json"):
        return _parse_json(file, text)
    if text.lstrip().startswith(("{", "[")):
        return _parse_json(file, text)
    return _parse_text(file, text)


def _problem(file: str, line: int | None, key: str | None, message: str) -> Problem:
    return Problem(file=file, key=key, line=line, message=message, rule=INVALID_CONFIG)


def _entry_problem(resource: str) -> str | None:
    if len(resource) > MAX_ENTRY_LENGTH:
        return f"resource identifier longer than {MAX_ENTRY_LENGTH} characters"
    if resource.startswith("arn:"):
        if not _ARN.match(resource):
            return (
                f"invalid ARN {quote(resource)}: expected arn:<aws|aws-cn|aws-us-gov>:<service>:<region>:"
                "<12-digit account or empty>:<resource>"
            )
        return None
    if resource.startswith("projects/"):
        return None if _GCP.match(resource) else f"invalid GCP resource path {quote(resource)}"
    if not _PLAIN_ID.match(resource):
        return f"invalid resource identifier {quote(resource)}: expected an ARN or a resource id without spaces"
    return None


def _account_of(resource: str) -> str | None:
    if resource.startswith("arn:"):
        parts = resource.split(":")
        return f"aws:{parts[4]}" if len(parts) > 5 and parts[4] else None
    if resource.startswith("projects/"):
        return f"gcp:{resource.split('/')[1]}"
    return None


def _parse_text(file: str, text: str) -> tuple[Manifest | None, list[Problem]]:
    entries: list[ManifestEntry] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if " #" in line:  # trailing comment
            line = line.split(" #", 1)[0].rstrip()
        bad = _entry_problem(line)
        if bad:
            problems.append(_problem(file, number, None, bad))
        elif len(entries) >= MAX_MANIFEST_ENTRIES:
            problems.append(_problem(file, number, None, f"more than {MAX_MANIFEST_ENTRIES} entries; rest ignored"))
            break
        else:
            entries.append(ManifestEntry(line, number, _account_of(line)))
    return Manifest(file, "text", None, tuple(entries)), problems


def _parse_json(file: str, text: str) -> tuple[Manifest | None, list[Problem]]:
    try:
        data = LocatedJson(text).document()
    except json.JSONDecodeError as exc:
        return None, [_problem(file, exc.lineno, None, f"not valid JSON: {exc.msg} (column {exc.colno})")]
    except TooDeep as exc:
        return None, [_problem(file, exc.line, None, depth_message())]
    if not isinstance(data, dict):
        return None, [_problem(file, 1, None, f"expected a JSON object with resources or accounts, got {_kind(data)}")]
    problems: list[Problem] = []
    version = data.get("version", 1)
    project = data.get("project")
    if project is not None and not isinstance(project, str):
        problems.append(_problem(file, None, "project", f"expected a string, got {_kind(project)}"))
        project = None
    entries: list[ManifestEntry] = []
    if version == 1 and "accounts" not in data:
        entries = _entries(file, data.get("resources"), "resources", None, None, problems)
        fmt = "v1"
    elif version == 2:
        accounts = data.get("accounts")
        if not isinstance(accounts, dict):
            problems.append(_problem(file, None, "accounts", f"expected an object of accounts, got {_kind(accounts)}"))
            accounts = {}
        for key, body in accounts.items():
            where = f"accounts.{shorten(key, 60)}"
            if not _ACCOUNT_KEY.match(key):
                problems.append(
                    _problem(
                        file,
                        getattr(key, "line", None),
                        where,
                        f"account key {quote(key)}: expected aws:<id> or gcp:<project>",
                    )
                )
                continue
            if not isinstance(body, dict):
                problems.append(
                    _problem(file, getattr(key, "line", None), where, f"expected an object, got {_kind(body)}")
                )
                continue
            alias = body.get("alias") if isinstance(body.get("alias"), str) else None
            entries += _entries(file, body.get("resources"), f"{where}.resources", str(key), alias, problems)
        fmt = "v2"
    else:
        problems.append(_problem(file, None, "version", f"expected 1 or 2, got {quote(version)}"))
        return None, problems
    if len(entries) > MAX_MANIFEST_ENTRIES:
        problems.append(_problem(file, None, None, f"more than {MAX_MANIFEST_ENTRIES} entries; rest ignored"))
        entries = entries[:MAX_MANIFEST_ENTRIES]
    return Manifest(file, fmt, project, tuple(entries)), problems


def _entries(
    file: str, items: Any, key: str, account: str | None, alias: str | None, problems: list[Problem]
) -> list[ManifestEntry]:
    if not isinstance(items, list):
        problems.append(_problem(file, None, key, f"expected a list of resource strings, got {_kind(items)}"))
        return []
    out = []
    lines = getattr(items, "lines", [])
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else None
        if not isinstance(item, str):
            problems.append(_problem(file, line, f"{key}[{index}]", f"expected a string, got {_kind(item)}"))
            continue
        resource = str(item).strip()
        bad = _entry_problem(resource)
        if bad:
            problems.append(_problem(file, line, f"{key}[{index}]", bad))
            continue
        out.append(ManifestEntry(resource, line or 0, account or _account_of(resource), alias))
    return out


def _kind(value: Any) -> str:
    for kind, name in ((bool, "a boolean"), (str, "a string"), (dict, "an object"), (list, "a list")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__
