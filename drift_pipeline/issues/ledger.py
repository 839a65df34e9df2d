"""The ``filed_issues`` bookkeeping table: every issue filed, found again or commented on, per scan date.

The one module that writes it. A row is appended per action (never updated), so the table is the
history of what the filer did; ``covered`` answers "which fingerprints of this day, repo and
category are already in an issue" for a re-run that should file only what is new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from drift_pipeline.store import DriftStore

# actions meaning "these fingerprints of that day are in an issue on GitHub"
FILED = ("created", "found")
ACTIONS = ("created", "found", "commented", "skipped_repeat", "failed", "closed")


@dataclass(frozen=True)
class Entry:
    scan_date: date
    org: str
    repo: str
    category: str
    action: str
    number: int | None = None
    url: str | None = None
    fingerprints: tuple[str, ...] = ()
    target_repo: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "scan_date": self.scan_date,
            "org": self.org,
            "repo": self.repo,
            "category": self.category,
            "action": self.action,
            "number": self.number,
            "url": self.url,
            "fingerprints": list(self.fingerprints),
            "target_repo": self.target_repo,
        }


def record(store: DriftStore, entries: Sequence[Entry]) -> None:
    """Append ``entries`` in one write unit (retried whole on a lake commit conflict)."""
    if not entries:
        return
    for e in entries:
        if e.action not in ACTIONS:
            raise ValueError(f"filed_issues: unknown action {e.action!r} (expected one of {', '.join(ACTIONS)})")

    def append(con: Any) -> None:
        for e in entries:
            con.execute(
                "INSERT INTO filed_issues (scan_date, org, repo, category, action, number, url, fingerprints, "
                "target_repo) VALUES (?, ?, ?, ?, ?, ?, ?, ?::JSON, ?)",
                [
                    e.scan_date,
                    e.org,
                    e.repo,
                    e.category,
                    e.action,
                    e.number,
                    e.url,
                    _json_list(e.fingerprints),
                    e.target_repo,
                ],
            )

    store.write(append)


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(sorted(values))


def entries(store: DriftStore, day: date, org: str | None = None) -> list[dict[str, Any]]:
    """The rows recorded for ``day`` (optionally one org), oldest first."""
    where, params = ("AND org = ?", [day, org]) if org else ("", [day])
    return store.rows(f"SELECT * FROM filed_issues WHERE scan_date = ? {where} ORDER BY recorded_at", params)


def covered(rows: Sequence[dict[str, Any]], org: str, repo: str, category: str, actions: Sequence[str]) -> set[str]:
    """Fingerprints in ``rows`` (from :func:`entries`) recorded for that repo and category with ``actions``."""
    out: set[str] = set()
    for r in rows:
        if (r["org"], r["repo"], r["category"]) == (org, repo, category) and r["action"] in actions:
            fps = r["fingerprints"]
            out |= set(json.loads(fps) if isinstance(fps, str) else fps or [])
    return out


def day_fingerprints(store: DriftStore, day: date) -> list[str]:
    """The day's fingerprints in ``drift_findings`` (all orgs), sorted."""
    return [
        r["fingerprint"]
        for r in store.rows(
            "SELECT DISTINCT org || '/' || fingerprint AS fingerprint FROM drift_findings WHERE scan_date = ? "
            "ORDER BY 1",
            [day],
        )
    ]


def findings_version(fingerprints: Sequence[str]) -> str:
    """A short hash of a day's fingerprints: the same findings give the same version."""
    return hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()[:12]
