"""Which publication dates the store keeps, in Python and in SQL, and how a stored date reads.

A date no blog post can have (Hugo's zero date ``0001-01-01``, ``9999-12-31`` for "never",
``0000-01-01``, a year with a minus sign) is stored as no date and counted by the import:
DuckDB hands a BC date back to Python as a string and Python's dates stop at 9999, so one
such post broke every page that showed or charted it. The rule is a span of whole years,
1970 to 2100 unless ``POSTS_YEARS`` says otherwise (``POSTS_YEARS=1990-2030``).

The per-record path applies :meth:`YearRange.holds`; the fast lane (``lib.ingest.fast_lane``)
applies its SQL twin, :meth:`YearRange.sql`, and the tests check they agree.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from datetime import date

ENV_VAR = "POSTS_YEARS"
DEFAULT_YEARS = (1970, 2100)
# The widest span allowed: a period ending in year 9999 would need year 10000, which
# Python's dates do not have, to compute its end.
WIDEST_YEARS = (1, 9998)
NO_DATE = "no date"
_SPAN = re.compile(r"^\s*(\d{1,4})\s*[-–]\s*(\d{1,4})\s*$")


@dataclass(frozen=True)
class YearRange:
    """The years, first and last included, whose dates the store keeps."""

    first: int
    last: int

    @property
    def earliest(self) -> date:
        return date(self.first, 1, 1)

    @property
    def latest(self) -> date:
        return date(self.last, 12, 31)

    def holds(self, day: date) -> bool:
        return self.first <= day.year <= self.last

    def sql(self, column: str) -> str:
        """:meth:`holds` in SQL for a DATE column; its parameters are :meth:`sql_params`.

        Dates compare, rather than years: DuckDB counts BC years from 0 and dates do
        not depend on how years are numbered.
        """
        return f"({column} BETWEEN $earliest_kept AND $latest_kept)"

    def sql_params(self) -> dict[str, date]:
        return {"earliest_kept": self.earliest, "latest_kept": self.latest}

    def describe(self) -> str:
        return f"{self.first}–{self.last}"


def published_years() -> YearRange:
    """The years the store keeps: ``POSTS_YEARS`` (``FIRST-LAST``), else 1970–2100.

    A value that is not such a span, or reaches beyond years 1–9998, is ignored, so a
    typo never lets through a date the pages cannot show; imports print the span used.
    """
    return _years(os.environ.get(ENV_VAR, ""))


@functools.cache
def _years(setting: str) -> YearRange:
    found = _SPAN.match(setting)
    if found:
        first, last = int(found.group(1)), int(found.group(2))
        if WIDEST_YEARS[0] <= first <= last <= WIDEST_YEARS[1]:
            return YearRange(first, last)
    return YearRange(*DEFAULT_YEARS)


@dataclass(frozen=True)
class OutOfRange:
    """A date as a source wrote it, outside the years the store keeps."""

    written: str


def kept_date(value: date | OutOfRange | None) -> tuple[date | None, str | None]:
    """The date to store, and the dropped date when the rule drops one (``YYYY-MM-DD``, or
    as the source wrote it for a day Python has not)."""
    if isinstance(value, OutOfRange):
        return None, value.written
    if value is None or published_years().holds(value):
        return value, None
    return None, date_label(value)


def as_date(value: object) -> date | None:
    """A stored value as a date, or ``None`` when it is not one.

    A store written before the rule may hold a BC date, which DuckDB returns as text.
    """
    return value if isinstance(value, date) else None


def date_label(value: object) -> str:
    """``YYYY-MM-DD`` for a date, "no date" for anything else: never raises."""
    day = as_date(value)
    if day is None:
        return NO_DATE
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
