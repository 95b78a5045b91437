"""The posts before and after one post in a list's order: the post page's previous and next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from lib import selection
from lib.filters import Filters
from lib.queries import RELEVANCE, SORTS, ranked


@dataclass(frozen=True)
class Neighbours:
    previous: dict[str, Any] | None  # ``{"id", "title"}``, or None at the list's start
    next: dict[str, Any] | None
    position: int | None  # 1-based place of the post in the list; None when not in it
    total: int


def around(con: duckdb.DuckDBPyConnection, filters: Filters, sort: str, post_id: str) -> Neighbours:
    """The neighbours of ``post_id`` among the posts ``filters`` list, in the order of ``sort``
    (as Browse orders its cards: the same ties broken by ``doc``)."""
    if sort == RELEVANCE and filters.q.strip():
        scored, params = ranked(con, filters)
        listed = f"SELECT p.id, p.title, s.score, p.doc FROM posts p JOIN ({scored}) s USING (doc)"
        order = "score DESC, doc"
    else:
        clause, params = selection.clause(con, filters)
        listed = f"SELECT id, title, published, doc FROM posts WHERE {clause}"
        order = SORTS.get(sort, SORTS["newest"])
    row = con.execute(
        f"""SELECT prev_id, prev_title, next_id, next_title, position, total FROM (
                SELECT id,
                       lag(id) OVER w AS prev_id, lag(title) OVER w AS prev_title,
                       lead(id) OVER w AS next_id, lead(title) OVER w AS next_title,
                       row_number() OVER w AS position, count(*) OVER () AS total
                FROM ({listed}) WINDOW w AS (ORDER BY {order}))
            WHERE id = ?""",
        [*params, post_id],
    ).fetchone()
    if row is None:
        return Neighbours(None, None, None, 0)
    prev_id, prev_title, next_id, next_title, position, total = row
    return Neighbours(
        previous={"id": prev_id, "title": prev_title} if prev_id else None,
        next={"id": next_id, "title": next_title} if next_id else None,
        position=int(position),
        total=int(total),
    )
