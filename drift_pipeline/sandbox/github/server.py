"""The GitHub sandbox server: the WSGI app of :mod:`app` around :mod:`routes`, run on a werkzeug thread.

Around every API route the app applies what GitHub applies: token auth (401), fault injection,
per-token rate limits with ``X-RateLimit-*`` headers (403 when exhausted), weak ETags with
``304 Not Modified`` (which costs no rate limit), ``Link`` pagination, and GitHub's error
bodies. ``/_sandbox/*`` is the control plane (no token, not counted, :mod:`control`): faults,
request counts, rate limits, the endpoint list and raw file downloads.

The state lives in ``<state_dir>/state.json`` plus bare repositories; the app reloads the file
when it changes on disk and saves its own writes (issues, labels, comments) back to it.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, get_sockaddr, make_server, select_address_family

from drift_pipeline.sandbox.github import apps
from drift_pipeline.sandbox.github.control import endpoints, endpoints_markdown
from drift_pipeline.sandbox.github.wsgi import GitHubApp

__all__ = ["GitHubApp", "GitHubSandbox", "endpoints", "endpoints_markdown"]

log = logging.getLogger(__name__)


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
