"""The store's size after a backfill: bytes per repo-day of the DuckDB file and of its source cache (as stored:
its values are zlib-compressed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def storage(db: Path, repos: int, days: int) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        keys, cache_bytes = con.execute(
            "SELECT count(*), coalesce(sum(strlen(key) + coalesce(octet_length(packed), strlen(value))), 0) FROM source_cache"
        ).fetchone() or (0, 0)
        has_blobs = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'blobs'").fetchone()
        blobs = con.execute("SELECT count(*) FROM blobs").fetchone() if has_blobs and has_blobs[0] else None
    size = db.stat().st_size
    return {
        "db_bytes": size,
        "db_bytes_per_repo_day": round(size / (repos * days)),
        "source_cache_keys": keys,
        "source_cache_bytes": cache_bytes,
        "source_cache_bytes_per_repo_day": round(cache_bytes / (repos * days)),
        "blobs": blobs[0] if blobs else None,
    }
