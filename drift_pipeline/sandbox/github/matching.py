"""Pure matching rules GitHub applies: ruleset conditions, CODEOWNERS syntax (issue search: ``search.py``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any


@functools.lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """fnmatch as rulesets use it: ``*`` stops at ``/``, ``**`` crosses it, ``?`` one char."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                out.append("[" + pattern[i + 1 : j].replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def _ref_pattern_matches(pattern: str, branch: str, default_branch: str) -> bool:
    if pattern == "~ALL":
        return True
    if pattern == "~DEFAULT_BRANCH":
        return branch == default_branch
    return bool(glob_regex(pattern).match(f"refs/heads/{branch}"))


def ref_matches(ref_name: dict[str, Any] | None, branch: str, default_branch: str) -> bool:
    """Whether ``conditions.ref_name`` targets ``branch`` (no condition: every branch)."""
    if not ref_name:
        return True
    include = ref_name.get("include") or []
    exclude = ref_name.get("exclude") or []
    if not any(_ref_pattern_matches(p, branch, default_branch) for p in include):
        return False
    return not any(_ref_pattern_matches(p, branch, default_branch) for p in exclude)


def repo_name_matches(conditions: dict[str, Any], repo: dict[str, Any]) -> bool:
    """Whether an org ruleset's repository conditions pick ``repo`` (none given: all repos)."""
    ids = (conditions.get("repository_id") or {}).get("repository_ids")
    if ids is not None:
        return int(repo["id"]) in {int(i) for i in ids}
    cond = conditions.get("repository_name")
    if not cond:
        return True
    name = repo["name"]

    def hit(p: str) -> bool:
        return p == "~ALL" or bool(glob_regex(p.lower()).match(name.lower()))

    if not any(hit(p) for p in cond.get("include") or []):
        return False
    return not any(hit(p) for p in cond.get("exclude") or [])


# -- CODEOWNERS ---------------------------------------------------------------------------
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_OWNER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9._-]+)?$")


def codeowners_errors(text: str, path: str, known: Callable[[str], bool] | None = None) -> list[dict[str, Any]]:
    """GitHub's ``codeowners/errors`` items for a CODEOWNERS file.

    A pattern without owners is valid (it unsets ownership); ``known`` (when given) says whether
    an ``@user`` / ``@org/team`` owner exists with access: if not, kind "Unknown owner".
    """
    errors = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        tokens = [(m.start() + 1, m.group()) for m in re.finditer(r"\S+", line)]
        for col, owner in tokens[1:]:
            if owner.startswith("@"):
                if not _OWNER.match(owner):
                    errors.append(_co_error(lineno, col, "Invalid owner", raw, path, None, 0))
                elif known is not None and not known(owner):
                    hint = f"Make sure {owner} exists and has write access to the repository"
                    errors.append(_co_error(lineno, col, "Unknown owner", raw, path, hint, 0))
            elif not _EMAIL.match(owner):
                errors.append(
                    _co_error(
                        lineno,
                        col,
                        "Invalid owner",
                        raw,
                        path,
                        f"Did you mean @{owner}?" if re.match(r"^[\w./-]+$", owner) else None,
                        0,
                    )
                )
    return errors


def _co_error(
    line: int, column: int, kind: str, source: str, path: str, suggestion: str | None, offset: int
) -> dict[str, Any]:
    caret = " " * (column - 1 + offset) + "^"
    return {
        "line": line,
        "column": column,
        "kind": kind,
        "source": source,
        "suggestion": suggestion,
        "message": f"{kind} on line {line}:{' ' + suggestion if suggestion else ''}\n\n  {source}\n  {caret}",
        "path": path,
    }
