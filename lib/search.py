"""Search over the index that ingest builds (see ``lib.ingest.index``), in DuckDB SQL.

A query is segmented exactly as the posts were. Each query token becomes a group
of index terms: the token itself, and terms that contain it, so that ``显存`` also
finds ``显存占用``, a single character still finds the words it is part of, and
``moe`` finds ``moe-lightning``. A post matches when it has a term of every group;
when no post has every word (``FlashAttention 原理`` where no post says 原理), the posts
with any whole word match instead, those with most words first, as a web search would
rather show the FlashAttention post than nothing (:class:`Query`). Posts are ranked by
BM25, with terms that only contain the token counting half.

Everything here returns SQL and parameters; nothing reads the store, so the
filter clause stays a pure function of the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lib.segment import default_segmenter
from lib.text import CJK

MAX_QUERY_CHARS = 200
MAX_TOKENS = 8  # a pasted paragraph is not a query; its first words are
MAX_EXPANSION = 64  # terms per query token, most frequent first
PARTIAL_WEIGHT = 0.5  # a term that only contains the query token
K1, B = 1.2, 0.75  # BM25's usual constants


@dataclass(frozen=True)
class Query:
    """A query's search tokens, segmented as the posts were, and its words: for each word
    a reader wrote, the bits of its tokens (bit ``i`` for ``tokens[i]``).

    A query matches the posts with every word. When no post has them all, it matches
    those with any whole word instead; a word is never split up, so ``量子纠缠`` (cut
    into 量子 and 纠缠) does not fall back to posts about 量子 alone.
    """

    tokens: tuple[str, ...]
    words: tuple[int, ...]

    def word_tokens(self) -> list[list[int]]:
        """For each word, the indexes of its tokens."""
        return [[i for i in range(len(self.tokens)) if mask >> i & 1] for mask in self.words]


@lru_cache(maxsize=256)
def parse_query(q: str) -> Query:
    """The :class:`Query` of ``q`` (cached: one page asks for it a handful of times). A
    query made only of stop words (``的``) still searches for them literally, rather than
    silently matching everything."""
    text = q[:MAX_QUERY_CHARS]
    words = default_segmenter().words(text)
    if not words:
        words = [[w.lower()] for w in text.split()]
    tokens: list[str] = []
    masks: list[int] = []
    for word in words:
        mask = 0
        for token in word:
            if token not in tokens and len(tokens) < MAX_TOKENS:
                tokens.append(token)
            if token in tokens:
                mask |= 1 << tokens.index(token)
        if mask and mask not in masks:
            masks.append(mask)
    return Query(tuple(tokens), tuple(masks))


def query_tokens(q: str) -> tuple[str, ...]:
    """The query's search tokens (see :class:`Query`)."""
    return parse_query(q).tokens


@dataclass(frozen=True)
class Group:
    """One query token and the SQL that lists its matching terms with their weights."""

    token: str
    sql: str
    params: tuple[object, ...]


_SEPARATORS = re.compile(r"[-._ ]+")
# A term without its separators, in SQL: ``flash attention``, ``flash-attention`` and
# ``flashattention`` are one word spelled three ways.
_COMPACT_TERM = "replace(replace(replace(replace(term, ' ', ''), '-', ''), '.', ''), '_', '')"


def compact(token: str) -> str:
    """A Latin token without separators (``Flash Attention`` and ``FlashAttention`` match)."""
    return _SEPARATORS.sub("", token)


def group(token: str) -> Group:
    if CJK.search(token):
        # Chinese has no spaces: any term containing the token is a word built on it.
        same, same_params = "term = ?", (token,)
        partial, extra = "contains(term, ?)", (token,)
    else:
        # Latin words: the same word with or without separators; or as a prefix, a suffix
        # (``attention`` in ``flashattention``, written as one word), or a part after
        # - . _ or a space (``moe`` in ``deepseek-moe``); not any substring (``lora`` is
        # not in ``explorations``).
        squeezed = compact(token) or token
        same = f"(term = ? OR (starts_with(term, ?) AND {_COMPACT_TERM} = ?))"
        same_params = (token, squeezed[0], squeezed)
        # Each holds the token: ``contains`` first lets the regular expression see only
        # those (a third of the time over a vocabulary of 300,000 terms).
        partial = (
            "(contains(term, ?) AND (starts_with(term, ?) OR ends_with(term, ?)"
            " OR regexp_matches(term, ?)))"
        )
        extra = (token, token, token, rf"[-._ ]{re.escape(token)}")
    sql = f"""SELECT term_id, df, CASE WHEN {same} THEN 1.0 ELSE {PARTIAL_WEIGHT} END AS w
              FROM terms WHERE df > 0 AND ({same} OR {partial})
              ORDER BY w DESC, df DESC, term LIMIT {MAX_EXPANSION}"""
    return Group(token, sql, (*same_params, *same_params, *extra))


def groups(q: str) -> list[Group]:
    return [group(token) for token in query_tokens(q)]


def _docs_of(g: Group) -> str:
    return f"SELECT doc FROM postings WHERE term_id IN (SELECT term_id FROM ({g.sql}))"


def match_clauses(q: str, col: str = "") -> tuple[list[str], list[object]]:
    """``WHERE`` conditions that keep the posts ``q`` matches (see :func:`matching_docs_sql`)."""
    docs, params = matching_docs_sql(q)
    return [f"{col}doc IN ({docs})"], params


def _all_of(found: list[Group]) -> tuple[str, list[object]]:
    """The docs with a term of every one of ``found``, straight from the postings."""
    parts = [f"SELECT DISTINCT doc FROM ({_docs_of(g)})" for g in found]
    return " INTERSECT ".join(parts), [p for g in found for p in g.params]


def every_word_sql(q: str) -> tuple[str, list[object]]:
    """The docs with every word of ``q``."""
    return _all_of(groups(q))


def some_word_sql(q: str) -> tuple[str, list[object]]:
    """The docs with any whole word of ``q`` (see :class:`Query`)."""
    found = groups(q)
    parts, params = [], []
    for word in parse_query(q).word_tokens():
        sql, word_params = _all_of([found[i] for i in word])
        parts.append(f"({sql})")
        params += word_params
    return " UNION ".join(parts), params


def matching_docs_sql(q: str) -> tuple[str, list[object]]:
    """The docs ``q`` matches: those with every word, or, when no post has them all,
    those with any whole word (see :class:`Query`)."""
    every, params = every_word_sql(q)
    if len(parse_query(q).words) < 2:
        return every, params
    some, some_params = some_word_sql(q)
    sql = f"""WITH every AS ({every})
              SELECT doc FROM every
              UNION ALL
              SELECT doc FROM ({some}) WHERE NOT EXISTS (SELECT 1 FROM every)"""
    return sql, [*params, *some_params]


def idf_sql(posts: str, df: str) -> str:
    """BM25's inverse document frequency, as SQL over two column expressions; the
    ranking and the stored keywords weigh a term by the same rule."""
    return f"ln(1 + ({posts} - {df} + 0.5) / ({df} + 0.5))"


def topic_term(text: str) -> str:
    """The index term a typed topic stands for (``FlashAttention`` → ``flashattention``,
    ``Flash Attention`` → ``flash attention``)."""
    tokens = default_segmenter().tokens(text)
    return tokens[0] if len(tokens) == 1 else " ".join(text.lower().split())


def topic_docs_sql(topics: tuple[str, ...]) -> tuple[str, list[object]]:
    """The docs that mention any of ``topics`` (index terms, as the Topics page lists them)."""
    marks = ", ".join("?" for _ in topics)
    return (
        "SELECT doc FROM postings WHERE term_id IN"
        f" (SELECT term_id FROM terms WHERE term IN ({marks}))",
        [topic_term(t) for t in topics],
    )


def topic_clause(topics: tuple[str, ...], col: str = "") -> tuple[str, list[object]]:
    """Posts that mention any of ``topics``."""
    docs, params = topic_docs_sql(topics)
    return f"{col}doc IN ({docs})", params


def scores_sql(
    term_groups: list[Group],
    filter_clause: str = "TRUE",
    words: tuple[int, ...] | None = None,
    relaxed: bool | None = None,
) -> tuple[str, list[object]]:
    """A query of ``(doc, score)``: BM25 over the postings, for posts passing
    ``filter_clause`` (on the ``posts`` columns; ``TRUE`` skips the join).

    With ``words`` (a search: each word's bits over the groups, see :class:`Query`), a
    post must have every word, unless none of the posts passing the filter does; then
    any whole word will do, and a post's score is scaled by the share of the words it
    has, so that posts with more of them come first. Without, any group will do
    (similar posts, found through a post's own keywords). ``relaxed``, when known (from
    the search's resolved bitmap, ``lib.selection``), saves finding out again.
    """
    unions = " UNION ALL ".join(
        f"SELECT {i} AS grp, term_id, df, w FROM ({g.sql})" for i, g in enumerate(term_groups)
    )
    params: list[object] = [p for g in term_groups for p in g.params]
    filtered = ""
    if filter_clause != "TRUE":
        filtered = f"WHERE h.doc IN (SELECT doc FROM posts WHERE {filter_clause})"
    hits = f"""
        WITH m AS ({unions}),
        n AS (SELECT count(*)::DOUBLE AS n FROM posts WHERE doc IS NOT NULL),
        hits AS (SELECT m.grp, s.doc, m.w * {idf_sql("n.n", "m.df")} * s.impact AS part
                 FROM postings s JOIN m USING (term_id), n)"""
    # A bit per group, OR-ed: a distinct count of groups per post cost twice the search.
    if not words or len(words) == 1:
        full = (1 << len(term_groups)) - 1
        having = f"bit_or(1 << h.grp) = {full}" if words and full > 1 else "TRUE"
        sql = f"""{hits}
            SELECT h.doc, sum(h.part) AS score FROM hits h {filtered}
            GROUP BY h.doc HAVING {having}"""
        return sql, params
    size = len(words)
    hit = " + ".join(f"((matched & {m}) = {m})::INTEGER" for m in words)
    nobody = f"NOT EXISTS (SELECT 1 FROM per_doc WHERE hit = {size})"
    keep = {True: "hit > 0", False: f"hit = {size}"}.get(
        relaxed, f"hit = {size} OR (hit > 0 AND {nobody})"
    )
    sql = f"""{hits},
        grouped AS (SELECT h.doc, sum(h.part) AS score, bit_or(1 << h.grp) AS matched
                    FROM hits h {filtered} GROUP BY h.doc),
        per_doc AS (SELECT doc, score, {hit} AS hit FROM grouped)
        SELECT doc, score * hit / {size} AS score FROM per_doc WHERE {keep}"""
    return sql, params
