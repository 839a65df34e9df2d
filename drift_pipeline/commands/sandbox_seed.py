"""``drift sandbox seed``: generate the demo org into a sandbox state directory."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from pathlib import Path

import click

from drift_pipeline.commands._output import emit, json_option, progress
from drift_pipeline.errors import DriftError


class _SeedError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@click.command("seed")
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Sandbox state directory (created when absent; other orgs in it are kept).")
@click.option("--org", default="acme", show_default=True, help="Organisation to create.")
@click.option("--repos", default=12, show_default=True, type=click.IntRange(min=8),
              help="Number of product repos (minimum 8; registry, config and out-of-scope repos come on top).")
@click.option("--days", default=14, show_default=True, type=click.IntRange(min=1),
              help="Days of history in the window (scripted events fall on days 3-6).")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same shas).")
@click.option("--end-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the window (UTC). Default: today, UTC.")
@click.option("--aws-endpoint", default=None, metavar="URL",
              help="Also deploy the AWS scenario to this AWS sandbox (moto server) endpoint.")
@click.option("--force", is_flag=True, help="Wipe the org first if it already exists in the state.")
@json_option
def seed_command(state_dir: Path, org: str, repos: int, days: int, seed: int, end_date: datetime | None,
                 aws_endpoint: str | None, force: bool, as_json: bool) -> None:
    """Generate a realistic demo org (repos, history, settings) and print what scans should find.

    Deterministic: the same --org/--repos/--days/--seed/--end-date give the same commit shas and
    settings. Pass --end-date to reproduce a scenario on another day.
    """
    from drift_pipeline.sandbox.seed import seed_org

    end: date = end_date.date() if end_date else datetime.now(timezone.utc).date()
    progress(f"seeding org {org!r} into {state_dir} ({repos} product repos, {days} days to {end})")
    try:
        report = seed_org(state_dir, org=org, repos=repos, days=days, seed=seed, end_date=end,
                          aws=aws_endpoint, force=force)
    except DriftError as exc:
        raise _SeedError(str(exc), int(exc.exit_code)) from exc
    progress(f"seeded {len(report.repos) + 2} repos, {len(report.events)} scripted events")
    emit({"report": dataclasses.asdict(report)}, as_json=as_json, text=lambda _payload: report.describe())
