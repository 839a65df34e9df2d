"""The sandbox server's HTTP answers: JSON bodies, weak ETags and conditional GETs (304)."""

from __future__ import annotations

import hashlib
import json
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.wrappers import Request, Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(data, status=status, headers=headers or {}, content_type="application/json; charset=utf-8")


def etag(data: bytes) -> str:
    return f'W/"{hashlib.sha256(data).hexdigest()[:40]}"'


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    bare = etag[2:]
    return any(t.strip() in ("*", etag, bare) or t.strip().removeprefix("W/") == bare for t in header.split(","))


def not_modified(request: Request, headers: dict[str, str]) -> bool:
    """A conditional GET's answer is 304: ``If-None-Match`` matches the ETag, or (only when no
    ``If-None-Match`` was sent, RFC 9110) the resource's ``Last-Modified`` is not after ``If-Modified-Since``."""
    if request.headers.get("If-None-Match"):
        return etag_matches(request.headers.get("If-None-Match"), headers["ETag"])
    since, modified = request.headers.get("If-Modified-Since"), headers.get("Last-Modified")
    if not since or not modified:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
