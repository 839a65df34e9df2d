"""Glob patterns as used in check.toml / standards.toml, turned into regular expressions.

Semantics (close to minimatch with ``dot: true``):

- ``*`` matches any run of characters except ``/``; ``?`` matches one character except ``/``.
- ``**`` as a whole path segment matches zero or more segments (``a/**/b`` matches ``a/b``;
  ``**/x`` matches ``x``; ``a/**`` matches ``a`` and everything below it). Written inside a
  segment (``a**b``) it behaves like ``*``.
- ``[abc]``, ``[a-z]``, ``[!abc]`` / ``[^abc]`` character classes (never matching ``/``).
- ``{a,b}`` alternation, nestable; a brace with no top-level comma is literal (``{a}``).
- ``\\x`` escapes ``x``. Dot files are matched like any other name. A leading ``./`` is ignored.

Invalid patterns (:class:`GlobError`): the empty string, an unclosed ``[`` or ``{`` (escaped ones
are fine), a trailing lone backslash. Bounded, so a hostile pattern costs little: longer than
:data:`MAX_GLOB_LENGTH` characters, more than :data:`MAX_BRACE_GROUPS` brace groups, or braces
expanding to more than :data:`MAX_EXPANSIONS` alternatives is a :class:`GlobError`.
"""

from __future__ import annotations

from functools import lru_cache

from drift_pipeline.core.standards.patterns import Pattern, PatternError, compile_pattern

MAX_GLOB_LENGTH = 1024
MAX_BRACE_GROUPS = 32
MAX_EXPANSIONS = 256


class GlobError(ValueError):
    """The pattern is not a valid glob; the message says why."""


def _find_close(pattern: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start``, or -1. Honours escapes and nesting."""
    depth = 0
    i = start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split_top(body: str) -> list[str]:
    """Split a brace body on commas that are not nested in another brace."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            cur.append(body[i : i + 2])
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def expand_braces(pattern: str) -> list[str]:
    """Expand ``{a,b}`` alternations into separate patterns (``a{b,c}`` -> ``ab``, ``ac``).

    Raises :class:`GlobError` when that gives more than :data:`MAX_EXPANSIONS` patterns.
    """
    out = _expand(pattern)
    if len(out) > MAX_EXPANSIONS:
        raise GlobError(f"braces expand to more than {MAX_EXPANSIONS} alternatives")
    return out


def _expand(pattern: str) -> list[str]:
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            close = _find_close(pattern, i)
            if close < 0:
                raise GlobError(f"unclosed '{{' at position {i + 1}")
            body = pattern[i + 1 : close]
            alternatives = _split_top(body)
            if len(alternatives) < 2:
                # No top-level comma: the braces are literal, their content may still expand.
                inner, rest = _expand(body), _expand(pattern[close + 1 :])
                if len(inner) * len(rest) > MAX_EXPANSIONS:
                    raise GlobError(f"braces expand to more than {MAX_EXPANSIONS} alternatives")
                return [pattern[:i] + "\\{" + b + "\\}" + t for b in inner for t in rest]
            prefix, suffix = pattern[:i], pattern[close + 1 :]
            out: list[str] = []
            for alt in alternatives:
                out.extend(_expand(prefix + alt + suffix))
                if len(out) > MAX_EXPANSIONS:
                    raise GlobError(f"braces expand to more than {MAX_EXPANSIONS} alternatives")
            return out
        i += 1
    return [pattern]


def _lit(c: str) -> str:
    """One literal character in RE2 syntax, the same inside and outside a class."""
    if c.isascii() and (c.isalnum() or c == "_"):
        return c
    if c.isascii() and c.isprintable():
        return "\\" + c  # RE2 reads an escaped ASCII punctuation character (or space) as itself
    return f"\\x{{{ord(c):x}}}"


def _segment_regex(seg: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(seg):
        c = seg[i]
        if c == "\\":
            if i + 1 >= len(seg):
                raise GlobError("pattern ends with a lone backslash")
            out.append(_lit(seg[i + 1]))
            i += 2
        elif c == "*":
            while i < len(seg) and seg[i] == "*":
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            regex, i = _char_class(seg, i)
            out.append(regex)
        else:
            out.append(_lit(c))
            i += 1
    return "".join(out)


_SLASH = ord("/")
_NOTHING = "[^\\x00-\\x{10ffff}]"  # a class that matches no character


def _char_class(seg: str, start: int) -> tuple[str, int]:
    """The class opened by the ``[`` at ``start``, as RE2 text (never matching ``/``), and the index after it."""
    j = start + 1
    negate = j < len(seg) and seg[j] in "!^"
    if negate:
        j += 1
    items: list[tuple[str, bool]] = []  # (character, is an unescaped '-')
    closed = False
    while j < len(seg):
        d = seg[j]
        if d == "\\" and j + 1 < len(seg):
            items.append((seg[j + 1], False))
            j += 2
        elif d == "]" and items:
            closed = True
            break
        else:
            items.append((d, d == "-"))
            j += 1
    if not closed:
        raise GlobError(f"unclosed '[' at position {start + 1}")
    ranges = _class_ranges(items)
    if negate:
        ranges.append((_SLASH, _SLASH))
        return "[^" + "".join(_span(lo, hi) for lo, hi in ranges) + "]", j + 1
    kept = [r for lo, hi in ranges for r in ((lo, min(hi, _SLASH - 1)), (max(lo, _SLASH + 1), hi)) if r[0] <= r[1]]
    return ("[" + "".join(_span(lo, hi) for lo, hi in kept) + "]" if kept else _NOTHING), j + 1


def _class_ranges(items: list[tuple[str, bool]]) -> list[tuple[int, int]]:
    """``a-z`` (an unescaped dash between two characters) is a range, any other character itself."""
    out: list[tuple[int, int]] = []
    k = 0
    while k < len(items):
        if k + 2 < len(items) and items[k + 1][1]:
            lo, hi = ord(items[k][0]), ord(items[k + 2][0])
            if lo > hi:
                raise GlobError(f"bad character range {items[k][0]}-{items[k + 2][0]}")
            out.append((lo, hi))
            k += 3
        else:
            out.append((ord(items[k][0]), ord(items[k][0])))
            k += 1
    return out


def _span(lo: int, hi: int) -> str:
    return _lit(chr(lo)) if lo == hi else f"{_lit(chr(lo))}-{_lit(chr(hi))}"


def _split_segments(pattern: str) -> list[str]:
    """Split on ``/`` outside of character classes."""
    segs, cur, i, in_class = [], [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            cur.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        if c == "/" and not in_class:
            segs.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    segs.append("".join(cur))
    return segs


def _single_regex(pattern: str) -> str:
    while pattern.startswith("./"):
        pattern = pattern[2:]
    segs = _split_segments(pattern)
    collapsed: list[str] = []
    for seg in segs:
        if seg == "**" and collapsed and collapsed[-1] == "**":
            continue
        collapsed.append(seg)
    out = ""
    after_open_globstar = False
    last = len(collapsed) - 1
    for idx, seg in enumerate(collapsed):
        if seg == "**":
            if idx == last:
                out += ".*" if idx == 0 else "(?:/.*)?"
            else:
                out += "(?:.*/)?" if idx == 0 else "/(?:.*/)?"
                after_open_globstar = True
            continue
        if idx > 0 and not after_open_globstar:
            out += "/"
        after_open_globstar = False
        out += _segment_regex(seg)
    return out


def glob_to_regex(pattern: str) -> str:
    """The anchored regular expression (as text) for ``pattern``; raises :class:`GlobError`."""
    if not isinstance(pattern, str) or pattern == "":
        raise GlobError("a glob pattern must be a non-empty string")
    if len(pattern) > MAX_GLOB_LENGTH:
        raise GlobError(f"longer than {MAX_GLOB_LENGTH} characters")
    if pattern.count("{") > MAX_BRACE_GROUPS:
        raise GlobError(f"more than {MAX_BRACE_GROUPS} brace groups")
    alternatives = expand_braces(pattern)
    bodies = [_single_regex(p) for p in alternatives]
    body = bodies[0] if len(bodies) == 1 else "(?:" + "|".join(bodies) + ")"
    return "\\A" + body + "\\z"


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> Pattern:
    """``pattern`` compiled by RE2 (linear time in the path, whatever the glob); raises :class:`GlobError`."""
    try:
        return compile_pattern(glob_to_regex(pattern), dotall=True, max_length=None)
    except PatternError as exc:
        raise GlobError(f"not a valid pattern: {exc}") from None


def glob_error(pattern: object) -> str | None:
    """Why ``pattern`` is not a valid glob, or None when it is."""
    if not isinstance(pattern, str):
        return "a glob pattern must be a string"
    try:
        compile_glob(pattern)
    except GlobError as exc:
        return str(exc)
    except RecursionError:
        return "nested too deeply"
    return None


def glob_match(pattern: str, path: str) -> bool:
    """Whether the repo-relative posix ``path`` matches ``pattern`` (whole path)."""
    return compile_glob(pattern).match(path)


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[{")
