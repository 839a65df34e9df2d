"""The demo's folder (``.demo/``): what a build left there, and who is using it.

- ``manifest.json``: the seed parameters and day of the last complete build, the digest of its seed
  report (``seed-report.json``), the sandbox ports it used (the URLs stored in DuckDB and in the
  Dagster instance name them) and how long it took. Written last, so a build cut short is rebuilt.
- ``demo.lock``: held (``flock``) by the demo process from start to exit; a second demo cannot take
  it and leaves every file alone.
- ``serving.json``: the serving demo's PID, the ``dagster dev`` PID and the UI port, so a second
  demo can say where the live one is; stale when none of those PIDs lives and the port is closed.
- ``dagster_home/``: the Dagster instance (``dagster.yaml``, runs, and ``.nux/nux.yaml``: the
  community modal already dismissed).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class DemoParams:
    """Everything the seeded state and the backfill are a function of."""

    org: str
    repos: int
    days: int
    seed: int
    end: str  # last day of the window, ISO (yesterday, UTC)


class DemoBusy(Exception):
    """Another demo holds the folder (building, or serving the UI)."""


def digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


class DemoDir:
    def __init__(self, base: Path):
        self.base = base.resolve()
        self.lock_path = self.base / "demo.lock"
        self.serving_path = self.base / "serving.json"
        self.manifest_path = self.base / "manifest.json"
        self.report_path = self.base / "seed-report.json"
        self.state = self.base / "state"
        self.db = self.base / "drift.duckdb"
        self.home = self.base / "dagster_home"
        self.scenario = self.base / "SCENARIO.md"
        self.workspace = self.base / "workspace.yaml"
        self._lock: IO[str] | None = None

    # -- who uses the folder -------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the folder for this process, or raise :class:`DemoBusy` saying who has it."""
        live = self.live_server()
        if live:
            raise DemoBusy(live)
        self.base.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DemoBusy(
                self.live_server() or f"another demo is building in {self.base}; wait for it or stop it"
            ) from None
        self._lock = handle
        self.serving_path.unlink(missing_ok=True)  # stale: nobody holds the lock, nothing answers

    def release(self) -> None:
        self.serving_path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.close()  # closing the descriptor drops the flock
            self._lock = None

    def live_server(self) -> str | None:
        """A sentence naming the demo serving from this folder, or None when nothing does."""
        try:
            record = json.loads(self.serving_path.read_text())
            pids = [int(p) for p in record.get("pids", [])]
            port = int(record["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        alive = [p for p in pids if pid_alive(p)]
        if not alive and not port_answers(port):
            return None
        return (
            f"a demo is already serving from {self.base}: http://127.0.0.1:{port} (pid {', '.join(map(str, alive))}). "
            "Stop it with Ctrl-C in its terminal first; nothing was changed."
        )

    def record_serving(self, pids: list[int], port: int) -> None:
        self.serving_path.write_text(json.dumps({"pids": pids, "port": port}))

    # -- what a build left -----------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION else None

    def reusable(self, params: DemoParams) -> dict[str, Any] | None:
        """The manifest when the last build matches ``params`` and its files are all there."""
        manifest = self.manifest()
        if manifest is None or manifest.get("params") != asdict(params):
            return None
        if not (self.db.is_file() and self.state.is_dir() and self.home.is_dir()):
            return None
        try:
            report = json.loads(self.report_path.read_text())
        except (OSError, ValueError):
            return None
        return manifest if digest(report) == manifest.get("report_digest") else None

    def write_manifest(self, params: DemoParams, report: dict[str, Any], **extra: Any) -> None:
        self.report_path.write_text(json.dumps(report, indent=1, sort_keys=True))
        manifest = {"version": MANIFEST_VERSION, "params": asdict(params), "report_digest": digest(report), **extra}
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        tmp.replace(self.manifest_path)

    def dismiss_community_nux(self) -> None:
        """Record in the Dagster instance that its "Join the Dagster community" modal was seen, as the
        UI's dismissal does (``$DAGSTER_HOME/.nux/nux.yaml``, whose existence is what counts), so the
        first look at the UI is the lineage, not a modal over it."""
        nux = self.home / ".nux" / "nux.yaml"
        nux.parent.mkdir(parents=True, exist_ok=True)
        if not nux.exists():
            nux.write_text("seen: 1\n")

    def clear(self) -> None:
        """Remove everything a build made (the lock stays: this process holds it)."""
        for child in self.base.iterdir():
            if child == self.lock_path:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                with contextlib.suppress(FileNotFoundError):
                    child.unlink()
