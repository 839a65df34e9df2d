"""A small JSON reader that keeps positions: every string knows its line, every array its items' lines.

``json`` keeps no positions, and a manifest problem must point at its line. Bounded like the rest of
the standards engine: nesting deeper than ``MAX_DEPTH`` raises :class:`TooDeep` (with the line);
syntax errors raise ``json.JSONDecodeError`` (which carries ``lineno``).
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, absent from the stubs
from typing import Any

from drift_pipeline.core.standards.limits import MAX_DEPTH


class LocatedStr(str):
    """A JSON string that remembers its line."""

    line: int


class LocatedList(list[Any]):
    """A JSON array that remembers the line of each item."""

    lines: list[int]


class TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


class LocatedJson:
    """A small JSON reader that tags every string with its line (``json`` keeps no positions)."""

    _WS = " \t\n\r"

    def __init__(self, text: str):
        self.text = text
        self.decoder = json.JSONDecoder()
        self._at, self._lines = 0, 1  # positions only grow while reading: count newlines incrementally

    def _line(self, pos: int) -> int:
        if pos < self._at:
            return self.text.count("\n", 0, pos) + 1
        self._lines += self.text.count("\n", self._at, pos)
        self._at = pos
        return self._lines

    def _skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in self._WS:
            pos += 1
        return pos

    def _expect(self, pos: int, chars: str) -> int:
        pos = self._skip(pos)
        if pos >= len(self.text) or self.text[pos] not in chars:
            raise json.JSONDecodeError(f"expected {' or '.join(repr(c) for c in chars)}", self.text, pos)
        return pos

    def document(self) -> Any:
        value, end = self.value(self._skip(0), 0)
        end = self._skip(end)
        if end != len(self.text):
            raise json.JSONDecodeError("extra data", self.text, end)
        return value

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        pos = self._skip(pos)
        if pos >= len(self.text):
            raise json.JSONDecodeError("expecting value", self.text, pos)
        char = self.text[pos]
        if char in "{[":
            if depth >= MAX_DEPTH:
                raise TooDeep(self._line(pos))
            return (self._object if char == "{" else self._array)(pos + 1, depth + 1)
        if char == '"':
            raw, end = scanstring(self.text, pos + 1)
            located = LocatedStr(raw)
            located.line = self._line(pos)
            return located, end
        return self.decoder.raw_decode(self.text, pos)

    def _object(self, pos: int, depth: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        pos = self._skip(pos)
        if pos < len(self.text) and self.text[pos] == "}":
            return out, pos + 1
        while True:
            pos = self._expect(pos, '"')
            key, pos = self.value(pos, depth)
            pos = self._expect(pos, ":")
            out[key], pos = self.value(pos + 1, depth)
            pos = self._expect(pos, ",}")
            if self.text[pos] == "}":
                return out, pos + 1
            pos += 1

    def _array(self, pos: int, depth: int) -> tuple[list[Any], int]:
        out = LocatedList()
        out.lines = []
        pos = self._skip(pos)
        if pos < len(self.text) and self.text[pos] == "]":
            return out, pos + 1
        while True:
            pos = self._skip(pos)
            out.lines.append(self._line(pos))
            item, pos = self.value(pos, depth)
            out.append(item)
            pos = self._expect(pos, ",]")
            if self.text[pos] == "]":
                return out, pos + 1
            pos += 1
