"""``lib.console.results``: whatever types a query makes reach a frame Streamlit can show.

Queries run against a store built by the real ingest (the ``console_store`` fixture), and
expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

import pyarrow as pa
from streamlit import dataframe_util

from lib.console import run_console, to_frame


def test_awkward_types_reach_a_displayable_frame(console_store: str) -> None:
    """Types pandas or Streamlit cannot hold become text; duplicate names get a suffix."""
    result = run_console(
        console_store,
        "SELECT union_value(k := 1) AS u, 'infinity'::DATE AS d, MAP {'a': 1} AS m,"
        " INTERVAL 1 DAY AS i, 1::BIGNUM AS b, [1, 2] AS l, {'x': 1} AS s,"
        " 'x'::ENUM('x', 'y') AS e, 1.5::DECIMAL(38, 2) AS dec, NULL AS n, 1 AS v, 2 AS v",
    )
    frame = result.frame
    assert list(frame.columns)[-2:] == ["v", "v (2)"]
    assert all(isinstance(frame.loc[0, name], str) for name in ("u", "d", "m", "i", "b"))
    dataframe_util.convert_anything_to_arrow_bytes(frame)  # what st.dataframe does
    assert result.csv().startswith(b"\xef\xbb\xbf")
    assert len(result.csv().decode("utf-8-sig").splitlines()) == 2


def test_thousands_of_clashing_column_names_are_made_distinct_in_one_pass() -> None:
    """Names that take the suffixes the duplicates would get: the old renaming walked every
    taken suffix for every duplicate, through a list (hours for this frame; an 18,860-character
    query of this shape held the server for 35 s)."""
    names = [f"x ({k})" for k in range(2, 4002)] + ["x"] * 8000 + ["", "", "column"]
    table = pa.table({f"c{i}": [1] for i in range(len(names))}).rename_columns(names)
    columns = list(to_frame(table).columns)
    assert len(set(columns)) == len(names)
    assert columns[:4000] == names[:4000] and columns[4000] == "x"  # the first keeps its name
    assert columns[4001:4003] == ["x (4002)", "x (4003)"]  # the next free suffixes, in order
    assert columns[-3:] == ["column", "column (2)", "column (3)"]
