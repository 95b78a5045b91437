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


# The first or last post leaves a period partial only when it leaves more than this share
# of it uncovered: a blog whose last post is on 28 December has not stopped for the year.
DATA_CUT_SHARE = 0.1
# More bars than this is a barcode, not a chart: a finer interval is coarsened until it fits.
MAX_PERIODS = 400


def day_label(day: date) -> str:
    """A date as a reason reads it: ``3 Mar 2025``."""
    return f"{day.day} {day:%b %Y}"


def partial_reason(
    start: date,
    interval: str,
    data: tuple[date, date],
    window: tuple[date | None, date | None] = (None, None),
) -> str:
    """Why the period beginning ``start`` is only partly covered, or ``""`` when it is whole.

    ``data`` is the first and last post's date, ``window`` the date filter's ``from``/``to``.
    The filter cuts a period wherever it starts or ends inside it; the data only when they
    leave more than ``DATA_CUT_SHARE`` of it uncovered.
    """
    end = period_end(start, interval)
    allowance = DATA_CUT_SHARE * ((end - start).days + 1)
    (data_from, data_to), (window_from, window_to) = data, window
    reasons = []
    if window_from is not None and window_from >= data_from and window_from > start:
        reasons.append(f"filter starts {day_label(window_from)}")
    elif (data_from - start).days > allowance:
        reasons.append(f"data start {day_label(data_from)}")
    if window_to is not None and window_to <= data_to and window_to < end:
        reasons.append(f"filter ends {day_label(window_to)}")
    elif (end - data_to).days > allowance:
        reasons.append(f"data end {day_label(data_to)}")
    return ", ".join(reasons)


def period_count(first: date, last: date, interval: str) -> int:
    """How many periods of ``interval`` the days ``first`` to ``last`` touch."""
    start, stop = period_start(first, interval), period_start(last, interval)
    if interval == "day":
        return (stop - start).days + 1
    if interval == "week":
        return (stop - start).days // 7 + 1
    months = {"month": 1, "quarter": 3, "year": 12}[interval]
    return ((stop.year - start.year) * 12 + stop.month - start.month) // months + 1


def readable_interval(first: date, last: date, interval: str) -> str:
    """``interval``, or the finest coarser one that draws at most ``MAX_PERIODS`` bars."""
    for candidate in INTERVALS[INTERVALS.index(interval) :]:
        if period_count(first, last, candidate) <= MAX_PERIODS:
            return candidate
    return INTERVALS[-1]


def compact_span(first: date | None, last: date | None) -> str:
    """A date span short enough for a metric tile; the exact dates go in its tooltip."""
    if first is None or last is None:
        return "—"
    if first == last:
        return first.isoformat()
    if first.year == last.year:
        return f"{first:%Y-%m-%d} → {last:%m-%d}"
    return f"{first:%Y-%m} → {last:%Y-%m}"
