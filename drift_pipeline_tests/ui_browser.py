"""Helpers for the UI test: a ``dagster-webserver`` child process and headless Chromium runs.

Both are started in their own process group so a stop reaches every descendant (the webserver's
code server, Chromium's renderers); every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from drift_pipeline_tests.ports import free_port, is_listening

CHROMIUM = Path("/usr/bin/chromium")
# Flags for Debian's Chromium on a closed network, as root, with no profile of its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def stop_group(proc: subprocess.Popen[Any], grace: float = 20) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it is still there after ``grace`` seconds."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:  # descendants (code server, renderers) may outlive the leader
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@dataclass
class Webserver:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
            return resp.status, resp.read()

    def graphql(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + "/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            assert resp.status == 200, f"POST /graphql answered {resp.status}"
            body = json.load(resp)
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        return body["data"]

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Poll ``/server_info`` until it answers 200 with JSON; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dagster-webserver exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, body = self.get("/server_info", timeout=5)
                if status == 200:
                    return json.loads(body)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"/server_info did not answer within {timeout:.0f}s:\n{self.log_tail()}")


def start_webserver(
    root: Path, workspace: Path, env: dict[str, str], log: Path, *, ready_timeout: float = 180, attempts: int = 3
) -> Webserver:
    """Start ``dagster-webserver`` on a free port and wait until it serves ``/server_info``.

    A port can still be taken between choosing it and the server's bind (other tests start servers
    at the same time): when our server has exited while the port answers, another process holds it,
    and the server is started again on another port.
    """
    for attempt in range(attempts):
        server = _launch_webserver(root, workspace, env, log)
        try:
            server.wait_ready(timeout=ready_timeout)
            return server
        except AssertionError:
            lost_port = server.proc.poll() is not None and is_listening(server.port)
            stop_group(server.proc)
            if not lost_port or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _launch_webserver(root: Path, workspace: Path, env: dict[str, str], log: Path) -> Webserver:
    port = free_port()
    cmd = [
        str(root / ".venv" / "bin" / "dagster-webserver"),
        "-w",
        str(workspace),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Webserver(port=port, proc=proc, log=log)


def render(url: str, screenshot: Path, profile: Path, window: tuple[int, int], budget_ms: int = 15000) -> str:
    """Load ``url`` in headless Chromium; save a screenshot and return the DOM after ``budget_ms`` of virtual time.

    Virtual time only advances while no network fetch is pending, so the single-page app's GraphQL
    answers arrive before the DOM is dumped however slow the machine is; the wall clock bound is
    the subprocess timeout.
    """
    profile.mkdir(parents=True, exist_ok=False)
    cmd = [
        str(CHROMIUM),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        f"--window-size={window[0]},{window[1]}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        url,
    ]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        stop_group(proc, grace=2)
        raise AssertionError(f"chromium did not finish rendering {url} within 120s") from None
    finally:
        if proc.poll() is None:
            stop_group(proc, grace=2)
    assert proc.returncode == 0, f"chromium exited {proc.returncode} on {url}: {err.decode(errors='replace')[-2000:]}"
    return out.decode(errors="replace")


class _TextNodes(HTMLParser):
    """The trimmed text nodes of a document, outside ``<script>``, ``<style>`` and ``<noscript>``."""

    _SKIP = frozenset({"script", "style", "noscript"})

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.nodes.append(data.strip())


def text_nodes(dom: str) -> list[str]:
    parser = _TextNodes()
    parser.feed(dom)
    parser.close()
    return parser.nodes
