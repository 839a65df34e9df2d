"""``drift sandbox seed``: generate the demo org into a sandbox state directory."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import click

from drift_pipeline.commands._output import emit, json_option, progress, runtime_failure
from drift_pipeline.core.errors import UsageError
from drift_pipeline.core.redaction import redact

if TYPE_CHECKING:
    from drift_pipeline.sandbox.seed.report import SeedReport

_CONNECT_TIMEOUT = 5.0
F = TypeVar("F", bound=Callable[..., Any])


def _aws_endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--aws-endpoint`` must be ``http(s)://host[:port]`` (checked before anything is written)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError when the port is not a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"expected http(s)://HOST[:PORT] of a moto server, got {redact(value)!r}")
    return value


def _shown(endpoint: str) -> str:
    """The endpoint without user info (which may hold a credential)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


def _check_reachable(endpoint: str) -> None:
    """Fail before seeding anything when nothing listens at ``endpoint`` (runtime failure, exit 3)."""

    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=_CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise runtime_failure(
            f"AWS sandbox endpoint {_shown(endpoint)} is unreachable (start one with "
            "`python -m drift_pipeline.sandbox.aws`)",
            exc,
        ) from exc


_SCENARIO = (
    click.option("--org", default="acme", show_default=True, help="Organisation to create."),
    click.option(
        "--repos",
        default=12,
        show_default=True,
        type=click.IntRange(min=8),
        help="Number of product repos (minimum 8; registry, config and out-of-scope repos come on top).",
    ),
    click.option(
        "--days",
        default=14,
        show_default=True,
        type=click.IntRange(min=1),
        help="Days of history in the window (scripted events fall on days 3-6).",
    ),
    click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same shas)."),
    click.option(
        "--end-date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Last day of the window (UTC). Default: today, UTC.",
    ),
)


def _scenario_options(command: F) -> F:
    """The options that name a scenario (--org, --repos, --days, --seed, --end-date): the same values, the same shas."""
    for option in reversed(_SCENARIO):
        command = option(command)
    return command


@click.command("seed")
@click.option(
    "--state",
    "state_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Sandbox state directory (created when absent; other orgs in it are kept).",
)
@_scenario_options
@click.option(
    "--aws-endpoint",
    default=None,
    metavar="URL",
    callback=_aws_endpoint,
    help="Also deploy the AWS scenario to this AWS sandbox (moto server) endpoint.",
)
@click.option("--force", is_flag=True, help="Wipe the org first if it already exists in the state.")
@json_option
def seed_command(
    state_dir: Path,
    org: str,
    repos: int,
    days: int,
    seed: int,
    end_date: datetime | None,
    aws_endpoint: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Generate a realistic demo org (repos, history, settings) and print what scans should find.

    Deterministic: the same --org/--repos/--days/--seed/--end-date give the same commit shas and
    settings. Pass --end-date to reproduce a scenario on another day.

    Exit codes: 2 for a bad flag value (or an org that exists without --force), 3 when seeding
    fails while running (AWS endpoint unreachable, git or AWS failure).
    """
    end: date = end_date.date() if end_date else datetime.now(UTC).date()
    if aws_endpoint is not None:
        _check_reachable(aws_endpoint)
    progress(f"seeding org {org!r} into {state_dir} ({repos} product repos, {days} days to {end})")
    report, app = _seed(state_dir, org=org, repos=repos, days=days, seed=seed, end=end, aws=aws_endpoint, force=force)
    progress(f"GitHub App {app['slug']!r} (id {app['app_id']}) installed on {org}: {state_dir}/github-app.json")
    progress(f"seeded {len(report.repos) + 2} repos, {len(report.events)} scripted events")
    emit({"report": dataclasses.asdict(report)}, as_json=as_json, text=lambda _payload: report.describe())


def _seed(
    state_dir: Path, *, org: str, repos: int, days: int, seed: int, end: date, aws: str | None, force: bool
) -> tuple[SeedReport, dict[str, Any]]:
    """Seed the org, then the GitHub App installed on it; any failure but a usage error is a runtime one (exit 3)."""
    from drift_pipeline.sandbox.seed import seed_org

    try:
        report = seed_org(state_dir, org=org, repos=repos, days=days, seed=seed, end_date=end, aws=aws, force=force)
        from drift_pipeline.sandbox.github.app_seed import seed_app

        app: dict[str, Any] = seed_app(state_dir, [org])  # github-app.json + the App's key
    except UsageError:
        raise
    except Exception as exc:  # git, OS and AWS (botocore) failures alike: runtime, exit 3
        raise runtime_failure(f"seeding org {org!r} into {state_dir} failed", exc) from exc
    return report, app
