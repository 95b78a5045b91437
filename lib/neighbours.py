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
        listed = f"SELECT p.id, s.score, p.doc FROM posts p JOIN ({scored}) s USING (doc)"
        order = "score DESC, doc"
    else:
        clause, params = selection.resolve(con, filters).where()
        listed = f"SELECT id, published, doc FROM posts WHERE {clause}"
        order = SORTS.get(sort, SORTS["newest"])
    # Titles are read after the window, for two posts: sorting a million rows with their
    # titles took 630 ms.
    row = con.execute(
        f"""SELECT prev_doc, next_doc, position, total FROM (
                SELECT id,
                       lag(doc) OVER w AS prev_doc, lead(doc) OVER w AS next_doc,
                       row_number() OVER w AS position, count(*) OVER () AS total
                FROM ({listed}) WINDOW w AS (ORDER BY {order}))
            WHERE id = ?""",
        [*params, post_id],
    ).fetchone()
    if row is None:
        return Neighbours(None, None, None, 0)
    prev_doc, next_doc, position, total = row
    # By doc, not id: docs are dense integers the store keeps in order, so two posts are found
    # through the row groups' zone maps instead of by comparing a million ids.
    found = {
        doc: (found_id, title)
        for doc, found_id, title in con.execute(
            "SELECT doc, id, title FROM posts WHERE doc IN (?, ?)", [prev_doc, next_doc]
        ).fetchall()
    }
    prev_id, prev_title = found.get(prev_doc, (None, None))
    next_id, next_title = found.get(next_doc, (None, None))
    return Neighbours(
        previous={"id": prev_id, "title": prev_title} if prev_id else None,
        next={"id": next_id, "title": next_title} if next_id else None,
        position=int(position),
        total=int(total),
    )
