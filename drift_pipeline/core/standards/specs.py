"""The building blocks of the strict config schema: one :class:`Spec` per kind of value.

A spec's ``check(value, path, out)`` never raises: it appends ``(key path, message)`` pairs to
``out``, the key path being a tuple of table keys and array indexes, and the message saying what
was expected and what was found (echoed through :func:`~drift_pipeline.core.standards.limits.quote`).
A :class:`Table` is strict unless it names an ``extra`` spec: an unknown key is an error that
lists the known keys. The schema itself (which tables, which keys) is in
:mod:`drift_pipeline.core.standards.schema` and its section modules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from drift_pipeline.core.standards.globs import glob_error
from drift_pipeline.core.standards.limits import MAX_LIST_ITEMS, quote
from drift_pipeline.core.standards.patterns import MAX_PATTERN_LENGTH, SYNTAX, pattern_error

MAX_REGEX_LENGTH = MAX_PATTERN_LENGTH

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


# -- shorthands the schema's sections share --------------------------------------------------

STRS = ListOf(Str())
GLOBS = ListOf(Glob())
DEPS = {"dependencies": STRS}
PERCENT = Int(0, 100)


def tool(
    fields: dict[str, Spec] | None = None, defaults: dict[str, Any] | None = None, enabled_default: bool = False
) -> Table:
    """A tool table: ``enabled`` (default false unless said), its own keys and ``dependencies``."""
    return Table(
        fields={"enabled": Bool(), **(fields or {}), **DEPS},
        defaults={"enabled": enabled_default, **(defaults or {})},
        tool=True,
    )
