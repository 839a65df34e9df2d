"""Output for a person, and the served UI: quiet emulators and Dagster, ``dagster dev`` until Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Module the served code location imports: the project's definitions with Dagster's
# beta/preview/supersession warnings silenced in every process that loads them (code server, runs).
QUIET_DEFINITIONS = "drift_pipeline.demo.location"
DAGSTER_CLI = "drift_pipeline.demo.dagster_cli"  # `python -m dagster`, quiet
QUIET_LOGGERS = ("moto", "botocore", "urllib3")
# The emulators' HTTP server: its access log, and the traceback it prints when an emulator answers a
# request with a 500 (moto has no detect_stack_drift; the infra source falls back and the infra
# assets' metadata says which method was used). What failed reaches a person through the product.
MUTED_LOGGERS = ("werkzeug",)
# Dagster's run log level for the in-process runs: warnings and errors, not every event.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def quiet_warnings() -> None:
    """Silence Dagster's beta, preview and supersession warnings (and its job-name notice)."""
    import dagster as dg

    for name in ("BetaWarning", "PreviewWarning", "SupersessionWarning"):
        category = getattr(dg, name, None)
        if isinstance(category, type) and issubclass(category, Warning):
            warnings.filterwarnings("ignore", category=category)
    # "Found asset job named daily_drift_scan of type UnresolvedAssetJobDefinition": informational.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"dagster\._core\.definitions\.definitions_class")


def quiet_logs() -> None:
    """No per-request access logs or request tracebacks from the in-process emulators (werkzeug under
    moto and the sandbox); their libraries' errors still show."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for name in MUTED_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def location_name() -> str:
    """The code location's name as ``pyproject.toml`` gives it (``[tool.dagster] code_location_name``)."""
    try:
        data = tomllib.loads((ROOT / "pyproject.toml").read_text())
        return str(data["tool"]["dagster"]["code_location_name"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "drift_pipeline"


def write_workspace(path: Path) -> None:
    path.write_text(
        "load_from:\n"
        "  - python_module:\n"
        f"      module_name: {QUIET_DEFINITIONS}\n"
        f"      location_name: {location_name()}\n"
        f"      working_directory: {ROOT}\n"
    )


def serve(
    env: dict[str, str],
    workspace: Path,
    port: int,
    on_start: Callable[[list[int]], None],
    say: Callable[[str], None],
) -> int:
    """Run ``dagster dev`` (webserver + daemon) until it stops or Ctrl-C; 0 when stopped by Ctrl-C."""
    cmd = [sys.executable, "-m", DAGSTER_CLI, "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]
    cmd += ["--log-level", "warning"]
    # dagster dev and its children (webserver, daemon, code server) get a process group of their own,
    # which stop() waits to be empty; SIGINT is not ignored there (this process handles it, see
    # catch_interrupts), so SIGTERM stops dagster dev. It runs in the demo folder: a dagster.yaml in
    # the current folder that is not DAGSTER_HOME's is warned about.
    child = subprocess.Popen(cmd, cwd=workspace.parent, env={**os.environ, **env}, start_new_session=True)
    on_start([os.getpid(), child.pid])
    say(f"Dagster UI (webserver + daemon: schedules and sensors run) on http://127.0.0.1:{port}")
    say("Ctrl-C stops the UI, the daemon and the sandboxes")
    try:
        code = child.wait()
        say(f"dagster dev stopped by itself (exit {code})")
        return code or 1
    except KeyboardInterrupt:
        # A second Ctrl-C (a terminal signals the whole group, `uv run` may forward it once more) must
        # not cut the teardown short: from here on, everything started is stopped regardless.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping ...")
        return stop(child)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def catch_interrupts() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop the demo, even when it was started with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


def stop(child: subprocess.Popen[bytes], grace: float = 20.0) -> int:
    """Stop ``dagster dev`` and every process of its group (webserver, daemon, code server); 0 when done."""
    deadline = time.monotonic() + grace
    while True:
        try:
            if child.poll() is None:
                child.terminate()
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
            while _group_alive(child.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            break
        except subprocess.TimeoutExpired:
            break
        except KeyboardInterrupt:  # a second Ctrl-C while stopping: keep stopping
            continue
    if _group_alive(child.pid):  # still there after the grace period: no process is left behind
        os.killpg(child.pid, signal.SIGKILL)
    if child.poll() is None:
        child.wait()
    return 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
