"""Shared fixtures: a fresh store per test, built by the real ingest code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager

from lib.console import cache as console_cache
from lib.store import connect_read_only
from tests.helpers import (
    HOSTILE_EXCERPT,
    HOSTILE_TITLE,
    SECRET,
    FeedServer,
    build_store,
    folder_listing,
    multi_month_posts,
    query,
    seeded_store,
    snapshot,
)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "posts.duckdb")


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled data, imported once; tests that write must use ``db_path`` instead."""
    return seeded_store(tmp_path_factory.mktemp("seeded"))


@pytest.fixture(scope="module")
def multi_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Twenty months of posts (``multi_month_posts``), built once per test module."""
    return build_store(tmp_path_factory.mktemp("multi") / "posts.duckdb", multi_month_posts())


@pytest.fixture(scope="module")
def seeded_con(seeded_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the bundled data, as the app opens one."""
    connection = connect_read_only(seeded_db)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def multi_con(multi_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(multi_db)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One post whose every field tries Markdown, HTML or a ``javascript:`` link."""
    db = build_store(
        tmp_path_factory.mktemp("hostile") / "posts.duckdb",
        [
            {
                "title": HOSTILE_TITLE,
                "excerpt": HOSTILE_EXCERPT,
                "category": ":red[x]",
                "tags": ["<b>t</b>", "[y](javascript:alert(2))"],
                "date": "2025-01-01",
                "url": "javascript:alert(1)",
            }
        ],
    )
    assert query(db, "SELECT title, url FROM posts") == [(HOSTILE_TITLE, None)]
    return db


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The callables behind ``st.download_button(data=callable)``, by file name, to "click" them."""
    found: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def spy(self: MediaFileManager, data_callable: Any, *args: Any, **kwargs: Any) -> str:
        name = kwargs.get("file_name", args[2] if len(args) > 2 else None)
        found[name] = data_callable
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return found


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A blog's server on 127.0.0.1, answering what the test sets (``tests.helpers``)."""
    server = FeedServer()
    yield server
    server.close()


# --- The SQL console ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def console_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled data in a folder of its own, so that any file a query created would show."""
    return seeded_store(tmp_path_factory.mktemp("console-store"))


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where escape attempts try to write, with a file they try to read."""
    folder = tmp_path_factory.mktemp("console-target")
    (folder / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    (folder / "secret.csv").write_text(f"a,b\n{SECRET},1\n", encoding="utf-8")
    return folder


@pytest.fixture
def unchanged(console_store: str, target: Path) -> Iterator[None]:
    """Fails the test if the store, its folder or the target folder changed."""
    before = snapshot(console_store), folder_listing(target)
    yield
    assert (snapshot(console_store), folder_listing(target)) == before


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Query results, connections and console results are cached per process: every test
    starts without them, so no test sees another's store."""
    st.cache_data.clear()
    st.cache_resource.clear()
    console_cache.results.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    console_cache.results.clear()
