"""Parse and validate one config file's text: :func:`load_config`.

TOML is parsed strictly (tomli). A parse error is one problem carrying tomli's line. Schema
problems carry the dotted key path and the line of that key (or of the nearest enclosing table
header / key found in the text). Nothing here raises on bad input: a file over
:data:`~drift_pipeline.core.standards.limits.MAX_CONFIG_BYTES` is not parsed, data nested deeper than
:data:`~drift_pipeline.core.standards.limits.MAX_DEPTH` levels (or too deep for the parser itself) is
refused, and any other failure while parsing or validating is a problem on the file.
"""

from __future__ import annotations

import re
from typing import Any

import tomli

from drift_pipeline.core.standards.limits import (
    MAX_CONFIG_BYTES,
    depth_message,
    nesting_depth_over,
    shorten,
    size_problem,
)
from drift_pipeline.core.standards.model import INVALID_CONFIG, ConfigFile, Problem
from drift_pipeline.core.standards.schema import validate
from drift_pipeline.core.standards.specs import KeyPath

CONFIG_NAMES = ("standards.toml", "check.toml")  # in order of preference

MAX_PROBLEMS_PER_FILE = 100
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def format_key(path: KeyPath) -> str:
    """``("process", "repo", "ruleset", "x")`` -> ``process.repo.ruleset.x``; indexes as ``[i]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _BARE.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += ("." if out else "") + text
    return out


def _parse_key(text: str) -> tuple[list[str], str] | None:
    """Parse a (dotted, maybe quoted) TOML key at the start of ``text``; return (parts, rest)."""
    parts: list[str] = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        c = text[i]
        if c == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            if j >= n:
                return None
            parts.append("".join(buf))
            i = j + 1
        elif c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                return None
            parts.append(m.group(0))
            i = m.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return parts, text[i:]


def line_index(text: str) -> dict[KeyPath, int]:
    """Map each table header and key (as a key path) to its first 1-based line in ``text``."""
    index: dict[KeyPath, int] = {}
    prefix: KeyPath = ()
    aot_counts: dict[KeyPath, int] = {}
    in_multiline: str | None = None
    depth = 0  # bracket depth of a multi-line array value
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if depth > 0:
            depth += _bracket_balance(line)
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            parsed = _parse_key(line[2:])
            if parsed and parsed[1].lstrip().startswith("]]"):
                base = tuple(parsed[0])
                count = aot_counts.get(base, -1) + 1
                aot_counts[base] = count
                # Nested keys of a later header restart the item counters below it.
                for other in [k for k in aot_counts if len(k) > len(base) and k[: len(base)] == base]:
                    del aot_counts[other]
                index.setdefault(base, lineno)
                prefix = _with_indexes(base, aot_counts)
                index.setdefault(prefix, lineno)
            continue
        if line.startswith("["):
            parsed = _parse_key(line[1:])
            if parsed and parsed[1].lstrip().startswith("]"):
                prefix = _with_indexes(tuple(parsed[0]), aot_counts)
                index.setdefault(prefix, lineno)
            continue
        parsed = _parse_key(line)
        if not parsed or not parsed[1].startswith("="):
            continue
        key = (*prefix, *parsed[0])
        index.setdefault(key, lineno)
        value = parsed[1][1:].strip()
        for quote in ('"""', "'''"):
            if value.startswith(quote) and value.count(quote) == 1:
                in_multiline = quote
        if value.startswith("["):
            depth = _bracket_balance(value)
    return index


def _bracket_balance(text: str) -> int:
    bare = re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'', '""', text).split("#", 1)[0]
    return bare.count("[") - bare.count("]")


def _with_indexes(path: tuple[str, ...], aot_counts: dict[KeyPath, int]) -> KeyPath:
    """Insert array-of-tables item indexes into a header path (``a.b.c`` -> ``a.b[2].c``)."""
    out: list[str | int] = []
    for i in range(len(path)):
        out.append(path[i])
        prefix = tuple(path[: i + 1])
        if prefix in aot_counts:
            out.append(aot_counts[prefix])
    return tuple(out)


def find_line(index: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor present in the text."""
    probe = tuple(path)
    while probe:
        if probe in index:
            return index[probe]
        probe = probe[:-1]
    return None


def _parse_error_line(exc: tomli.TOMLDecodeError) -> int | None:
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


def _unparsed(file: str, message: str, line: int | None = None) -> ConfigFile:
    problem = Problem(file=file, key=None, line=line, message=message, rule=INVALID_CONFIG)
    return ConfigFile(file=file, data={}, problems=(problem,), parsed=False)


def load_config(text: str, file: str, max_bytes: int = MAX_CONFIG_BYTES) -> ConfigFile:
    """Parse ``text`` (the content of ``file``) and validate it against the schema.

    Returns the parsed data (as written: no defaults, unknown keys kept) and the problems.
    On a TOML syntax error (or a refused input), ``data`` is empty and ``parsed`` is False.
    """
    too_big = size_problem(text, max_bytes)
    if too_big:
        return _unparsed(file, f"{file} is {too_big}")
    try:
        data: dict[str, Any] = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        msg = getattr(exc, "msg", None) or re.sub(r"\s*\(at line.*\)$", "", str(exc))
        line = _parse_error_line(exc)
        return _unparsed(file, f"invalid TOML: {shorten(msg)}" + (f" (line {line})" if line else ""), line)
    except RecursionError:
        return _unparsed(file, f"{file} is {depth_message()}")
    except Exception as exc:
        return _unparsed(file, f"could not be parsed as TOML ({type(exc).__name__})")
    if nesting_depth_over(data):
        return _unparsed(file, f"{file} is {depth_message()}")
    try:
        index = line_index(text)
        report = validate(data)
        problems = tuple(
            Problem(
                file=file,
                key=shorten(format_key(path)) or None,
                line=find_line(index, path),
                message=shorten(message, 400),
                rule=INVALID_CONFIG,
            )
            for path, message in report[:MAX_PROBLEMS_PER_FILE]
        )
        if len(report) > MAX_PROBLEMS_PER_FILE:
            problems += (
                Problem(
                    file=file,
                    key=None,
                    line=None,
                    rule=INVALID_CONFIG,
                    message=f"{len(report) - MAX_PROBLEMS_PER_FILE} more problem(s) not listed "
                    f"(only the first {MAX_PROBLEMS_PER_FILE} are)",
                ),
            )
    except Exception as exc:
        return _unparsed(file, f"could not be validated ({type(exc).__name__})")
    return ConfigFile(file=file, data=data, problems=problems)
