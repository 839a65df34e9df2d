"""The one helper for assets that read GitHub: the store and a cached GitHub source for one run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.store import DriftStore


@contextmanager
def github_run(
    github: GitHubResource, store: DriftStoreResource, days: list[date]
) -> Iterator[tuple[DriftStore, GitHubSource]]:
    """The store and a GitHub source sharing its persistent cache, for the days of one run.

    A range run plans the whole window first, so each repo's history is listed once. The cache
    is written back even when the run fails: what was read stays read.
    """
    with store.open() as db:
        cache = db.source_cache()
        source = github.source(cache)
        if len(days) > 1:
            source.plan_window(day_end(days[0]), day_end(days[-1]))
        try:
            yield db, source
        finally:
            cache.flush()
