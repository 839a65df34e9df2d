"""Errors that carry their meaning (and so their CLI exit code) with them.

Raise these from any layer; ``cli.main`` maps them to exit codes in one place and prints one
line, never a traceback (``--debug`` shows it). Messages must never contain a token: build them
from names and paths, and pass anything that came back from a server through ``redact``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # clean: nothing found
    FINDINGS = 1  # drift (or problems) found
    CONFIG = 2  # usage or configuration error
    RUNTIME = 3  # could not complete: auth, API, unexpected
    INTERRUPTED = 130


class DriftError(Exception):
    exit_code: ExitCode = ExitCode.RUNTIME


class UsageError(DriftError):
    """The command line or a configuration value is wrong; the user can fix it."""

    exit_code = ExitCode.CONFIG


class SourceError(DriftError):
    """A source (GitHub, git, AWS) could not be read after retries.

    Decisions are taken on the fields, never on the message text: ``status`` is the HTTP status
    (None when there was no HTTP answer: a network error, retries exhausted, a git failure) and
    ``api_message`` the server's own ``message`` field when it sent one.
    """

    exit_code = ExitCode.RUNTIME

    def __init__(self, message: str, *, status: int | None = None, api_message: str | None = None):
        super().__init__(message)
        self.status = status
        self.api_message = api_message


class NotFound(SourceError):
    """The object does not exist (or the credentials may not see it)."""


# One home for masking: ``drift_pipeline.core.redaction`` (pure, importable by every layer).
from drift_pipeline.core.redaction import redact  # noqa: E402,F401
