"""Fault injection for the sandbox: latency, rate limits, server errors and revoked tokens.

The JSON accepted by ``POST /_sandbox/faults`` and the ``faults=`` constructor argument (every
key optional; a POST merges into the current faults, ``DELETE`` clears them)::

    {
      "latency_ms": 200,                                  # every API request, until cleared
      "rate_limit": 2,                                    # or {"count": 2}: primary limit exhausted
      "secondary_rate_limit": {"count": 1, "status": 403},  # 403 or 429, Retry-After: 1
      "errors": {"count": 3, "status": 502, "path": "/git/trees/", "method": "GET"},
      "fail_path": {"pattern": "/codeowners/", "status": 500, "method": null},  # until cleared
      "content_creation": {"limit": 80, "window_s": 60, "status": 403, "methods": ["POST"],
                           "path": null, "retry_after": null},  # until cleared
      "revoke_minted": true                               # until cleared
    }

``path`` / ``pattern`` are regexes searched in the request path; ``errors.status`` may be a list,
cycled (e.g. ``[502, 503]``). Counted faults decrement each time they fire.

``content_creation`` is GitHub's secondary limit on content creation (about 80 requests a
minute): the first ``limit`` matching requests within any ``window_s`` seconds pass, the next
ones answer ``status`` with GitHub's message and ``Retry-After`` (``retry_after``, or the
seconds until the oldest counted request leaves the window) until the window has room again.
"""

from __future__ import annotations

import copy
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """One fault to answer with: status, GitHub message and extra headers."""

    kind: str
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def _count_spec(value: Any) -> dict[str, Any]:
    if value is None or value is False:
        return {"count": 0}
    if isinstance(value, bool):
        return {"count": 1}
    if isinstance(value, int):
        return {"count": value}
    if isinstance(value, dict):
        return dict(value)
    raise ValueError(f"bad fault spec: {value!r}")


@dataclass
class FaultState:
    latency_ms: int = 0
    rate_limit: dict[str, Any] = field(default_factory=lambda: {"count": 0})
    secondary_rate_limit: dict[str, Any] = field(default_factory=lambda: {"count": 0})
    errors: dict[str, Any] = field(default_factory=lambda: {"count": 0})
    fail_path: dict[str, Any] | None = None
    content_creation: dict[str, Any] | None = None
    revoke_minted: bool = False
    _created: deque[float] = field(default_factory=deque, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def update(self, spec: dict[str, Any] | None) -> None:
        if not spec:
            return
        unknown = set(spec) - {
            "latency_ms", "rate_limit", "secondary_rate_limit", "errors", "fail_path", "content_creation",
            "revoke_minted",
        }  # fmt: skip
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        with self._lock:
            if "latency_ms" in spec:
                self.latency_ms = int(spec["latency_ms"] or 0)
            for key in ("rate_limit", "secondary_rate_limit", "errors"):
                if key in spec:
                    setattr(self, key, _count_spec(spec[key]))
            if "fail_path" in spec:
                fp = spec["fail_path"]
                self.fail_path = {"pattern": fp} if isinstance(fp, str) else fp
                if self.fail_path is not None:
                    re.compile(self.fail_path["pattern"])
            if "content_creation" in spec:
                self.content_creation = _creation_spec(spec["content_creation"])
                self._created.clear()
            if "revoke_minted" in spec:
                if not isinstance(spec["revoke_minted"], bool):
                    raise ValueError(f"bad revoke_minted fault: {spec['revoke_minted']!r} (true or false)")
                self.revoke_minted = spec["revoke_minted"]

    def clear(self) -> None:
        with self._lock:
            self.latency_ms = 0
            self.rate_limit = {"count": 0}
            self.secondary_rate_limit = {"count": 0}
            self.errors = {"count": 0}
            self.fail_path = None
            self.content_creation = None
            self.revoke_minted = False
            self._created.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(
                {
                    "latency_ms": self.latency_ms,
                    "rate_limit": self.rate_limit,
                    "secondary_rate_limit": self.secondary_rate_limit,
                    "errors": self.errors,
                    "fail_path": self.fail_path,
                    "content_creation": self.content_creation
                    and {**self.content_creation, "in_window": len(self._created)},
                    "revoke_minted": self.revoke_minted,
                }
            )

    @staticmethod
    def _applies(spec: dict[str, Any], method: str, path: str, key: str = "path") -> bool:
        if spec.get("method") and spec["method"].upper() != method:
            return False
        return not spec.get(key) or re.search(spec[key], path) is not None

    def pick(self, method: str, path: str, login: str) -> Fault | None:
        """The fault this request meets, if any (counted ones are used up)."""
        with self._lock:
            fp = self.fail_path
            if fp and self._applies(fp, method, path, "pattern"):
                return Fault("fail_path", int(fp.get("status", 500)), fp.get("message") or "Server Error")
            e = self.errors
            if e.get("count", 0) > 0 and self._applies(e, method, path):
                statuses = e.get("status", 502)
                statuses = statuses if isinstance(statuses, list) else [statuses]
                e["fired"] = e.get("fired", 0) + 1
                e["count"] -= 1
                status = int(statuses[(e["fired"] - 1) % len(statuses)])
                return Fault("errors", status, {401: "Bad credentials", 502: "Bad Gateway"}.get(status, "Server Error"))
            s = self.secondary_rate_limit
            if s.get("count", 0) > 0 and self._applies(s, method, path):
                s["count"] -= 1
                return Fault(
                    "secondary_rate_limit",
                    int(s.get("status", 403)),
                    "You have exceeded a secondary rate limit. Please wait a few minutes before "
                    "you try again. If you reach out to GitHub Support for help, please include "
                    "the request ID sandbox.",
                    {"Retry-After": str(s.get("retry_after", 1))},
                )
            r = self.rate_limit
            if r.get("count", 0) > 0 and self._applies(r, method, path):
                r["count"] -= 1
                return Fault(
                    "rate_limit",
                    403,
                    f"API rate limit exceeded for user ID {login}. If you reach out to GitHub "
                    "Support for help, please include the request ID sandbox.",
                )
            return self._content_creation(method, path)

    def _content_creation(self, method: str, path: str) -> Fault | None:
        """GitHub's secondary limit on content creation (called with the lock held)."""
        c = self.content_creation
        if not c or method not in c["methods"] or not self._applies(c, method, path):
            return None
        now = time.monotonic()
        while self._created and self._created[0] <= now - c["window_s"]:
            self._created.popleft()
        if len(self._created) < c["limit"]:
            self._created.append(now)
            return None
        room_at = self._created[0] + c["window_s"] if self._created else now + c["window_s"]  # limit 0: a window
        wait = c.get("retry_after") or max(1, math.ceil(room_at - now))
        return Fault(
            "secondary_rate_limit",
            int(c["status"]),
            "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
            "Please retry your request again later. If you reach out to GitHub Support for help, please include "
            "the request ID sandbox.",
            {"Retry-After": str(wait)},
        )


def _creation_spec(value: Any) -> dict[str, Any] | None:
    """``content_creation``: None/False clears; ``True`` is GitHub's 80 a minute; a dict overrides."""
    if value is None or value is False:
        return None
    spec: dict[str, Any] = {
        "limit": 80, "window_s": 60.0, "status": 403, "methods": ["POST"], "path": None, "retry_after": None
    }  # fmt: skip
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"limit": value}
    if value is not True:
        if not isinstance(value, dict) or set(value) - set(spec):
            raise ValueError(f"bad content_creation fault: {value!r} (keys: {', '.join(spec)})")
        spec.update(value)
    if int(spec["status"]) not in (403, 429) or int(spec["limit"]) < 0 or float(spec["window_s"]) <= 0:
        raise ValueError(f"bad content_creation fault: {value!r} (status 403 or 429, limit >= 0, window_s > 0)")
    spec["methods"] = [str(m).upper() for m in spec["methods"]]
    if spec["path"]:
        re.compile(spec["path"])
    return spec
