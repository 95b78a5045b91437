"""Segmenting posts into postings: per batch, on every core when it pays, and early.

Segmentation is the slow part of indexing, so it runs per batch of ``CHUNK`` posts in
worker processes (:func:`segment_all`); counting and sorting a batch's postings are done
in NumPy, and the batches' runs of each term are placed, not sorted, into the
term-sorted postings (:class:`Postings`). :class:`EarlySegmentation` starts on a run's
new posts while the fast lane is still writing them. ``lib.ingest.index`` stores the
result.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import duckdb
import numpy as np
import pyarrow as pa

from lib.ingest.sourcetext import code_names
from lib.parent_watch import exit_with_parent
from lib.segment import default_segmenter
from lib.text import PLACEHOLDER

TITLE_WEIGHT = 2  # a word in the title counts as much as two in the text
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
    text = _unplaced(body or "")
    if excerpt:
        shown = _unplaced(excerpt)
        if not text or shown[:30].strip() not in text:
            text = f"{shown}\n{text}" if text else shown
    return head, text


def _unplaced(text: str) -> str:
    """The text without its placeholders (``[代码]``), which no reader wrote."""
    return PLACEHOLDER.sub(" ", text) if "[" in text else text


@dataclass
class _BatchPostings:
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


def _batch_tokens(batch: pa.RecordBatch) -> tuple[list[str], list[int], list[str], list[int]]:
    """Every post's tokens one after the other (the title's ``TITLE_WEIGHT`` times), with
    each post's count; then the names only a post's code has (see ``code_names``), once
    per post, with each post's count."""
    segmenter = default_segmenter()
    columns = batch.to_pydict()
    tokens: list[str] = []
    lengths: list[int] = []
    sources = columns.get("code_source") or [None] * batch.num_rows  # fast-lane batches
    formats = columns.get("code_format") or [None] * batch.num_rows
    code: list[str] = []
    code_lengths: list[int] = []
    for title, tags, excerpt, body, source, fmt in zip(
        columns["title"], columns["tags"], columns["excerpt"], columns["body"], sources, formats,
        strict=True,
    ):  # fmt: skip
        head, text = document_text(title, tags, excerpt, body)
        before = len(tokens)
        tokens += segmenter.raw_tokens_apart((text, *(head,) * TITLE_WEIGHT))
        lengths.append(len(tokens) - before)
        names = code_names(source, fmt)
        if not names:  # a fast-lane post's, and most others'
            code_lengths.append(0)
            continue
        prose = set(tokens[before:])
        fresh = dict.fromkeys(t for t in segmenter.raw_tokens(" ".join(names)) if t not in prose)
        code += fresh
        code_lengths.append(len(fresh))
    return tokens, lengths, code, code_lengths


def _segment_batch(batch: pa.RecordBatch) -> _BatchPostings:
    """Segment a batch of posts into postings; runs in a worker process.

    Per post only the segmentation itself runs in Python. Counting, dropping stop
    words (once per distinct word of the batch) and sorting by term are done for the
    whole batch in NumPy, a word of the title counting ``TITLE_WEIGHT`` times.
    """
    segmenter = default_segmenter()
    tokens, lengths, code, code_lengths = _batch_tokens(batch)
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
    return _BatchPostings(
        vocabulary=[word for word, u in zip(words, used, strict=True) if u],
        per_term=per_term[used].astype(np.int64),
        docs=batch_docs[post_of],
        tfs=tfs.astype(np.int32),
        batch_docs=batch_docs,
        doc_lens=doc_lens,
        prose_tfs=prose_tfs,
    )


class Postings:
    """Chunks gathered in doc order, each term's runs numbered as they arrive, so that
    the term-sorted postings are assembled by placing runs, not by sorting rows."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # term -> provisional number, in order of arrival
        self.totals = np.zeros(0, dtype=np.int64)  # postings so far, per provisional number
        self.chunks: list[tuple[_BatchPostings, np.ndarray, np.ndarray]] = []

    def add(self, chunk: _BatchPostings) -> int:
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
        itself unless a batch had code names (``_BatchPostings.prose_tfs``)."""
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


def _posts_to_index(con: duckdb.DuckDBPyConnection, ids: str) -> Iterator[pa.RecordBatch]:
    """The posts to index, streamed in batches of ``CHUNK``; nothing else may run on
    ``con`` until the stream is exhausted."""
    reader = con.sql(
        f"""SELECT p.doc, p.title, p.tags, p.excerpt, p.body,
                   {CODE_SOURCE_SQL} AS code_source, p.source_format AS code_format
            FROM posts p JOIN {ids} c ON c.id = p.id ORDER BY p.doc"""
    ).to_arrow_reader(CHUNK)
    yield from reader


def segment_all(
    con: duckdb.DuckDBPyConnection, ids: str, total: int, progress: Progress | None
) -> Postings:
    """The postings of every post in ``ids``, segmented on every core when it pays."""
    workers = worker_count()
    postings = Postings()
    done = 0
    with contextlib.ExitStack() as stack:
        if total < PARALLEL_FROM or workers < 2:
            chunks: Iterator[_BatchPostings] = map(_segment_batch, _posts_to_index(con, ids))
        else:
            pool = stack.enter_context(_worker_pool(workers))
            chunks = _in_workers(pool, _posts_to_index(con, ids), workers)
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
) -> Iterator[_BatchPostings]:
    """Each batch segmented in ``pool``, in order, with at most twice as many batches in
    flight as workers: enough to keep them busy, few enough to bound memory."""
    pending: deque[Future[_BatchPostings]] = deque()
    for batch in batches:
        pending.append(pool.submit(_segment_batch, batch))
        if len(pending) > workers * 2:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class EarlySegmentation:
    """Segmentation of a run's new posts, started while they are still being written.

    Writing many new posts is mostly single-threaded compression in DuckDB, so the
    other cores sit idle meanwhile; segmenting the same posts (their text, as
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
        self._postings = Postings()
        self._failure: BaseException | None = None
        self._workers = worker_count()
        self._pool = _worker_pool(self._workers)
        self._thread = threading.Thread(target=self._feed, args=(table,), daemon=True)
        self._thread.start()

    def _feed(self, table: pa.Table) -> None:
        try:
            for chunk in _in_workers(self._pool, self._compact_batches(table), self._workers):
                self._postings.add(chunk)
        except BaseException as exc:  # handed to the caller of result()
            self._failure = exc

    def _compact_batches(self, table: pa.Table) -> Iterator[pa.RecordBatch]:
        """The posts in batches of ``CHUNK``, until :meth:`cancel`."""
        table = table.drop_columns(["id"])
        for offset in range(0, table.num_rows, CHUNK):
            if self._stop.is_set():
                return
            # A slice pickles with its whole table's buffers: send a compact copy.
            part = table.slice(offset, CHUNK)
            yield part.take(np.arange(part.num_rows)).combine_chunks().to_batches()[0]

    def result(self) -> Postings:
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


def worker_count() -> int:
    return min(os.cpu_count() or 1, 4)
