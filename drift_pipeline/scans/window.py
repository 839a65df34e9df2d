"""Scan dates: one partition is the state of the world at the end of that UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def day_end(day: date) -> datetime:
    """The last second of ``day`` in UTC: a commit at or before it belongs to the day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def parse_day(text: str) -> date:
    return date.fromisoformat(text)
