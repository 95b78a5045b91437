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

import contextlib
import os
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import duckdb
import numpy as np
import pyarrow as pa

from lib.ingest.sourcetext import code_names
from lib.parent_watch import exit_with_parent
from lib.search import K1, B, idf_sql
from lib.segment import default_segmenter
from lib.text import PLACEHOLDER
from lib.topic_model import update as update_topics

TITLE_WEIGHT = 2  # a word in the title counts as much as two in the text
KEYWORDS_PER_POST = 8
CHUNK = 4_000  # posts per batch: bounds memory and feeds the worker processes
PARALLEL_FROM = 20_000  # below this, starting worker processes costs more than it saves
# Only sources that can hold code blocks are sent to the segmenting workers.
CODE_SOURCE_SQL = "CASE WHEN p.source_format IN ('markdown', 'html') THEN p.body_source END"

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
    """A post's index terms and their counts, a word of the title counting twice."""
    segmenter = default_segmenter()
    counts = segmenter.counts(text)
    for token, n in segmenter.counts(head).items():
        counts[token] += n * TITLE_WEIGHT
    return counts


@dataclass
class _Chunk:
    """The postings of one batch of posts, as a worker returns them: sorted by term (in
    ``vocabulary`` order), then by doc, so that the main process can place every run of
    a term at its final position without sorting millions of rows again."""

    vocabulary: list[str]
    per_term: np.ndarray  # postings of each vocabulary term, in order
    docs: np.ndarray
    tfs: np.ndarray
    batch_docs: np.ndarray  # every doc of the batch, with its length in tokens
    doc_lens: np.ndarray
    # tf of each posting in the prose alone (0 for a name only the post's code has), for
    # keywords; None when the batch has no code names, and then it is ``tfs``.
    prose_tfs: np.ndarray | None = None


def _segment_chunk(batch: pa.RecordBatch) -> _Chunk:
    """Segment a batch of posts into postings; runs in a worker process.

    Per post only the segmentation itself runs in Python. Counting, dropping stop
    words (once per distinct word of the batch) and sorting by term are done for the
    whole batch in NumPy: the same counts as :func:`term_counts`.
    """
    segmenter = default_segmenter()
    columns = batch.to_pydict()
    tokens: list[str] = []
    lengths: list[int] = []
    sources = columns.get("code_source") or [None] * batch.num_rows  # fast-lane batches
    formats = columns.get("code_format") or [None] * batch.num_rows
    code: list[str] = []  # names only a post's code has, once per post (see code_names)
    code_lengths: list[int] = []
    for title, tags, excerpt, body, source, fmt in zip(
        columns["title"], columns["tags"], columns["excerpt"], columns["body"], sources, formats,
        strict=True,
    ):  # fmt: skip
        head, text = document_text(title, tags, excerpt, body)
        before = len(tokens)
        tokens += segmenter.raw_tokens(text)
        tokens += segmenter.raw_tokens(head) * TITLE_WEIGHT
        lengths.append(len(tokens) - before)
        names = code_names(source, fmt)
        prose = set(tokens[before:]) if names else ()
        fresh = dict.fromkeys(t for t in segmenter.raw_tokens(" ".join(names)) if t not in prose)
        code += fresh
        code_lengths.append(len(fresh))
    posts = len(lengths)
    from_code = len(tokens)  # the tokens past this one are code names
    tokens += code
    # Number each distinct token in order of first sight, in C (map over a defaultdict
    # whose default is its own size), then drop the unwanted words once per word.
    numbers: defaultdict[str, int] = defaultdict()
    numbers.default_factory = numbers.__len__
    index = np.fromiter(map(numbers.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    words = list(numbers)
    keep = np.array([segmenter.indexable(word) for word in words], dtype=bool)
    post = np.repeat(np.arange(posts, dtype=np.int64), lengths)
    if code:
        post = np.concatenate([post, np.repeat(np.arange(posts, dtype=np.int64), code_lengths)])
    counted = keep[index]
    # One sort of (term, post) keys both counts each pair and orders the postings.
    pairs, tfs = np.unique(index[counted] * posts + post[counted], return_counts=True)
    prose_tfs = None
    if code:  # a code name's pair is no pair of the prose: its keyword tf is 0
        code_pairs = index[from_code:] * posts + post[from_code:]
        prose_tfs = np.where(np.isin(pairs, code_pairs), 0, tfs).astype(np.int32)
    term_of, post_of = np.divmod(pairs, posts) if posts else (pairs, pairs)
    per_term = np.bincount(term_of, minlength=len(words))
    used = per_term > 0
    batch_docs = batch.column("doc").to_numpy(zero_copy_only=False).astype(np.int32)
    doc_lens = np.bincount(post_of, weights=tfs, minlength=posts).astype(np.int32)
    return _Chunk(
        vocabulary=[word for word, u in zip(words, used, strict=True) if u],
        per_term=per_term[used].astype(np.int64),
        docs=batch_docs[post_of],
        tfs=tfs.astype(np.int32),
        batch_docs=batch_docs,
        doc_lens=doc_lens,
        prose_tfs=prose_tfs,
    )


class _Postings:
    """Chunks gathered in doc order, each term's runs numbered as they arrive, so that
    the term-sorted postings are assembled by placing runs, not by sorting rows."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # term -> provisional number, in order of arrival
        self.totals = np.zeros(0, dtype=np.int64)  # postings so far, per provisional number
        self.chunks: list[tuple[_Chunk, np.ndarray, np.ndarray]] = []

    def add(self, chunk: _Chunk) -> int:
        ids = self.ids
        numbers = np.array(
            [ids.setdefault(term, len(ids)) for term in chunk.vocabulary], dtype=np.int64
        )
        if len(ids) > len(self.totals):
            self.totals = np.concatenate(
                [self.totals, np.zeros(len(ids) - len(self.totals), dtype=np.int64)]
            )
        before = self.totals[numbers]  # this chunk's runs follow the earlier chunks' runs
        self.totals[numbers] += chunk.per_term
        self.chunks.append((chunk, numbers, before))
        return len(chunk.batch_docs)

    def doc_lengths(self) -> pa.Table:
        return pa.table(
            {
                "doc": np.concatenate([c.batch_docs for c, _, _ in self.chunks]),
                "doc_len": np.concatenate([c.doc_lens for c, _, _ in self.chunks]),
            }
        )

    def assemble(
        self, term_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(term_id, doc, tf, prose tf) of every posting, sorted by term_id, then doc;
        ``term_ids`` gives each provisional number's term_id. The prose tf is the tf
        itself unless a batch had code names (``_Chunk.prose_tfs``)."""
        order = np.argsort(term_ids, kind="stable")
        starts = np.zeros(len(order), dtype=np.int64)
        starts[order] = np.cumsum(self.totals[order]) - self.totals[order]
        size = int(self.totals.sum())
        docs = np.empty(size, dtype=np.int32)
        tfs = np.empty(size, dtype=np.int32)
        coded = any(chunk.prose_tfs is not None for chunk, _, _ in self.chunks)
        prose = np.empty(size, dtype=np.int32) if coded else tfs
        for chunk, numbers, before in self.chunks:
            run_starts = np.cumsum(chunk.per_term) - chunk.per_term
            base = starts[numbers] + before - run_starts
            place = np.repeat(base, chunk.per_term) + np.arange(len(chunk.docs))
            docs[place] = chunk.docs
            tfs[place] = chunk.tfs
            if coded:
                prose[place] = chunk.tfs if chunk.prose_tfs is None else chunk.prose_tfs
        terms = np.repeat(term_ids[order].astype(np.int32), self.totals[order])
        return terms, docs, tfs, prose


def _batches(con: duckdb.DuckDBPyConnection, ids: str) -> Iterator[pa.RecordBatch]:
    """The posts to index, streamed in batches of ``CHUNK``; nothing else may run on
    ``con`` until the stream is exhausted."""
    reader = con.sql(
        f"""SELECT p.doc, p.title, p.tags, p.excerpt, p.body,
                   {CODE_SOURCE_SQL} AS code_source, p.source_format AS code_format
            FROM posts p JOIN {ids} c ON c.id = p.id ORDER BY p.doc"""
    ).to_arrow_reader(CHUNK)
    yield from reader


def _segment_all(
    con: duckdb.DuckDBPyConnection, ids: str, total: int, progress: Progress | None
) -> _Postings:
    """The postings of every post in ``ids``, segmented on every core when it pays."""
    workers = _workers()
    postings = _Postings()
    done = 0
    with contextlib.ExitStack() as stack:
        if total < PARALLEL_FROM or workers < 2:
            chunks: Iterator[_Chunk] = map(_segment_chunk, _batches(con, ids))
        else:
            pool = stack.enter_context(_worker_pool(workers))
            chunks = _in_workers(pool, _batches(con, ids), workers)
        for chunk in chunks:
            done += postings.add(chunk)
            if progress:
                progress(done, total)
    return postings


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes to segment in, which end with the import even when it is killed."""
    # "spawn": forking a process that runs DuckDB's threads is not safe. Once the workers
    # are gone, multiprocessing's resource tracker (whose pipe they hold) ends too.
    return ProcessPoolExecutor(
        workers,
        mp_context=get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


def _in_workers(
    pool: ProcessPoolExecutor, batches: Iterable[pa.RecordBatch], workers: int
) -> Iterator[_Chunk]:
    """Each batch segmented in ``pool``, in order, with at most twice as many batches in
    flight as workers: enough to keep them busy, few enough to bound memory."""
    pending: deque[Future[_Chunk]] = deque()
    for batch in batches:
        pending.append(pool.submit(_segment_chunk, batch))
        if len(pending) > workers * 2:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class Presegmented:
    """Segmentation of a run's new posts, started while they are still being written.

    Writing a million new posts is mostly single-threaded compression in DuckDB, so
    one core sits idle for half a minute; segmenting the same posts (their text, as
    the fast lane stores it unchanged) meanwhile puts it to work. The docs are
    numbered here as :func:`update_index` will number them (by id, after the highest
    stored doc), and :func:`update_index` uses the result only if the posts it
    re-indexes are exactly these, with exactly these docs; otherwise it drops it.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, posts: str) -> None:
        """Start on ``posts``: a query for (id, title, tags, excerpt, body)."""
        (base,) = con.execute("SELECT coalesce(max(doc), 0) FROM posts").fetchall()[0]
        table = con.sql(
            f"""SELECT (? + row_number() OVER (ORDER BY id))::INTEGER AS doc, id,
                       title, tags, excerpt, body
                FROM ({posts}) ORDER BY id""",
            params=[base],
        ).to_arrow_table()
        self.docs = table.select(["id", "doc"])
        self._stop = threading.Event()
        self._postings = _Postings()
        self._failure: BaseException | None = None
        self._workers = _workers()
        self._pool = _worker_pool(self._workers)
        self._thread = threading.Thread(target=self._feed, args=(table,), daemon=True)
        self._thread.start()

    def _feed(self, table: pa.Table) -> None:
        try:
            for chunk in _in_workers(self._pool, self._compact(table), self._workers):
                self._postings.add(chunk)
        except BaseException as exc:  # handed to the caller of result()
            self._failure = exc

    def _compact(self, table: pa.Table) -> Iterator[pa.RecordBatch]:
        """The posts in batches of ``CHUNK``, until :meth:`cancel`."""
        table = table.drop_columns(["id"])
        for offset in range(0, table.num_rows, CHUNK):
            if self._stop.is_set():
                return
            # A slice pickles with its whole table's buffers: send a compact copy.
            part = table.slice(offset, CHUNK)
            yield part.take(np.arange(part.num_rows)).combine_chunks().to_batches()[0]

    def result(self) -> _Postings:
        """The postings, once every batch is segmented."""
        self._thread.join()
        self._pool.shutdown()
        if self._failure is not None:
            raise self._failure
        return self._postings

    def cancel(self) -> None:
        """Stop and drop the work (the run failed, or its posts were not these); after
        :meth:`result`, it does nothing."""
        self._stop.set()
        self._pool.shutdown(cancel_futures=True)
        self._thread.join()


def _workers() -> int:
    return min(os.cpu_count() or 1, 4)


def _presegmented_fits(
    con: duckdb.DuckDBPyConnection, early: Presegmented | None, total: int
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
    early: Presegmented | None = None,
) -> int:
    """Re-index the posts in ``changed`` and any post never indexed; returns how many.

    Runs inside the import's transaction, so the index always matches the posts.
    ``early`` is segmentation started before (see :class:`Presegmented`): used if it
    covers exactly these posts, dropped otherwise.
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
        if early is not None:
            early.cancel()
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
    if _presegmented_fits(con, early, total):
        assert early is not None
        segmented = early.result()
    else:
        if early is not None:
            early.cancel()
        segmented = _segment_all(con, "_reindex", total, progress)
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
    _store_keywords(con, terms, docs, prose_tfs)
    refresh_topic_months(con)
    update_topics(con)
    return total


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


def _store_keywords(
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
    for place, (term_id, _, is_topical, value) in enumerate(sorted(rows, key=lambda r: r[1])):
        topical[term_id], idf[term_id], rank[term_id] = is_topical, value, place
    chosen = topical[terms] & (tfs > 0)  # a name only in the post's code is no keyword
    terms, docs, tfs = terms[chosen], docs[chosen], tfs[chosen]
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
