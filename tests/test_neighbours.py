"""Previous and next on the post page: walking ``next`` visits the posts in the order of the
cards, for each sort Browse offers."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from lib import queries
from lib.filters import Filters
from lib.neighbours import around
from lib.store import connect_read_only


@pytest.fixture(scope="module")
def con(seeded_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(seeded_db)
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("filters", "sort"),
    [
        (Filters(), "newest"),
        (Filters(), "oldest"),
        (Filters(categories=("Large Model",)), "newest"),
        (Filters(q="模型"), queries.RELEVANCE),
    ],
)
def test_next_walks_the_list_in_the_order_of_the_cards(
    con: duckdb.DuckDBPyConnection, filters: Filters, sort: str
) -> None:
    cards = [c["id"] for c in queries.cards(con.cursor(), filters, sort, 1000, 0)]
    assert len(cards) > 3
    walked, post_id = [], cards[0]
    while post_id is not None:
        found = around(con.cursor(), filters, sort, post_id)
        assert found.position == len(walked) + 1 and found.total == len(cards)
        assert (found.previous or {}).get("id") == (walked[-1] if walked else None)
        walked.append(post_id)
        post_id = (found.next or {}).get("id")
    assert walked == cards


def test_a_post_outside_the_list_has_no_neighbours(con: duckdb.DuckDBPyConnection) -> None:
    (outside,) = con.execute("SELECT id FROM posts WHERE category = 'NLP' LIMIT 1").fetchone()
    found = around(con.cursor(), Filters(categories=("Python",)), "newest", outside)
    assert found.position is None and found.previous is None and found.next is None
