"""Who files: the GitHub login whose issues and comments carry markers the filer may believe.

Learnt once per filing run from the API, never from configuration text: ``GET /user`` for a
token (its ``login``). A GitHub App installation token cannot read ``/user``; an App files as its
bot account ``<app slug>[bot]``, and the slug comes from the App's own ``GET /app`` answer, read
by the App authentication when it makes the installation token: that code passes it as
``app_slug`` (:func:`filer_identity`).
"""

from __future__ import annotations

import re

from github import GithubException

from drift_pipeline.core.errors import SourceError
from drift_pipeline.issues.client import IssueClient

_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98})$")


class IdentityUnknown(SourceError):
    """The filing identity could not be learnt: nothing is filed without it."""


def bot_login(app_slug: str) -> str:
    """The login a GitHub App's installation acts as (``<slug>[bot]``)."""
    if not isinstance(app_slug, str) or not _SLUG.match(app_slug):
        raise ValueError(f"not a GitHub App slug: {app_slug!r}")
    return f"{app_slug}[bot]"


def filer_identity(client: IssueClient, app_slug: str | None = None) -> str:
    """The filing identity: ``<app_slug>[bot]`` for an App installation, else the token's ``GET /user`` login."""
    if app_slug is not None:
        return bot_login(app_slug)
    try:
        _, data = client.call("GET", "/user")
    except GithubException as exc:
        hint = (
            ": a GitHub App installation token cannot read /user, so the App authentication must pass "
            "its slug (app_slug)"
            if exc.status == 403
            else ""
        )
        raise IdentityUnknown(
            f"cannot learn who files issues (GET /user answered {exc.status}){hint}", status=exc.status
        ) from None
    login = data.get("login") if isinstance(data, dict) else None
    if not isinstance(login, str) or not _LOGIN.match(login):
        raise IdentityUnknown("cannot learn who files issues: GET /user gave no usable login")
    return login
