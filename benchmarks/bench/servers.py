"""The GitHub sandbox and the AWS emulator, each in its own process, and the seeded org."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sandbox-token"
ORG = "acme"
CHANGE_RATE = 0.02


def rate_limit(repos: int) -> int:
    """GitHub's hourly core limit of an App installation on an org of ``repos`` repos."""
    return min(5000 + 50 * max(repos - 20, 0), 12500)


_SEED = """
import json, sys
from datetime import date
from drift_pipeline.sandbox.seed import seed_org
aws = sys.argv[5] or None
r = seed_org(sys.argv[1], repos=int(sys.argv[2]), days=int(sys.argv[3]), end_date=date.fromisoformat(sys.argv[4]),
             aws=aws, change_rate=float(sys.argv[6]))
changed = {}
for e in r.events + r.background_commits:
    changed.setdefault(e.day.isoformat(), set()).add(e.repo)
print(json.dumps({"listed": len(r.repos) + 2, "in_scope": sum(x.in_scope for x in r.repos),
                  "start": r.start_date.isoformat(), "end": r.end_date.isoformat(),
                  "changed_by_day": {d: len(v) for d, v in changed.items()}}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(proc: subprocess.Popen[bytes], probe: Any, what: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            probe()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"{what} did not start; see {log}") from None
            time.sleep(0.2)


class Server:
    """A child process serving HTTP on a free port of 127.0.0.1."""

    def __init__(self, argv: list[str], log: Path, probe_path: str, what: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, *argv, "--port", str(self.port)], stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        _wait_up(self.proc, lambda: urllib.request.urlopen(self.url + probe_path, timeout=5).close(), what, log)

    def peak_rss_mib(self) -> float:
        """The process's peak resident set (VmHWM), MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self) -> float:
        """The process's CPU so far (user + system), seconds."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class GitHubServer(Server):
    def __init__(self, state: Path, log: Path):
        super().__init__(
            ["-m", "drift_pipeline.cli", "sandbox", "serve", "--state", str(state)],
            log,
            "/_sandbox/requests",
            "the GitHub sandbox",
        )

    def control(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(
            f"{self.url}/_sandbox/{what}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def start_phase(self, budget: int) -> float:
        """Zero the counters, give the phase a full hour's budget; the sandbox's CPU so far."""
        self.control("POST", "requests/reset")
        self.control("POST", "rate_limits", {"reset": True, "core": budget})
        return self.cpu_s()

    def phase_figures(self, cpu_at_start: float, repos: int) -> dict[str, Any]:
        """The sandbox's view of the phase: requests (rate-limited, 304, throttled), its CPU and peak RSS."""
        counts = self.control("GET", "requests")
        total, not_modified = counts["total"], counts["not_modified"]
        statuses = counts["by_status"]
        return {
            "requests": total,
            "not_modified": not_modified,
            "rate_limited": total - not_modified,
            "throttled": statuses.get("403", 0) + statuses.get("429", 0),
            "rate_limited_per_repo": round((total - not_modified) / repos, 2),
            "not_modified_per_repo": round(not_modified / repos, 2),
            "by_route": counts["by_route"],
            "sandbox_cpu_s": round(self.cpu_s() - cpu_at_start, 2),
            "sandbox_peak_rss_mib": round(self.peak_rss_mib(), 1),
        }


class AwsServer(Server):
    def __init__(self, log: Path):
        super().__init__(["-m", "drift_pipeline.sandbox.aws"], log, "/moto-api/", "the AWS sandbox")


def aws_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "MOTO_ACCOUNT_ID")}
    env.update(AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_DEFAULT_REGION="us-east-1")
    return env


def seed(state: Path, repos: int, days: int, end: date, aws: AwsServer) -> dict[str, Any]:
    """Seed an org of ``repos`` product repos over ``days`` days ending on ``end`` (in a child process)."""
    t = time.perf_counter()
    argv = [sys.executable, "-c", _SEED, str(state), str(repos), str(days), end.isoformat(), aws.url, str(CHANGE_RATE)]
    seeded = subprocess.run(argv, check=False, capture_output=True, text=True, env=aws_env(), cwd=ROOT)
    if seeded.returncode:
        raise SystemExit(f"seeding {repos} repos failed:\n{seeded.stderr[-3000:]}")
    org = json.loads(seeded.stdout.strip().splitlines()[-1])
    org["seconds"] = round(time.perf_counter() - t, 1)
    return dict(org)
