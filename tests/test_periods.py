"""``lib.periods``: the interval chosen for a span, period bounds, and partial periods."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from lib.periods import (
    INTERVALS,
    MAX_PERIODS,
    auto_interval,
    partial_reason,
    period_count,
    period_end,
    period_start,
    readable_interval,
)

START = date(2024, 1, 1)


@pytest.mark.parametrize(
    ("days", "interval"),
    [
        (0, "day"),
        (62, "day"),
        (63, "week"),
        (550, "week"),
        (551, "month"),
        (365 * 6, "month"),
        (365 * 6 + 1, "quarter"),
        (365 * 20, "quarter"),
        (365 * 20 + 1, "year"),
        (365 * 60, "year"),
    ],
)
def test_auto_interval_thresholds(days: int, interval: str) -> None:
    assert auto_interval(START, START + timedelta(days=days)) == interval


def test_period_start_truncates_like_duckdb() -> None:
    """The chart's partial flags rely on Python and DuckDB agreeing on period starts."""
    con = duckdb.connect()
    try:
        for interval in INTERVALS:
            rows = con.execute(
                """SELECT d::DATE, date_trunc(?, d::DATE)::DATE
                   FROM range(DATE '2023-11-20', DATE '2025-02-10', INTERVAL 1 DAY) t(d)""",
                [interval],
            ).fetchall()
            assert len(rows) > 400
            for day, truncated in rows:
                assert period_start(day, interval) == truncated, (interval, day)
    finally:
        con.close()


def test_period_start_rejects_an_unknown_interval() -> None:
    with pytest.raises(ValueError, match="unknown interval"):
        period_start(START, "fortnight")


@pytest.mark.parametrize(
    ("start", "interval", "end"),
    [
        (date(2024, 5, 17), "day", date(2024, 5, 17)),
        (date(2024, 1, 1), "week", date(2024, 1, 7)),
        (date(2024, 12, 30), "week", date(2025, 1, 5)),
        (date(2024, 1, 1), "month", date(2024, 1, 31)),
        (date(2024, 2, 1), "month", date(2024, 2, 29)),
        (date(2023, 2, 1), "month", date(2023, 2, 28)),
        (date(2024, 4, 1), "month", date(2024, 4, 30)),
        (date(2024, 12, 1), "month", date(2024, 12, 31)),
        (date(2024, 1, 1), "quarter", date(2024, 3, 31)),
        (date(2024, 4, 1), "quarter", date(2024, 6, 30)),
        (date(2024, 7, 1), "quarter", date(2024, 9, 30)),
        (date(2024, 10, 1), "quarter", date(2024, 12, 31)),
        (date(2024, 1, 1), "year", date(2024, 12, 31)),
    ],
)
def test_period_end(start: date, interval: str, end: date) -> None:
    assert period_end(start, interval) == end


@pytest.mark.parametrize("interval", INTERVALS)
def test_periods_tile_the_calendar(interval: str) -> None:
    """Each period ends the day before the next one starts."""
    start = period_start(date(2022, 12, 15), interval)
    for _ in range(30):
        end = period_end(start, interval)
        assert end >= start
        assert period_start(end, interval) == start
        following = end + timedelta(days=1)
        assert period_start(following, interval) == following
        start = following


D = date
NO_WINDOW = (None, None)


@pytest.mark.parametrize(
    ("start", "interval", "data", "window", "why"),
    [
        # A month inside the data and the filter is whole.
        (D(2024, 3, 1), "month", (D(2024, 1, 10), D(2024, 6, 5)), NO_WINDOW, ""),
        # The data cover it from its first to its last day.
        (D(2024, 3, 1), "month", (D(2024, 3, 1), D(2024, 3, 31)), NO_WINDOW, ""),
        # The filter starts or ends inside it: always a cut, even by a day.
        (
            D(2024, 3, 1),
            "month",
            (D(2024, 1, 1), D(2024, 6, 5)),
            (D(2024, 3, 2), None),
            "filter starts 2 Mar 2024",
        ),
        (
            D(2024, 3, 1),
            "month",
            (D(2024, 1, 1), D(2024, 6, 5)),
            (None, D(2024, 3, 20)),
            "filter ends 20 Mar 2024",
        ),
        # A filter reaching beyond the data does not cut; the data's last post does.
        (
            D(2024, 3, 1),
            "month",
            (D(2024, 1, 1), D(2024, 3, 16)),
            (None, D(2024, 12, 31)),
            "data end 16 Mar 2024",
        ),
        # The last post on 28 December leaves a year (or a December) whole.
        (D(2025, 1, 1), "year", (D(2016, 3, 1), D(2025, 12, 28)), NO_WINDOW, ""),
        (D(2025, 12, 1), "month", (D(2016, 3, 1), D(2025, 12, 28)), NO_WINDOW, ""),
        (D(2025, 10, 1), "quarter", (D(2016, 3, 1), D(2025, 12, 28)), NO_WINDOW, ""),
        # ...but not its week, of which it leaves a seventh.
        (
            D(2025, 12, 22),
            "week",
            (D(2016, 3, 1), D(2025, 12, 27)),
            NO_WINDOW,
            "data end 27 Dec 2025",
        ),
        # Data starting in March leave most of their first year uncovered.
        (
            D(2016, 1, 1),
            "year",
            (D(2016, 3, 1), D(2025, 12, 28)),
            NO_WINDOW,
            "data start 1 Mar 2016",
        ),
        # Both ends in one period.
        (
            D(2024, 1, 1),
            "quarter",
            (D(2024, 1, 1), D(2024, 6, 30)),
            (D(2024, 2, 3), D(2024, 3, 9)),
            "filter starts 3 Feb 2024, filter ends 9 Mar 2024",
        ),
        (D(2024, 5, 17), "day", (D(2024, 5, 17), D(2024, 5, 17)), NO_WINDOW, ""),
    ],
)
def test_partial_reason(
    start: date,
    interval: str,
    data: tuple[date, date],
    window: tuple[date | None, date | None],
    why: str,
) -> None:
    assert partial_reason(start, interval, data, window) == why


@pytest.mark.parametrize("interval", INTERVALS)
def test_period_count_matches_the_periods_between(interval: str) -> None:
    first, last = date(2023, 11, 20), date(2025, 2, 10)
    days = (last - first).days + 1
    starts = {period_start(first + timedelta(days=d), interval) for d in range(days)}
    assert period_count(first, last, interval) == len(starts)


def test_ten_years_by_day_are_coarsened_to_fit() -> None:
    first, last = date(2016, 1, 3), date(2025, 12, 28)
    assert period_count(first, last, "day") > 3600
    shown = readable_interval(first, last, "day")
    assert shown == "month"  # weeks would be 522 bars
    assert period_count(first, last, shown) <= MAX_PERIODS
    assert readable_interval(first, last, "quarter") == "quarter"
    assert readable_interval(date(2025, 1, 1), date(2025, 12, 31), "day") == "day"


def test_compact_span_fits_a_metric_tile() -> None:
    from lib.periods import compact_span

    assert compact_span(None, None) == "—"
    assert compact_span(date(2026, 1, 11), date(2026, 1, 11)) == "2026-01-11"
    assert compact_span(date(2024, 1, 1), date(2024, 12, 27)) == "2024-01-01 → 12-27"
    assert compact_span(date(2016, 3, 9), date(2025, 11, 2)) == "2016-03 → 2025-11"
