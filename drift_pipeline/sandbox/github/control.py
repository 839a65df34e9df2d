"""The sandbox's control plane, ``/_sandbox/*`` (no token, not counted): faults, request counts,
rate limits, the endpoint list and raw file downloads."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from drift_pipeline.sandbox.github import routes
from drift_pipeline.sandbox.github.answers import json_response
from drift_pipeline.sandbox.github.bookkeeping import Counters, Store
from drift_pipeline.sandbox.github.errors import ApiError, NotFound
from drift_pipeline.sandbox.github.faults import FaultState
from drift_pipeline.sandbox.github.ratelimits import RateLimits


def endpoints() -> list[dict[str, str]]:
    """The route table, as served by ``GET /_sandbox/endpoints``."""
    return [{"method": r.method, "path": r.template, "summary": r.summary} for r in routes.ROUTES]


def endpoints_markdown() -> str:
    """The endpoint list for the README, generated from the route table."""
    return "\n".join(f"| `{r.method}` | `{r.template}` | {r.summary} |" for r in routes.ROUTES)


def admin(
    request: Request, path: str, *, store: Store, faults: FaultState, counters: Counters, rate_limits: RateLimits
) -> Response:
    """The answer to a ``/_sandbox/*`` request (``path`` without the ``/api/v3`` prefix)."""
    method = request.method
    try:
        body: Any = request.get_json(force=True, silent=True) if request.get_data() else None
        if path == "/_sandbox/endpoints" and method == "GET":
            return json_response(endpoints())
        if path == "/_sandbox/faults":
            if method == "POST":
                faults.update(body or {})
            elif method == "DELETE":
                faults.clear()
            elif method != "GET":
                return json_response({"message": "Method not allowed"}, 405)
            return json_response(faults.to_json())
        if path == "/_sandbox/requests" and method == "GET":
            return json_response(counters.snapshot())
        if path == "/_sandbox/requests/reset" and method == "POST":
            counters.reset()
            return json_response(counters.snapshot())
        if path == "/_sandbox/rate_limits":
            if method == "POST":
                rate_limits.limits.update({k: int(v) for k, v in (body or {}).items() if k != "reset"})
                if (body or {}).get("reset"):
                    rate_limits.reset()
            return json_response({"limits": rate_limits.limits})
        if path == "/_sandbox/reset" and method == "POST":
            faults.clear()
            counters.reset()
            rate_limits.reset()
            return json_response({"reset": True})
        m = re.match(r"^/_sandbox/raw/([^/]+)/([^/]+)/([^/]+)/(.+)$", path)
        if m and method == "GET":
            return _raw(store, *m.groups())
    except ApiError as err:
        return json_response(err.body(), err.status, dict(err.headers))
    except ValueError as err:
        return json_response({"message": str(err)}, 422)
    return json_response({"message": "Not Found"}, 404)


def _raw(store: Store, owner: str, repo: str, ref: str, file_path: str) -> Response:
    """``GET /_sandbox/raw/{owner}/{repo}/{ref}/{path}``: a file's bytes at a ref."""
    git = store.current().git_repo(owner, repo)
    sha = git.resolve(ref)
    entry = git.entry(sha, file_path) if sha else None
    if entry is None or entry.type != "blob":
        raise NotFound()
    return Response(git.blob(entry.sha), content_type="text/plain; charset=utf-8")
