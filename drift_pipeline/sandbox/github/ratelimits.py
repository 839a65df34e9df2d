"""The sandbox's per-token rate limits: every resource GitHub's ``GET /rate_limit`` reports, its
limit and window, and the usage of each (token, resource) in the current window."""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["ANONYMOUS_LIMITS", "DEFAULT_LIMITS", "WINDOWS", "RateLimits"]

# Every resource GitHub's ``GET /rate_limit`` reports, with its limit for a user token and its
# window in seconds (docs.github.com "Rate limits for the REST API"; search, code_search and the
# other short windows are per minute).
DEFAULT_LIMITS = {
    "core": 5000,
    "search": 30,
    "graphql": 5000,
    "integration_manifest": 5000,
    "source_import": 100,
    "code_scanning_upload": 1000,
    "code_scanning_autofix": 10,
    "actions_runner_registration": 10000,
    "scim": 15000,
    "dependency_snapshots": 100,
    "dependency_sbom": 100,
    "audit_log": 1750,
    "audit_log_streaming": 15,
    "code_search": 10,
}
_PER_MINUTE = ("search", "source_import", "code_scanning_autofix", "dependency_snapshots", "dependency_sbom",
               "audit_log_streaming", "code_search")  # fmt: skip
WINDOWS = {name: 60 if name in _PER_MINUTE else 3600 for name in DEFAULT_LIMITS}
# An answer without valid credentials counts against the caller's unauthenticated budget (per
# address): GitHub's 401 carries those X-RateLimit-* headers.
ANONYMOUS_LIMITS = {"core": 60, "search": 10}


class RateLimits:
    def __init__(self, limits: dict[str, int] | None):
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self._lock = threading.Lock()
        self._usage: dict[tuple[str, str], list[int]] = {}  # (token, resource) -> [used, reset]

    def _entry(self, token: str, resource: str) -> list[int]:
        now = int(time.time())
        entry = self._usage.get((token, resource))
        if entry is None or now >= entry[1]:
            entry = self._usage[(token, resource)] = [0, now + WINDOWS.get(resource, 3600)]
        return entry

    def peek(self, token: str, resource: str, limit: int | None = None) -> dict[str, Any]:
        with self._lock:
            used, reset = self._entry(token, resource)
        limit = self.limits.get(resource, DEFAULT_LIMITS["core"]) if limit is None else limit
        return {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset, "resource": resource}

    def consume(self, token: str, resource: str) -> None:
        with self._lock:
            self._entry(token, resource)[0] += 1

    def reset(self) -> None:
        with self._lock:
            self._usage.clear()
