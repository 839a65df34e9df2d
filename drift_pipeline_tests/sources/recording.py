"""The GitHub sandbox served behind a recording WSGI layer: when each request arrived and ended,
its status, and how many were in flight at once, measured on the server side of real HTTP.

The sandbox counts requests by route but keeps no timed log; this layer adds one without
touching the sandbox or the code under test.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from drift_pipeline.sandbox.github.server import GitHubApp


@dataclass(frozen=True)
class Seen:
    arrived: float
    ended: float
    path: str
    status: int


class RecordingSandbox:
    def __init__(self, state_dir: Path) -> None:
        self.app = GitHubApp(state_dir)
        self._lock = threading.Lock()
        self.log: list[Seen] = []
        self.in_flight = 0
        self.peak = 0
        self._server: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        arrived = time.time()
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        statuses: list[int] = []

        def record_status(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(int(status.split(maxsplit=1)[0]))
            return start_response(status, headers, exc_info)

        try:
            return list(self.app(environ, record_status))
        finally:
            with self._lock:
                self.in_flight -= 1
                self.log.append(Seen(arrived, time.time(), path, statuses[0] if statuses else 0))

    def reset(self) -> None:
        with self._lock:
            self.log, self.peak = [], 0
        self.app.counters.reset()
        self.app.faults.clear()
        self.app.rate_limits.reset()

    def __enter__(self) -> RecordingSandbox:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"
