"""Choosing a time interval for a span, and telling which periods are only partly covered.

A bar for a month that the data (or the date filter) covers for ten days is not
a drop in volume; it has to be marked as partial, never drawn as if complete.
"""

from __future__ import annotations

from datetime import date, timedelta

INTERVALS = ("day", "week", "month", "quarter", "year")


def auto_interval(start: date, end: date) -> str:
    days = (end - start).days
    if days <= 62:
        return "day"
    if days <= 550:
        return "week"
    if days <= 365 * 6:
        return "month"
    if days <= 365 * 20:
        return "quarter"
    return "year"


def period_start(day: date, interval: str) -> date:
    """Same truncation as DuckDB's ``date_trunc`` (weeks start on Monday)."""
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown interval {interval!r}")


def period_end(start: date, interval: str) -> date:
    """The last day of the period that begins on ``start``."""
    if interval == "day":
        return start
    if interval == "week":
        return start + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[interval]
    month = start.month - 1 + months
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def is_partial(start: date, interval: str, covered_from: date, covered_to: date) -> bool:
    return start < covered_from or period_end(start, interval) > covered_to


def compact_span(first: date | None, last: date | None) -> str:
    """A date span short enough for a metric tile; the exact dates go in its tooltip."""
    if first is None or last is None:
        return "—"
    if first == last:
        return first.isoformat()
    if first.year == last.year:
        return f"{first:%Y-%m-%d} → {last:%m-%d}"
    return f"{first:%Y-%m} → {last:%Y-%m}"
