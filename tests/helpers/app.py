"""Driving the app headless with ``streamlit.testing.v1.AppTest``, and reading what it shows."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from lib.config import REPO_ROOT

APP = str(REPO_ROOT / "app.py")

# The bundled snapshots' key figures, as the Overview shows them (a store or a dataset).
SEEDED_FIGURES = {
    "Posts": "33",
    "Categories": "5",
    "Date span": "2026-01-11",
    "Without category / date": "33% / 33%",
}

HOSTILE_TITLE = "<script>alert(1)</script> [x](javascript:alert(1)) :red[x] $x$"
HOSTILE_EXCERPT = "Read [x](javascript:alert(1)) then :red[x] and $x$ <script>alert(1)</script>"
# Raw forms that must never reach Streamlit's Markdown unescaped.
HOSTILE_RAW = ("<script>", "</script>", "[x](", "](javascript", ":red[", "$x$", "<b>")


def open_app(
    monkeypatch: pytest.MonkeyPatch,
    db: str,
    page: str | None = None,
    params: dict[str, str | list[str]] | None = None,
) -> AppTest:
    """Open the app at ``/`` with ``params`` in the URL, then go to ``page`` if given."""
    monkeypatch.setenv("POSTS_DB", db)
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        for key, value in (params or {}).items():
            at.query_params[key] = value
        at.switch_page(page).run()
    assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def card_titles(at: AppTest) -> list[str]:
    """The cards' titles, the first line of each card's one Markdown block."""
    return [
        m.value.removeprefix("#### ").split("\n\n", 1)[0]
        for m in at.markdown
        if m.value.startswith("#### ")
    ]


def card_meta(at: AppTest) -> list[str]:
    """Each card's line under its title (category · date …), as its Markdown writes it."""
    return [
        m.value.split("\n\n")[1].removeprefix(":small[:gray[").removesuffix("]]")
        for m in at.markdown
        if m.value.startswith("#### ")
    ]


def charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """The page's Plotly figures as JSON, by title."""
    figures = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    return {f["layout"]["title"]["text"]: f for f in figures}


def time_chart(at: AppTest) -> dict[str, Any]:
    """The page's one "Posts per …" chart (the interval is in its title)."""
    (title,) = [t for t in charts(at) if t.startswith("Posts per")]
    return charts(at)[title]


def plotly_values(value: Any) -> list[Any]:
    """A trace's array as a list, whether Plotly wrote it plainly or as typed base64."""
    if value is None:
        return []
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


# --- The SQL page -------------------------------------------------------------------------

SQL_PAGE = "pages/sql.py"
BY_CATEGORY = "SELECT category, count(*) AS posts FROM posts GROUP BY ALL ORDER BY posts DESC, 1"


def open_sql(monkeypatch: pytest.MonkeyPatch, db: str, sql: str | None = None) -> AppTest:
    """``/sql`` (with ``?sql=…`` when given), the way a shared link opens it."""
    monkeypatch.setenv("POSTS_DB", db)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if sql is not None:
        at.query_params["sql"] = sql
    at.switch_page(SQL_PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def result_frame(at: AppTest) -> pd.DataFrame:
    """The result table: the one dataframe under the box (the schema panel is beside it)."""
    assert len(at.columns) == 2, "the page is not laid out as box and schema"
    (frame,) = at.columns[0].dataframe
    return frame.value


def markdown_tables(at: AppTest) -> list[pd.DataFrame]:
    """The tables the page writes in Markdown, in order, each cell as the text a reader
    sees: read with the Markdown parser the app pins, so text from posts that was not
    escaped would lose its punctuation here (``*x*`` read as emphasis: ``x``)."""
    parser = MarkdownIt("commonmark").enable("table")
    tables = []
    for block in at.markdown:
        rows: list[list[str]] = []
        for token in parser.parse(block.value):
            if token.type == "tr_open":
                rows.append([])
            elif token.type == "inline" and rows:
                shown = [c.content for c in token.children or [] if c.type == "text"]
                rows[-1].append("".join(shown))
        if rows:
            tables.append(pd.DataFrame(rows[1:], columns=rows[0]))
    return tables
