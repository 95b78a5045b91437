"""A console query's rows, as the page shows and downloads them.

The worker sends them as Arrow; here they become a DataFrame that Streamlit, Plotly and
CSV can all take, whatever DuckDB types the query made. pandas is imported where a frame is
made, not here: a worker starts through this package and never makes one, and importing
pandas would double its start-up (the server has pandas loaded already).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lib.console.limits import MAX_RESULT_BYTES, MAX_ROWS

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ConsoleResult:
    """The rows a query gave, at most ``MAX_ROWS`` of them, as a DataFrame for display."""

    sql: str
    frame: pd.DataFrame
    truncated: bool  # rows were left out (see ``limit_reason``)
    limit_reason: str | None  # "rows" or "bytes" when truncated
    seconds: float
    max_rows: int = MAX_ROWS
    max_bytes: int = MAX_RESULT_BYTES
    held_bytes: int = 0  # what the rows weigh here (:mod:`lib.console.sizes`), for the cache

    @property
    def rows(self) -> int:
        return len(self.frame)

    def describe(self) -> str:
        """One line for the reader: how many rows, and whether some were left out."""
        n = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        if not self.truncated:
            return f"{n} in {self.seconds:.2f} s"
        why = (
            f"the first {self.max_rows:,} rows"
            if self.limit_reason == "rows"
            else f"the first {self.max_bytes / (1024 * 1024):.3g} MB"
        )
        return f"{n} in {self.seconds:.2f} s: the result was cut to {why}; add a LIMIT or filter"

    def csv(self) -> bytes:
        """The rows as CSV, with a BOM so that spreadsheet programs read Chinese right."""
        return b"\xef\xbb\xbf" + self.frame.to_csv(index=False).encode("utf-8")


_SIMPLE = (
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_date,
    pa.types.is_timestamp,
    pa.types.is_decimal,
    pa.types.is_null,
    pa.types.is_dictionary,
    pa.types.is_time,
)


def _is_simple(kind: pa.DataType) -> bool:
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _is_simple(kind.value_type)
    return any(test(kind) for test in _SIMPLE)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A DataFrame that Streamlit, Plotly and CSV can all take, whatever the column types.

    Types pandas or Streamlit cannot hold (unions, maps, intervals, dates beyond pandas'
    range, DuckDB's extension types) become their text; duplicate column names get a suffix.
    """
    import pandas as pd

    columns: dict[str, Any] = {}
    for name, column in zip(_unique(table.column_names), table.columns, strict=True):
        converted = None
        if _is_simple(column.type):
            try:
                converted = column.to_pandas()
            except Exception:
                converted = None
        columns[name] = converted if converted is not None else _as_text(column)
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _unique(names: list[str]) -> list[str]:
    """``names`` made distinct with " (2)", " (3)" …, in one pass: a query names its columns, and
    thousands of clashing names (``1 "x (2)"``, ``1 x`` …) once took the server 35 s here."""
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}  # per name, where the search for a free suffix resumes
    out: list[str] = []
    for name in names:
        candidate = base = name or "column"
        if candidate in taken:
            n = next_suffix.get(base, 2)
            while f"{base} ({n})" in taken:
                n += 1
            candidate = f"{base} ({n})"
            next_suffix[base] = n + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _as_text(column: pa.ChunkedArray) -> pd.Series:
    import pandas as pd
    import pyarrow.compute as pc

    try:
        return pc.cast(column, pa.string()).to_pandas()
    except Exception:
        pass
    try:
        return pd.Series([None if v is None else str(v) for v in column.to_pylist()], dtype=object)
    except Exception:
        return pd.Series([f"<{column.type}>"] * len(column), dtype=object)
