"""Patterns from configs, run in linear time: the one home for compiling a user-supplied pattern.

Every regular expression a config supplies (``[process.commits] pattern``, ``[process.branches]
pattern`` / ``issue_pattern``, ``[process.tickets] pattern``) and every glob (compiled by
:mod:`drift_pipeline.core.standards.globs`) is matched by RE2, whose time is linear in the text: a
pattern such as ``^(a+)+$`` that makes a backtracking engine run for hours costs microseconds.

RE2 refuses what needs backtracking (backreferences ``\\1``, lookaround ``(?=``, ``(?<=``, ``\\Z``,
possessive quantifiers, ``(?x)``): such a pattern is a config problem (:func:`pattern_error` says
why, validation turns it into an ``invalid_config`` finding naming the key), never matched.

Matching answers a yes or no only (:class:`Pattern`); text that is not valid Unicode (a lone
surrogate from a JSON answer) is matched with U+FFFD in its place instead of raising.
"""

from __future__ import annotations

from functools import lru_cache

import re2

MAX_PATTERN_LENGTH = 1024  # characters of one configured regular expression
MAX_PATTERN_MEMORY = 2 << 20  # bytes RE2 may use for one compiled pattern (larger ones are refused)
SYNTAX = "RE2 syntax (no backreferences or lookaround)"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported by us, never printed by RE2 on stderr
_OPTIONS.max_mem = MAX_PATTERN_MEMORY
_DOTALL = re2.Options()
_DOTALL.log_errors = False
_DOTALL.max_mem = MAX_PATTERN_MEMORY
_DOTALL.dot_nl = True


class PatternError(ValueError):
    """RE2 cannot run the pattern; the message says why."""


class Pattern:
    """A compiled pattern; every method answers whether ``text`` matches (search, at start, whole)."""

    __slots__ = ("_rx", "source")

    def __init__(self, source: str, rx: re2._Regexp):
        self.source = source
        self._rx = rx

    def search(self, text: str) -> bool:
        return self._rx.search(_utf8(text)) is not None

    def match(self, text: str) -> bool:
        return self._rx.match(_utf8(text)) is not None

    def fullmatch(self, text: str) -> bool:
        return self._rx.fullmatch(_utf8(text)) is not None

    def __repr__(self) -> str:
        return f"Pattern({self.source!r})"


def _utf8(text: str) -> bytes:
    """The text as RE2 reads it (bytes: no offsets to map back, we only ask whether it matches)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def _reason(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return text or "refused by RE2"


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, *, dotall: bool = False, max_length: int | None = MAX_PATTERN_LENGTH) -> Pattern:
    """``pattern`` compiled by RE2 (cached); raises :class:`PatternError` when RE2 refuses it.

    ``dotall``: ``.`` matches a newline too. ``max_length`` bounds a configured pattern; the
    regular expressions generated from globs are bounded by the glob's own limits instead.
    """
    if not isinstance(pattern, str):
        raise PatternError("a pattern must be a string")
    if max_length is not None and len(pattern) > max_length:
        raise PatternError(f"longer than {MAX_PATTERN_LENGTH} characters ({len(pattern)})")
    try:
        return Pattern(pattern, re2.compile(pattern, _DOTALL if dotall else _OPTIONS))
    except re2.error as exc:
        raise PatternError(_reason(exc)) from None
    except (UnicodeEncodeError, ValueError, TypeError) as exc:
        raise PatternError(f"not a pattern RE2 can read ({type(exc).__name__})") from None


def pattern_error(pattern: object) -> str | None:
    """Why RE2 refuses ``pattern`` (for a config problem), or None when it runs it."""
    if not isinstance(pattern, str):
        return "a pattern must be a string"
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text``; a pattern RE2 refuses matches nothing.

    Validation has already reported such a pattern (:func:`pattern_error`); a rule never crashes on it.
    """
    try:
        return compile_pattern(pattern).search(text)
    except PatternError:
        return False


def escape(text: str) -> str:
    """``text`` as a pattern matching itself literally, in RE2 syntax."""
    return str(re2.escape(text))
