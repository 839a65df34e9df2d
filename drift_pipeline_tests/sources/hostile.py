"""A hostile GitHub API for the bounds tests: a real HTTP server (ThreadingHTTPServer in a thread)
whose answers a test writes as a function of the request, recording every request it saw, and how
many bytes of each streamed body it managed to send before the client hung up."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """One request the server got: its path with query, and its headers (lower-cased names)."""

    path: str
    headers: dict[str, str]


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=list)  # JSON-encoded unless bytes; an iterator of bytes is streamed
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float | None = None  # seconds between bytes of the body (a slow-loris answer)


@dataclass
class Hostile:
    url: str
    host: str
    port: int
    seen: list[Seen]
    sent: list[int] = field(default_factory=list)  # bytes of each streamed body written, once it ended

    def hits(self, prefix: str = "/") -> int:
        return sum(1 for s in self.seen if s.path.startswith(prefix))

    def streamed(self, count: int = 1, timeout: float = 10.0) -> list[int]:
        """``sent`` once ``count`` streamed bodies ended (finished, or cut off by the client)."""
        until = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < until:
            time.sleep(0.02)
        return self.sent


def _stream(wfile: Any, chunks: Iterable[bytes], chunked: bool) -> int:
    """Write ``chunks`` (in HTTP chunked encoding when ``chunked``) until done or the client hangs up;
    the bytes of body written."""
    sent = 0
    try:
        for chunk in chunks:
            wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
        if chunked:
            wfile.write(b"0\r\n\r\n")
        wfile.flush()
    except OSError:  # the client hung up: what a cap is for
        pass
    return sent


@contextmanager
def hostile_api(
    answer: Callable[[Seen, int], Answer], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Iterator[Hostile]:
    """Serve ``answer(request, number of requests so far)`` on ``host`` (a free port); over TLS
    (``https://``) with ``tls``, a server context. A streamed body (an iterator) is sent with the
    answer's own headers: chunked unless they give a Content-Length."""
    seen: list[Seen] = []
    sent: list[int] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            request = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
            with lock:
                seen.append(request)
                count = len(seen)
            reply = answer(request, count)
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if isinstance(reply.body, Iterator):
                chunked = "content-length" not in {k.lower() for k in reply.headers}
                for name, value in {**reply.headers, **({"Transfer-Encoding": "chunked"} if chunked else {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                sent.append(_stream(self.wfile, reply.body, chunked))
                self.close_connection = True
                return
            body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.trickle is None:
                self.wfile.write(body)
                return
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
            except OSError:  # the client gave up: what a deadline is for
                pass

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that hung up (a deadline, a refused link) is no news here

    httpd = Server((host, 0), Handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    try:
        yield Hostile(f"{'https' if tls else 'http'}://{host}:{port}", host, port, seen, sent)
    finally:
        httpd.shutdown()
        httpd.server_close()
