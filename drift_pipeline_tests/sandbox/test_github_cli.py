"""``drift sandbox serve`` in its own process: prints URL and token hint, serves, stops on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import requests

from drift_pipeline.sandbox.github.state import SandboxState


def test_serve_when_started_then_answers_and_stops_on_sigterm(tmp_path):
    state = SandboxState.open(tmp_path)
    state.add_org("acme")
    state.save()
    proc = subprocess.Popen(
        [sys.executable, "-m", "drift_pipeline.cli", "sandbox", "serve", "--state", str(tmp_path), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stderr.readline()
        hint = proc.stderr.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)", first).group(1)
        assert "sandbox-token" in hint
        r = requests.get(f"{url}/orgs/acme", headers={"Authorization": "token sandbox-token"}, timeout=5)
        assert r.status_code == 200 and r.json()["login"] == "acme"
    finally:
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert proc.returncode == 0
