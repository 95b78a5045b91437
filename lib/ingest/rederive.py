"""``python -m lib.ingest --rederive``: derive stored posts' text again from their source.

When a reading rule changes (what Markdown or HTML becomes, how an excerpt or a derived
title is cut), posts imported before it keep the text of the old rule. Each post stores its
source (``posts.body_source``, or its body, see :mod:`lib.ingest.records`), so its body, excerpt and
derived title can be derived again with today's rules and the changed posts re-indexed, in
one all-or-nothing write (``lib.store.write_transaction``). Posts of a store from before
schema 8 have no source and are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from lib.ingest.assemble import body_excerpt
from lib.ingest.fast_lane import derives_itself_sql
from lib.ingest.fields import clean_line, match_text
from lib.ingest.index import update_index
from lib.ingest.markdown import more_excerpt
from lib.ingest.records import kept_source_sql
from lib.ingest.sourcetext import readable_text
from lib.store import write_transaction
from lib.text import code_mark_in_language, derive_title, plain_excerpt

BATCH = 10_000  # posts read at a time, so a million bodies are never all in memory
_COLUMNS = (
    f"id, title, title_derived, excerpt, body, {kept_source_sql()} AS body_source, source_format"
)
DERIVED = ("title", "excerpt", "body")


@dataclass(frozen=True)
class RederiveSummary:
    posts: int  # with a stored source
    changed: int
    without_source: int

    def describe(self) -> str:
        return (
            f"re-derived {self.posts:,} post(s) from their stored source: {self.changed:,}"
            f" changed, {self.posts - self.changed:,} unchanged; {self.without_source:,}"
            " without a stored source (imported before sources were kept) left as they are"
        )


def rederive(db_path: str) -> RederiveSummary:
    """Derive every post's text again from its stored source; re-index those that changed."""
    with write_transaction(db_path) as con:
        (posts, without) = con.execute(
            f"SELECT count({kept_source_sql()}), count(*) - count({kept_source_sql()}) FROM posts"
        ).fetchall()[0]
        changed: list[dict[str, Any]] = []
        for row in _posts_to_read(con):
            fresh = derived_again(row)
            if any(fresh[name] != row[name] for name in DERIVED):
                changed.append(fresh)
        if changed:
            _store(con, changed)
            update_index(con, [post["id"] for post in changed])
    return RederiveSummary(posts, len(changed), int(without))


def _posts_to_read(con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    """Every post with a stored source but those of plain text that reads as itself (most
    of a large export's: SQL tells them, as the fast lane does), a batch at a time; nothing
    else may run on ``con`` until the stream is exhausted."""
    reader = con.sql(
        f"""SELECT {_COLUMNS} FROM posts
            WHERE {kept_source_sql()} IS NOT NULL AND NOT coalesce({derives_itself_sql()}, FALSE)"""
    ).to_arrow_reader(BATCH)
    for batch in reader:
        yield from batch.to_pylist()


def derived_again(post: dict[str, Any]) -> dict[str, Any]:
    """The post's title, excerpt and body as today's rules derive them from its source.

    The source derives the body, or, for a post without one (a listing card, a feed's
    summary), the excerpt. An excerpt is derived again only where it was derived: the
    opening of the body, or the text before a Markdown post's ``<!-- more -->``; an
    author's summary is kept. A title is derived again only where it was derived.
    """
    source, fmt = post["body_source"], post["source_format"]
    text = readable_text(source, fmt)
    text = code_mark_in_language(text, f"{post['title'] or ''} {text or ''}")
    fresh = dict(post)
    if post["body"] is None:
        fresh["excerpt"] = text if fmt == "text" else clean_line(text)
    else:
        fresh["body"] = text
        fresh["excerpt"] = _excerpt(post, text)
    if post["title_derived"]:
        fresh["title"] = derive_title(fresh["excerpt"] or fresh["body"])
    else:
        fresh["title"] = clean_line(post["title"])
    return fresh


def _excerpt(post: dict[str, Any], body: str | None) -> str | None:
    stored, old_body = post["excerpt"], post["body"]
    derived = (plain_excerpt(old_body), body_excerpt(old_body, post["title"]))
    if stored is None or stored in derived:  # derived then (by today's rule or the last)
        return body_excerpt(body, post["title"])
    if post["source_format"] == "markdown":
        before_more = more_excerpt(post["body_source"])
        opening = match_text(stored)
        if before_more and opening and match_text(old_body).startswith(opening):
            return clean_line(before_more)
    return stored


def _store(con: duckdb.DuckDBPyConnection, posts: list[dict[str, Any]]) -> None:
    table = pa.table(
        {name: pa.array([p[name] for p in posts], pa.string()) for name in ("id", *DERIVED)}
    )
    con.register("_rederived", table)
    try:
        con.execute(
            """UPDATE posts SET title = r.title, excerpt = r.excerpt, body = r.body
               FROM _rederived r WHERE posts.id = r.id"""
        )
    finally:
        con.unregister("_rederived")
