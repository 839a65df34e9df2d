"""The store: every daily snapshot, every finding, and the bookkeeping beside them.

One package writes them, and this module is its one public interface: code outside
``drift_pipeline.store`` imports from here, never from the modules behind it
(``drift_pipeline_tests/test_store_interface.py`` checks it). Daily tables carry ``scan_date`` and
``org``; writing a day replaces exactly that day's rows for that org, so re-running a day is
idempotent. Bookkeeping tables (the HTTP/object cache, filed issues and audits) are keyed, not dated.

Behind the interface:

- ``file``: :class:`DriftStore`, the DuckDB file (the default profile), opened only for the moment
  of each read or write, waiting a bounded time for another process's lock;
- ``lake``: :class:`LakeStore`, the same interface on DuckLake (catalog in SQLite or PostgreSQL,
  Parquet on S3 or a local path), which admits several writer processes and readers that never
  block them;
- ``schema``: the tables (:data:`TABLES`) and their migrations; ``views``: the trend views and
  macros (:data:`VIEWS`, :data:`MACROS`); ``summary``: the per-day summaries those views read
  (:data:`SUMMARIES`, kept by ``replace_day``; :func:`rebuild_summaries` after a bulk load);
  ``cache``: the persistent source cache (:class:`PersistentCache`); ``lock``: who holds the file (:class:`StoreBusy`) and the bounded
  :func:`connect` for a raw DuckDB session.
"""

from __future__ import annotations

from drift_pipeline.store.cache import PersistentCache
from drift_pipeline.store.file import DEFAULT_DB_PATH, DriftStore
from drift_pipeline.store.lake import LakeConfig, LakeConfigError, LakeStore, LakeUnavailable, S3Access
from drift_pipeline.store.lock import StoreBusy, connect
from drift_pipeline.store.schema import TABLES
from drift_pipeline.store.summary import SUMMARIES, rebuild_summaries
from drift_pipeline.store.views import MACROS, VIEWS

__all__ = [
    "DEFAULT_DB_PATH",
    "MACROS",
    "SUMMARIES",
    "TABLES",
    "VIEWS",
    "DriftStore",
    "LakeConfig",
    "LakeConfigError",
    "LakeStore",
    "LakeUnavailable",
    "PersistentCache",
    "S3Access",
    "StoreBusy",
    "connect",
    "rebuild_summaries",
]
