"""This installation's marker key: from ``DRIFT_MARKER_KEY``, else generated once and kept in the store.

The ``marker_keys`` table holds one row per key source, with the time it was first used:
``secret`` is a key generated with :mod:`secrets` (hex) when no ``DRIFT_MARKER_KEY`` is set, or
NULL for a row recording that signing with the environment's key began then. The earliest
``created_at`` is :attr:`MarkerKey.since`, the cut-off for legacy unsigned markers. When
``DRIFT_MARKER_KEY`` is set it signs, and a key in the store still verifies (switching to the
environment's key files no duplicates). The key never reaches a log, a message or an issue.

Read and, the first time, written in one write unit: on the DuckDB file that unit is exclusive
across processes; on a lake the caller holds the filing lock around it (``claim``), so two
processes never make two keys. Deleting the store (or changing ``DRIFT_MARKER_KEY``) makes the
markers already on GitHub unverifiable: their issues would be filed again. Keep the key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb

from drift_pipeline.core.errors import UsageError
from drift_pipeline.issues.markers import MarkerKey
from drift_pipeline.store import DriftStore

ENV_KEY = "DRIFT_MARKER_KEY"
MIN_KEY_CHARS = 32


def env_key(env: Mapping[str, str]) -> bytes | None:
    """``DRIFT_MARKER_KEY`` as bytes, None when unset; too short a key is refused (never echoed)."""
    text = env.get(ENV_KEY, "").strip()
    if not text:
        return None
    if len(text) < MIN_KEY_CHARS:
        raise UsageError(
            f"{ENV_KEY} is {len(text)} characters long; a marker key needs at least {MIN_KEY_CHARS} "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return text.encode()


def load_key(store: DriftStore, env: Mapping[str, str] | None = None, *, create: bool = True) -> MarkerKey:
    """The installation's :class:`MarkerKey`, recording (once) that signing began.

    ``create=False`` (a dry run, which writes nothing): the stored keys as they are; with none
    stored (or a store from before signing), :func:`fresh_key`, what a real run would make."""
    from_env = env_key(os.environ if env is None else env)
    if not create:
        try:
            found = store.rows("SELECT created_at, secret FROM marker_keys ORDER BY created_at")
        except duckdb.CatalogException:  # a read-only store from before signing
            found = []
        key = _key(from_env, [(_utc(r["created_at"]), r["secret"]) for r in found]) if found else None
        return key or fresh_key(env)

    def read_or_create(con: Any) -> list[tuple[datetime, str | None]]:
        rows = con.execute("SELECT created_at, secret FROM marker_keys ORDER BY created_at").fetchall()
        if (from_env is None and not any(s for _, s in rows)) or not rows:
            secret = None if from_env is not None else secrets.token_hex(32)
            con.execute("INSERT INTO marker_keys (created_at, secret) VALUES (?, ?)", [datetime.now(UTC), secret])
            rows = con.execute("SELECT created_at, secret FROM marker_keys ORDER BY created_at").fetchall()
        return [(_utc(t), s) for t, s in rows]

    key = _key(from_env, store.write(read_or_create))
    if key is None:  # read_or_create always leaves a usable row
        raise RuntimeError("marker_keys holds no key after it was written")
    return key


def _key(from_env: bytes | None, rows: list[tuple[datetime, str | None]]) -> MarkerKey | None:
    stored = [s.encode() for _, s in rows if s]
    since = min(t for t, _ in rows)
    if from_env is not None:
        return MarkerKey(from_env, since, tuple(stored))
    if not stored:
        return None
    return MarkerKey(stored[0], since, tuple(stored[1:]))


def fresh_key(env: Mapping[str, str] | None = None) -> MarkerKey:
    """For a dry run with no stored key: the key a real run would start signing with now
    (``DRIFT_MARKER_KEY``, else a new random one), so the preview trusts what that run would."""
    key = env_key(os.environ if env is None else env)
    return MarkerKey(key if key is not None else secrets.token_bytes(32), datetime.now(UTC))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
