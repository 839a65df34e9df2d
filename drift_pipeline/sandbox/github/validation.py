"""Write bodies checked the way GitHub checks them, before the state model sees them.

GitHub answers a body that breaks its schema in two ways (both 422):

- a JSON type its schema does not allow (``"color": 123``): ``Invalid request.`` naming the
  property, with no ``errors``;
- a value of the right type that its model refuses: ``Validation Failed`` with ``errors:
  [{"resource", "field", "code"}]``; ``code`` is ``missing_field`` (required and absent or empty),
  ``invalid`` (wrong format: a colour that is not six hex digits, a state not open/closed) or
  ``custom`` with a ``message`` (too long). Clients decide on ``code``: ``already_exists`` (raised
  by the state model) is the one a "create unless present" caller may treat as success.
"""

from __future__ import annotations

import re
from typing import Any

from drift_pipeline.sandbox.github.errors import Unprocessable

_COLOR = re.compile(r"^#?[0-9a-fA-F]{6}$")
LABEL_NAME_MAX = 50
LABEL_DESCRIPTION_MAX = 100
ISSUE_TITLE_MAX = 256
BODY_MAX = 65536
STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate")
_DOCS = {
    "Label": "https://docs.github.com/rest/issues/labels",
    "Issue": "https://docs.github.com/rest/issues/issues",
    "IssueComment": "https://docs.github.com/rest/issues/comments",
}


def _types(data: dict[str, Any], resource: str, spec: dict[str, tuple[type, ...]]) -> None:
    """422 ``Invalid request.`` for the first property whose JSON type the schema does not allow."""
    for key, allowed in spec.items():
        value = data.get(key)
        if key in data and not isinstance(value, allowed) or isinstance(value, bool) and bool not in allowed:
            shown = "null" if value is None else repr(value)[:40]
            kind = "/".join(sorted({_JSON_NAMES[t] for t in allowed}))
            raise Unprocessable(
                f"Invalid request.\n\nFor 'properties/{key}', {shown} is not {_article(kind)}.",
                documentation_url=_DOCS[resource],
            )


_JSON_NAMES = {str: "string", int: "integer", list: "array", bool: "boolean", type(None): "null", dict: "object"}


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _failed(resource: str, field: str, code: str, message: str | None = None) -> Unprocessable:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field}
    if message:
        error["message"] = message
    return Unprocessable(errors=[error], documentation_url=_DOCS[resource])


def _too_long(resource: str, field: str, value: Any, maximum: int) -> None:
    if isinstance(value, str) and len(value) > maximum:
        raise _failed(resource, field, "custom", f"{field} is too long (maximum is {maximum} characters)")


def label(data: dict[str, Any], *, create: bool) -> None:
    """A label create (``name`` required) or update (``new_name``) body."""
    name_key = "name" if create else "new_name"
    _types(data, "Label", {name_key: (str,), "color": (str,), "description": (str, type(None))})
    if create and not data.get("name"):
        raise _failed("Label", "name", "missing_field")
    if not create and "new_name" in data and not data["new_name"]:
        raise _failed("Label", "new_name", "invalid")
    _too_long("Label", "name", data.get(name_key), LABEL_NAME_MAX)
    color = data.get("color")
    if color is not None and not _COLOR.match(color):
        raise _failed("Label", "color", "invalid")
    _too_long("Label", "description", data.get("description"), LABEL_DESCRIPTION_MAX)


def issue(data: dict[str, Any], *, create: bool) -> None:
    """An issue create (``title`` required) or update body."""
    _types(
        data,
        "Issue",
        {
            "title": (str, int) if create else (str, int, type(None)),
            "body": (str, type(None)),
            "labels": (list, type(None)),
            "assignees": (list, type(None)),
            "assignee": (str, type(None)),
            "state": (str, type(None)),
            "state_reason": (str, type(None)),
        },
    )
    title = data.get("title")
    if (create or "title" in data and title is not None) and (title is None or str(title).strip() == ""):
        raise _failed("Issue", "title", "missing_field")
    _too_long("Issue", "title", str(title) if title is not None else None, ISSUE_TITLE_MAX)
    _too_long("Issue", "body", data.get("body"), BODY_MAX)
    if data.get("state") not in (None, "open", "closed"):
        raise _failed("Issue", "state", "invalid")
    if data.get("state_reason") not in (None, *STATE_REASONS):
        raise _failed("Issue", "state_reason", "invalid")


def comment(data: dict[str, Any]) -> None:
    """An issue comment body (``body`` required)."""
    _types(data, "IssueComment", {"body": (str,)})
    if not data.get("body"):
        raise _failed("IssueComment", "body", "missing_field")
    _too_long("IssueComment", "body", data.get("body"), BODY_MAX)
