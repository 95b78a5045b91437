"""``lib.periods``: the interval chosen for a span, period bounds, and partial periods."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from lib.periods import INTERVALS, auto_interval, is_partial, period_end, period_start

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


@pytest.mark.parametrize(
    ("start", "interval", "covered_from", "covered_to", "partial"),
    [
        # A month entirely inside the covered span is complete.
        (date(2024, 3, 1), "month", date(2024, 1, 10), date(2024, 6, 5), False),
        # Covered exactly from its first to its last day: complete.
        (date(2024, 3, 1), "month", date(2024, 3, 1), date(2024, 3, 31), False),
        # The covered span begins after the month does.
        (date(2024, 3, 1), "month", date(2024, 3, 2), date(2024, 6, 5), True),
        # The covered span ends before the month does.
        (date(2024, 3, 1), "month", date(2024, 1, 1), date(2024, 3, 30), True),
        (date(2024, 1, 1), "quarter", date(2024, 1, 1), date(2024, 3, 31), False),
        (date(2024, 1, 1), "quarter", date(2024, 1, 1), date(2024, 3, 30), True),
        (date(2024, 12, 30), "week", date(2024, 12, 30), date(2025, 1, 5), False),
        (date(2024, 12, 30), "week", date(2024, 12, 31), date(2025, 1, 5), True),
        (date(2024, 5, 17), "day", date(2024, 5, 17), date(2024, 5, 17), False),
        (date(2024, 1, 1), "year", date(2024, 1, 1), date(2024, 12, 30), True),
    ],
)
def test_is_partial(
    start: date, interval: str, covered_from: date, covered_to: date, partial: bool
) -> None:
    assert is_partial(start, interval, covered_from, covered_to) is partial


def test_compact_span_fits_a_metric_tile() -> None:
    from lib.periods import compact_span

    assert compact_span(None, None) == "—"
    assert compact_span(date(2026, 1, 11), date(2026, 1, 11)) == "2026-01-11"
    assert compact_span(date(2024, 1, 1), date(2024, 12, 27)) == "2024-01-01 → 12-27"
    assert compact_span(date(2016, 3, 9), date(2025, 11, 2)) == "2016-03 → 2025-11"
