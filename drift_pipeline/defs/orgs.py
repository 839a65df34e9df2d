"""Several orgs: one run per org and day, so each org's scan is its own run.

The store replaces rows per (scan date, org), so runs of different orgs of one day never overwrite
each other's rows. With one org the daily schedule asks for one run, exactly as before (run key
``daily:<day>``); with several it asks for one run per org (run key ``daily:<day>:<org>``, tag
``drift/org``, run config setting the ``scope`` resource to that org). A failed org is retried alone,
and each run is small. On one DuckDB file the runs' writer steps still take turns (the ``duckdb``
pool of one, else the store's bounded lock wait); on a store that admits several writers (DuckLake),
raise the pool's limit and the orgs scan in parallel.

GitHub ignores the case of names: ``DRIFT_ORGS=ACME`` (or ``Acme,acme``) is the org ``acme``. The
schedule's run keys and tags keep the configured spelling (it cannot ask GitHub); every run learns
the org's login from the API (:func:`canonical_orgs`) and stores, files and reports under it.

This module imports no asset, so asset code may import ``ORG_TAG`` from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from drift_pipeline.core.names import unique_names
from drift_pipeline.defs.resources import ScanScopeResource
from drift_pipeline.sources.github import GitHubSource

ORG_TAG = "drift/org"


def org_run_config(org: str) -> dict[str, Any]:
    """Run config that scopes a run to one org (the ``scope`` resource, which ``repo_inventory`` reads)."""
    return {"resources": {"scope": {"config": {"orgs": org}}}}


def org_run_requests(day: str, orgs: Sequence[str], prefix: str = "daily") -> list[dg.RunRequest]:
    """The runs of one scan date: one for at most one org (the deployment's scope), else one per org."""
    unique = unique_names(orgs)
    if len(unique) <= 1:
        return [dg.RunRequest(run_key=f"{prefix}:{day}", partition_key=day)]
    return [
        dg.RunRequest(
            run_key=f"{prefix}:{day}:{org}",
            partition_key=day,
            run_config=org_run_config(org),
            tags={ORG_TAG: org},
        )
        for org in unique
    ]


def configured_orgs(scope: ScanScopeResource) -> list[str]:
    """The orgs the scope lists, or none (a run then fails naming DRIFT_ORGS, as before)."""
    try:
        return scope.org_list()
    except dg.Failure:
        return []


def canonical_orgs(source: GitHubSource, orgs: Sequence[str]) -> list[str]:
    """``orgs`` as GitHub spells them (``ACME`` -> ``acme``, learned from the API once per run), each once:
    the org of every row a run stores, whatever the case the scope was configured in."""
    return unique_names(source.login(org) for org in orgs)
