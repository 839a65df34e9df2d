"""``drift demo``: the sandbox org seeded, backfilled, its issues filed, summarised, the Dagster UI served."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".demo"


@click.command("demo")
@click.option(
    "--no-ui",
    "--no-serve",
    "no_ui",
    is_flag=True,
    help="Do everything but serve the UI, then exit 0 (for scripts and CI).",
)
@click.option(
    "--days",
    default=60,
    show_default=True,
    type=click.IntRange(min=1, max=366),
    help="Days of history, ending yesterday (UTC).",
)
@click.option(
    "--repos",
    default=12,
    show_default=True,
    type=click.IntRange(min=8),
    help="Product repos to seed (registry, config and out-of-scope repos come on top).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed of the scenario.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535), help="Port of the UI.")
@click.option(
    "--dir",
    "base",
    default=DEFAULT_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Working folder (reused when the parameters and the day match, rebuilt otherwise).",
)
@click.option("--rebuild", is_flag=True, help="Rebuild the folder even when it could be reused.")
def demo_command(no_ui: bool, days: int, repos: int, seed: int, port: int, base: Path, rebuild: bool) -> None:
    """Seed a demo org in the local sandboxes, backfill its history, file its issues, serve the UI.

    Needs no credentials: GitHub and AWS are local emulators started by this command. Ctrl-C stops
    the UI and everything the command started. Exit codes: 0 done (or stopped with Ctrl-C while
    serving), 2 bad option, 3 failed or another demo is using the folder.
    """
    from drift_pipeline.demo import DemoOptions, run_demo

    code = run_demo(DemoOptions(base=base, days=days, repos=repos, seed=seed, port=port, no_ui=no_ui, rebuild=rebuild))
    if code:
        raise click.exceptions.Exit(code)
