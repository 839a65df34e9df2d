"""The GitHub sandbox server: a WSGI app around :mod:`routes`, run on a werkzeug thread.

Around every API route the app applies what GitHub applies: token auth (401), fault injection,
per-token rate limits with ``X-RateLimit-*`` headers (403 when exhausted), weak ETags with
``304 Not Modified`` (which costs no rate limit), ``Link`` pagination, and GitHub's error
bodies. ``/_sandbox/*`` is the control plane (no token, not counted): faults, request counts,
rate limits, the endpoint list and raw file downloads.

The state lives in ``<state_dir>/state.json`` plus bare repositories; the app reloads the file
when it changes on disk and saves its own writes (issues, labels, comments) back to it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, get_sockaddr, make_server, select_address_family
from werkzeug.wrappers import Request, Response

from drift_pipeline.sandbox.github import apps, conformance, routes
from drift_pipeline.sandbox.github.errors import ApiError, NotFound, Unauthorized
from drift_pipeline.sandbox.github.faults import FaultState
from drift_pipeline.sandbox.github.ratelimits import ANONYMOUS_LIMITS, RateLimits
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import GitError

log = logging.getLogger(__name__)


class _Store:
    """The current :class:`SandboxState`: reloaded when state.json changes, copied on write."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.RLock()
        self._state = SandboxState.open(self.root)
        self._key = self._stat()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.root / "state.json")
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> SandboxState:
        key = self._stat()
        if key != self._key:
            with self._lock:
                key = self._stat()
                if key != self._key and key is not None:
                    self._state = SandboxState.open(self.root)
                    self._key = key
        return self._state

    def mutate(self, fn: Callable[[SandboxState], Any]) -> tuple[SandboxState, Any]:
        with self._lock:
            cur = self.current()
            new = SandboxState(cur.root, copy.deepcopy(cur.data))
            result = fn(new)
            new.save()
            self._state, self._key = new, self._stat()
            return new, result


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.total = self.not_modified = self.faults = 0

    def add(self, key: str, status: int, *, fault: bool = False) -> None:
        with self._lock:
            self.total += 1
            self.by_route[key] += 1
            self.by_status[str(status)] += 1
            self.not_modified += status == 304
            self.faults += fault

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "not_modified": self.not_modified,
                "faults": self.faults,
                "by_status": dict(sorted(self.by_status.items())),
                "by_route": dict(sorted(self.by_route.items())),
            }


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(data, status=status, headers=headers or {}, content_type="application/json; charset=utf-8")


def _etag(data: bytes) -> str:
    return f'W/"{hashlib.sha256(data).hexdigest()[:40]}"'


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    bare = etag[2:]
    return any(t.strip() in ("*", etag, bare) or t.strip().removeprefix("W/") == bare for t in header.split(","))


def _not_modified(request: Request, headers: dict[str, str]) -> bool:
    """A conditional GET's answer is 304: ``If-None-Match`` matches the ETag, or (only when no
    ``If-None-Match`` was sent, RFC 9110) the resource's ``Last-Modified`` is not after ``If-Modified-Since``."""
    if request.headers.get("If-None-Match"):
        return _etag_matches(request.headers.get("If-None-Match"), headers["ETag"])
    since, modified = request.headers.get("If-Modified-Since"), headers.get("Last-Modified")
    if not since or not modified:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


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
        self.store = _Store(Path(state_dir))
        self.faults = FaultState()
        self.faults.update(faults)
        self.rate_limits = RateLimits(rate_limits)
        self.counters = _Counters()
        self._request_id = 0

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # the server must answer, as GitHub does
            log.exception("sandbox: unhandled error")
            response = _json_response({"message": "Server Error", "status": "500"}, 500)
        conformance.observe(request, response)  # opt-in: DRIFT_SANDBOX_CONFORMANCE=<dir>
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path, prefix = request.path, ""
        if path.startswith("/api/v3/") or path == "/api/v3":
            path, prefix = path[len("/api/v3") :] or "/", "/api/v3"
        base = request.host_url.rstrip("/") + prefix
        if path.startswith("/_sandbox/"):
            return self._admin(request, path, base)
        method = request.method
        route, params, path_known = routes.match(method, path)
        key = route.key if route else f"{method} (unmatched)"

        resource = "search" if path.startswith("/search/") else "core"
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
        token = info.get("rate_key", token)  # an installation's tokens share one budget
        denied = apps.permission_error(info, method, path)
        if denied is not None:
            self.counters.add(key, 403)
            return self._error(denied, {**self._common_headers(), **self._rate_headers(token, resource)})

        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        fault = self.faults.pick(method, path, info["login"])
        if fault is not None:
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
            return _json_response(
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

        counted = path != "/rate_limit"
        if counted and self.rate_limits.peek(token, resource)["remaining"] <= 0:
            headers = self._rate_headers(token, resource)
            self.counters.add(key, 403)
            return _json_response(
                {
                    "message": f"API rate limit exceeded for user ID {self.store.current().account_id(info['login'])}.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                    "status": "403",
                },
                403,
                headers,
            )

        response = self._run(request, route, params, path_known, base, token, info)
        if response.status_code == 304:
            self.counters.add(key, 304)
        else:
            if counted:
                self.rate_limits.consume(token, resource)
            self.counters.add(key, response.status_code)
        response.headers.update(self._rate_headers(token, resource))
        return response

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
        return _json_response(err.body(), err.status, {**headers, **err.headers})

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
            headers["ETag"] = _etag(data)
            if request.method in ("GET", "HEAD") and reply.status == 200 and _not_modified(request, headers):
                return Response(b"", status=304, headers=headers)
        return Response(data, status=reply.status, headers=headers, content_type=reply.content_type)

    # -- control plane -----------------------------------------------------------------------
    def _admin(self, request: Request, path: str, base: str) -> Response:
        method = request.method
        try:
            body = request.get_json(force=True, silent=True) if request.get_data() else None
            if path == "/_sandbox/endpoints" and method == "GET":
                return _json_response(endpoints())
            if path == "/_sandbox/faults":
                if method == "POST":
                    self.faults.update(body or {})
                elif method == "DELETE":
                    self.faults.clear()
                elif method != "GET":
                    return _json_response({"message": "Method not allowed"}, 405)
                return _json_response(self.faults.to_json())
            if path == "/_sandbox/requests" and method == "GET":
                return _json_response(self.request_counts())
            if path == "/_sandbox/requests/reset" and method == "POST":
                self.counters.reset()
                return _json_response(self.request_counts())
            if path == "/_sandbox/rate_limits":
                if method == "POST":
                    self.rate_limits.limits.update({k: int(v) for k, v in (body or {}).items() if k != "reset"})
                    if (body or {}).get("reset"):
                        self.rate_limits.reset()
                return _json_response({"limits": self.rate_limits.limits})
            if path == "/_sandbox/reset" and method == "POST":
                self.faults.clear()
                self.counters.reset()
                self.rate_limits.reset()
                return _json_response({"reset": True})
            m = re.match(r"^/_sandbox/raw/([^/]+)/([^/]+)/([^/]+)/(.+)$", path)
            if m and method == "GET":
                owner, repo, ref, file_path = m.groups()
                git = self.store.current().git_repo(owner, repo)
                sha = git.resolve(ref)
                entry = git.entry(sha, file_path) if sha else None
                if entry is None or entry.type != "blob":
                    raise NotFound()
                return Response(git.blob(entry.sha), content_type="text/plain; charset=utf-8")
        except ApiError as err:
            return self._error(err, {})
        except ValueError as err:
            return _json_response({"message": str(err)}, 422)
        return _json_response({"message": "Not Found"}, 404)

    def request_counts(self) -> dict[str, Any]:
        return self.counters.snapshot()


def endpoints() -> list[dict[str, str]]:
    """The route table, as served by ``GET /_sandbox/endpoints``."""
    return [{"method": r.method, "path": r.template, "summary": r.summary} for r in routes.ROUTES]


def endpoints_markdown() -> str:
    """The endpoint list for the README, generated from the route table."""
    return "\n".join(f"| `{r.method}` | `{r.template}` | {r.summary} |" for r in routes.ROUTES)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            log.warning(message, *args)


class GitHubSandbox:
    """A GitHub-REST-compatible server on a background thread.

    >>> with GitHubSandbox(state_dir) as gh:
    ...     Github(base_url=gh.url, auth=Auth.Token("sandbox-token"))
    """

    def __init__(
        self,
        state_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: dict[str, Any] | None = None,
        rate_limits: dict[str, int] | None = None,
        installation_token_ttl: int = apps.DEFAULT_TOKEN_TTL,
    ):
        self.app = GitHubApp(
            state_dir, faults=faults, rate_limits=rate_limits, installation_token_ttl=installation_token_ttl
        )
        self.host, self.port = host, port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> GitHubSandbox:
        """Bind and serve; a port in use or an address not ours raises ``OSError``.

        The socket is bound here, not by werkzeug, which prints and calls ``sys.exit(1)`` when
        the port is taken.
        """
        family = select_address_family(self.host, self.port)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(get_sockaddr(self.host, self.port, family))
            sock.listen(128)
            self._server = make_server(
                self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler, fd=sock.fileno()
            )
        finally:
            sock.close()  # werkzeug serves on its own duplicate of the descriptor
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="github-sandbox", kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._thread = None

    def __enter__(self) -> GitHubSandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- control, in process (same as the /_sandbox endpoints) ---------------------------------
    def request_counts(self) -> dict[str, Any]:
        return self.app.request_counts()

    def reset_counts(self) -> None:
        self.app.counters.reset()

    def set_faults(self, faults: dict[str, Any] | None = None, **kw: Any) -> None:
        """Merge faults (the ``POST /_sandbox/faults`` JSON); ``set_faults(None)`` clears them."""
        if faults is None and not kw:
            self.app.faults.clear()
            return
        self.app.faults.update({**(faults or {}), **kw})

    def clear_faults(self) -> None:
        self.app.faults.clear()

    def reset_rate_limits(self) -> None:
        self.app.rate_limits.reset()
