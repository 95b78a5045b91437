"""The ``/data`` page's questions of a store (``lib/store_report.py``), against plain SQL."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from lib import store_report
from lib.store import connect_read_only
from tests.helpers import query


@pytest.fixture(scope="module")
def con(seeded_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(seeded_db)
    yield connection
    connection.close()


def test_quality_counts_match_the_store(con: duckdb.DuckDBPyConnection, seeded_db: str) -> None:
    expected = query(
        seeded_db,
        """SELECT count(*), count(*) - count(category), count(*) - count(published),
                  count(*) FILTER (WHERE title_derived), count(*) - count(title),
                  count(*) - count(url), count(*) FILTER (WHERE sightings > 1), sum(sightings)
           FROM posts""",
    )[0]
    sightings_rows = query(seeded_db, "SELECT count(*) FROM sightings")[0][0]
    quality = store_report.quality(con)
    assert quality == store_report.Quality(*expected, 0, 0)
    assert (quality.posts, quality.without_category, quality.without_date) == (33, 11, 11)
    assert quality.sightings == sightings_rows


def test_ingest_runs_lists_the_one_import(con: duckdb.DuckDBPyConnection) -> None:
    runs = store_report.ingest_runs(con)
    assert len(runs) == 1
    row = runs.iloc[0]
    assert (row["run_id"], row["added"], row["updated"], row["rejected"]) == (1, 33, 0, 0)
    assert store_report.conflicts(con).empty
