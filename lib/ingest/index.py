"""The search and topic index, kept up to date by every import.

Segmentation is the slow part of search, so it happens here, once per changed
post, and never at page load. What it leaves in the store:

- ``posts.doc`` (a dense integer for joins) and ``posts.doc_len`` (tokens, for BM25);
- ``terms(term_id, term, df, topical)``: the vocabulary, with document frequencies;
- ``postings(term_id, doc, tf, impact)``: one row per post and term, with BM25's
  length-normalised tf, kept sorted by term so that DuckDB's zone maps read only a
  query term's own row groups;
- ``post_keywords(doc, term, weight, category, published)``: each post's top
  keywords by TF-IDF, with the columns the filter panel needs, so topic counts are
  one aggregation with no join; kept sorted by date, so a date range reads only
  its own row groups;
- ``topic_months(term, category, month, posts)`` and ``keyed_months(category, month,
  posts)``: those keywords counted per month, so topic lists over whole months
  aggregate thousands of rows instead of millions.

The DuckDB wheel has no ``fts`` extension and nothing may be downloaded at run
time, so this is a small inverted index in plain tables. The posts are segmented in
``lib.ingest.postings``; their keywords and month counts are ``lib.ingest.keywords``.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from lib.ingest.keywords import refresh_topic_months, store_keywords
from lib.ingest.postings import EarlySegmentation, Postings, Progress, segment_all
from lib.search import K1, B
from lib.segment import default_segmenter
from lib.topic_model import update as update_topics


def _early_fits(
    con: duckdb.DuckDBPyConnection, early: EarlySegmentation | None, total: int
) -> bool:
    """Whether the posts to re-index, with their docs, are exactly ``early``'s."""
    if early is None or early.docs.num_rows != total:
        return False
    con.register("_early_docs", early.docs)
    try:
        (same,) = con.execute(
            """SELECT count(*) FROM _reindex r JOIN posts p ON p.id = r.id
               JOIN _early_docs e ON e.id = p.id AND e.doc = p.doc"""
        ).fetchall()[0]
    finally:
        con.unregister("_early_docs")
    return same == total


def update_index(
    con: duckdb.DuckDBPyConnection,
    changed: Sequence[str],
    progress: Progress | None = None,
    early: EarlySegmentation | None = None,
) -> int:
    """Re-index the posts in ``changed`` and any post never indexed; returns how many.

    Runs inside the import's transaction, so the index always matches the posts.
    ``early`` is segmentation started before (see :class:`EarlySegmentation`): used if it
    covers exactly these posts, dropped otherwise.
    """
    total = _list_reindexed(con, changed)
    if total == 0:
        if early is not None:
            early.cancel()
        return 0
    _drop_old_entries(con)
    # Passed on, not kept here: the postings are freed once assembled.
    terms, docs, prose_tfs = _store_postings(con, _segmented(con, early, total, progress))
    store_keywords(con, terms, docs, prose_tfs)
    refresh_topic_months(con)
    update_topics(con)
    return total


def _list_reindexed(con: duckdb.DuckDBPyConnection, changed: Sequence[str]) -> int:
    """``_reindex``: the ids of ``changed`` and of every post never indexed; their count."""
    con.register("_changed_ids", pa.table({"id": pa.array(list(changed), pa.string())}))
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _reindex AS
               SELECT id FROM posts WHERE doc IS NULL
               UNION SELECT id FROM _changed_ids"""
        )
    finally:
        con.unregister("_changed_ids")
    return int(con.execute("SELECT count(*) FROM _reindex").fetchall()[0][0])


def _drop_old_entries(con: duckdb.DuckDBPyConnection) -> None:
    """Number the new posts of ``_reindex`` (after the highest doc, by id), and drop the
    postings and keywords of all of them, noting in ``_touched`` the terms they had."""
    con.execute(
        """UPDATE posts SET doc = n.doc FROM (
               SELECT r.id, (SELECT coalesce(max(doc), 0) FROM posts)
                            + row_number() OVER (ORDER BY r.id) AS doc
               FROM _reindex r JOIN posts p ON p.id = r.id WHERE p.doc IS NULL) n
           WHERE posts.id = n.id"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _docs AS
           SELECT p.doc FROM posts p JOIN _reindex r ON r.id = p.id"""
    )
    # Terms whose counts change: those the posts had, and (later) those they have now.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _touched AS
           SELECT DISTINCT term_id FROM postings WHERE doc IN (SELECT doc FROM _docs)"""
    )
    con.execute("DELETE FROM postings WHERE doc IN (SELECT doc FROM _docs)")
    con.execute("DELETE FROM post_keywords WHERE doc IN (SELECT doc FROM _docs)")


def _segmented(
    con: duckdb.DuckDBPyConnection,
    early: EarlySegmentation | None,
    total: int,
    progress: Progress | None,
) -> Postings:
    """The postings of the posts in ``_reindex``: ``early``'s if they fit, else made now."""
    if _early_fits(con, early, total):
        assert early is not None
        return early.result()
    if early is not None:
        early.cancel()
    return segment_all(con, "_reindex", total, progress)


def _store_postings(
    con: duckdb.DuckDBPyConnection, segmented: Postings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Store the terms, doc lengths and postings of ``segmented`` and recount the touched
    terms' df; returns (term_id, doc, prose tf) of every new posting, for the keywords."""
    term_ids = _add_terms(con, list(segmented.ids))
    lengths = segmented.doc_lengths()
    con.register("_lengths", lengths)
    try:
        con.execute(
            """UPDATE posts SET doc_len = l.doc_len FROM _lengths l WHERE posts.doc = l.doc"""
        )
    finally:
        con.unregister("_lengths")
    terms, docs, tfs, prose_tfs = segmented.assemble(term_ids)
    del segmented
    by_doc = np.zeros(int(lengths["doc"].to_numpy().max()) + 1, dtype=np.int32)
    by_doc[lengths["doc"].to_numpy()] = lengths["doc_len"].to_numpy()
    _add_postings(
        con, pa.table({"term_id": terms, "doc": docs, "tf": tfs, "doc_len": by_doc[docs]})
    )
    con.execute(
        """UPDATE terms SET df = coalesce(c.n, 0)
           FROM _touched t LEFT JOIN (
               SELECT term_id, count(*)::INTEGER AS n FROM postings
               WHERE term_id IN (SELECT term_id FROM _touched) GROUP BY term_id) c
             USING (term_id)
           WHERE terms.term_id = t.term_id"""
    )
    return terms, docs, prose_tfs


def _add_terms(con: duckdb.DuckDBPyConnection, vocabulary: list[str]) -> np.ndarray:
    """Number the terms not seen before (in term order, after the stored ones), and judge
    once whether each can be a topic; returns the term_id of each word of ``vocabulary``
    and adds them all to ``_touched``."""
    known = dict(con.execute("SELECT term, term_id FROM terms").fetchall())
    fresh = sorted(term for term in vocabulary if term not in known)
    first = max(known.values(), default=0) + 1
    segmenter = default_segmenter()
    con.register(
        "_fresh",
        pa.table(
            {
                "term_id": pa.array(range(first, first + len(fresh)), pa.int32()),
                "term": pa.array(fresh, pa.string()),
                "topical": pa.array([segmenter.is_topical(t) for t in fresh], pa.bool_()),
            }
        ),
    )
    try:
        con.execute("INSERT INTO terms SELECT term_id, term, 0, topical FROM _fresh")
    finally:
        con.unregister("_fresh")
    known.update(zip(fresh, range(first, first + len(fresh)), strict=True))
    ids = np.array([known[term] for term in vocabulary], dtype=np.int32)
    con.register("_seen_terms", pa.table({"term_id": ids}))
    try:
        con.execute(
            """INSERT INTO _touched SELECT term_id FROM _seen_terms
               EXCEPT SELECT term_id FROM _touched"""
        )
    finally:
        con.unregister("_seen_terms")
    return ids


def _add_postings(con: duckdb.DuckDBPyConnection, fresh_rows: pa.Table) -> None:
    """Append the new postings (already in term order); rewrite the table sorted when the
    unsorted tail would grow past a fifth of it, so zone maps keep skipping other terms."""
    (old,) = con.execute("SELECT count(*) FROM postings").fetchall()[0]
    new = fresh_rows.num_rows
    # BM25's tf part is stored with the posting, so ranking needs no join to the posts;
    # the average length drifts a little as the store grows, which moves scores little.
    fresh = f"""SELECT n.term_id, n.doc, n.tf,
                       n.tf * {K1 + 1} / (n.tf + {K1} * (1 - {B} + {B} * n.doc_len / a.avgdl))
                FROM _fresh_postings n,
                     (SELECT greatest(avg(doc_len), 1) AS avgdl FROM posts) a"""
    con.register("_fresh_postings", fresh_rows)
    try:
        if old and new * 5 > old:
            con.execute(
                f"""CREATE OR REPLACE TABLE postings AS
                    SELECT * FROM (SELECT * FROM postings UNION ALL {fresh})
                    ORDER BY term_id, doc"""
            )
        else:
            con.execute(f"INSERT INTO postings {fresh}")
    finally:
        con.unregister("_fresh_postings")
