"""Which commit of a repo is deployed to each env: the trunk-based deployment convention.

Pure: ``[infra.deploy]`` values and git refs (tag -> commit, branch heads) in, records out.
The commit deployed to each env comes from the stack's commit tag when present, else from git
refs: dev = head of the default branch, staging = newest ``v*-rc*`` tag, prod = newest ``v*`` tag
without a suffix ("newest" by version order). Configurable per env in ``[infra.deploy]`` (a tag
glob, ``"branch"`` or ``"branch:<name>"``); :func:`deploy_ref_problem` is the schema's check of one value.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from drift_pipeline.core.standards.limits import shorten

ENVS = ("dev", "staging", "prod")
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
