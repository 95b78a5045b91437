"""Shared fixtures: a fresh store per test, built by the real ingest code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import SECRET, folder_listing, query, seeded_store, snapshot, table_state

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
