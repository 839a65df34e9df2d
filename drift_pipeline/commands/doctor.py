"""``drift doctor``: what this token or App, AWS and the store let a run see, before the first run."""

from __future__ import annotations

import os
from typing import Any

import click

from drift_pipeline.commands._output import emit, json_option
from drift_pipeline.core.errors import UsageError


def _text(report: dict[str, Any]) -> str:
    gh = report["github"]
    lines = [f"GitHub org {gh['org']}: " + ("ok" if gh.get("ok") else f"FAILED ({gh.get('error')})")]
    ident = gh.get("identity") or {}
    if ident:
        who = (
            f"App {ident['app_id']} installation {ident['installation_id']}"
            if ident["kind"] == "app"
            else f"token of {ident.get('login')}"
        )
        lines.append(f"  identity: {who}; rate budget left {ident.get('rate_remaining')}")
    if "repos" in gh:
        lines.append(f"  repos listable: {gh['repos']}; drift-config: {'present' if gh['drift_config'] else 'MISSING'}")
    for domain, d in (gh.get("domains") or {}).items():
        lines.append(
            f"  {domain}: " + ("can run" if d["can_run"] else f"will be {domain}_not_evaluated; grant {d['grant']}")
        )
    store = report["store"]
    lines.append(f"store {store['path']}: " + ("writable, lock free" if store["ok"] else f"FAILED ({store['error']})"))
    aws = report["aws"]
    lines.append("AWS: " + (aws.get("arn") or f"no identity ({aws.get('error')})"))
    for env, r in aws.get("roles", {}).items():
        lines.append(
            f"  {env} ({r['account']}): "
            + ("role assumable" if r["assumable"] else f"role NOT assumable ({r['error']})")
        )
    dag = report["dagster"]
    lines.append("Dagster instance: " + (dag.get("home", "") if dag["ok"] else dag["error"]))
    lines.append(
        {0: "every domain can run", 1: "some domains will not be evaluated", 3: "nothing can run"}[report["exit_code"]]
    )
    return "\n".join(lines)


@click.command("doctor")
@click.option("--org", help="GitHub org to check; default: the first of DRIFT_ORGS.")
@json_option
def doctor_command(org: str | None, as_json: bool) -> None:
    """Check the token or App, AWS roles, the store and Dagster against the live APIs (reads only).

    Exit codes: 0 every domain can run, 1 some domain will be *_not_evaluated (the output says
    what to grant), 2 bad usage, 3 nothing can run.
    """
    from drift_pipeline.commands._scan import api_url
    from drift_pipeline.doctor import diagnose
    from drift_pipeline.store import DEFAULT_DB_PATH

    org = org or next((o.strip() for o in os.environ.get("DRIFT_ORGS", "").split(",") if o.strip()), None)
    if not org:
        raise UsageError("give --org ORG or set DRIFT_ORGS")
    report = diagnose(api_url(), org, os.environ.get("DRIFT_DB_PATH") or DEFAULT_DB_PATH, os.environ)
    emit(report, as_json=as_json, text=_text)
    click.get_current_context().exit(report["exit_code"])
