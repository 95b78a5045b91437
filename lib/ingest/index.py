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
time, so this is a small inverted index in plain tables.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lib.search import K1, B, idf_sql
from lib.segment import default_segmenter
from lib.text import PLACEHOLDER

TITLE_WEIGHT = 2  # a word in the title counts as much as two in the text
KEYWORDS_PER_POST = 8
CHUNK = 4_000  # posts per batch: bounds memory and feeds the worker processes
PARALLEL_FROM = 20_000  # below this, starting worker processes costs more than it saves

Progress = Callable[[int, int], None]


def document_text(title: str | None, tags: Sequence[str] | None, excerpt: str | None,
                  body: str | None) -> tuple[str, str]:  # fmt: skip
    """The title (with tags) and the text to index, the excerpt counted once.

    An excerpt is usually the opening of the body; indexing both would double the
    counts of every word in it.
    """
    head = " ".join([title or "", *(tags or ())])
    text = body or ""
    if excerpt:
        opening = PLACEHOLDER.sub(" ", excerpt)[:30].strip()
        if not text or opening not in PLACEHOLDER.sub(" ", text):
            text = f"{excerpt}\n{text}" if text else excerpt
    return head, PLACEHOLDER.sub(" ", text)


def term_counts(head: str, text: str) -> Counter[str]:
    segmenter = default_segmenter()
    counts = segmenter.counts(text)
    for token, n in segmenter.counts(head).items():
        counts[token] += n * TITLE_WEIGHT
    return counts


def _segment_chunk(batch: pa.RecordBatch, path: str) -> int:
    """Segment a batch of posts and write their (doc, term, tf) rows to ``path``.

    Runs in a worker process; writing Parquet there (rather than returning Python
    lists) leaves the main process nothing to do per term but one bulk read.
    """
    columns = batch.to_pydict()
    docs: list[int] = []
    term_ids: list[int] = []
    tfs: list[int] = []
    vocabulary: dict[str, int] = {}  # terms repeat: write each once, as a dictionary column
    for doc, title, tags, excerpt, body in zip(
        columns["doc"], columns["title"], columns["tags"], columns["excerpt"], columns["body"],
        strict=True,
    ):  # fmt: skip
        counts = term_counts(*document_text(title, tags, excerpt, body))
        term_ids.extend([vocabulary.setdefault(term, len(vocabulary)) for term in counts])
        tfs.extend(counts.values())
        docs.extend([doc] * len(counts))
    terms = pa.DictionaryArray.from_arrays(
        pa.array(term_ids, pa.int32()), pa.array(list(vocabulary), pa.string())
    )
    table = pa.table(
        {"doc": pa.array(docs, pa.int32()), "term": terms, "tf": pa.array(tfs, pa.int32())}
    )
    pq.write_table(table, path)
    return batch.num_rows


def _batches(con: duckdb.DuckDBPyConnection, ids: str) -> Iterator[pa.RecordBatch]:
    """The posts to index, streamed in batches of ``CHUNK``; nothing else may run on
    ``con`` until the stream is exhausted."""
    reader = con.sql(
        f"""SELECT p.doc, p.title, p.tags, p.excerpt, p.body
            FROM posts p JOIN {ids} c ON c.id = p.id ORDER BY p.doc"""
    ).to_arrow_reader(CHUNK)
    yield from reader


def _segment_all(
    con: duckdb.DuckDBPyConnection, ids: str, total: int, folder: str, progress: Progress | None
) -> str:
    """Postings files for every post in ``ids``, on every core when it pays; returns
    their glob."""
    workers = min(os.cpu_count() or 1, 4)
    done = 0
    paths = (os.path.join(folder, f"{n:06}.parquet") for n in itertools.count())
    if total < PARALLEL_FROM or workers < 2:
        for batch in _batches(con, ids):
            done += _segment_chunk(batch, next(paths))
            if progress:
                progress(done, total)
        return os.path.join(folder, "*.parquet")
    # "spawn": forking a process that runs DuckDB's threads is not safe.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending: list[Future[int]] = []
        for batch in _batches(con, ids):
            pending.append(pool.submit(_segment_chunk, batch, next(paths)))
            while len(pending) > workers * 2:
                done += pending.pop(0).result()
                if progress:
                    progress(done, total)
        for future in pending:
            done += future.result()
            if progress:
                progress(done, total)
    return os.path.join(folder, "*.parquet")


def update_index(
    con: duckdb.DuckDBPyConnection, changed: Sequence[str], progress: Progress | None = None
) -> int:
    """Re-index the posts in ``changed`` and any post never indexed; returns how many.

    Runs inside the import's transaction, so the index always matches the posts.
    """
    con.register("_changed_ids", pa.table({"id": pa.array(list(changed), pa.string())}))
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _reindex AS
               SELECT id FROM posts WHERE doc IS NULL
               UNION SELECT id FROM _changed_ids"""
        )
    finally:
        con.unregister("_changed_ids")
    total = int(con.execute("SELECT count(*) FROM _reindex").fetchall()[0][0])
    if total == 0:
        return 0
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
    # Terms whose counts change: those the posts had, and (below) those they have now.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _touched AS
           SELECT DISTINCT term_id FROM postings WHERE doc IN (SELECT doc FROM _docs)"""
    )
    con.execute("DELETE FROM postings WHERE doc IN (SELECT doc FROM _docs)")
    con.execute("DELETE FROM post_keywords WHERE doc IN (SELECT doc FROM _docs)")
    with tempfile.TemporaryDirectory(prefix="posts-index-") as folder:
        files = _segment_all(con, "_reindex", total, folder, progress)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _new AS SELECT doc, term, tf FROM read_parquet(?)",
            [files],
        )
    _add_terms(con)
    con.execute(
        """UPDATE posts SET doc_len = coalesce(l.n, 0) FROM _docs d
           LEFT JOIN (SELECT doc, sum(tf)::INTEGER AS n FROM _new GROUP BY doc) l
             ON l.doc = d.doc
           WHERE posts.doc = d.doc"""
    )
    _add_postings(con)
    con.execute(
        """UPDATE terms SET df = coalesce(c.n, 0)
           FROM _touched t LEFT JOIN (
               SELECT term_id, count(*)::INTEGER AS n FROM postings
               WHERE term_id IN (SELECT term_id FROM _touched) GROUP BY term_id) c
             USING (term_id)
           WHERE terms.term_id = t.term_id"""
    )
    _store_keywords(con)
    refresh_topic_months(con)
    con.execute("DROP TABLE _new")
    return total


def _add_terms(con: duckdb.DuckDBPyConnection) -> None:
    """Number the terms not seen before, and judge once whether each can be a topic."""
    fresh = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT term FROM _new EXCEPT SELECT term FROM terms ORDER BY 1"
        ).fetchall()
    ]
    segmenter = default_segmenter()
    con.register(
        "_fresh",
        pa.table({"term": fresh, "topical": [segmenter.is_topical(t) for t in fresh]}),
    )
    try:
        con.execute(
            """INSERT INTO terms
               SELECT (SELECT coalesce(max(term_id), 0) FROM terms)
                      + row_number() OVER (ORDER BY term), term, 0, topical
               FROM _fresh"""
        )
    finally:
        con.unregister("_fresh")
    con.execute(
        """INSERT INTO _touched SELECT DISTINCT t.term_id FROM _new n JOIN terms t USING (term)
           EXCEPT SELECT term_id FROM _touched"""
    )


def _add_postings(con: duckdb.DuckDBPyConnection) -> None:
    """Append the new postings in term order; rewrite the table sorted when the unsorted
    tail would grow past a fifth of it, so zone maps keep skipping other terms."""
    (old,) = con.execute("SELECT count(*) FROM postings").fetchall()[0]
    (new,) = con.execute("SELECT count(*) FROM _new").fetchall()[0]
    # BM25's tf part is stored with the posting, so ranking needs no join to the posts;
    # the average length drifts a little as the store grows, which moves scores little.
    fresh = f"""SELECT t.term_id, n.doc, n.tf,
                       n.tf * {K1 + 1} / (n.tf + {K1} * (1 - {B} + {B} * p.doc_len / a.avgdl))
                FROM _new n JOIN terms t USING (term) JOIN posts p ON p.doc = n.doc,
                     (SELECT greatest(avg(doc_len), 1) AS avgdl FROM posts) a"""
    if old and new * 5 > old:
        con.execute(
            f"""CREATE OR REPLACE TABLE postings AS
                SELECT * FROM (SELECT * FROM postings UNION ALL {fresh})
                ORDER BY term_id, doc"""
        )
    else:
        con.execute(f"INSERT INTO postings {fresh} ORDER BY term_id, doc")


def _store_keywords(con: duckdb.DuckDBPyConnection) -> None:
    """Each re-indexed post's top topical terms by TF-IDF, with the filter columns."""
    (old,) = con.execute("SELECT count(*) FROM post_keywords").fetchall()[0]
    con.execute(
        f"""INSERT INTO post_keywords
           SELECT doc, term, weight, category, published FROM (
               SELECT k.doc, k.term, k.weight, p.category, p.published,
                      row_number() OVER (PARTITION BY k.doc ORDER BY k.weight DESC, k.term) AS rank
               FROM (SELECT n.doc, n.term,
                            n.tf * {idf_sql("c.posts", "t.df")} AS weight
                     FROM _new n JOIN terms t USING (term),
                          (SELECT count(*) AS posts FROM posts WHERE doc IS NOT NULL) c
                     WHERE t.topical) k
               JOIN posts p ON p.doc = k.doc)
           WHERE rank <= ? ORDER BY published, doc""",
        [KEYWORDS_PER_POST],
    )
    (now,) = con.execute("SELECT count(*) FROM post_keywords").fetchall()[0]
    if old and (now - old) * 5 > old:
        # Appended rows are sorted among themselves; past a fifth of the table, sort it
        # all again so that date ranges keep skipping row groups.
        con.execute(
            "CREATE OR REPLACE TABLE post_keywords AS SELECT * FROM post_keywords"
            " ORDER BY published, doc"
        )


def refresh_topic_months(con: duckdb.DuckDBPyConnection) -> None:
    """Recount ``topic_months`` and ``keyed_months`` from ``post_keywords``.

    A full recount is one aggregation over the keywords (about a second at a million
    posts), simpler and safer than adjusting counts for changed posts.
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
