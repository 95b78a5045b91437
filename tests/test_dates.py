"""``lib.dates``: the years the store keeps, alike in Python and DuckDB, and dates shown safely."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.dates import DEFAULT_YEARS, ENV_VAR, OutOfRange, date_label, kept_date, published_years
from lib.ingest import IngestError, run_ingest
from lib.ingest.fields import parse_date

EDGES = [
    "0000-01-01", "-0001-01-01", "0001-01-01", "0001-01-01T00:00:00Z", "1969-12-31",
    "1970-01-01", "1999-12-31", "2000-01-01", "2024-02-29", "2010-12-31", "2011-01-01",
    "2100-12-31", "2101-01-01", "9998-12-31", "9999-12-31",
]  # fmt: skip

KEPT = {
    "": ["1970-01-01", "1999-12-31", "2000-01-01", "2024-02-29", "2010-12-31", "2011-01-01",
         "2100-12-31"],
    "2000-2010": ["2000-01-01", "2010-12-31"],
    "1-9998": EDGES[2:-1],
}  # fmt: skip


def _kept_by_python(written: str) -> bool:
    return kept_date(parse_date(written))[0] is not None


def _kept_by_sql(con: duckdb.DuckDBPyConnection, written: str) -> bool:
    """What the fast lane computes: DuckDB's cast of the ISO date, then the SQL twin."""
    years = published_years()
    day = "try_cast(left($written, 10) AS DATE)"
    rows = con.execute(
        f"SELECT {years.sql(day)}", {**years.sql_params(), "written": written}
    ).fetchall()
    return bool(rows[0][0])


@pytest.mark.parametrize("setting", list(KEPT))
def test_the_sql_twin_keeps_exactly_the_dates_python_keeps(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv(ENV_VAR, setting)
    con = duckdb.connect()
    try:
        answers = {
            written: (_kept_by_python(written), _kept_by_sql(con, written)) for written in EDGES
        }
    finally:
        con.close()
    assert {w: sql for w, (_, sql) in answers.items()} == {w: py for w, (py, _) in answers.items()}
    kept = [written for written, (python, _) in answers.items() if python]
    assert kept == KEPT[setting]


@pytest.mark.parametrize(
    ("setting", "years"),
    [
        ("1990-2030", (1990, 2030)),
        (" 1900 – 2000 ", (1900, 2000)),
        ("1-9998", (1, 9998)),
        ("", DEFAULT_YEARS),
        ("2030-1990", DEFAULT_YEARS),  # backwards: a typo, never "no year at all"
        ("0-2100", DEFAULT_YEARS),
        ("1970-9999", DEFAULT_YEARS),  # a period in 9999 would end in year 10000
        ("1970", DEFAULT_YEARS),
        ("nineteen-seventy", DEFAULT_YEARS),
    ],
)
def test_the_years_come_from_the_environment_and_a_typo_keeps_the_default(
    monkeypatch: pytest.MonkeyPatch, setting: str, years: tuple[int, int]
) -> None:
    monkeypatch.setenv(ENV_VAR, setting)
    assert (published_years().first, published_years().last) == years


def test_a_dropped_date_is_reported_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert kept_date(date(2024, 1, 5)) == (date(2024, 1, 5), None)
    assert kept_date(date(1, 1, 1)) == (None, "0001-01-01")
    assert kept_date(date(9999, 12, 31)) == (None, "9999-12-31")
    assert kept_date(OutOfRange("0000-01-01")) == (None, "0000-01-01")
    assert kept_date(None) == (None, None)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (date(2024, 1, 5), "2024-01-05"),
        (datetime(2024, 1, 5, 23, 59), "2024-01-05"),
        (date(1, 1, 1), "0001-01-01"),
        ("0001-01-01 (BC)", "no date"),  # how DuckDB hands back a BC date
        ("10000-01-01", "no date"),
        (None, "no date"),
        (20240105, "no date"),
    ],
)
def test_a_stored_value_that_is_not_a_date_reads_as_no_date(stored: object, shown: str) -> None:
    assert date_label(stored) == shown


# --- Texts and numbers that are not a whole date ------------------------------------------


@pytest.mark.parametrize("written", ["2024", "Monday", "12:00", "January", "Jan 2024", "1"])
def test_a_text_without_year_month_and_day_is_not_a_date(written: str) -> None:
    """dateutil filled what was missing from today: ``2024`` was stored as today's day of
    2024, ``Monday`` as next Monday, ``12:00`` as the day of the import."""
    with pytest.raises(ValueError, match="not a date"):
        parse_date(written)


@pytest.mark.parametrize("number", [2024, 0, -0.0, 99_999_999])
def test_a_small_number_is_not_a_moment_since_1970(number: float) -> None:
    """``date: 2024`` in YAML is a number, and was stored as 1970-01-01."""
    with pytest.raises(ValueError, match="not a date"):
        parse_date(number)


@pytest.mark.parametrize(
    "written",
    [1_768_089_600, 1_768_089_600_000, 1_768_089_600_000_000, 1_768_089_600_000_000_000,
     "1768089600", "1768089600000", "1768089600000000", "1768089600000000000"],
)  # fmt: skip
def test_seconds_milliseconds_microseconds_and_nanoseconds_since_1970(written: object) -> None:
    assert parse_date(written) == date(2026, 1, 11)


@pytest.mark.parametrize(
    ("written", "day"),
    [("2024年1月5日", date(2024, 1, 5)), ("２０２４年１月５日", date(2024, 1, 5)),
     ("2024 年 12 月 31 日 23:59", date(2024, 12, 31)), ("２０２４-０１-０５", date(2024, 1, 5))],
)  # fmt: skip
def test_chinese_dates_and_full_width_digits_are_read(written: str, day: date) -> None:
    assert parse_date(written) == day


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ("---\ntitle: t\ndate: 2024\n---\nbody\n", 3),
        ("+++\ntitle = 't'\ndate = 07:32:00\n+++\nb\n", 3),
    ],
)
def test_a_year_or_a_time_in_front_matter_stops_the_import_at_its_line(
    tmp_path: Path, front: str, line: int
) -> None:
    source = tmp_path / "post.md"
    source.write_text(front, encoding="utf-8")
    with pytest.raises(IngestError, match="not a date") as caught:
        run_ingest(str(tmp_path / "posts.duckdb"), [str(source)])
    assert f"post.md:{line}:" in str(caught.value)


@pytest.mark.parametrize(
    "published",
    [pa.array([2**30, 19_000], pa.date32()), pa.array([2**40, 1_700_000_000], pa.timestamp("s"))],
    ids=["date32", "timestamp"],
)
def test_a_typed_day_past_arrows_own_range_is_out_of_range_not_an_error(
    tmp_path: Path, published: pa.Array
) -> None:
    """Arrow wrote such a day as "<value out of range: …>", which stopped the import."""
    source = tmp_path / "export.parquet"
    pq.write_table(pa.table({"title": ["far", "near"], "published": published}), source)
    summary = run_ingest(str(tmp_path / "posts.duckdb"), [str(source)])
    assert summary.added == 2 and len(summary.dates_out_of_range) == 1
    assert summary.dates_out_of_range[0][0].endswith("row 1")


@pytest.mark.parametrize("number", [float("nan"), float("-nan")])
def test_nan_is_not_a_date_and_says_so(number: float) -> None:
    with pytest.raises(ValueError, match=r"not a date: NaN$"):
        parse_date(number)
