"""Typed errors of the GitHub sandbox; each renders GitHub's own error body and status.

The state model raises them (it knows no HTTP); the server turns one into a response with
:meth:`ApiError.body` as JSON, e.g. ``{"message": "Branch not protected", "documentation_url":
"...", "status": "404"}``.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    status = 500
    default_message = "Server Error"

    def __init__(
        self,
        message: str | None = None,
        *,
        documentation_url: str = DOCS,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ):
        self.message = message or self.default_message
        super().__init__(self.message)
        if status is not None:
            self.status = status
        self.documentation_url = documentation_url
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.documentation_url
        out["status"] = str(self.status)
        return out


class BadRequest(ApiError):
    status = 400
    default_message = "Problems parsing JSON"


class Unauthorized(ApiError):
    status = 401
    default_message = "Requires authentication"


class Forbidden(ApiError):
    status = 403
    default_message = "Resource not accessible by integration"


# GitHub's 403 to a token that lacks a permission, by token kind: an App installation token is
# refused "by integration", a fine-grained personal access token "by personal access token". A
# classic personal access token is never told: it gets 404 "Not Found" (see ``access.require_admin``).
NOT_ACCESSIBLE = {
    "app": "Resource not accessible by integration",
    "fine_grained": "Resource not accessible by personal access token",
}


def not_accessible(kind: str, documentation_url: str = DOCS) -> Forbidden:
    """The 403 a token of ``kind`` (``app`` or ``fine_grained``) gets for what its permissions do not grant."""
    return Forbidden(NOT_ACCESSIBLE.get(kind, NOT_ACCESSIBLE["app"]), documentation_url=documentation_url)


class NotFound(ApiError):
    status = 404
    default_message = "Not Found"


class Conflict(ApiError):
    status = 409
    default_message = "Git Repository is empty."


class Gone(ApiError):
    status = 410
    default_message = "Gone"


class Unprocessable(ApiError):
    status = 422
    default_message = "Validation Failed"
