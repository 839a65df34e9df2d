"""The CLI's progress bars: one ``tqdm`` bar per scan phase, on stderr only.

A bar is shown when stderr is a terminal, and never with ``--json`` or ``--no-progress`` (stdout
carries only the result). ``DRIFT_PROGRESS=always`` / ``never`` overrides the terminal check (for
tests through a pipe, or to silence a terminal). The bars are fed by the scans' one progress hook
(``scans.perrepo.Progress``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from tqdm import tqdm

from drift_pipeline.scans.perrepo import Progress

ENV = "DRIFT_PROGRESS"

no_progress_option = click.option(
    "--no-progress", "no_progress", is_flag=True, help="No progress bar on stderr (none anyway with --json or a pipe)."
)


def wanted(*, as_json: bool, no_progress: bool) -> bool:
    """Whether to draw bars: never with ``--json``/``--no-progress``; else ``DRIFT_PROGRESS`` or a terminal."""
    if as_json or no_progress:
        return False
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("always", "never"):
        return forced == "always"
    return sys.stderr.isatty()


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Callable[[str], Progress | None]]:
    """Yields ``phase(name)``: a progress hook drawing a bar named ``name`` (None when not ``enabled``).

    Every bar still open (a scan that stopped early) is closed on exit.
    """
    bars: list[tqdm] = []

    def phase(name: str) -> Progress | None:
        if not enabled:
            return None
        bar: list[tqdm] = []

        def report(done: int, total: int, repo: str, failed: int) -> None:
            if not bar:
                bar.append(tqdm(total=total, desc=name, unit="repo", file=sys.stderr, dynamic_ncols=True))
                bars.append(bar[0])
            bar[0].set_postfix_str(f"{failed} failed, {repo}" if failed else repo, refresh=False)
            bar[0].update(done - bar[0].n)
            if done == total:
                bar[0].close()

        return report

    try:
        yield phase
    finally:
        for bar in bars:
            bar.close()
