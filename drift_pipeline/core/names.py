"""GitHub names (org, user and repo logins) are case-insensitive: ``ACME`` and ``acme`` are one org.

The one home for matching such names as GitHub does. What is stored, filed and reported carries the
spelling GitHub answers with (the canonical case), never the spelling a flag or setting was given in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def canonical_name(name: str, known: Sequence[str]) -> str | None:
    """``name`` as ``known`` spells it (the exact spelling first, else the one equal ignoring case); None: absent."""
    if name in known:
        return name
    folded = name.lower()
    return next((k for k in known if k.lower() == folded), None)


def unique_names(names: Iterable[str]) -> list[str]:
    """``names`` without repeats ignoring case, in order; each name kept in its first spelling."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def same_name(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same org, user or repo (GitHub ignores case)."""
    return a.lower() == b.lower()
