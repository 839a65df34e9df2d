"""``[extends]`` resolution: registries, rulesets and the merge.

Registry references:

- ``github:owner/repo[@ref]``, ``github+ssh:owner/repo[@ref]``, ``github+token:owner/repo[@ref]``:
  the same owner/repo/ref; only the transport differs, which is the fetcher's business. They are
  fetched through a :class:`RegistryFetcher` (``fetch(owner, repo, ref) -> TreeReader``, raising
  :class:`RegistryUnavailable`), so this module never touches the network itself.
- anything else is a local path; a relative one resolves against the config file's directory.
  Inside the analysed tree it is read through the same reader; outside it (or absolute) it is
  read from disk when the tree itself is on disk.
- ``local_overrides`` maps ``"github:owner/repo"`` (or ``"github:owner/repo@ref"``, or ``"*"``
  for any github registry) to a local folder: that folder is used instead of fetching.

Resolved registries (and failures) are cached per (registry, ref) for the resolver's lifetime.

Merge semantics (:func:`deep_merge`), applied as ``ruleset1 < ruleset2 < ... < local config``:

- tables merge key by key, recursively, at every depth (so a ruleset's
  ``[code.linting.eslint.rules]`` and the local file's extra rule both survive);
- every other value (strings, numbers, booleans, arrays, arrays of tables such as
  ``code.naming.rules`` or ``process.codeowners.rules``) is replaced whole by the later layer;
- when the two layers disagree on the kind (table vs. value) the later layer wins;
- no key is ever dropped: a key only present in an earlier layer is kept as is;
- a ruleset's own ``[extends]`` is not followed (it is removed before merging, with a warning);
- schema defaults are applied once, after the merge, so a layer that names a table without
  ``enabled`` does not reset what an earlier layer enabled.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from drift_pipeline.core.standards.limits import MAX_CONFIG_BYTES, quote, shorten
from drift_pipeline.core.standards.loader import load_config
from drift_pipeline.core.standards.model import INVALID_CONFIG, REGISTRY_UNRESOLVED, ConfigFile, Problem
from drift_pipeline.core.standards.readers import LocalDirReader, SubtreeReader, TreeReader, read_checked

_GITHUB = re.compile(r"^github(?:\+(ssh|token))?:(.*)$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_RULESET_NAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")


class RegistryUnavailable(Exception):
    """A registry could not be fetched or found. The message must not contain credentials."""


class RegistryFetcher(Protocol):
    def fetch(self, owner: str, repo: str, ref: str | None) -> TreeReader:
        """The registry's tree at ``ref`` (default branch when None); raise RegistryUnavailable."""
        ...


@dataclass(frozen=True)
class RegistryRef:
    raw: str
    kind: str  # "github" | "local"
    owner: str | None = None
    repo: str | None = None
    ref: str | None = None
    transport: str | None = None  # None (auto) | "ssh" | "token"
    path: str | None = None  # local path as written

    @property
    def key(self) -> str:
        """Normalised identity: ``github:owner/repo[@ref]`` or the local path."""
        if self.kind == "github":
            return f"github:{self.owner}/{self.repo}" + (f"@{self.ref}" if self.ref else "")
        return self.path or ""


def parse_registry(spec: str) -> RegistryRef:
    """Parse an ``[extends] registry`` value; raises ValueError for a malformed github: one."""
    m = _GITHUB.match(spec.strip())
    if not m:
        return RegistryRef(raw=spec, kind="local", path=spec)
    transport, rest = m.group(1), m.group(2)
    ref = None
    if "@" in rest:
        rest, ref = rest.split("@", 1)
        if not ref:
            raise ValueError(f"registry {quote(spec)} has an empty @ref")
    parts = rest.split("/")
    if len(parts) != 2 or not all(parts) or not all(_NAME.match(p) for p in parts):
        raise ValueError(f"registry {quote(spec)} must look like github:owner/repo[@ref]")
    return RegistryRef(raw=spec, kind="github", owner=parts[0], repo=parts[1], ref=ref, transport=transport)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base`` (see the module docstring); inputs are not modified."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one config's ``[extends]``."""

    registry: str | None
    rulesets: tuple[str, ...]
    applied: tuple[str, ...]  # rulesets actually merged, in order
    merged: dict[str, Any]  # the rulesets merged (not yet the local config)
    problems: tuple[Problem, ...]


class RegistryResolver:
    """Resolves registries and rulesets; one instance caches every registry it has seen."""

    def __init__(self, fetcher: RegistryFetcher | None = None, local_overrides: Mapping[str, Path | str] | None = None):
        self.fetcher = fetcher
        self.local_overrides = {k: Path(v) for k, v in (local_overrides or {}).items()}
        self._cache: dict[tuple[str, str | None], TreeReader | RegistryUnavailable] = {}

    # -- registries -------------------------------------------------------------------------

    def _override_for(self, ref: RegistryRef) -> Path | None:
        for key in (
            f"github:{ref.owner}/{ref.repo}@{ref.ref}" if ref.ref else None,
            f"github:{ref.owner}/{ref.repo}",
            f"{ref.owner}/{ref.repo}",
            "*",
        ):
            if key and key in self.local_overrides:
                return self.local_overrides[key]
        return None

    def open_github(self, ref: RegistryRef) -> TreeReader:
        cache_key = (f"github:{ref.owner}/{ref.repo}", ref.ref)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._open_github(ref)
        found = self._cache[cache_key]
        if isinstance(found, RegistryUnavailable):
            raise found
        return found

    def _open_github(self, ref: RegistryRef) -> TreeReader | RegistryUnavailable:
        local = self._override_for(ref)
        if local is not None:
            if not local.is_dir():
                return RegistryUnavailable(f"local folder {local} given for {ref.key} does not exist")
            return LocalDirReader(local)
        if self.fetcher is None:
            return RegistryUnavailable(
                f"registry {ref.key} is on GitHub and no GitHub access is "
                "configured (use --registry-dir to point at a local copy)"
            )
        try:
            assert ref.owner and ref.repo
            return self.fetcher.fetch(ref.owner, ref.repo, ref.ref)
        except RegistryUnavailable as exc:
            return exc
        except Exception as exc:
            return RegistryUnavailable(f"registry {ref.key} could not be fetched: {type(exc).__name__}")

    def open_local(self, path: str, config_dir: str, tree: TreeReader | None) -> TreeReader:
        """A local registry: inside ``tree`` when the path stays in it, else from disk."""
        if not posixpath.isabs(path) and tree is not None:
            inside = posixpath.normpath(posixpath.join(config_dir or ".", path))
            if inside != ".." and not inside.startswith("../"):
                prefix = "" if inside == "." else inside + "/"
                if any(p.startswith(prefix + "rulesets/") for p in tree.list_paths()):
                    return SubtreeReader(tree, inside)
        root = getattr(tree, "root", None)
        if posixpath.isabs(path):
            disk = Path(path)
        elif isinstance(root, Path):
            disk = (root / (config_dir or ".") / path).resolve()
        else:
            raise RegistryUnavailable(f"local registry {quote(path)} not found in the repository")
        cache_key = (str(disk), None)
        if cache_key not in self._cache:
            self._cache[cache_key] = (
                LocalDirReader(disk)
                if disk.is_dir()
                else RegistryUnavailable(f"local registry {quote(path)} not found ({shorten(str(disk))})")
            )
        found = self._cache[cache_key]
        if isinstance(found, RegistryUnavailable):
            raise found
        return found

    # -- rulesets ---------------------------------------------------------------------------

    def resolve(
        self, extends: Any, config_file: str, tree: TreeReader | None = None, extends_line: int | None = None
    ) -> Resolution:
        """Load and merge the rulesets named by an ``[extends]`` table. Never raises."""
        problems: list[Problem] = []

        def unresolved(
            message: str, key: str | None = "extends.registry", line: int | None = extends_line, file: str = config_file
        ) -> None:
            problems.append(Problem(file=file, key=key, line=line, message=message, rule=REGISTRY_UNRESOLVED))

        if not isinstance(extends, Mapping):
            return Resolution(None, (), (), {}, ())
        registry = extends.get("registry")
        rulesets_raw = extends.get("rulesets")
        rulesets = tuple(r for r in rulesets_raw if isinstance(r, str)) if isinstance(rulesets_raw, list) else ()
        if not isinstance(registry, str) or not registry.strip():
            if rulesets:
                unresolved("[extends] names rulesets but no registry; rulesets not applied")
            return Resolution(None, rulesets, (), {}, tuple(problems))
        try:
            ref = parse_registry(registry)
        except ValueError as exc:
            unresolved(f"{exc}; rulesets not applied")
            return Resolution(registry, rulesets, (), {}, tuple(problems))
        try:
            if ref.kind == "github":
                reader = self.open_github(ref)
            else:
                reader = self.open_local(registry, posixpath.dirname(config_file), tree)
        except RegistryUnavailable as exc:
            unresolved(
                f"registry {quote(registry)} is unavailable: {exc}; rulesets not applied "
                f"({shorten(', '.join(rulesets)) or 'none'})"
            )
            return Resolution(registry, rulesets, (), {}, tuple(problems))

        merged: dict[str, Any] = {}
        applied: list[str] = []
        listing: dict[str, set[str]] = {}  # the registry's paths, listed once, only for readers that need it
        for name in rulesets:
            text = _read_ruleset(reader, registry, name, listing, unresolved)
            data = None if text is None else _ruleset_data(text, name, registry, problems)
            if data is not None:
                merged = deep_merge(merged, data)
                applied.append(name)
        return Resolution(registry, rulesets, tuple(applied), merged, tuple(problems))


def _read_ruleset(
    reader: TreeReader, registry: str, name: str, listing: dict[str, set[str]], unresolved: Callable[..., None]
) -> str | None:
    """The text of ``rulesets/<name>.toml`` in the registry, or None once ``unresolved`` has said why."""
    if not _RULESET_NAME.match(name):
        unresolved(f"ruleset name {quote(name)} is not a plain file name; not applied", key="extends.rulesets")
        return None
    path = f"rulesets/{name}.toml"
    text, why = read_checked(reader, path, MAX_CONFIG_BYTES, listed=False)
    if text is None and why is None and not isinstance(reader, LocalDirReader):  # None: unreadable, or absent?
        if "paths" not in listing:
            listing["paths"] = set(reader.list_paths())
        if path in listing["paths"]:
            why = "could not be read (not UTF-8 text, or the read failed)"
    if why is not None:
        unresolved(f"ruleset {quote(name)} of registry {quote(registry)} {why}; not applied", key="extends.rulesets")
        return None
    if text is None:
        unresolved(
            f"ruleset {quote(name)} not found in registry {quote(registry)} (expected rulesets/{name}.toml); not applied",
            key="extends.rulesets",
        )
    return text


def _ruleset_data(text: str, name: str, registry: str, problems: list[Problem]) -> dict[str, Any] | None:
    """A ruleset's data to merge, or None when it is invalid (its problems added, each saying it is not applied)."""
    label = f"{shorten(registry)}:rulesets/{shorten(name)}.toml"
    loaded = load_config(text, label)
    if not loaded.valid:
        for p in loaded.problems:
            problems.append(
                Problem(
                    file=label,
                    key=p.key,
                    line=p.line,
                    message=f"invalid ruleset {quote(name)}, not applied: {p.message}",
                    rule=REGISTRY_UNRESOLVED,
                    severity=p.severity,
                )
            )
        return None
    data = dict(loaded.data)
    if "extends" in data:
        data.pop("extends")
        problems.append(
            Problem(
                file=label,
                key="extends",
                line=None,
                message="a ruleset's own [extends] is not followed; ignored",
                rule=INVALID_CONFIG,
                severity="warning",
            )
        )
    return data


def load_ruleset_dir(root: Path) -> dict[str, Any]:
    """Every ``rulesets/*.toml`` of a local registry folder, loaded and validated (name -> ConfigFile)."""
    out: dict[str, Any] = {}
    reader = LocalDirReader(root)
    for file in sorted((root / "rulesets").glob("*.toml")):
        path = f"rulesets/{file.name}"
        text, why = read_checked(reader, path, MAX_CONFIG_BYTES)
        if text is None:
            problem = Problem(file=path, key=None, line=None, message=f"{path} {why}; not parsed")
            out[file.stem] = ConfigFile(path, {}, (problem,), parsed=False)
            continue
        out[file.stem] = load_config(text, path)
    return out
