"""Issue search queries (``GET /search/issues``): parsed and checked once, then matched per issue.

Supported, as GitHub means them: ``org:``/``user:``/``owner:``, ``repo:``, ``is:``/``type:``
(issue, pr, open, closed, merged, unmerged), ``state:``, ``label:`` (comma = any of),
``no:label``, ``author:``, ``assignee:``, ``in:title``/``in:body``, ``created:``/``updated:``
(``2024-03-01``, ``>=2024-03-01``, ``<2024-03-01T12:00:00Z``, ``2024-03-01..2024-03-31``,
``*`` for an open end; a bare date means that whole UTC day), each negatable with ``-``, and
free words (in the title and body unless ``in:`` narrows them). Any other qualifier or value
is a :class:`QueryError` (the route answers 422): the sandbox never ignores part of a query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_TOKEN = re.compile(r'(-?[\w.-]+:"[^"]*"|"[^"]*"|\S+)')
_IS = {"issue", "pr", "pull-request", "open", "closed", "merged", "unmerged"}
_IN = {"title", "body"}
Test = Callable[[str, dict[str, Any]], bool]  # (repo full name, issue) -> matches


class QueryError(ValueError):
    """What the sandbox cannot answer in a query: one message per offending term."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def parse_query(query: str) -> tuple[list[tuple[bool, str, str]], list[str]]:
    """Split a search query into ``(negated, qualifier, value)`` triples and free words."""
    quals, words = [], []
    for tok in _TOKEN.findall(query or ""):
        neg = tok.startswith("-") and ":" in tok
        body = tok[1:] if neg else tok
        m = re.match(r"^([\w.-]+):(.*)$", body)
        if m and m.group(2):
            quals.append((neg, m.group(1).lower(), m.group(2).strip('"')))
        else:
            words.append(body.strip('"').lower())
    return quals, [w for w in words if w and w not in ("and",)]


def _moment(text: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a date (the whole UTC day) or a date-time (that second)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        start = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return start, start + timedelta(days=1)
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when, when + timedelta(seconds=1)


def _date_test(key: str, value: str) -> Test:
    """``created:``/``updated:`` as a test on the issue's ``created_at``/``updated_at``."""
    field = f"{key}_at"
    lo: datetime | None
    hi: datetime | None
    if ".." in value:
        a, b = value.split("..", 1)
        lo = None if a == "*" else _moment(a)[0]
        hi = None if b == "*" else _moment(b)[1]
    else:
        op = re.match(r"^(>=|<=|>|<)?(.*)$", value)
        assert op is not None  # the pattern matches every string
        start, end = _moment(op.group(2))
        lo, hi = {">": (end, None), ">=": (start, None), "<": (None, start), "<=": (None, end)}.get(
            op.group(1) or "", (start, end)
        )

    def test(_full: str, issue: dict[str, Any]) -> bool:
        at = datetime.fromisoformat(issue[field].replace("Z", "+00:00"))
        return (lo is None or at >= lo) and (hi is None or at < hi)

    return test


def _qualifier(key: str, value: str) -> Test | set[str] | None:
    """The test for one qualifier, the fields of an ``in:``, or None when unsupported."""
    v = value.lower()
    if key in ("org", "user", "owner"):
        return lambda full, _i: full.split("/", 1)[0].lower() == v
    if key == "repo":
        return lambda full, _i: full.lower() == v
    if key in ("is", "type") and v in ("issue", "pr", "pull-request"):
        return lambda _f, i: (v == "issue") != ("pull" in i)
    if key == "is" and v in ("merged", "unmerged"):
        return lambda _f, i: "pull" in i and bool((i.get("pull") or {}).get("merged_at")) == (v == "merged")
    if key in ("is", "state") and v in ("open", "closed"):
        return lambda _f, i: i["state"] == v
    if key == "label":
        wanted = {part.strip().lower() for part in value.split(",")}
        return lambda _f, i: bool(wanted & {lab.lower() for lab in i["labels"]})
    if key == "no" and v == "label":
        return lambda _f, i: not i["labels"]
    if key == "author":
        return lambda _f, i: i["user"].lower() == v
    if key == "assignee":
        return lambda _f, i: v in {a.lower() for a in i["assignees"]}
    if key == "in" and set(v.split(",")) <= _IN:
        return set(v.split(","))
    if key in ("created", "updated"):
        return _date_test(key, value)
    return None


@dataclass(frozen=True)
class Query:
    tests: tuple[tuple[bool, Test], ...]  # (negated, test)
    words: tuple[str, ...]
    fields: frozenset[str]  # where the words are looked for

    def matches(self, full_name: str, issue: dict[str, Any]) -> bool:
        if any(test(full_name, issue) == neg for neg, test in self.tests):
            return False
        parts = {"title": issue["title"], "body": issue.get("body") or ""}
        text = "\n".join(parts[f] for f in sorted(self.fields)).lower()
        return all(w in text for w in self.words)


def compile_query(query: str) -> Query:
    """The checked query; :class:`QueryError` names every qualifier or value not supported."""
    quals, words = parse_query(query)
    tests: list[tuple[bool, Test]] = []
    fields: set[str] = set()
    problems = []
    for neg, key, value in quals:
        try:
            got = _qualifier(key, value)
        except ValueError:
            problems.append(f"{key}:{value}: not a date, date-time or range of them")
            continue
        if got is None or isinstance(got, set) and neg:
            problems.append(f"{'-' if neg else ''}{key}:{value}: qualifier not supported by the sandbox")
        elif isinstance(got, set):
            fields |= got
        else:
            tests.append((neg, got))
    if problems:
        raise QueryError(problems)
    return Query(tuple(tests), tuple(words), frozenset(fields or _IN))
