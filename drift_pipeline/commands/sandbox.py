"""``drift sandbox``: the local stand-in for GitHub, and the demo org generator.

Exit codes as everywhere: a bad flag value is a usage error (2); anything that goes wrong while
running (a port taken, an endpoint unreachable, a git or AWS failure) is a runtime failure (3)
with one redacted line naming what failed.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from drift_pipeline.commands._output import progress, runtime_failure


@click.group("sandbox")
def sandbox_group() -> None:
    """Run the local GitHub-API sandbox used by the demo and the integration tests."""


@sandbox_group.command("serve")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Sandbox state directory (state.json + repos/); created when missing.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--installation-token-ttl",
    "token_ttl",
    type=click.IntRange(1, 86400),
    default=3600,
    show_default=True,
    help="Seconds a GitHub App installation token lives (GitHub: 3600); short values test refresh.",
)
def serve(state_dir: Path, port: int, host: str, token_ttl: int) -> None:
    """Serve the GitHub REST sandbox in the foreground until SIGINT/SIGTERM."""
    from drift_pipeline.sandbox.github.server import GitHubSandbox
    from drift_pipeline.sandbox.github.state import DEFAULT_TOKEN

    try:
        sandbox = GitHubSandbox(state_dir, host=host, port=port, installation_token_ttl=token_ttl).start()
    except ValueError as exc:  # state.json is not JSON
        raise runtime_failure(f"cannot read the sandbox state in {state_dir}", exc) from exc
    except OSError as exc:  # port taken, host not ours, state directory not writable
        raise runtime_failure(f"cannot serve the sandbox on {host}:{port}", exc) from exc
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    progress(f"GitHub sandbox serving {state_dir} at {sandbox.url}")
    progress(f"  PyGithub: Github(base_url=\"{sandbox.url}\", auth=Auth.Token(\"{DEFAULT_TOKEN}\"))")
    progress(f"  control plane: {sandbox.url}/_sandbox/endpoints, /_sandbox/requests, /_sandbox/faults")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress("GitHub sandbox stopped")


def _attach_seed() -> None:
    from drift_pipeline.commands.sandbox_seed import seed_command

    sandbox_group.add_command(seed_command)


_attach_seed()
