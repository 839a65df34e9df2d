"""Bounds on everything the standards engine reads: one home for sizes, depths and echoes.

A hostile or broken file must cost the reader a short, specific problem, never a crash, a hang or
unbounded memory:

- sizes: a file larger than its kind's limit is refused before any parser sees it;
- nesting: parsed data deeper than :data:`MAX_DEPTH` containers is refused (and a parser's own
  ``RecursionError`` on deeper input is reported the same way);
- YAML aliases: :func:`load_yaml` composes with a loader that counts the *expanded* size of the
  document (an alias costs the size of what it points to), so a "billion laughs" document is
  refused after reading its few hundred bytes once; recursive aliases are refused;
- echoes: values quoted back in a message go through :func:`quote` / :func:`shorten`.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_CONFIG_BYTES = 1024 * 1024  # standards.toml / check.toml / a registry ruleset
MAX_METADATA_BYTES = 256 * 1024  # repo-metadata.yaml / .yml
MAX_ORG_CONFIG_BYTES = 256 * 1024  # drift-config/drift.config.yaml
MAX_JSON_BYTES = 1024 * 1024  # package.json read for workspace detection
MAX_DEPTH = 32  # nested tables / arrays / mappings below the document
MAX_YAML_NODES = 10_000  # YAML nodes after alias expansion
MAX_QUOTE = 200  # characters of a value echoed in a message
MAX_LIST_ITEMS = 1000  # no real config lists more; beyond it, items are not checked one by one


class InputRejected(ValueError):
    """Input refused by a bound; the message says which bound (no value echoed)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def shorten(text: str, limit: int = MAX_QUOTE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = MAX_QUOTE
_REPR.maxother = MAX_QUOTE
_REPR.maxlong = 60
for _attr in ("maxdict", "maxlist", "maxtuple", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
    setattr(_REPR, _attr, 8)


def quote(value: Any) -> str:
    """A bounded ``repr`` of a parsed value for a message: bounded work and bounded length."""
    try:
        return shorten(_REPR.repr(value))
    except Exception:
        return type(value).__name__


def byte_size_over(text: str, limit: int) -> bool:
    """Whether ``text`` encoded as UTF-8 is larger than ``limit`` bytes."""
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


def size_problem(text: str, limit: int) -> str | None:
    """ "larger than N bytes" when ``text`` is over ``limit``, else None."""
    return f"larger than {limit} bytes; not parsed" if byte_size_over(text, limit) else None


def nesting_depth_over(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether containers (dict / list) nest deeper than ``limit`` below ``data`` (iterative)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen: set[int] = set()
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if id(value) in seen:  # shared (aliased) or recursive structures: walk once
            continue
        seen.add(id(value))
        if depth >= limit and children and any(isinstance(c, (dict, list)) for c in children):
            return True
        stack.extend((c, depth + 1) for c in children)
    return False


def depth_message(limit: int = MAX_DEPTH) -> str:
    return f"nested deeper than {limit} levels; not parsed"


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses deep nesting, alias expansion and recursive aliases."""

    max_depth = MAX_DEPTH
    max_nodes = MAX_YAML_NODES

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def _line(self) -> int | None:
        mark = getattr(self.peek_event(), "start_mark", None)
        return mark.line + 1 if mark is not None else None

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            anchor = self.peek_event().anchor
            target = self.anchors.get(anchor)
            if target is not None and id(target) not in self._sizes:
                raise InputRejected(
                    f"alias *{shorten(str(anchor), 40)} refers to itself (recursive alias); not parsed", self._line()
                )
            return super().compose_node(parent, index)
        if self._depth >= self.max_depth:
            raise InputRejected(depth_message(self.max_depth), self._line())
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._sizes.get(id(child), 1) for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        if size > self.max_nodes:
            raise InputRejected(
                f"expands to more than {self.max_nodes} values through aliases (or is simply that large); not parsed",
                node.start_mark.line + 1 if node is not None else None,
            )
        self._sizes[id(node)] = size
        return node


def load_yaml(text: str) -> Any:
    """One YAML document, safely and within bounds.

    Raises :class:`InputRejected` (a bound was hit) or :class:`yaml.YAMLError` (syntax).
    """
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise InputRejected(depth_message()) from None
    finally:
        loader.dispose()


def yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def yaml_error_text(exc: yaml.YAMLError) -> str:
    return shorten(str(getattr(exc, "problem", None) or exc))
