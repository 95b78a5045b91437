"""Shared fixtures: a fresh store per test, built by the real ingest code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from lib.console import cache as console_cache
from tests.helpers import (
    SECRET,
    FeedServer,
    folder_listing,
    query,
    seeded_store,
    snapshot,
    table_state,
)

# Builders that many tests still import from here; they live in tests/helpers.py.
__all__ = ["FIXTURES", "query", "seeded_store", "table_state"]

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "posts.duckdb")


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled data, imported once; tests that write must use ``db_path`` instead."""
    return seeded_store(tmp_path_factory.mktemp("seeded"))


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
