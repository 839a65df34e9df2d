"""The hidden filing markers: how they are written, signed, read, and which ones are trusted.

A marker is an HTML comment at the very end of a text the product writes (issue body, "still
present" comment, continuation part)::

    <!-- drift-pipeline: {"category": "code", "fingerprints": [...], "scan_date": "2026-03-05", "sig": "..."} -->

Fingerprints are computable by anyone from public data, and an issue body quotes text from the
watched repo (commit subjects, paths, messages), so a marker is believed only when all hold
(:meth:`Trust.markers`):

1. the issue or comment was **authored by the filing identity** (``user.login``, compared as GitHub
   compares logins, without case), learnt once per run from the API (``identity.filer_identity``);
2. the marker is the **last thing in the text**, where the renderer puts its own; a marker quoted
   inside untrusted text is never last, since the footer and the real marker follow it;
3. its ``sig`` is a valid HMAC-SHA256 over (kind, target repo, payload) with this installation's
   key (:class:`MarkerKey`: ``DRIFT_MARKER_KEY``, else a key generated once and kept in the store),
   **or** it is unsigned (written by a version before signing) and the text was created before this
   installation started signing (``MarkerKey.since``): upgrading files no duplicates, and an
   unsigned marker written after that is ignored.

A marker with a wrong signature is ignored. Signing binds the target repo, so a marker copied
from another repo's issue never counts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from drift_pipeline.issues.inert import comment_json

MARKER = "drift-pipeline"
REPEAT_MARKER = "drift-pipeline-repeat"
PART_MARKER = "drift-pipeline-part"  # a continuation comment: which part of which issue
_MARKER_RE = re.compile(r"<!-- (drift-pipeline(?:-repeat|-part)?): (\{.*?\}) -->")
SIG = "sig"


def marker(
    scan_date: date, category: str, fingerprints: Sequence[str], kind: str = MARKER, part: int | None = None
) -> str:
    """An unsigned marker (the renderer's; the filer signs it with :meth:`MarkerKey.seal` before posting)."""
    data: dict[str, Any] = {"category": category, "fingerprints": sorted(fingerprints)}
    data["scan_date"] = scan_date.isoformat()
    if part is not None:
        data["part"] = part
    return _encode(kind, data)


def _encode(kind: str, data: Mapping[str, Any]) -> str:
    return f"<!-- {kind}: {comment_json(dict(data))} -->"  # no value can close or open the comment


def _decode(match: re.Match[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(match.group(2))
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("fingerprints"), list):
        return data
    return None


def parse_markers(text: str | None, kind: str = MARKER) -> list[dict[str, Any]]:
    """Every well-formed marker of ``kind`` anywhere in ``text``, trusted or not (malformed ones ignored).

    For decisions use :meth:`Trust.markers`, which believes only the product's own."""
    found = []
    for match in _MARKER_RE.finditer(text or ""):
        if match.group(1) == kind and (data := _decode(match)) is not None:
            found.append(data)
    return found


def trailing_marker(text: str | None) -> tuple[str, dict[str, Any], re.Match[str]] | None:
    """The marker that ends ``text`` (trailing whitespace aside): its kind, payload and match; else None."""
    body = (text or "").rstrip()
    matches = list(_MARKER_RE.finditer(body))
    last = matches[-1] if matches else None
    if last is None or last.end() != len(body) or (data := _decode(last)) is None:
        return None
    return last.group(1), data, last


@dataclass(frozen=True)
class MarkerKey:
    """The keys that sign and verify markers: ``signing`` signs; every key in ``verifying`` verifies.
    ``since``: when this installation began signing (an unsigned marker in a text created earlier
    is a legacy one). Never printed."""

    signing: bytes = field(repr=False)
    since: datetime
    verifying: tuple[bytes, ...] = field(default=(), repr=False)

    def sig(self, key: bytes, kind: str, repo: str, data: Mapping[str, Any]) -> str:
        payload = {k: v for k, v in data.items() if k != SIG}
        message = json.dumps([kind, repo.casefold(), payload], sort_keys=True, separators=(",", ":"))
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def seal(self, text: str, repo: str) -> str:
        """``text`` with its trailing marker signed for ``repo`` (where the text is posted)."""
        found = trailing_marker(text)
        if found is None:
            raise ValueError("a text to post has no trailing drift-pipeline marker to sign")
        kind, data, match = found
        data[SIG] = self.sig(self.signing, kind, repo, data)
        return text[: match.start()] + _encode(kind, data) + text[match.end() :]

    def valid(self, kind: str, repo: str, data: Mapping[str, Any]) -> bool:
        given = data.get(SIG)
        if not isinstance(given, str):
            return False
        keys = (self.signing, *self.verifying)
        return any(hmac.compare_digest(given, self.sig(k, kind, repo, data)) for k in keys)


def login_of(item: Mapping[str, Any]) -> str | None:
    """The ``user.login`` of an issue or comment (GitHub's JSON), or None."""
    user = item.get("user")
    login = user.get("login") if isinstance(user, Mapping) else None
    return login if isinstance(login, str) and login else None


def _created(item: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(item.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Trust:
    """Which markers the filer believes: see the module docstring."""

    identity: str
    key: MarkerKey

    def authored(self, item: Mapping[str, Any]) -> bool:
        login = login_of(item)
        return login is not None and login.casefold() == self.identity.casefold()

    def markers(self, item: Mapping[str, Any], repo: str, kind: str = MARKER) -> list[dict[str, Any]]:
        """The trusted marker of ``kind`` of an issue or comment posted in ``repo``: [] or [payload]."""
        if not self.authored(item):
            return []
        found = trailing_marker(item.get("body"))
        if found is None or found[0] != kind:
            return []
        _, data, _ = found
        if SIG in data:
            return [_payload(data)] if self.key.valid(kind, repo, data) else []
        created = _created(item)
        if created is not None and created.tzinfo is not None and created < self.key.since:
            return [data]  # legacy: written before this installation signed its markers
        return []


def _payload(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != SIG}
