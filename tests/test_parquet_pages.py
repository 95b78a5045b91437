"""Every page on a Parquet dataset, and what the app says when ``POSTS_DB`` names a store it
cannot read, in AppTest (as in ``test_app_pages``: ``app.py`` with ``POSTS_DB`` set)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.export import export_parquet
from lib.safe_text import escape_markdown
from tests.helpers import (
    APP,
    BY_CATEGORY,
    SEEDED_FIGURES,
    card_titles,
    charts,
    markdown_tables,
    metrics,
    open_app,
    open_sql,
    query,
    result_frame,
)


@pytest.fixture(scope="module")
def dataset(seeded_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("pages-parquet") / "blog"
    export_parquet(seeded_db, str(target))
    return str(target)


def test_overview_on_a_dataset(monkeypatch: pytest.MonkeyPatch, dataset: str) -> None:
    at = open_app(monkeypatch, dataset)
    assert at.title[0].value == "Overview"
    assert metrics(at) == SEEDED_FIGURES
    assert len(card_titles(at)) == 6
    assert "Posts by category" in charts(at)


def test_browse_a_search_on_a_dataset(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str, dataset: str
) -> None:
    at = open_app(monkeypatch, dataset, "pages/posts.py", {"q": "FlashAttention"})
    on_file = open_app(monkeypatch, seeded_db, "pages/posts.py", {"q": "FlashAttention"})
    assert card_titles(at) == card_titles(on_file)
    assert card_titles(at)[0].startswith(":orange-background[**FlashAttention**]的关键创新")
    assert at.markdown[0].value == on_file.markdown[0].value  # "**n** posts match"


def test_topics_on_a_dataset(monkeypatch: pytest.MonkeyPatch, seeded_db: str, dataset: str) -> None:
    at = open_app(monkeypatch, dataset, "pages/topics.py")
    assert at.title[0].value == "Topics"
    on_file = open_app(monkeypatch, seeded_db, "pages/topics.py")
    (shown,), (expected,) = markdown_tables(at), markdown_tables(on_file)
    assert list(shown["topic"]) == list(expected["topic"])
    assert list(shown["posts"]) == list(expected["posts"])


def test_a_post_on_a_dataset(monkeypatch: pytest.MonkeyPatch, seeded_db: str, dataset: str) -> None:
    post_id, title = query(
        seeded_db, "SELECT id, title FROM posts WHERE title ILIKE '%FlashAttention%'"
    )[0]
    at = open_app(monkeypatch, dataset, "pages/post.py", {"id": post_id})
    assert [t.value for t in at.title] == [escape_markdown(title)]
    assert at.subheader[0].value == "Similar posts"


def test_data_page_on_a_dataset(monkeypatch: pytest.MonkeyPatch, dataset: str) -> None:
    at = open_app(monkeypatch, dataset, "pages/data.py")
    assert metrics(at)["Posts"] == "33"
    assert metrics(at)["Conflicts / rejected records"] == "0 / 0"
    assert len(at.dataframe[0].value) == 1  # the one ingest run


def test_sql_on_a_dataset(monkeypatch: pytest.MonkeyPatch, seeded_db: str, dataset: str) -> None:
    at = open_sql(monkeypatch, dataset, BY_CATEGORY)
    assert [e.value for e in at.error] == []
    frame = result_frame(at)
    rows = [(None if pd.isna(c) else c, int(n)) for c, n in frame.itertuples(index=False)]
    assert rows == query(seeded_db, BY_CATEGORY)
    labels = [e.label for e in at.expander]
    assert labels[0] == escape_markdown("posts · 33 rows")


def test_sql_on_a_dataset_still_refuses_files(
    monkeypatch: pytest.MonkeyPatch, dataset: str
) -> None:
    at = open_sql(monkeypatch, dataset, f"SELECT * FROM read_parquet('{dataset}/posts/*.parquet')")
    (shown,) = [e.value for e in at.error]
    assert escape_markdown("read_parquet() reads files") in shown


# --- Stores the app cannot read --------------------------------------------------------------


def open_failing(monkeypatch: pytest.MonkeyPatch, value: str) -> AppTest:
    monkeypatch.setenv("POSTS_DB", value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_missing_user_named_store_is_reported_not_created(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "typo.duckdb"
    at = open_failing(monkeypatch, str(missing))
    (shown,) = [e.value for e in at.error]
    assert escape_markdown(f"The store {missing} does not exist.") in shown
    assert [c.value for c in at.code] == [f"python -m lib.ingest --db {missing} SOURCE..."]
    assert not at.title  # no page drew half its content
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_motherduck_offline_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("motherduck_token", "fake-token-for-the-test")
    at = open_failing(monkeypatch, "md:blog")
    (shown,) = [e.value for e in at.error]
    assert escape_markdown("motherduck extension could not be loaded") in shown
    assert "fake-token-for-the-test" not in shown
