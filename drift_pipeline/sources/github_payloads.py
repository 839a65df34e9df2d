"""GitHub REST payloads to records: one converter per record type, each checking the shape first.

A base URL that is not the REST API (the web UI, a proxy's login page, a GHES host without
``/api/v3``) answers with HTML or with JSON of another shape. Every answer is checked here
before it is used, and a wrong one ends in a :class:`~drift_pipeline.core.errors.SourceError` that
names the URL path, what was expected and how to fix the base URL, never ``KeyError: 'name'``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry

HINT = "is GITHUB_API_URL the REST API base, e.g. https://api.github.com or https://HOST/api/v3?"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def bad_shape(path: str, expected: str, found: str) -> SourceError:
    """The error for an answer that is not what the REST API sends."""
    return SourceError(f"GitHub answered GET {path} with {found}, expected {expected}; {HINT}")


def check_content_type(path: str, headers: dict[str, str]) -> None:
    """The REST API answers JSON; an HTML or text page means the base URL points elsewhere."""
    ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype and "json" not in ctype:
        raise bad_shape(path, "JSON", f"a {ctype} page")


def _object(path: str, data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_shape(path, f"{what} (a JSON object)", _kind(data))
    if set(data) <= {"data", "url"} and isinstance(data.get("data"), str):
        # PyGithub wraps a body that is not JSON as {"data": text}
        raise bad_shape(path, f"{what} (a JSON object)", "a page that is not JSON")
    return data


def as_list(path: str, data: Any, what: str) -> list[Any]:
    """A page of a list endpoint."""
    if not isinstance(data, list):
        if isinstance(data, dict) and set(data) <= {"data", "url"} and isinstance(data.get("data"), str):
            raise bad_shape(path, f"a JSON list of {what}", "a page that is not JSON")
        raise bad_shape(path, f"a JSON list of {what}", _kind(data))
    return data


def _str(path: str, item: dict[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise bad_shape(
            path,
            f"{what} with a string {key!r}",
            f"{_kind(item)} whose {key!r} is {_kind(value) if key in item else 'missing'}",
        )
    return value


def parse_time(path: str, value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise bad_shape(path, "an ISO 8601 timestamp", repr(str(value)[:40])) from None


def account_login(path: str, data: Any) -> str:
    """An org's or user's answer (``GET /orgs/{org}``, ``GET /users/{user}``): its login, as GitHub spells it."""
    return _str(path, _object(path, data, "an account"), "login", "an account")


def repo_record(path: str, org: str, data: Any) -> RepoRecord:
    item = _object(path, data, "a repository")
    owner = item.get("owner")
    if not isinstance(owner, dict):
        raise bad_shape(
            path,
            "a repository with an 'owner' object",
            f"an object whose 'owner' is {_kind(owner) if 'owner' in item else 'missing'}",
        )
    branch = item.get("default_branch")
    permissions = item.get("permissions")
    admin = permissions.get("admin") if isinstance(permissions, dict) else None
    return RepoRecord(
        org=org,
        name=_str(path, item, "name", "a repository"),
        owner=_str(path, owner, "login", "a repository owner"),
        default_branch=branch if isinstance(branch, str) and branch else "main",
        archived=bool(item.get("archived")),
        disabled=bool(item.get("disabled")),
        fork=bool(item.get("fork")),
        private=bool(item.get("private")),
        pushed_at=parse_time(path, item.get("pushed_at")),
        html_url=item.get("html_url") if isinstance(item.get("html_url"), str) else None,
        admin=admin if isinstance(admin, bool) else None,
    )


def commit_record(path: str, data: Any) -> CommitRecord:
    item = _object(path, data, "a commit")
    sha = _str(path, item, "sha", "a commit")
    commit = item.get("commit")
    if not isinstance(commit, dict):
        raise bad_shape(
            path,
            "a commit with a 'commit' object",
            f"an object whose 'commit' is {_kind(commit) if 'commit' in item else 'missing'}",
        )
    committer: dict[str, Any] = commit["committer"] if isinstance(commit.get("committer"), dict) else {}
    author: dict[str, Any] = commit["author"] if isinstance(commit.get("author"), dict) else {}
    date = parse_time(path, committer.get("date") or author.get("date"))
    if date is None:
        raise bad_shape(path, "a commit with a committer or author date", "a commit without a date")
    user = item.get("author")
    login = user.get("login") if isinstance(user, dict) else None
    message = commit.get("message") if isinstance(commit.get("message"), str) else ""
    return CommitRecord(
        sha=sha,
        date=date,
        author=login or author.get("name") or "unknown",
        message=message.splitlines()[0] if message else "",
        url=item.get("html_url") if isinstance(item.get("html_url"), str) else None,
    )


def tree_entries(path: str, data: Any) -> tuple[tuple[TreeEntry, ...], bool]:
    """The blobs of a recursive tree, and whether GitHub truncated it."""
    item = _object(path, data, "a git tree")
    entries = item.get("tree")
    if not isinstance(entries, list):
        raise bad_shape(
            path,
            "a git tree with a 'tree' list",
            f"an object whose 'tree' is {_kind(entries) if 'tree' in item else 'missing'}",
        )
    blobs = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise bad_shape(path, "tree entries that are objects", _kind(entry))
        if entry.get("type") == "blob":
            size = entry.get("size")
            blobs.append(
                TreeEntry(
                    _str(path, entry, "path", "a tree entry"),
                    _str(path, entry, "sha", "a tree entry"),
                    size if isinstance(size, int) else None,
                )
            )
    return tuple(blobs), bool(item.get("truncated"))


def tree_kept(path: str, data: Any) -> dict[str, Any]:
    """What the sha cache keeps of a checked tree: blob paths, shas and sizes (no URLs, no trees)."""
    entries = [
        {k: e[k] for k in ("path", "sha", "size", "type") if k in e}
        for e in data["tree"]
        if isinstance(e, dict) and e.get("type") == "blob"
    ]
    return {"tree": entries, "truncated": bool(data.get("truncated"))}


def blob_text(path: str, data: Any) -> str | None:
    """A checked blob's text; None when it is not UTF-8 text."""
    if isinstance(data, dict) and data.get("encoding") == "binary":
        return None
    try:
        return _blob_bytes(path, data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def blob_kept(path: str, data: Any) -> dict[str, Any]:
    """What the sha cache keeps of a checked blob: its text with secrets masked (or that it is binary)."""
    text = blob_text(path, data)
    if text is None:
        return {"encoding": "binary", "content": ""}
    return {"encoding": "utf-8", "content": mask_secrets(text)}


def _blob_bytes(path: str, data: Any) -> bytes:
    item = _object(path, data, "a git blob")
    content = item.get("content")
    if not isinstance(content, str):
        raise bad_shape(
            path,
            "a git blob with a string 'content'",
            f"an object whose 'content' is {_kind(content) if 'content' in item else 'missing'}",
        )
    if item.get("encoding") == "base64":
        try:
            return base64.b64decode(content)
        except ValueError:
            raise bad_shape(path, "base64 blob content", "content that is not base64") from None
    return content.encode()
