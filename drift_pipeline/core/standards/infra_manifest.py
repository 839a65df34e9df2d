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

Deployment convention (trunk-based): the commit deployed to each env comes from the stack's commit
tag when present, else from git refs: dev = head of the default branch, staging = newest ``v*-rc*``
tag, prod = newest ``v*`` tag without a suffix ("newest" by version order). Configurable per env in
``[infra.deploy]`` (a tag glob, ``"branch"`` or ``"branch:<name>"``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from drift_pipeline.core.standards.limits import depth_message, quote, shorten, size_problem
from drift_pipeline.core.standards.located_json import LocatedJson, TooDeep
from drift_pipeline.core.standards.model import INVALID_CONFIG, Problem

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_MANIFEST_ENTRIES = 10_000
MAX_ENTRY_LENGTH = 2048
ENVS = ("dev", "staging", "prod")

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


# -- deployment convention ---------------------------------------------------------------------

MAX_TAG_NAME = 255  # longer tag names are ignored (git allows more; no release tag needs it)
MAX_TAG_CHECKS = 50  # candidate tags whose commit date is checked for one env, newest first
_VERSION = re.compile(r"\d{1,9}(?:\.\d{1,9}){0,7}")
_NATURAL = re.compile(r"(\d{1,9})")
_BRANCH = re.compile(r"^[A-Za-z0-9._/+-]{1,200}$")


@dataclass(frozen=True)
class EnvRef:
    """How one env's deployed commit is found in git: a branch head, or the newest matching release tag.

    ``[infra.deploy]`` values: a tag glob (``"v*"``, ``"v*-rc*"``, ``"tag:release-*"``), ``"branch"``
    (the default branch) or ``"branch:<name>"``. A tag counts only when it carries a version
    (``1.2.0`` in ``v1.2.0``); "newest" is version order. A pattern with nothing after its first
    wildcard but that wildcard (``v*``) takes only tags without a suffix after the version
    (``v1.2.0``, never ``v1.2.0-rc1``); a pattern with ``-`` or ``+`` there (``v*-rc*``) takes suffixes.
    """

    kind: str  # "branch" | "tag"
    pattern: str  # branch name ("" = the default branch), or fnmatch pattern of tag names

    def __post_init__(self) -> None:
        if self.kind not in ("branch", "tag") or (self.kind == "tag" and not self.pattern):
            raise ValueError(f"deployment ref must be branch:<name> or tag:<pattern>, got {self.kind}:{self.pattern}")

    @classmethod
    def parse(cls, spec: str) -> EnvRef:
        spec = spec.strip()
        if spec == "branch":
            return cls("branch", "")
        kind, colon, pattern = spec.partition(":")
        if not colon:  # a plain tag glob
            return cls("tag", spec)
        return cls(kind.strip(), pattern.strip())

    def allows_suffix(self) -> bool:
        star = min((i for i in (self.pattern.find(c) for c in "*?[") if i >= 0), default=-1)
        return star < 0 or any(c in self.pattern[star + 1 :] for c in "-+")


def deploy_ref_problem(spec: Any) -> str | None:
    """Why ``spec`` is not an ``[infra.deploy]`` value (None: valid). Used by the schema."""
    if not isinstance(spec, str) or not spec.strip():
        return "expected a tag glob such as \"v*\", \"branch\" or \"branch:<name>\""
    if len(spec) > MAX_TAG_NAME or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in spec):
        return f"expected a tag glob or branch:<name> of at most {MAX_TAG_NAME} characters without spaces"
    try:
        ref = EnvRef.parse(spec)
    except ValueError as exc:
        return str(exc)
    if ref.kind == "branch" and ref.pattern and not _BRANCH.match(ref.pattern):
        return f"branch:{shorten(ref.pattern, 60)}: not a branch name"
    return None


DEFAULT_CONVENTION: Mapping[str, EnvRef] = {
    "dev": EnvRef("branch", ""),  # the head of the default branch
    "staging": EnvRef("tag", "v*-rc*"),
    "prod": EnvRef("tag", "v*"),
}


def deploy_convention(table: Any) -> dict[str, EnvRef]:
    """``[infra.deploy]`` (validated) over the defaults; invalid entries keep the default."""
    out = dict(DEFAULT_CONVENTION)
    for env, spec in (table or {}).items() if isinstance(table, Mapping) else ():
        if deploy_ref_problem(spec) is None:
            out[str(env)] = EnvRef.parse(spec)
    return out


@dataclass(frozen=True)
class Deployment:
    env: str
    commit: str | None  # None: nothing is deployed there by the convention
    source: str  # "stack_tag" | "branch" | "tag" | "none"
    ref: str | None = None  # branch or tag name
    note: str | None = None  # why nothing was found, when there is a reason worth saying


@dataclass(frozen=True)
class GitRefs:
    heads: Mapping[str, str] = field(default_factory=dict)  # branch -> sha
    tags: Mapping[str, str] = field(default_factory=dict)  # tag -> commit sha (peeled)
    default_branch: str = "main"


def _natural(text: str) -> tuple[Any, ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _NATURAL.split(text) if p)


def release_key(tag: str, ref: EnvRef) -> tuple[Any, ...] | None:
    """The version order key of ``tag`` under ``ref`` (None: the tag is not one of its releases)."""
    if ref.kind != "tag" or len(tag) > MAX_TAG_NAME or not fnmatch.fnmatchcase(tag, ref.pattern):
        return None
    found = _VERSION.search(tag)
    if found is None:
        return None  # "latest", "stable": no version, no order
    suffix = tag[found.end() :]
    if suffix and not ref.allows_suffix():
        return None
    numbers = tuple(int(p) for p in found.group().split("."))
    return (numbers, (0, _natural(suffix)) if suffix else (1, ()))


def releases(tags: Mapping[str, str], ref: EnvRef) -> list[tuple[str, str]]:
    """``(tag, commit)`` of every release of ``ref`` in ``tags``, newest version first."""
    keyed = [(key, tag) for tag in tags if (key := release_key(tag, ref)) is not None]
    return [(tag, tags[tag]) for _, tag in sorted(keyed, reverse=True)]


def deployed_commits(
    refs: GitRefs,
    *,
    envs: Sequence[str] = ENVS,
    convention: Mapping[str, EnvRef] | None = None,
    stack_commits: Mapping[str, str | None] | None = None,
    existed: Callable[[str], bool] | None = None,
) -> dict[str, Deployment]:
    """Which commit is deployed to each env: the stack's commit tag first, then the git convention.

    ``existed(sha)`` says whether a tag's commit existed by the end of the scanned day (a past day
    only sees releases made by then); candidates are tried newest first, at most
    :data:`MAX_TAG_CHECKS` per env.
    """
    rules = dict(DEFAULT_CONVENTION) | dict(convention or {})
    out: dict[str, Deployment] = {}
    for env in envs:
        tagged = (stack_commits or {}).get(env)
        if tagged:
            out[env] = Deployment(env, tagged, "stack_tag")
            continue
        rule = rules.get(env)
        if rule is None:
            out[env] = Deployment(env, None, "none", note=f"no deployment convention for env {env!r}")
        elif rule.kind == "branch":
            branch = rule.pattern or refs.default_branch
            sha = refs.heads.get(branch)
            out[env] = Deployment(env, sha, "branch" if sha else "none", branch)
        else:
            out[env] = _newest_release(env, refs, rule, existed)
    return out


def _newest_release(env: str, refs: GitRefs, rule: EnvRef, existed: Callable[[str], bool] | None) -> Deployment:
    candidates = releases(refs.tags, rule)
    for tag, sha in candidates[:MAX_TAG_CHECKS]:
        if existed is None or existed(sha):
            return Deployment(env, sha, "tag", tag)
    if not candidates:
        note = f"no tag matches {rule.pattern!r} with a version"
    elif len(candidates) > MAX_TAG_CHECKS:
        note = f"none of the {MAX_TAG_CHECKS} newest tags matching {rule.pattern!r} existed by the end of the day"
    else:
        note = f"no tag matching {rule.pattern!r} existed by the end of the day"
    return Deployment(env, None, "none", note=note)
