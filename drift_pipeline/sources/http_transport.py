"""PyGithub's transport, bounded: requests only to the API's origin, each within a whole deadline.

PyGithub sends through ``requests`` with a per-read ``timeout``: a server trickling one byte every
2 s never trips it. And the only check that a URL from an answer stays on the API host is an
``assert`` in PyGithub's ``Requester`` (gone under ``python -O``). :func:`bind` gives one PyGithub
client (its ``Requester``) connection classes of ours that

- refuse to send anything to another origin than the API's (scheme, host, port): the token never
  leaves, whatever PyGithub or an answer asked for (:class:`~http_bounds.OffHost`);
- run every request (all its reads and urllib3's retries) under a deadline: when it passes, the
  request's sockets are shut down, so a blocked read returns at once, and the request fails with
  :class:`~http_bounds.DeadlineExceeded`; the connections of ``requests``' proxy managers
  (``HTTPS_PROXY`` / ``HTTP_PROXY``: a forward proxy, a CONNECT tunnel, SOCKS) are watched too,
  from their first byte (the proxy's CONNECT answer, the TLS handshake);
- read every answer's body (errors' too) into memory up to a cap and no further
  (:func:`read_capped`, :class:`~http_bounds.AnswerTooLarge`).

:func:`bind` also keeps the run's :class:`~http_bounds.RetryBudget` and limits with the client,
so every user of that client (the source's workers, the issue client) shares them
(:func:`bounds_of`). PyGithub has no public hook for connection classes per client; the instance
attributes set here are checked at :func:`bind` time, so a PyGithub that renamed them fails loudly.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
import weakref
from dataclasses import dataclass
from typing import Any

import requests
from github import Github
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester, RequestsResponse
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connectionpool import HTTPConnectionPool

from drift_pipeline.sources.http_bounds import (
    ENV_MAX_BODY,
    ENV_REQUEST_DEADLINE,
    AnswerTooLarge,
    ApiLimits,
    DeadlineExceeded,
    RetryBudget,
    check_api_url,
)

_local = threading.local()
_CHUNK = 64 * 1024  # bytes read of a body at a time


class _Deadline:
    """A deadline for the requests of one thread: at expiry, every socket it watches is shut down."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._outer = getattr(_local, "deadline", None)
        _local.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.deadline = self._outer
        with self._lock:
            self._socks.clear()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not self.fired:
                self._socks.append(sock)
                return
        _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            socks, self._socks = self._socks, []
        for sock in socks:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown (an SSLSocket's own would unwrap it under the reader's feet)
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _watched(sock: socket.socket | None) -> None:
    deadline: _Deadline | None = getattr(_local, "deadline", None)
    if deadline is None:
        return
    if deadline.fired:  # a retry after the deadline: not sent
        raise DeadlineExceeded(f"GitHub request: no complete answer within {deadline.seconds:g}s")
    deadline.watch(sock)


class _Watching:
    """Mixed into a urllib3 connection class: its sockets are watched by the thread's deadline.

    The socket is watched as soon as it exists (a proxy's CONNECT answer and the TLS handshake are
    read under the deadline too), and again once connected (TLS wraps it in a new socket object).
    """

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        _watched(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.connect()  # type: ignore[attr-defined]
        _watched(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


_WATCHED_POOLS: dict[type[HTTPConnectionPool], type[HTTPConnectionPool]] = {}
_POOLS_LOCK = threading.Lock()


def _watched_pool(pool: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    """``pool``'s class with connections of its own class made :class:`_Watching` (one class per pool class).

    Generic over the pool classes of urllib3's managers: direct (HTTP, HTTPS), through a proxy
    (an ``http://`` API through a forward proxy, ``https://`` through CONNECT), SOCKS.
    """
    if issubclass(pool.ConnectionCls, _Watching):
        return pool
    with _POOLS_LOCK:
        if pool not in _WATCHED_POOLS:
            conn = pool.ConnectionCls
            watched = type(f"Watched{conn.__name__}", (_Watching, conn), {})
            _WATCHED_POOLS[pool] = type(f"Watched{pool.__name__}", (pool,), {"ConnectionCls": watched})
        return _WATCHED_POOLS[pool]


def _watch_manager(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {k: _watched_pool(v) for k, v in manager.pool_classes_by_scheme.items()}
    return manager


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections, direct or through ``HTTPS_PROXY`` / ``HTTP_PROXY``, are watched."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch_manager(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return _watch_manager(super().proxy_manager_for(proxy, **proxy_kwargs))


def read_capped(answer: requests.Response, cap: int, what: str) -> None:
    """Read a streamed answer's body (``answer.content``), at most ``cap`` bytes once decoded.

    A Content-Length above the cap is refused before a byte of the body is read; a chunked, lying
    or compressed body is read a chunk at a time and dropped the moment it passes the cap. Either
    way its connection is closed (never reused mid-body) and :class:`~http_bounds.AnswerTooLarge`
    names the request. The body is handed to ``requests`` as its own read would (``_content``:
    requests has no public setter), so ``.text`` and ``.json()`` behave as without the cap.
    """
    declared = answer.raw.length_remaining  # urllib3's reading of Content-Length; None when absent or malformed
    try:
        body = _read_upto(answer, cap) if declared is None or declared <= cap else None
    except BaseException:  # a deadline, a broken body: the connection is not reused mid-body
        answer.close()
        raise
    if body is not None:
        answer._content = body
        answer._content_consumed = True  # type: ignore[attr-defined]
        return
    answer.close()
    said = f"says it is {declared} bytes" if declared is not None and declared > cap else "goes on"
    raise AnswerTooLarge(
        f"GitHub {what}: the answer (HTTP {answer.status_code}) {said}, more than the {cap} bytes "
        f"allowed ({ENV_MAX_BODY}); not read further",
        limit=cap,
        declared=declared,
    )


def _read_upto(answer: requests.Response, cap: int) -> bytes | None:
    """The decoded body, a chunk at a time; None as soon as it passes ``cap`` bytes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_content(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return None
    return b"".join(chunks)


def _bounded_class(base: type[Any], api_url: str, limits: ApiLimits) -> type[Any]:
    deadline = limits.request_deadline

    class Bounded(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.adapter = _WatchedAdapter(
                max_retries=self.retry, pool_connections=self.pool_size, pool_maxsize=self.pool_size
            )
            self.session.mount(f"{self.protocol}://", self.adapter)
            self._pending = threading.local()

        def request(self, verb: str, url: str, input: Any, headers: dict[str, str], stream: bool = False) -> None:
            # PyGithub shares one connection object between threads and keeps the request on it
            # between request() and getresponse(); kept per thread here, so threads never swap them
            self._pending.call = (verb, url, input, headers)

        def getresponse(self) -> Any:
            verb, url, data, headers = self._pending.call
            full = f"{self.protocol}://{self.host}:{self.port}{url}"
            what = f"{verb} {urllib.parse.urlsplit(url).path}"
            check_api_url(api_url, full, what)  # where PyGithub is about to send, checked again (asserts may be off)
            send = getattr(self.session, verb.lower())
            with _Deadline(deadline) as watch:
                started = time.monotonic()
                try:
                    answer = send(
                        full,
                        headers=headers,
                        data=data,
                        timeout=self.timeout,
                        verify=self.verify,
                        allow_redirects=False,
                        stream=True,
                    )
                    read_capped(answer, limits.max_body, what)  # under the deadline too
                except Exception as exc:
                    if watch.fired or isinstance(exc, DeadlineExceeded):
                        raise DeadlineExceeded(self._late(what, started)) from None
                    raise
            return RequestsResponse(answer)

        def _late(self, what: str, started: float) -> str:
            return (
                f"GitHub {what}: no complete answer within {deadline:g}s (the whole-request deadline, "
                f"{ENV_REQUEST_DEADLINE}; {time.monotonic() - started:.1f}s spent)"
            )

    return Bounded


@dataclass
class Bounds:
    """What one PyGithub client's users share for a run."""

    limits: ApiLimits
    budget: RetryBudget
    api_url: str


_BOUNDS: weakref.WeakKeyDictionary[Requester, Bounds] = weakref.WeakKeyDictionary()
_BIND_LOCK = threading.Lock()
_ATTRS = ("_Requester__httpConnectionClass", "_Requester__httpsConnectionClass", "_Requester__connectionClass")


def bind(gh: Github, limits: ApiLimits | None = None, budget: RetryBudget | None = None) -> Bounds:
    """Bound ``gh``'s transport (once; later calls return the same :class:`Bounds`)."""
    requester = gh.requester
    with _BIND_LOCK:
        known = _BOUNDS.get(requester)
        if known is not None:
            return known
        if not all(hasattr(requester, a) for a in (*_ATTRS, "_Requester__connection")):
            raise RuntimeError("PyGithub's Requester changed: cannot bound its transport")
        if requester._Requester__connection is not None:  # type: ignore[attr-defined]
            requester._Requester__connection.close()  # type: ignore[attr-defined]  # made before: ours next
            requester._Requester__connection = None  # type: ignore[attr-defined]
        limits = limits or ApiLimits.from_env()
        api_url = requester.base_url.rstrip("/")
        http = _bounded_class(HTTPRequestsConnectionClass, api_url, limits)
        https = _bounded_class(HTTPSRequestsConnectionClass, api_url, limits)
        requester._Requester__httpConnectionClass = http  # type: ignore[attr-defined]
        requester._Requester__httpsConnectionClass = https  # type: ignore[attr-defined]
        scheme = urllib.parse.urlsplit(api_url).scheme
        requester._Requester__connectionClass = https if scheme == "https" else http  # type: ignore[attr-defined]
        bounds = Bounds(limits, budget or RetryBudget(limits.retry_budget), api_url)
        _BOUNDS[requester] = bounds
        return bounds


def bounds_of(gh: Github) -> Bounds:
    """The bounds of ``gh`` (bound now with the environment's limits when it was not yet)."""
    return bind(gh)
