"""The strict schema of check.toml / standards.toml, its validation and its defaults.

The schema is the check-my-toolkit one (every table strict: an unknown key anywhere is an error),
plus the ``[metadata]`` table of the standards.toml successor, plus the keys our own vision uses:
``[process.branches] protection / required_reviews / require_status_checks``,
``[process.commits] conventional``, ``[process.ci] required_workflows`` and
``[infra] path / stacks / [infra.accounts] dev|staging|prod / [infra.deploy] dev|staging|prod``.

Removed keys (ruff ``format``, ``code.formatting.prettier``, ``code.tests``, ``infra.tagging``)
are simply not in the schema, so they are reported as unknown.

:func:`validate` never raises: it walks the data and returns ``(key path, message)`` pairs, the
key path being a tuple of table keys and array indexes. :func:`apply_defaults` returns a copy
with defaults filled in (every tool ``enabled = false`` unless set; a present eslint or ruff
table defaults to ``enabled = true``); it tolerates invalid data (wrong types are left alone).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from drift_pipeline.core.standards.globs import glob_error
from drift_pipeline.core.standards.infra_manifest import deploy_ref_problem
from drift_pipeline.core.standards.limits import quote
from drift_pipeline.core.standards.patterns import MAX_PATTERN_LENGTH, SYNTAX, pattern_error

MAX_REGEX_LENGTH = MAX_PATTERN_LENGTH
MAX_LIST_ITEMS = 1000  # no real config lists more; beyond it, items are not checked one by one

KeyPath = tuple[str | int, ...]
Report = list[tuple[KeyPath, str]]


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (datetime, date, time)):
        return f"a date/time {value}"
    return type(value).__name__


class Spec:
    expected = "a value"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:  # pragma: no cover
        raise NotImplementedError

    def fail(self, value: Any, path: KeyPath, out: Report) -> None:
        out.append((path, f"expected {self.expected}, found {type_name(value)}"))


class AnyValue(Spec):
    expected = "any value"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        return


class Bool(Spec):
    expected = "a boolean (true or false)"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, bool):
            self.fail(value, path, out)


class Int(Spec):
    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum
        if minimum is not None and maximum is not None:
            self.expected = f"an integer from {minimum} to {maximum}"
        elif minimum is not None:
            self.expected = f"an integer >= {minimum}"
        else:
            self.expected = "an integer"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
        ):
            self.fail(value, path, out)


class Str(Spec):
    def __init__(self, pattern: str | None = None, expected: str = "a string", nonempty: bool = False):
        self.rx = re.compile(pattern) if pattern else None
        self.expected = expected
        self.nonempty = nonempty

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, str) or (self.rx and not self.rx.fullmatch(value)) or (self.nonempty and not value):
            self.fail(value, path, out)


class Enum(Spec):
    def __init__(self, *values: str):
        self.values = values
        self.expected = "one of " + ", ".join(f'"{v}"' for v in values)

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if value not in self.values or not isinstance(value, str):
            self.fail(value, path, out)


class Glob(Spec):
    expected = "a glob pattern"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, str):
            self.fail(value, path, out)
            return
        why = glob_error(value)
        if why:
            out.append((path, f"expected a valid glob pattern, found {quote(value)}: {why}"))


class Regex(Spec):
    """A pattern from the config: matched by RE2 (linear time), so what RE2 refuses is invalid here."""

    expected = "a regular expression (string)"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, str):
            self.fail(value, path, out)
            return
        if len(value) > MAX_REGEX_LENGTH:
            out.append(
                (path, f"expected a regular expression of at most {MAX_REGEX_LENGTH} characters, found {len(value)}")
            )
            return
        why = pattern_error(value)
        if why:
            out.append((path, f"expected a regular expression in {SYNTAX}, found {quote(value)}: {why}"))


class ListOf(Spec):
    def __init__(self, item: Spec, unique: bool = False, min_items: int = 0):
        self.item, self.unique, self.min_items = item, unique, min_items
        self.expected = f"an array of {_plural(item)}"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, list):
            self.fail(value, path, out)
            return
        if len(value) < self.min_items:
            out.append((path, f"expected at least {self.min_items} item(s), found {len(value)}"))
        if len(value) > MAX_LIST_ITEMS:
            out.append((path, f"expected at most {MAX_LIST_ITEMS} items, found {len(value)}"))
            return
        for i, item in enumerate(value):
            self.item.check(item, (*path, i), out)
        if self.unique:
            seen: set[Any] = set()
            for item in value:
                if not isinstance(item, (str, int)):
                    continue
                if item in seen:
                    out.append((path, f"expected unique items, found {quote(item)} more than once"))
                seen.add(item)


def _plural(spec: Spec) -> str:
    if isinstance(spec, Str) and spec.expected == "a string":
        return "strings"
    if isinstance(spec, Glob):
        return "glob patterns"
    if isinstance(spec, Table):
        return "tables"
    return f"items each {spec.expected}"


class MapOf(Spec):
    """A table with free keys whose values all follow ``value``."""

    def __init__(self, value: Spec, expected: str | None = None):
        self.value = value
        self.expected = expected or f"a table whose values are {value.expected}"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, dict):
            self.fail(value, path, out)
            return
        for key, item in value.items():
            self.value.check(item, (*path, key), out)


class OneOf(Spec):
    def __init__(self, *options: Spec, expected: str):
        self.options = options
        self.expected = expected

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        best: Report | None = None
        for option in self.options:
            trial: Report = []
            option.check(value, path, trial)
            if not trial:
                return
            if _kind_matches(option, value) and best is None:
                best = trial
        if best:
            out.extend(best)
        else:
            self.fail(value, path, out)


def _kind_matches(spec: Spec, value: Any) -> bool:
    if isinstance(spec, (Table, MapOf)):
        return isinstance(value, dict)
    if isinstance(spec, ListOf):
        return isinstance(value, list)
    if isinstance(spec, (Str, Enum, Glob, Regex)):
        return isinstance(value, str)
    return False


@dataclass
class Table(Spec):
    fields: dict[str, Spec]
    defaults: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    tool: bool = False  # a tool table: materialised (disabled) when absent
    extra: Spec | None = None  # spec for keys not in ``fields`` (None: strict)
    expected: str = "a table"

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        if not isinstance(value, dict):
            self.fail(value, path, out)
            return
        for key in self.required:
            if key not in value:
                out.append((path, f"missing required key {key!r}"))
        for key, item in value.items():
            spec = self.fields.get(key)
            if spec is None:
                if self.extra is not None:
                    self.extra.check(item, (*path, key), out)
                    continue
                known = ", ".join(sorted(self.fields)) or "none"
                out.append(((*path, key), f"unknown key {quote(key)} (known keys here: {known})"))
                continue
            spec.check(item, (*path, key), out)


class ArrayOf(ListOf):
    """An array of tables (``[[x]]``)."""


# -- the schema -----------------------------------------------------------------------------

STRS = ListOf(Str())
GLOBS = ListOf(Glob())
DEPS = {"dependencies": STRS}
PERCENT = Int(0, 100)


def _tool(
    fields: dict[str, Spec] | None = None, defaults: dict[str, Any] | None = None, enabled_default: bool = False
) -> Table:
    return Table(
        fields={"enabled": Bool(), **(fields or {}), **DEPS},
        defaults={"enabled": enabled_default, **(defaults or {})},
        tool=True,
    )


_SEVERITY = Enum("off", "warn", "error")
_ESLINT_RULE = OneOf(
    _SEVERITY,
    Table(fields={"severity": _SEVERITY}, required=("severity",), extra=AnyValue()),
    expected='"off", "warn", "error" or an inline table {severity = "...", <options>} '
    "(array-form rule values are not supported)",
)

_CASE = Enum("kebab-case", "snake_case", "camelCase", "PascalCase")


class _NamingRules(ArrayOf):
    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        super().check(value, path, out)
        if not isinstance(value, list):
            return
        owner: dict[str, int] = {}
        for i, rule in enumerate(value):
            if not isinstance(rule, dict) or not isinstance(rule.get("extensions"), list):
                continue
            for ext in rule["extensions"]:
                if isinstance(ext, str) and ext in owner and owner[ext] != i:
                    out.append(
                        ((*path, i, "extensions"), f"extension {ext!r} already has a naming rule (rules[{owner[ext]}])")
                    )
                elif isinstance(ext, str):
                    owner[ext] = i


CODE = Table(
    fields={
        "linting": Table(
            fields={
                "eslint": _tool(
                    {
                        "files": GLOBS,
                        "ignore": GLOBS,
                        "max-warnings": Int(0),
                        "rules": MapOf(_ESLINT_RULE, expected="a table of rule name -> severity or inline table"),
                    },
                    enabled_default=True,
                ),
                "ruff": _tool(
                    {
                        "line-length": Int(1),
                        "lint": Table(fields={"select": STRS, "ignore": STRS}),
                    },
                    enabled_default=True,
                ),
            }
        ),
        "types": Table(
            fields={
                "tsc": _tool(
                    {
                        "require": Table(
                            fields={
                                k: Bool()
                                for k in (
                                    "strict",
                                    "noImplicitAny",
                                    "strictNullChecks",
                                    "noUnusedLocals",
                                    "noUnusedParameters",
                                    "noImplicitReturns",
                                    "noFallthroughCasesInSwitch",
                                    "esModuleInterop",
                                    "skipLibCheck",
                                    "forceConsistentCasingInFileNames",
                                )
                            }
                        )
                    }
                ),
                "ty": _tool(),
            }
        ),
        "unused": Table(fields={"knip": _tool(), "vulture": _tool()}),
        "coverage_run": _tool(
            {
                "min_threshold": PERCENT,
                "runner": Enum("vitest", "jest", "pytest", "auto"),
                "command": Str(),
            },
            {"min_threshold": 80, "runner": "auto"},
        ),
        "security": Table(
            fields={
                "secrets": _tool(
                    {"scan_mode": Enum("branch", "files", "staged", "full"), "base_branch": Str()},
                    {"scan_mode": "branch", "base_branch": "main"},
                ),
                "pnpmaudit": _tool({"exclude_dev": Bool()}, {"exclude_dev": True}),
                "pipaudit": _tool(),
            }
        ),
        "naming": _tool(
            {
                "rules": _NamingRules(
                    Table(
                        fields={
                            "extensions": ListOf(Str(), unique=True, min_items=1),
                            "file_case": _CASE,
                            "folder_case": _CASE,
                            "exclude": GLOBS,
                            "allow_dynamic_routes": Bool(),
                        },
                        required=("extensions", "file_case", "folder_case"),
                    )
                )
            }
        ),
        "quality": Table(
            fields={
                "disable-comments": _tool(
                    {"patterns": STRS, "extensions": ListOf(Str(), unique=True), "exclude": GLOBS}
                ),
            }
        ),
    }
)

_STR_LIST_OR_JOB_MAP = OneOf(STRS, MapOf(STRS), expected="an array of strings or a table of job -> array of strings")

PROCESS = Table(
    fields={
        "hooks": _tool(
            {"require_husky": Bool(), "require_hooks": STRS, "commands": MapOf(STRS), "protected_branches": STRS},
            {"require_husky": True},
        ),
        "ci": _tool(
            {
                "require_workflows": STRS,
                "jobs": MapOf(STRS),
                "actions": MapOf(STRS),
                "commands": MapOf(_STR_LIST_OR_JOB_MAP),
                "required_workflows": STRS,
            }
        ),  # vision key
        "branches": _tool(
            {
                "pattern": Regex(),
                "exclude": STRS,
                "require_issue": Bool(),
                "issue_pattern": Regex(),
                "protection": Bool(),
                "required_reviews": Int(0),  # vision keys
                "require_status_checks": STRS,
            },
            {"require_issue": False},
        ),
        "commits": _tool(
            {
                "pattern": Regex(),
                "types": STRS,
                "require_scope": Bool(),
                "max_subject_length": Int(1),
                "conventional": Bool(),
            },  # vision key
            {"require_scope": False},
        ),
        "changesets": _tool(
            {
                "require_for_paths": STRS,
                "exclude_paths": STRS,
                "validate_format": Bool(),
                "allowed_bump_types": ListOf(Enum("patch", "minor", "major")),
                "require_description": Bool(),
                "min_description_length": Int(0),
            },
            {"validate_format": True, "require_description": True},
        ),
        "pr": _tool(
            {
                "max_files": Int(1),
                "max_lines": Int(1),
                "require_issue": Bool(),
                "issue_keywords": STRS,
                "exclude": GLOBS,
            },
            {"require_issue": False},
        ),
        "tickets": _tool(
            {"pattern": Regex(), "require_in_commits": Bool(), "require_in_branch": Bool()},
            {"require_in_commits": True, "require_in_branch": False},
        ),
        "coverage": _tool(
            {
                "min_threshold": PERCENT,
                "enforce_in": Enum("ci", "config", "both"),
                "ci_workflow": Str(),
                "ci_job": Str(),
            },
            {"enforce_in": "config"},
        ),
        "repo": _tool(
            {
                "require_branch_protection": Bool(),
                "require_codeowners": Bool(),
                "ruleset": Table(
                    fields={
                        "name": Str(),
                        "branch": Str(),
                        "enforcement": Enum("active", "evaluate", "disabled"),
                        "required_reviews": Int(0),
                        "dismiss_stale_reviews": Bool(),
                        "require_code_owner_reviews": Bool(),
                        "require_status_checks": STRS,
                        "require_branches_up_to_date": Bool(),
                        "require_signed_commits": Bool(),
                        "enforce_admins": Bool(),
                        "bypass_actors": ArrayOf(
                            Table(
                                fields={
                                    "actor_type": Enum(
                                        "Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey"
                                    ),
                                    "actor_id": Int(1),
                                    "bypass_mode": Enum("always", "pull_request"),
                                },
                                defaults={"bypass_mode": "always"},
                                required=("actor_type",),
                            )
                        ),
                    },
                    defaults={"name": "Branch Protection", "branch": "main", "enforcement": "active"},
                ),
                "tag_protection": Table(
                    fields={"patterns": STRS, "prevent_deletion": Bool(), "prevent_update": Bool()},
                    defaults={"prevent_deletion": True, "prevent_update": True},
                ),
            },
            {"require_branch_protection": False, "require_codeowners": False},
        ),
        "backups": _tool(
            {"bucket": Str(), "prefix": Str(), "max_age_hours": Int(1), "region": Str()}, {"max_age_hours": 24}
        ),
        "codeowners": _tool(
            {
                "rules": ArrayOf(
                    Table(fields={"pattern": Str(nonempty=True), "owners": STRS}, required=("pattern", "owners"))
                )
            }
        ),
        "docs": _tool(
            {
                "path": Str(),
                "enforcement": Enum("block", "warn"),
                "allowlist": STRS,
                "max_files": Int(0),
                "max_file_lines": Int(0),
                "max_total_kb": Int(0),
                "staleness_days": Int(0),
                "stale_mappings": MapOf(Str()),
                "min_coverage": PERCENT,
                "coverage_paths": STRS,
                "exclude_patterns": STRS,
                "types": MapOf(Table(fields={"required_sections": STRS, "frontmatter": STRS})),
            },
            {"path": "docs/", "enforcement": "warn", "staleness_days": 30},
        ),
        "forbidden_files": _tool({"files": GLOBS, "ignore": GLOBS, "message": Str()}),
    }
)

ACCOUNT_ID = Str(r"[0-9]{12}", expected="a 12-digit AWS account id (string)")


class DeployRef(Spec):
    """An ``[infra.deploy]`` value: a tag glob (``"v*"``), ``"branch"`` or ``"branch:<name>"``."""

    expected = 'a tag glob such as "v*-rc*", "branch" or "branch:<name>"'

    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        why = deploy_ref_problem(value)
        if why is not None:
            out.append((path, f"{why}, found {type_name(value)}"))


DEPLOY_REF = DeployRef()

INFRA = Table(
    fields={
        "enabled": Bool(),
        "manifest": Str(),
        "path": Str(),
        "stacks": STRS,  # vision keys
        "accounts": Table(fields={"dev": ACCOUNT_ID, "staging": ACCOUNT_ID, "prod": ACCOUNT_ID}),
        "deploy": Table(fields={"dev": DEPLOY_REF, "staging": DEPLOY_REF, "prod": DEPLOY_REF}),
    },
    defaults={"enabled": False, "manifest": "infra-manifest.json"},
    tool=True,
)

SCHEMA = Table(
    fields={
        "extends": Table(fields={"registry": Str(nonempty=True), "rulesets": STRS}, required=("registry", "rulesets")),
        "code": CODE,
        "process": PROCESS,
        "infra": INFRA,
        "mcp": Table(fields={"standards": Table(fields={"source": Str(nonempty=True)})}),
        "monorepo": Table(fields={"exclude": GLOBS}),
        # Values are checked by the metadata module (so a bad tier is reported once, as a metadata problem).
        "metadata": Table(
            fields={"tier": Str(), "status": Str(), "team": Str(), "project": Str(), "organisation": Str()}
        ),
    }
)


def validate(data: Mapping[str, Any]) -> Report:
    """Every schema problem in ``data`` as ``(key path, message)``; never raises."""
    out: Report = []
    SCHEMA.check(dict(data), (), out)
    return out


def _fill(spec: Table, value: dict[str, Any]) -> None:
    for key, default in spec.defaults.items():
        value.setdefault(key, copy.deepcopy(default))
    for key, child in spec.fields.items():
        if not isinstance(child, Table):
            continue
        if key in value:
            if isinstance(value[key], dict):
                _fill(child, value[key])
        elif _materialises(child):
            fresh: dict[str, Any] = {}
            _fill(child, fresh)
            if child.tool:
                fresh["enabled"] = False
            value[key] = fresh


def _materialises(spec: Table) -> bool:
    return spec.tool or any(isinstance(c, Table) and _materialises(c) for c in spec.fields.values())


def apply_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with the schema defaults filled in."""
    out = copy.deepcopy(dict(data))
    _fill(SCHEMA, out)
    return out
