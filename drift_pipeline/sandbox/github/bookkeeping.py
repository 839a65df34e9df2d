"""What the sandbox server keeps between requests: the current state (reloaded when state.json
changes on disk, copied on write) and the request counters of ``GET /_sandbox/requests``."""

from __future__ import annotations

import copy
import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drift_pipeline.sandbox.github.state import SandboxState


class Store:
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


class Counters:
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
