"""What every route handler shares: the request context, the reply, and the common lookups.

A handler parses its request, makes one call on the state model (or its git view) and
serializes with :mod:`render`; it knows nothing of auth, rate limits, ETags or faults, which
the server applies around every route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from drift_pipeline.sandbox.github import render
from drift_pipeline.sandbox.github.errors import BadRequest, Conflict, NotFound, Unprocessable
from drift_pipeline.sandbox.github.gitrepo import CommitInfo, Diff, GitRepo
from drift_pipeline.sandbox.github.state import SandboxState

T = TypeVar("T")


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Ctx:
    """What a handler sees of a request."""

    state: SandboxState
    base: str  # e.g. http://127.0.0.1:PORT (plus /api/v3 when used)
    url: str  # this request's URL without query
    args: MultiDict
    headers: Any
    body: bytes
    token: dict[str, Any]
    mutate: Callable[[Callable[[SandboxState], Any]], Any]
    limits: dict[str, int]
    rate: Callable[[str], dict[str, Any]]
    link: str | None = None
    app_token_ttl: int = 3600  # seconds an installation token minted now lives
    revoke_minted: bool = False  # the fault ``revoke_minted``: a token is revoked as it is minted

    def json(self) -> dict[str, Any]:
        data = self.json_value()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise BadRequest()
        return data

    def json_value(self) -> Any:
        """The request body as any JSON value (None when empty); 400 when it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise BadRequest() from None

    def arg_int(self, name: str, default: int) -> int:
        try:
            return int(self.args.get(name, default))
        except (TypeError, ValueError):
            return default

    def paginate(self, items: list[T], *, default: int = 30, maximum: int = 100) -> list[T]:
        """The requested page of ``items``; sets the RFC 5988 ``Link`` header."""
        per_page = min(max(self.arg_int("per_page", default), 1), maximum)
        page = max(self.arg_int("page", 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def href(n: int) -> str:
            args = MultiDict(self.args)
            args["page"] = str(n)
            return f"{self.url}?{urlencode(list(args.items(multi=True)))}"

        if page < last:
            links += [f'<{href(page + 1)}>; rel="next"', f'<{href(last)}>; rel="last"']
        if page > 1:
            links += [f'<{href(1)}>; rel="first"', f'<{href(min(page - 1, last))}>; rel="prev"']
        self.link = ", ".join(links) or None
        return items[(page - 1) * per_page : page * per_page]

    def ids(self, login: str) -> int:
        return self.state.account_id(login)

    def owner_json(self, login: str) -> dict[str, Any]:
        try:
            _, kind = self.state.account(login)
        except NotFound:
            kind = "User"
        return render.account(self.base, login, self.ids(login), kind)

    def user_json(self, login: str) -> dict[str, Any]:
        return self.owner_json(login)

    def commit_user(self, email: str) -> dict[str, Any] | None:
        """GitHub's ``author`` / ``committer`` of a commit: the user owning ``email``, or None."""
        login = self.state.user_for_email(email)
        return self.user_json(login) if login is not None else None

    def commit_json(self, full: str, c: CommitInfo, diff: Diff | None = None) -> dict[str, Any]:
        """A commit as every endpoint renders it, with its author and committer users."""
        return render.commit(
            self.base, full, c, self.commit_user(c.author_email), self.commit_user(c.committer_email), diff
        )


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601, naive meaning UTC (PyGithub drops the offset from ``since=``)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Unprocessable(f"Invalid time: {value}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def last_modified(when: str | int | float | None) -> dict[str, str]:
    """GitHub's ``Last-Modified`` header (an HTTP date) for an ISO 8601 time or a Unix timestamp."""
    if when is None or when == "":
        return {}
    moment = datetime.fromtimestamp(when, UTC) if isinstance(when, int | float) else parse_time(when)
    return {"Last-Modified": format_datetime(moment.astimezone(UTC), usegmt=True)} if moment else {}


# The raw media type of contents and blobs, as a client may spell it; GitHub echoes it in
# Content-Type (``application/vnd.github.v3.raw; charset=utf-8`` in octokit's recordings) and
# names it in ``X-GitHub-Media-Type: github.v3; param=raw``.
_RAW_MEDIA = re.compile(r"application/vnd\.github(?:\.v3)?\.raw(\+json)?(?![\w.+-])", re.I)


def raw_reply(ctx: Ctx, data: bytes, headers: dict[str, str] | None = None) -> Reply | None:
    """The raw bytes as GitHub answers ``Accept: application/vnd.github[.v3].raw``; None for any other Accept."""
    m = _RAW_MEDIA.search(ctx.headers.get("Accept", "") or "")
    if m is None:
        return None
    media = "github.v3; param=raw" + ("; format=json" if m.group(1) else "")
    return Reply(
        data,
        headers={**(headers or {}), "X-GitHub-Media-Type": media},
        content_type=f"{m.group(0).lower()}; charset=utf-8",
    )


def iso_cmp(value: str | None) -> str | None:
    when = parse_time(value)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def full_name(ctx: Ctx, owner: str, repo: str) -> str:
    """``owner/name`` as stored (the request's spelling may differ in case)."""
    r = ctx.state.get_repo(owner, repo)
    return f"{r['owner']}/{r['name']}"


def nonempty(ctx: Ctx, owner: str, repo: str) -> GitRepo:
    git = ctx.state.git_repo(owner, repo)
    if git.is_empty():
        raise Conflict("Git Repository is empty.")
    return git
