"""The GitHub sandbox's WSGI app: the gates GitHub applies around every API route of :mod:`routes`.

Token auth (401) and App permissions (403), fault injection, per-token rate limits with
``X-RateLimit-*`` headers (403 when exhausted), weak ETags with ``304 Not Modified`` (which costs no
rate limit), ``Link`` pagination, and GitHub's error bodies. ``/_sandbox/*`` goes to :mod:`control`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from drift_pipeline.sandbox.github import apps, conformance, control, routes
from drift_pipeline.sandbox.github.answers import etag, json_response, not_modified
from drift_pipeline.sandbox.github.bookkeeping import Counters, Store
from drift_pipeline.sandbox.github.errors import ApiError, NotFound, Unauthorized
from drift_pipeline.sandbox.github.faults import FaultState
from drift_pipeline.sandbox.github.ratelimits import ANONYMOUS_LIMITS, RateLimits
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import GitError

log = logging.getLogger(__name__)


class GitHubApp:
    """The WSGI application (use :class:`GitHubSandbox` to serve it)."""

    def __init__(
        self,
        state_dir: Path | str,
        faults: dict[str, Any] | None = None,
        rate_limits: dict[str, int] | None = None,
        installation_token_ttl: int = apps.DEFAULT_TOKEN_TTL,
    ):
        self.installation_token_ttl = installation_token_ttl
        self.store = Store(Path(state_dir))
        self.faults = FaultState()
        self.faults.update(faults)
        self.rate_limits = RateLimits(rate_limits)
        self.counters = Counters()
        self._request_id = 0

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # the server must answer, as GitHub does
            log.exception("sandbox: unhandled error")
            response = json_response({"message": "Server Error", "status": "500"}, 500)
        conformance.observe(request, response)  # opt-in: DRIFT_SANDBOX_CONFORMANCE=<dir>
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path, prefix = request.path, ""
        if path.startswith("/api/v3/") or path == "/api/v3":
            path, prefix = path[len("/api/v3") :] or "/", "/api/v3"
        base = request.host_url.rstrip("/") + prefix
        if path.startswith("/_sandbox/"):
            return control.admin(
                request,
                path,
                store=self.store,
                faults=self.faults,
                counters=self.counters,
                rate_limits=self.rate_limits,
            )
        method = request.method
        route, params, path_known = routes.match(method, path)
        key = route.key if route else f"{method} (unmatched)"

        resource = "search" if path.startswith("/search/") else "core"
        caller = self._caller(request, path, key, resource)
        if isinstance(caller, Response):
            return caller
        token, info = caller
        refused = self._fault(method, path, key, resource, token, info) or self._exhausted(
            path, key, resource, token, info
        )
        if refused is not None:
            return refused

        response = self._run(request, route, params, path_known, base, token, info)
        if response.status_code == 304:
            self.counters.add(key, 304)
        else:
            if path != "/rate_limit":
                self.rate_limits.consume(token, resource)
            self.counters.add(key, response.status_code)
        response.headers.update(self._rate_headers(token, resource))
        return response

    # -- the gates before a route ------------------------------------------------------------
    def _caller(self, request: Request, path: str, key: str, resource: str) -> tuple[str, dict[str, Any]] | Response:
        """The caller's rate key and token info (the token itself as ``credential``: a route such as
        ``DELETE /installation/token`` acts on it), or the 401/403 answer that turns it away."""
        try:
            token, info = self._authenticate(request, path)
        except Unauthorized as refused:
            return self._unauthorized(request, key, resource, refused)
        if token is None or info is None:
            err = Unauthorized(
                "Requires authentication" if token is None else "Bad credentials",
                documentation_url="https://docs.github.com/rest",
            )
            return self._unauthorized(request, key, resource, err)
        credential, token = token, info.get("rate_key", token)  # an installation's tokens share one budget
        denied = apps.permission_error(info, request.method, path)
        if denied is not None:
            self.counters.add(key, 403)
            return self._error(denied, {**self._common_headers(), **self._rate_headers(token, resource)})
        return token, {**info, "credential": credential}

    def _fault(
        self, method: str, path: str, key: str, resource: str, token: str, info: dict[str, Any]
    ) -> Response | None:
        """The injected latency, then the injected fault's answer, if one fires for this request."""
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        fault = self.faults.pick(method, path, info["login"])
        if fault is None:
            return None
        headers = self._rate_headers(token, resource)
        if fault.kind == "rate_limit":
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + 1),
                    "X-RateLimit-Used": headers["X-RateLimit-Limit"],
                }
            )
        headers.update(fault.headers)
        self.counters.add(key, fault.status, fault=True)
        return json_response(
            {
                "message": fault.message,
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                if "rate" in fault.kind
                else "https://docs.github.com/rest",
                "status": str(fault.status),
            },
            fault.status,
            headers,
        )

    def _exhausted(self, path: str, key: str, resource: str, token: str, info: dict[str, Any]) -> Response | None:
        """GitHub's 403 when the caller's budget for ``resource`` is used up (``/rate_limit`` is free)."""
        if path == "/rate_limit" or self.rate_limits.peek(token, resource)["remaining"] > 0:
            return None
        headers = self._rate_headers(token, resource)
        self.counters.add(key, 403)
        return json_response(
            {
                "message": f"API rate limit exceeded for user ID {self.store.current().account_id(info['login'])}.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403",
            },
            403,
            headers,
        )

    # -- pieces ------------------------------------------------------------------------------
    def _authenticate(self, request: Request, path: str) -> tuple[str | None, dict[str, Any] | None]:
        header = request.headers.get("Authorization", "")
        m = re.match(r"^(?:token|bearer)\s+(\S+)$", header.strip(), re.I)
        if not m:
            return None, None
        token = m.group(1)
        if apps.is_app_path(path) and apps.is_jwt(token):
            return token, apps.verify_jwt(self.store.current().data, token)
        return token, apps.token_info(self.store.current().token(token))

    def _unauthorized(self, request: Request, key: str, resource: str, err: Unauthorized) -> Response:
        """A 401, counted against the caller's unauthenticated budget whose headers it carries."""
        anonymous = f"anonymous:{request.remote_addr}"
        self.rate_limits.consume(anonymous, resource)
        self.counters.add(key, 401)
        headers = {**self._common_headers(), **self._rate_headers(anonymous, resource, ANONYMOUS_LIMITS[resource])}
        return self._error(err, headers)

    def _rate_headers(self, token: str | None, resource: str, limit: int | None = None) -> dict[str, str]:
        r = self.rate_limits.peek(token or "", resource, limit)
        return {
            "X-RateLimit-Limit": str(r["limit"]),
            "X-RateLimit-Remaining": str(r["remaining"]),
            "X-RateLimit-Used": str(r["used"]),
            "X-RateLimit-Reset": str(r["reset"]),
            "X-RateLimit-Resource": resource,
        }

    def _error(self, err: ApiError, headers: dict[str, str]) -> Response:
        return json_response(err.body(), err.status, {**headers, **err.headers})

    def _common_headers(self) -> dict[str, str]:
        self._request_id += 1
        return {
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": f"SANDBOX:{self._request_id:08X}",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
            "Cache-Control": "private, max-age=60, s-maxage=60",
        }

    def _run(
        self,
        request: Request,
        route: routes.Route | None,
        params: dict[str, str],
        path_known: bool,
        base: str,
        token: str | None,
        info: dict[str, Any],
    ) -> Response:
        headers = self._common_headers()
        if route is None:
            return self._error(NotFound(), headers)
        state = self.store.current()
        ctx: routes.Ctx

        def mutate(fn: Callable[[SandboxState], Any]) -> Any:
            new, result = self.store.mutate(fn)
            ctx.state = new
            return result

        ctx = routes.Ctx(
            state=state,
            base=base,
            url=base + request.path.removeprefix("/api/v3"),
            args=request.args,
            headers=request.headers,
            body=request.get_data(),
            token={**info, "token": token},
            mutate=mutate,
            limits=self.rate_limits.limits,
            rate=lambda resource: self.rate_limits.peek(token or "", resource),
            app_token_ttl=self.installation_token_ttl,
            revoke_minted=self.faults.revoke_minted,
        )
        try:
            result = route.handler(ctx, **params)
        except ApiError as err:
            return self._error(err, headers)
        except GitError as err:
            log.warning("sandbox: git failed on %s: %s", request.path, err)
            return self._error(ApiError(f"git: {err}"), headers)
        reply = result if isinstance(result, routes.Reply) else routes.Reply(result)
        headers.update(reply.headers)
        if ctx.link:
            headers["Link"] = ctx.link
        if isinstance(reply.body, bytes):
            data = reply.body
        else:
            data = json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False).encode()
        if reply.status in (200, 201) and data:  # GitHub tags reads and write answers alike
            headers["ETag"] = etag(data)
            if request.method in ("GET", "HEAD") and reply.status == 200 and not_modified(request, headers):
                return Response(b"", status=304, headers=headers)
        return Response(data, status=reply.status, headers=headers, content_type=reply.content_type)

    def request_counts(self) -> dict[str, Any]:
        return self.counters.snapshot()
