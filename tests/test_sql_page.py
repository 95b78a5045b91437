"""The SQL page in AppTest: the query from the URL, examples, chart, CSV, and refusals.

As in ``test_app_pages``, each test starts from ``app.py`` with ``POSTS_DB`` pointing at a
store built by the real ingest, and expected rows come from plain DuckDB over that store.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import console
from lib.safe_text import escape_markdown
from tests.helpers import (
    BY_CATEGORY,
    HOSTILE_RAW,
    HOSTILE_TITLE,
    open_sql,
    plotly_values,
    query,
    result_frame,
    table_state,
)


def schema_tables(db: str) -> list[str]:
    # The store's own tables: the app's resolved searches (lib.selection) live in another
    # database of the same DuckDB instance, which this process shares with the app.
    sql = (
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1"
    )
    return [r[0] for r in query(db, sql)]


def no_result(at: AppTest) -> bool:
    return len(at.columns[0].dataframe) == 0


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_the_query_in_the_url_runs_and_shows_its_rows(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_sql(monkeypatch, seeded_db, BY_CATEGORY)
    assert at.title[0].value == "SQL"
    assert errors(at) == []
    assert at.text_area(key="sql").value == BY_CATEGORY
    frame = result_frame(at)
    assert list(frame.columns) == ["category", "posts"]
    rows = [(None if pd.isna(c) else c, int(n)) for c, n in frame.itertuples(index=False)]
    assert rows == query(seeded_db, BY_CATEGORY)
    assert f"{len(rows)} rows in " in " ".join(c.value for c in at.caption)
    assert at.query_params["sql"] in (BY_CATEGORY, [BY_CATEGORY])  # still shareable


def test_without_a_query_the_page_invites_one(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_sql(monkeypatch, seeded_db)
    assert [i.value for i in at.info] == ["Write a query, or pick an example above."]
    assert errors(at) == []
    assert no_result(at)
    assert len(at.columns[1].dataframe) == len(schema_tables(seeded_db))


def test_the_schema_is_shown_beside_the_box(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_sql(monkeypatch, seeded_db)
    labels = [e.label for e in at.expander]
    (total,) = query(seeded_db, "SELECT count(*) FROM posts")[0]
    assert labels[0] == escape_markdown(f"posts · {total:,} rows")
    assert {label.split(" ")[0].replace("\\", "") for label in labels} == set(
        schema_tables(seeded_db)
    )
    posts_columns = at.columns[1].dataframe[0].value
    expected = query(
        seeded_db,
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'posts' ORDER BY column_index",
    )
    assert list(posts_columns["column"]) == [r[0] for r in expected]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("COPY posts TO '/tmp/sql-page-escape.csv'", "COPY is refused"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() reads files"),
        ("DROP TABLE posts", "DROP is refused"),
        ("SELECT 1; DELETE FROM posts", "DELETE is refused"),
        ("SELECT getenv('HOME')", "getenv() is not available here"),
        ("SELECT * FROM '/etc/passwd'", "Unknown table '/etc/passwd'"),
    ],
)
def test_an_escape_attempt_shows_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str, sql: str, message: str
) -> None:
    before = table_state(seeded_db)
    at = open_sql(monkeypatch, seeded_db, sql)
    (shown,) = errors(at)
    assert escape_markdown(message) in shown
    assert "Traceback" not in shown
    assert no_result(at)
    assert table_state(seeded_db) == before
    assert not Path("/tmp/sql-page-escape.csv").exists()


def test_a_syntax_error_shows_the_message_and_where(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_sql(monkeypatch, seeded_db, "SELECT * FORM posts")
    (shown,) = errors(at)
    assert shown.startswith(escape_markdown("Parser Error: syntax error"))
    (detail,) = [c.value for c in at.code]
    assert "LINE 1: SELECT * FORM posts" in detail and "^" in detail


def test_a_runaway_query_is_cancelled_with_a_message(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    monkeypatch.setattr(console, "DEFAULT_TIMEOUT_S", 1.0)
    at = open_sql(
        monkeypatch,
        seeded_db,
        "SELECT sum(hash(a.range + b.range)) FROM range(100000) a, range(100000) b",
    )
    (shown,) = errors(at)
    assert shown.startswith(escape_markdown("Query cancelled after 1 s"))


def test_an_example_button_fills_the_box_and_runs_it(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_sql(monkeypatch, seeded_db)
    labels = [b.label for b in at.button if b.key and b.key.startswith("_sql_example_")]
    assert labels == list(console.EXAMPLES)
    at.button(key="_sql_example_0").click().run()
    sql = console.EXAMPLES[labels[0]]
    assert at.text_area(key="sql").value == sql
    assert at.query_params["sql"] in (sql, [sql])
    assert errors(at) == []
    frame = result_frame(at)
    expected = query(seeded_db, sql)
    assert [tuple(r) for r in frame.itertuples(index=False)] == expected


@pytest.mark.parametrize("index", range(len(console.EXAMPLES)))
def test_every_example_shows_rows(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str, index: int
) -> None:
    at = open_sql(monkeypatch, seeded_db)
    at.button(key=f"_sql_example_{index}").click().run()
    assert not at.exception and errors(at) == []
    assert len(result_frame(at)) > 0


def test_typing_a_query_runs_it(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_sql(monkeypatch, seeded_db)
    at.text_area(key="sql").input("SELECT count(*) AS n FROM sightings").run()
    assert errors(at) == []
    frame = result_frame(at)
    assert int(frame["n"][0]) == query(seeded_db, "SELECT count(*) FROM sightings")[0][0]


def test_one_click_charts_the_result(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_sql(monkeypatch, seeded_db, BY_CATEGORY)
    assert not at.get("plotly_chart")
    at.toggle(key="_sql_chart").set_value(True).run()
    assert errors(at) == []
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert figure["layout"]["title"]["text"] == "posts by category"
    (trace,) = figure["data"]
    assert trace["type"] == "bar"
    assert sum(plotly_values(trace["y"])) == query(seeded_db, "SELECT count(*) FROM posts")[0][0]


def test_the_result_downloads_as_csv(
    monkeypatch: pytest.MonkeyPatch,
    seeded_db: str,
    downloads: dict[str, Callable[[], Any]],
) -> None:
    at = open_sql(monkeypatch, seeded_db, BY_CATEGORY)
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]
    data = downloads["query.csv"]()
    assert data.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns) == ["category", "posts"]
    assert frame["posts"].sum() == query(seeded_db, "SELECT count(*) FROM posts")[0][0]


def test_a_truncated_result_says_so(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_sql(monkeypatch, seeded_db, "SELECT * FROM range(50000)")
    assert len(result_frame(at)) == console.MAX_ROWS
    (warning,) = [w.value for w in at.warning]
    assert escape_markdown("cut to the first 10,000 rows") in warning


def test_post_text_in_a_result_stays_inert(
    monkeypatch: pytest.MonkeyPatch,
    hostile_db: str,
) -> None:
    at = open_sql(monkeypatch, hostile_db, "SELECT title, category, tags FROM posts")
    assert errors(at) == []
    frame = result_frame(at)
    assert list(frame["title"]) == [HOSTILE_TITLE]  # shown as written, in a table cell
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for raw in HOSTILE_RAW:
        assert not any(raw in text for text in rendered), raw
