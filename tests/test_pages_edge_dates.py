"""Every page over a post dated where no blog post can be: it opens, and the post has no date.

The stores are built by the real ingest from the CSV of the bug report (``0000-01-01``
came back from DuckDB as the text ``0001-01-01 (BC)`` and the Overview raised for every
visitor), and the pages opened in AppTest the way a link opens them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.ingest import run_ingest
from lib.store import write_transaction
from tests.helpers import card_meta, open_app, query

EDGE_DATES = ["0000-01-01", "9999-12-31", "-0001-01-01"]
# The bug report's file, with a dated post beside it so the Overview draws its chart.
REPORT = "title,excerpt,url,published\nY0,x,https://e.com/d,{date}\n"
DATED = "Dated,a post with a date,https://e.com/dated,2026-01-05\n"


def _store(folder: Path, written: str) -> str:
    source = folder / "y0.csv"
    source.write_text(REPORT.format(date=written) + DATED, encoding="utf-8")
    db = str(folder / "posts.duckdb")
    summary = run_ingest(db, [str(source)])
    assert summary.added == 2, summary.describe()
    return db


def _dates_shown(at: AppTest) -> list[str]:
    """The date part of every card's line and the post page's caption (category · date)."""
    lines = card_meta(at) + [c.value for c in at.caption]
    return [line.split(" · ")[1] for line in lines if line.startswith("Uncategorized · ")]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("written", EDGE_DATES)
def test_every_page_opens_and_shows_the_post_without_a_date(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, written: str
) -> None:
    db = _store(tmp_path, written)
    (post_id,) = query(db, "SELECT id FROM posts WHERE title = 'Y0'")[0]
    assert query(db, "SELECT published FROM posts WHERE id = ?", [post_id]) == [(None,)]

    overview = open_app(monkeypatch, db)
    assert _metrics(overview)["Date span"] == "2026-01-05"  # the dated post's alone
    assert _dates_shown(overview) == ["2026-01-05", "no date"]
    oldest = open_app(monkeypatch, db, page="pages/posts.py", params={"sort": "oldest"})
    assert _dates_shown(oldest) == ["2026-01-05", "no date"]  # undated posts come last
    search = open_app(monkeypatch, db, page="pages/posts.py", params={"q": "Y0"})
    assert _dates_shown(search) == ["no date"]
    post = open_app(monkeypatch, db, page="pages/post.py", params={"id": post_id})
    assert [t.value for t in post.title] == ["Y0"]
    assert _dates_shown(post) == ["no date"]
    open_app(monkeypatch, db, page="pages/topics.py")
    data = open_app(monkeypatch, db, page="pages/data.py")
    assert _metrics(data)["Dates out of range"] == "1"
    (runs,) = data.dataframe
    assert runs.value.iloc[0]["dates_out_of_range"] == 1


def test_a_store_written_before_the_rule_opens_once_upgraded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A store from schema 5 that an older import gave a BC date (DuckDB returns it as text)."""
    db = _store(tmp_path, "2026-01-04")
    with write_transaction(db) as con:
        con.execute("UPDATE posts SET published = '0000-01-01' WHERE title = 'Y0'")
        con.execute(
            """UPDATE post_keywords SET published = '0000-01-01'
               WHERE doc = (SELECT doc FROM posts WHERE title = 'Y0')"""
        )
        con.execute("ALTER TABLE ingest_runs DROP COLUMN IF EXISTS dates_out_of_range")
        con.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    assert query(db, "SELECT published::VARCHAR FROM posts WHERE title = 'Y0'") == [
        ("0001-01-01 (BC)",)
    ]
    overview = open_app(monkeypatch, db)
    assert _metrics(overview)["Date span"] == "2026-01-05"
    oldest = open_app(monkeypatch, db, page="pages/posts.py", params={"sort": "oldest"})
    assert _dates_shown(oldest) == ["2026-01-05", "no date"]
    assert query(db, "SELECT published FROM posts WHERE title = 'Y0'") == [(None,)]
