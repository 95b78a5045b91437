"""Shared fixtures: a fresh store per test, built by the real ingest code."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.config import SEED_DIR
from lib.ingest import run_ingest
from lib.store import connect_read_only

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "posts.duckdb")


def seeded_store(folder: Path) -> str:
    """A store in ``folder`` holding the bundled data, imported by the real ingest."""
    path = str(folder / "posts.duckdb")
    run_ingest(path, [str(SEED_DIR)])
    return path


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled data, imported once; tests that write must use ``db_path`` instead."""
    return seeded_store(tmp_path_factory.mktemp("seeded"))


def query(db: str, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = connect_read_only(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def table_state(db: str) -> list[tuple]:
    """Everything a user could see in the store, for before/after comparisons."""
    return query(db, "SELECT * FROM posts ORDER BY id") + query(
        db, "SELECT * FROM sightings ORDER BY post_id, source_digest, fingerprint"
    )
