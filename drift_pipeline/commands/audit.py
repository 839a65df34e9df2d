"""``drift scan audit``: the weekly audit of open ``drift:*`` issues, from the CLI.

Calls :func:`~drift_pipeline.issues.audit.run_audit`, the code the ``drift_audit`` job runs: repos
with more than ``--threshold`` open drift issues, and one summary issue per org and ISO week in the
config repo (a second run of the week opens none). The audit's history is stored in ``--db``.
Exit codes: 0 no repo above the threshold, 1 some are, 2 bad flags, 3 the audit could not complete.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import click
from github import GithubException

from drift_pipeline.commands._filing import app_slug, db_option, filing_store
from drift_pipeline.commands._output import emit, json_option, progress
from drift_pipeline.commands._scan import NAME, check_repos, scan_source
from drift_pipeline.core.errors import DriftError, ExitCode, UsageError
from drift_pipeline.issues.audit import DEFAULT_THRESHOLD, AuditResult, run_audit
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.issues.filing import DEFAULT_CONFIG_REPO, describe
from drift_pipeline.sources.github import GitHubSource

MAX_THRESHOLD = 100_000


@click.group("scan")
def scan_group() -> None:
    """Org-wide reports over what the scans filed."""


def _orgs(org: str | None) -> list[str]:
    if org is not None:
        if not NAME.match(org) or org.strip(".") == "":
            raise UsageError(f"--org {org!r}: expected a GitHub org or user name (letters, digits, '-', '_', '.')")
        return [org]
    orgs = [o.strip() for o in os.environ.get("DRIFT_ORGS", "").split(",") if o.strip()]
    if not orgs:
        raise UsageError("give --org ORG (or set DRIFT_ORGS, comma-separated orgs)")
    for name in orgs:
        if not NAME.match(name) or name.strip(".") == "":
            raise UsageError(f"DRIFT_ORGS: {name!r} is not a GitHub org or user name")
    return orgs


def _threshold(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_THRESHOLD:
        raise UsageError(f"--threshold {text!r}: expected a whole number of open issues from 1 to {MAX_THRESHOLD}")
    return value


@scan_group.command("audit")
@click.option("--org", help="GitHub org (or user) to audit; default: DRIFT_ORGS. Needs GITHUB_TOKEN.")
@click.option(
    "--threshold",
    "threshold_text",
    default=str(DEFAULT_THRESHOLD),
    show_default=True,
    metavar="N",
    help="List repos with more than N open drift:* issues.",
)
@click.option("--config-repo", default=DEFAULT_CONFIG_REPO, show_default=True, help="Repo taking the summary issue.")
@click.option("--dry-run", is_flag=True, help="Print the summary that would be opened; open none, store nothing.")
@db_option
@json_option
def audit(org: str | None, threshold_text: str, config_repo: str, dry_run: bool, db: str, as_json: bool) -> int:
    """Count open drift:* issues per repo; open one summary issue a week in the config repo."""
    threshold = _threshold(threshold_text)
    if not NAME.match(config_repo) or config_repo.strip(".") == "":
        raise UsageError(f"--config-repo {config_repo!r}: expected a repository name (letters, digits, '-', '_', '.')")
    orgs = _orgs(org)
    where = filing_store(db)  # the pipeline's store: with DRIFT_STORE=ducklake the lake
    assert where is not None
    now = datetime.now(UTC).replace(microsecond=0)
    results: list[AuditResult] = []
    for name in orgs:
        source, owner = scan_source(None, name, 4)
        assert isinstance(source, GitHubSource)
        owner, _ = check_repos(source, owner, (), None)  # an unknown org is a usage error, not an empty audit
        progress(f"auditing {owner}: repos with more than {threshold} open drift issues")
        try:
            with where.store() as store:
                results.append(
                    run_audit(
                        IssueClient(source.github),
                        store,
                        owner,
                        now=now,
                        threshold=threshold,
                        config_repo=config_repo,
                        dry_run=dry_run,
                        app_slug=app_slug(source),
                    )
                )
        except (GithubException, OSError) as exc:
            raise DriftError(f"audit of {owner} failed: {describe(exc)}") from None
    payload = {"audits": [_audit_row(r) for r in results], "threshold": threshold, "dry_run": dry_run}
    emit(payload, as_json=as_json, text=render_text)
    return ExitCode.FINDINGS if any(r.repos for r in results) else ExitCode.OK


def _audit_row(r: AuditResult) -> dict[str, Any]:
    return {
        "org": r.org,
        "week": r.week,
        "action": r.action,
        "number": r.number,
        "url": r.url,
        "title": r.title,
        "body": r.body,
        "repos": [
            {
                "repo": f"{r.org}/{load.repo}",
                "team": load.team,
                "tier": load.tier,
                "open": load.open,
                "total": load.total,
                "oldest_days": load.oldest_days,
                "links": list(load.links),
            }
            for load in r.repos
        ],
    }


def render_text(payload: dict[str, Any]) -> str:
    lines = []
    for a in payload["audits"]:
        for repo in a["repos"]:
            counts = ", ".join(f"{c} {n}" for c, n in repo["open"].items() if n)
            lines.append(f"{repo['repo']}: {repo['total']} open ({counts}), oldest {repo['oldest_days']} day(s)")
        where = f" {a['url']}" if a["url"] else ""
        lines.append(
            f"{a['org']} {a['week']}: {len(a['repos'])} repo(s) above {payload['threshold']}; "
            f"summary {a['action']}{where}"
        )
        if a["action"] == "would_create" and a["body"]:
            lines.append(f"would open: {a['title']}")
            lines.extend("    " + line for line in a["body"].splitlines())
    return "\n".join(lines)
