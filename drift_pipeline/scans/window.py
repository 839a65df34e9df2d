"""Scan dates: one partition is the state of the world at the end of that UTC day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone


def day_end(day: date) -> datetime:
    """The last second of ``day`` in UTC: a commit at or before it belongs to the day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.utc)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0, 0), tzinfo=timezone.utc)


def previous_day(day: date) -> date:
    return day - timedelta(days=1)


def parse_day(text: str) -> date:
    return date.fromisoformat(text)
