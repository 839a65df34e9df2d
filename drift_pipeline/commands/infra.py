"""``drift infra scan``: infra drift of one org against the AWS accounts, for people and CI.

Runs the pipeline's own scans and rules (``scans.inventory.scan_inventory``, ``scans.infra.read_world``
then ``scans.infra.scan_infra``, as the assets do) with no Dagster (DuckDB only for the issues filed). AWS is reached as
the ``aws`` resource does: base credentials from the standard chain, the read-only role assumed in
each account, ``AWS_ENDPOINT_URL`` honoured. The JSON shape and the exit codes are those of
``drift code scan``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import click

from drift_pipeline.commands._filing import Evaluation
from drift_pipeline.commands._output import progress
from drift_pipeline.commands._progress import progress_bars
from drift_pipeline.commands._scan import (
    ScanOutput,
    check_repos,
    file_and_finish,
    filing_options,
    merged_errors,
    repo_option,
    scan_payload,
    scan_source,
)
from drift_pipeline.core.errors import UsageError
from drift_pipeline.scans.infra import assume_failures, read_world, scan_infra
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
    DEFAULT_ROLE,
    REGION_NAME,
    AwsAccess,
    account_refs,
    aws_settings_from_env,
)

ENVS = tuple(DEFAULT_ACCOUNTS)


@click.group("infra")
def infra_group() -> None:
    """Infra drift: what repos declare and have deployed, against the dev / staging / prod AWS accounts."""


def _regions(given: tuple[str, ...], settings: dict[str, Any]) -> list[str]:
    for region in given:
        if not REGION_NAME.fullmatch(region):
            raise UsageError(f"--region {region!r}: expected an AWS region name such as {DEFAULT_REGION}")
    default = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return list(dict.fromkeys(given)) or settings.get("regions") or [default]


def _accounts(given: tuple[str, ...], settings: dict[str, Any]) -> dict[str, str]:
    known: dict[str, str] = settings.get("accounts") or dict(DEFAULT_ACCOUNTS)
    for env in given:
        if env not in known:
            raise UsageError(f"--account {env!r}: expected one of {', '.join(known)}")
    return {env: account for env, account in known.items() if not given or env in given}


@infra_group.command("scan")
@click.option("--org", help="GitHub org (or user) whose repos declare [infra]; needs GITHUB_TOKEN.")
@repo_option
@click.option(
    "--account", "envs", multiple=True, help="Only this env's AWS account: dev, staging or prod (repeatable)."
)
@click.option("--region", "regions", multiple=True, help="AWS region to scan (repeatable). Default: AWS_REGION.")
@filing_options
def scan(
    org: str | None, repos: tuple[str, ...], envs: tuple[str, ...], regions: tuple[str, ...], out: ScanOutput
) -> int:
    """Scan for infra drift now (AWS is observable only live) and print the findings.

    The accounts, the role assumed in each and the regions come from DRIFT_AWS_ACCOUNTS
    (dev=111111111111,staging=...,prod=...), DRIFT_AWS_ROLE (default drift-readonly) and
    DRIFT_AWS_REGIONS (default AWS_REGION) when set."""
    if org is None:
        raise UsageError("--org ORG is required (the repos declaring [infra] are read from GitHub)")
    settings = aws_settings_from_env(os.environ)  # DRIFT_AWS_ACCOUNTS / _ROLE / _REGIONS
    scan_regions = _regions(regions, settings)
    accounts = _accounts(envs, settings)
    source, owner = scan_source(None, org, 8)
    owner, repos = check_repos(source, owner, repos, None)
    at = datetime.now(UTC).replace(microsecond=0)
    day = at.date()
    access = AwsAccess(
        region_name=scan_regions[0],
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        role_name=settings.get("role_name", DEFAULT_ROLE),
    )
    progress(f"scanning {owner} infra at {at:%Y-%m-%d %H:%M} UTC in {', '.join(accounts)} ({', '.join(scan_regions)})")
    with progress_bars(out.show_progress) as phase:
        inventory = scan_inventory(source, owner, at, only=repos or None, progress=phase("inventory"))
        world = read_world(access, account_refs(accounts), scan_regions, now=at)
        result = scan_infra(
            source, owner, day, inventory.rows, world=world, region=scan_regions[0], now=at, progress=phase("infra")
        )
    findings = result.findings()
    errors = merged_errors(inventory.errors, result.errors)
    unreached = assume_failures(world)
    payload = scan_payload(
        source, owner, day=day, at=at, since_hours=None, inventory=inventory.rows, changed=len(result.repos),
        findings=findings, errors=errors, accounts=accounts, regions=scan_regions, accounts_not_reached=unreached,
        drift_method=", ".join(world.methods), drift_method_per_account=world.methods_by_account(),
    )  # fmt: skip

    def evaluation() -> Evaluation:
        return Evaluation(owner, "infra", result.tables["infra_scan_status"], [result.coverage()], findings)

    notes = [f"AWS account {m['account']} ({m['env']}) not reached: {m['code']}" for m in unreached]
    return file_and_finish(payload, out, source, day, evaluation, findings=findings, errors=errors, notes=notes)
