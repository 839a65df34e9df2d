"""Errors that carry their meaning (and so their CLI exit code) with them.

Raise these from any layer; ``cli.main`` maps them to exit codes in one place and prints one
line, never a traceback (``--debug`` shows it). Messages must never contain a token: build them
from names and paths, and pass anything that came back from a server through ``redact``.
"""

from __future__ import annotations

import re
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0          # clean: nothing found
    FINDINGS = 1    # drift (or problems) found
    CONFIG = 2      # usage or configuration error
    RUNTIME = 3     # could not complete: auth, API, unexpected
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


# Whole match replaced.
_TOKENS = [
    re.compile(r"gh[pousr]_[A-Za-z0-9_]{16,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}"),
]
# Group 1 (the label) kept, the value after it replaced.
_LABELLED = [
    re.compile(r"(x-access-token:)[^@\s]+"),
    re.compile(r"(Authorization:\s*)\S+(?:\s+\S+)?", re.IGNORECASE),
    re.compile(r"((?:Bearer|token)\s+)[A-Za-z0-9_\-\.=]{8,}", re.IGNORECASE),
    re.compile(r"(aws_secret_access_key\s*[=:]\s*)\S+", re.IGNORECASE),
]


def redact(text: str, *secrets: str | None) -> str:
    """Replace token-like strings (and the given secrets, verbatim) with ``[REDACTED]``."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[REDACTED]")
    for pattern in _TOKENS:
        text = pattern.sub("[REDACTED]", text)
    for pattern in _LABELLED:
        text = pattern.sub(lambda m: m.group(1) + "[REDACTED]", text)
    return text
