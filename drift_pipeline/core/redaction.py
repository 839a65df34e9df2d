"""Masking of secrets in text: the one place that knows what a token looks like.

Pure (stdlib only), so every layer may call it: the scans mask file contents before a row is
built, the code rules mask diffs, the CLI and the issue renderer mask what they print, and error
messages pass through :func:`redact` (which also removes the caller's own token verbatim).

Patterns are deliberately broad: a false positive costs a ``[REDACTED]`` in a diff, a false
negative leaks a credential into a table that analysts copy around.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MASK = "[REDACTED]"

# Whole match replaced.
_TOKENS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bgh[pousr]_[A-Za-z0-9_]{16,}"),  # GitHub tokens, every prefix
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),  # fine-grained PATs
    re.compile(r"\bv1\.[0-9a-f]{40}\b"),  # GitHub App installation tokens
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),  # AWS key ids
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL
    ),  # PEM private key blocks
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),  # Slack webhooks
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe-style keys
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API keys
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),  # GitLab tokens
    re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),  # npm tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWTs
)

# Group 1 (the label) kept, the value after it replaced.
_LABELLED: tuple[re.Pattern[str], ...] = (
    re.compile(r"(x-access-token:)[^@\s]+"),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(?=@)"),  # user:password@host in URLs
    re.compile(r"(Authorization[\"']?\s*[:=]\s*[\"']?)[^\s\"']+(?:[ \t]+[^\s\"']+)?", re.IGNORECASE),
    # "Bearer X" / "token X": X looks like a credential (a digit or a symbol in it, or 24+ characters),
    # never an ordinary word ("the GITHUB_TOKEN environment variable", "a token provided by ...")
    re.compile(
        r"(\b(?:Bearer|token)\s+)(?:(?=[A-Za-z.]*[0-9_\-=/+])[A-Za-z0-9_\-.=/+]{8,}|[A-Za-z0-9_\-.=/+]{24,})",
        re.IGNORECASE,
    ),
    re.compile(r"(aws_secret_access_key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{16,}", re.IGNORECASE),
    # key = value assignments whose key names a secret: password=, secret:, api_key=, token: ...
    re.compile(
        r"""((?:^|[\s{,;(])[\"']?[A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|api[_-]?key|access[_-]?key|"""
        r"""token|private[_-]?key)[\"']?\s*[:=]\s*[\"']?)"""
        r"""(?!\$\{\{)(?!\$\{?[A-Za-z_])[^\s\"',;}]{8,}""",
        re.IGNORECASE | re.MULTILINE,
    ),
)
# AWS secret access keys (40 base64-ish characters) next to a key id or an aws label.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_CONTEXT = re.compile(r"aws|secret", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with every token-like string replaced by ``[REDACTED]``."""
    if not text:
        return text
    for pattern in _TOKENS:
        text = pattern.sub(MASK, text)
    for pattern in _LABELLED:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    if _AWS_CONTEXT.search(text):
        text = "\n".join(
            _AWS_SECRET.sub(MASK, line) if _AWS_CONTEXT.search(line) else line for line in text.split("\n")
        )
    return text


def redact(text: str, *secrets: str | None) -> str:
    """Replace the given secrets (verbatim) and every token-like string with ``[REDACTED]``."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, MASK)
    return mask_secrets(text)


def has_secret(text: str) -> bool:
    """True when :func:`mask_secrets` would change ``text`` (for a last check before posting)."""
    return bool(text) and mask_secrets(text) != text


def mask_json(value: Any) -> Any:
    """``value`` (decoded JSON) with :func:`mask_secrets` applied to every string in it."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    return value


MESSAGE_CAP = 500  # characters of a server's message kept where it is printed, logged or stored
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


_PLAIN = re.compile(r"[\x20-\x7e\n\t]*")  # printable ASCII, newline and tab: nothing to escape


def visible_controls(text: str) -> str:
    """``text`` with control and format characters (escape sequences, carriage returns, bidi
    overrides, zero-width characters, BOM, private-use and surrogates) as visible ``\\uXXXX``
    escapes; newline and tab kept. A terminal or a markdown renderer then shows what a watched
    repo wrote instead of obeying it."""
    if _PLAIN.fullmatch(text):
        return text
    return "".join(
        f"\\u{ord(c):04x}" if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") else c
        for c in text
    )


def cap_message(text: str, limit: int = MESSAGE_CAP) -> str:
    """A server's message (hostile, of any size) made one printable line of at most ``limit``
    characters plus a note of how much was cut; control and bidi characters become one space.

    Only the first ``4 * limit`` characters are looked at, so a 5 MB message costs no more than a
    short one."""
    head = _UNPRINTABLE.sub(" ", text[: 4 * limit]).strip()
    cut = len(text) - 4 * limit if len(text) > 4 * limit else 0
    if len(head) > limit:
        cut += len(head) - limit
        head = head[:limit].rstrip()
    return f"{head} ... [{cut} more characters]" if cut else head
