"""Typed, defensive reads of a resolved config mapping: a value of the wrong type is skipped and described.

The config has normally passed the strict schema already; a reader over it still never raises:
each read that finds the wrong type (or an invalid RE2 pattern, or a negative count) returns
``None`` (or the default) and appends one line to :attr:`ConfigReader.problems`, naming the key
path, what was expected and the type found (never the value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drift_pipeline.core.standards.patterns import SYNTAX, pattern_error


class ConfigReader:
    """Typed reads of a config mapping that skip, and describe, any value of the wrong type."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.problems: list[str] = []

    def table(self, *path: str) -> Mapping[str, Any] | None:
        node: Any = self.config
        for i, key in enumerate(path):
            if not isinstance(node, Mapping):
                self.problems.append(f"{'.'.join(path[:i])}: expected a table, found {type(node).__name__}; ignored")
                return None
            node = node.get(key)
            if node is None:
                return None
        if not isinstance(node, Mapping):
            self.problems.append(f"{'.'.join(path)}: expected a table, found {type(node).__name__}; ignored")
            return None
        return node

    def get(self, table: Mapping[str, Any] | None, path: str, key: str, kind: type | tuple[type, ...]) -> Any:
        if table is None or key not in table or table[key] is None:
            return None
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # True is no int
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problems.append(f"{path}.{key}: expected {names}, found {type(table[key]).__name__}; ignored")
            return None
        return value

    def flag(self, table: Mapping[str, Any] | None, path: str, key: str, default: bool = False) -> bool:
        value = self.get(table, path, key, bool)
        return default if value is None else value

    def count(self, table: Mapping[str, Any] | None, path: str, key: str) -> int | None:
        value = self.get(table, path, key, int)
        if value is not None and value < 0:
            self.problems.append(f"{path}.{key}: expected a number >= 0, found {value}; ignored")
            return None
        return value

    def strings(self, table: Mapping[str, Any] | None, path: str, key: str) -> tuple[str, ...] | None:
        value = self.get(table, path, key, list)
        if value is None:
            return None
        bad = [v for v in value if not isinstance(v, str) or not v]
        if bad:
            self.problems.append(f"{path}.{key}: {len(bad)} item(s) that are not non-empty strings ignored")
        return tuple(v for v in value if isinstance(v, str) and v)

    def regex(self, table: Mapping[str, Any] | None, path: str, key: str) -> str | None:
        value = self.get(table, path, key, str)
        if value is None:
            return None
        why = pattern_error(value)
        if why:
            self.problems.append(f"{path}.{key}: not a valid regular expression in {SYNTAX} ({why}); ignored")
            return None
        return value

    def enabled(self, table: Mapping[str, Any] | None, path: str) -> bool:
        return table is not None and self.flag(table, path, "enabled")
