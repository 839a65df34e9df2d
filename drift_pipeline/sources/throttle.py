"""Concurrency primitives for sources read by several threads: one pause for all, one call per key.

- :class:`RateGate`: a shared pause. When one worker meets a rate limit it closes the gate until
  the reset; every worker waits at the gate before its next request, so no request is sent
  between a limit and its reset.
- :class:`SingleFlight`: concurrent callers of the same key share one computation, so a
  concurrent scan sends the same requests as a serial one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class RateGate:
    """A gate closed until an instant (``time.time()`` seconds) that every worker waits at."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._until = 0.0
        self.pauses = 0  # how many times the gate was closed (for reports and tests)

    def close_until(self, until: float) -> None:
        """Pause every worker until ``until`` (a later pause wins; an earlier one changes nothing)."""
        with self._cond:
            if until > self._until:
                self._until = until
                self.pauses += 1

    @property
    def reopens_at(self) -> float:
        with self._cond:
            return self._until

    def wait(self) -> float:
        """Block while the gate is closed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._cond:
                remaining = self._until - time.time()
            if remaining <= 0:
                return waited
            time.sleep(min(remaining, 1.0))  # re-read: a later limit may extend the pause
            waited += min(remaining, 1.0)


class SingleFlight:
    """Run one computation per key at a time; concurrent callers of that key get its result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Hashable, Future[Any]] = {}

    def run(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._pending.get(key)
            owner = future is None
            if future is None:
                future = self._pending[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(value)
            return value
        finally:
            with self._lock:
                del self._pending[key]


class Memo:
    """A thread-safe per-run memo: each key computed once, even when asked from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Any] = {}
        self._flight = SingleFlight()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                return self._values[key]

        def once() -> T:
            with self._lock:
                if key in self._values:  # finished between our look and our turn
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
            return value

        return self._flight.run(key, once)
