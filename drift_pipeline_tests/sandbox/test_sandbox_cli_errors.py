"""``drift sandbox`` exit codes through ``cli.main``: bad flags are usage (2), failures at run time 3."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from drift_pipeline.cli import main
from drift_pipeline.core.errors import ExitCode

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seed_with_unreachable_aws_endpoint_exits_3_with_one_redacted_line(tmp_path: Path, capsys) -> None:
    endpoint = f"http://user:{TOKEN}@127.0.0.1:{closed_port()}"
    code = main(["sandbox", "seed", "--state", str(tmp_path), "--days", "3", "--aws-endpoint", endpoint])
    err = capsys.readouterr().err
    assert code == ExitCode.RUNTIME
    failure = [line for line in err.splitlines() if line.startswith("drift: ")]
    assert len(failure) == 1 and "unreachable" in failure[0] and "127.0.0.1" in failure[0]
    assert TOKEN not in err
    # checked before anything is written: the org is not half-seeded
    assert not (tmp_path / "repos").exists()


@pytest.mark.parametrize(
    "flags",
    [
        ["--aws-endpoint", "file:///etc/passwd"],
        ["--aws-endpoint", f"http://x:{TOKEN}@127.0.0.1:99999"],
        ["--aws-endpoint", "127.0.0.1:4566"],
        ["--org", "../../etc"],
        ["--repos", "3"],
        ["--days", "0"],
    ],
)
def test_seed_with_hostile_flag_exits_2_and_writes_nothing(tmp_path: Path, capsys, flags: list[str]) -> None:
    code = main(["sandbox", "seed", "--state", str(tmp_path / "state"), *flags])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIG
    assert TOKEN not in err
    assert not (tmp_path / "state" / "repos").exists()


def test_serve_on_a_taken_port_exits_3(tmp_path: Path, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["sandbox", "serve", "--state", str(tmp_path), "--port", str(port)])
    err = capsys.readouterr().err
    assert code == ExitCode.RUNTIME
    assert f"cannot serve the sandbox on 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1


def test_serve_with_port_out_of_range_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["sandbox", "serve", "--state", str(tmp_path), "--port", "70000"]) == ExitCode.CONFIG


def test_aws_sandbox_on_a_taken_port_exits_3_at_once_instead_of_waiting_forever() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "drift_pipeline.sandbox.aws", "--port", str(port)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == ExitCode.RUNTIME
    assert f"cannot serve on 127.0.0.1:{port}" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
