"""Each post's keywords, and their counts per month, from the index's postings.

A post's keywords are its top ``KEYWORDS_PER_POST`` topical terms by TF-IDF, stored in
``post_keywords`` with the filter panel's columns (category, date), so that topic counts
are one aggregation with no join; ``topic_months`` and ``keyed_months`` count them per
month, so that topic lists over whole months aggregate thousands of rows, not millions.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from lib.search import idf_sql
from lib.text import CJK
from lib.topic_terms import number_fragment, singular

KEYWORDS_PER_POST = 8


def store_keywords(
    con: duckdb.DuckDBPyConnection, terms: np.ndarray, docs: np.ndarray, tfs: np.ndarray
) -> None:
    """Each re-indexed post's top topical terms by TF-IDF, with the filter columns.

    The postings of a million posts are too many to sort per post in SQL; the top
    ``KEYWORDS_PER_POST`` are picked here with one sort of integer keys. Weights are
    DuckDB's own (the idf of each term from SQL, times tf), so ties and order are the
    same as a window ``ORDER BY weight DESC, term`` in SQL.
    """
    rows = con.execute(
        f"""SELECT t.term_id, t.term, t.topical, {idf_sql("c.posts", "t.df")}
            FROM terms t, (SELECT count(*) AS posts FROM posts WHERE doc IS NOT NULL) c"""
    ).fetchall()
    size = max((row[0] for row in rows), default=0) + 1
    topical = np.zeros(size, dtype=bool)
    idf = np.zeros(size, dtype=np.float64)
    rank = np.zeros(size, dtype=np.int64)  # the term's place in term order
    for place, (term_id, term, is_topical, value) in enumerate(sorted(rows, key=lambda r: r[1])):
        # A piece of a number (``e-5`` of ``1e-5``) is searchable but names nothing.
        keyword = is_topical and not number_fragment(term)
        topical[term_id], idf[term_id], rank[term_id] = keyword, value, place
    chosen = topical[terms] & (tfs > 0)  # a name only in the post's code is no keyword
    terms, docs, tfs = terms[chosen], docs[chosen], tfs[chosen]
    singulars = _singular_ids([(row[0], row[1]) for row in rows if topical[row[0]]], size)
    docs, terms, tfs = _plurals_folded(docs, terms, tfs, singulars)
    top = _top_per_doc(docs, terms, tfs, idf, rank, KEYWORDS_PER_POST)
    (old,) = con.execute("SELECT count(*) FROM post_keywords").fetchall()[0]
    con.register("_keywords", pa.table({"doc": docs[top], "term_id": terms[top], "tf": tfs[top]}))
    try:
        con.execute(
            f"""INSERT INTO post_keywords
                SELECT k.doc, t.term, k.tf * {idf_sql("c.posts", "t.df")} AS weight,
                       p.category, p.published
                FROM _keywords k JOIN terms t USING (term_id) JOIN posts p ON p.doc = k.doc,
                     (SELECT count(*) AS posts FROM posts WHERE doc IS NOT NULL) c
                ORDER BY p.published, k.doc"""
        )
    finally:
        con.unregister("_keywords")
    (now,) = con.execute("SELECT count(*) FROM post_keywords").fetchall()[0]
    if old and (now - old) * 5 > old:
        # Appended rows are sorted among themselves; past a fifth of the table, sort it
        # all again so that date ranges keep skipping row groups.
        con.execute(
            "CREATE OR REPLACE TABLE post_keywords AS SELECT * FROM post_keywords"
            " ORDER BY published, doc"
        )


def _singular_ids(keyword_terms: list[tuple[int, str]], size: int) -> np.ndarray:
    """Each term id's keyword: a plural's is its singular's when the blog uses both
    (``topic_terms.singular``), so that a post is not about "embedding" and "embeddings"
    twice and a topic's posts are not split between its two spellings."""
    ids = {term: term_id for term_id, term in keyword_terms}
    latin = {term for term in ids if not CJK.search(term)}
    target = np.arange(size)
    for term, term_id in ids.items():
        if term in latin and (one := singular(term, latin)) is not None:
            target[term_id] = ids[one]
    return target


def _plurals_folded(
    docs: np.ndarray, terms: np.ndarray, tfs: np.ndarray, singulars: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings with each plural counted under its singular, a post's two spellings
    one posting (their counts added). Only postings of such pairs are sorted to merge."""
    plural = singulars != np.arange(len(singulars))
    if not plural.any():
        return docs, terms, tfs
    paired = plural.copy()
    paired[singulars[plural]] = True
    merged = paired[terms]
    key = (docs[merged].astype(np.int64) << 32) | singulars[terms[merged]]
    distinct, where = np.unique(key, return_inverse=True)
    counts = np.bincount(where, weights=tfs[merged]).astype(tfs.dtype)
    return (
        np.concatenate([docs[~merged], (distinct >> 32).astype(docs.dtype)]),
        np.concatenate([terms[~merged], (distinct & 0xFFFFFFFF).astype(terms.dtype)]),
        np.concatenate([tfs[~merged], counts]),
    )


def _top_per_doc(
    docs: np.ndarray,
    terms: np.ndarray,
    tfs: np.ndarray,
    idf: np.ndarray,
    rank: np.ndarray,
    keep: int,
) -> np.ndarray:
    """Indexes of each doc's ``keep`` postings of highest weight (tf * idf), ties to the
    term first in term order.

    Weights come from few (term, tf) pairs, so the pairs are ranked once and each
    posting sorts by one integer key: (doc, rank of its pair).
    """
    if len(docs) == 0:
        return np.zeros(0, dtype=np.int64)
    limit = int(tfs.max()) + 1
    pair = terms.astype(np.int64) * limit + tfs
    if len(idf) * limit <= 1 << 26:
        present = np.zeros(len(idf) * limit, dtype=bool)
        present[pair] = True
        distinct = np.flatnonzero(present)
        slot = np.zeros(len(present), dtype=np.int64)
        slot[distinct] = np.arange(len(distinct))
        pair_slot = slot[pair]
    else:
        distinct, pair_slot = np.unique(pair, return_inverse=True)
    pair_term, pair_tf = np.divmod(distinct, limit)
    weight = pair_tf.astype(np.float64) * idf[pair_term]
    order = np.lexsort((rank[pair_term], -weight))  # by weight descending, then term
    pair_rank = np.empty(len(distinct), dtype=np.int64)
    pair_rank[order] = np.arange(len(distinct))
    key = (docs.astype(np.int64) << 32) | pair_rank[pair_slot]
    sorting = np.argsort(key)
    ordered = key[sorting] >> 32
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    place = np.arange(len(ordered)) - np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))
    return sorting[place < keep]


def refresh_topic_months(con: duckdb.DuckDBPyConnection) -> None:
    """Recount ``topic_months`` and ``keyed_months`` from ``post_keywords``.

    A full recount is one aggregation over the keywords, simpler and safer than
    adjusting counts for changed posts.
    """
    con.execute("DELETE FROM topic_months")
    con.execute(
        """INSERT INTO topic_months
           SELECT term, category, date_trunc('month', published)::DATE AS month,
                  count(*)::INTEGER
           FROM post_keywords GROUP BY ALL ORDER BY term, month"""
    )
    con.execute("DELETE FROM keyed_months")
    con.execute(
        """INSERT INTO keyed_months
           SELECT category, date_trunc('month', published)::DATE AS month,
                  count(DISTINCT doc)::INTEGER
           FROM post_keywords GROUP BY ALL ORDER BY month"""
    )
