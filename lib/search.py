"""What a search matches and how it ranks, over the index ingest builds
(``lib.ingest.index``), in DuckDB SQL.

The one rule of what a word matches is :func:`word_terms`: a query token matches the
index term that is the token itself (for Latin words, also spelled with or without
separators: ``flash attention``, ``FlashAttention``), and, discounted, the longer terms
built on it (``显存`` in ``显存占用``, ``moe`` in ``deepseek-moe``). :func:`plan` reads a
query (``lib.query_syntax``) into the words a reader wrote, each with its alternatives
(``OR``, and the variants of ``data/dictionary/synonyms.txt``, discounted), and the
phrases, fields and exclusions a post must satisfy. The resolved search
(``lib.selection``), the ranking and the topic filter all go through these two functions
(:func:`plan` lives in ``lib.search_plan``).

Matching is a soft AND, as ``minimum_should_match`` or a web search engine: a post with
any word matches (the rule is :func:`soft_and`); posts with every word rank
first, then those with most words, each tier by BM25 (:func:`scores_sql`). Within a
word, a term family counts once: the exact term's score plus the best compound's,
discounted, so eight compounds of 识别 do not outweigh 识别 itself.

Everything here returns SQL and parameters; nothing reads the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lib.search_plan import (
    MAX_TOKENS,
    Alternative,
    Check,
    Plan,
    Word,
    plan,
    query_tokens,
)
from lib.segment import default_segmenter
from lib.text import CJK, singular_forms
from lib.topic_names import is_topic_name

__all__ = [
    "MAX_TOKENS",
    "Alternative",
    "Check",
    "Plan",
    "Word",
    "plan",
    "query_tokens",
]

MAX_EXPANSION = 64  # terms per query token, most frequent first
SINGULARS = 3  # what a plural may be the plural of, at most (``lib.text.singular_forms``)
PARTIAL_WEIGHT = 0.35  # a term that only contains the query token (a compound)
K1, B = 1.2, 0.75  # BM25's usual constants
# A phrase is checked against the stored text of the posts with all its words; past this
# many such posts that read takes seconds at a million posts, so the phrase is matched as
# its words and the page says so.
PHRASE_TEXT_LIMIT = 50_000


@dataclass(frozen=True)
class TokenTerms:
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


def word_terms(token: str, compounds: bool = True) -> TokenTerms:
    """THE rule of what a word matches: the index terms of ``token``, each with its weight
    (1 for the word itself, :data:`PARTIAL_WEIGHT` for a longer word built on it).

    Without ``compounds`` (a topic, which names one term), only the word itself.
    """
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
        # A plural also finds its singular (``transformers``, ``LLMs``), unless that is a
        # filler word (``news`` is not ``new``); the singular already finds the plural.
        # Always SINGULARS places (NULL matches nothing): the SQL's shape never depends on
        # what a reader typed, only on how many words.
        filler = default_segmenter().not_topics
        ones = [one for one in singular_forms(token) if one not in filler]
        ones += [None] * (SINGULARS - len(ones))
        places = ", ".join("?" * SINGULARS)
        same = f"(term = ? OR term IN ({places}) OR (starts_with(term, ?) AND {_COMPACT_TERM} = ?))"
        same_params = (token, *ones, squeezed[0], squeezed)
        # Each holds the token: ``contains`` first lets the regular expression see only
        # those, which is quicker.
        partial = (
            "(contains(term, ?) AND (starts_with(term, ?) OR ends_with(term, ?)"
            " OR regexp_matches(term, ?)))"
        )
        extra = (token, token, token, rf"[-._ ]{re.escape(token)}")
    if not compounds:
        partial, extra = "FALSE", ()
    sql = f"""SELECT term_id, df, CASE WHEN {same} THEN 1.0 ELSE {PARTIAL_WEIGHT} END AS w
              FROM terms WHERE df > 0 AND ({same} OR {partial})
              ORDER BY w DESC, df DESC, term LIMIT {MAX_EXPANSION}"""
    return TokenTerms(token, sql, (*same_params, *same_params, *extra))


def query_terms(q: str) -> list[TokenTerms]:
    """The terms of every token of the query ``q``, in :attr:`Plan.tokens` order."""
    p = plan(q)
    # A token only a variant brings matches itself alone: variants are discounted already,
    # and their compounds would widen the search past what the reader wrote.
    typed = {i for w in p.words for a in w.alternatives if a.weight == 1 for i in a.tokens}
    typed |= {i for c in (*p.required, *p.excluded) for i in c.tokens}
    return [word_terms(token, compounds=i in typed) for i, token in enumerate(p.tokens)]


# --- Which posts match: one algebra, over bitmaps (lib.selection) or doc sets (tests) ---


def check_condition(check: Check, col: str = "") -> tuple[str, list[object]]:
    """The condition on a post's stored columns that ``check`` adds to its tokens."""
    if check.kind == "phrase":
        text = (
            f"lower(concat_ws(' ', {col}title, array_to_string({col}tags, ' '),"
            f" {col}excerpt, {col}body))"
        )
        return f"contains({text}, ?)", [check.text]
    if check.kind == "title":
        return f"contains(lower(coalesce({col}title, '')), ?)", [check.text]
    if check.kind == "tag":
        return f"contains(lower(array_to_string({col}tags, chr(31))), ?)", [check.text]
    if check.kind == "category":
        return f"lower(coalesce({col}category, '')) = ?", [check.text]
    return "TRUE", []


@dataclass(frozen=True)
class Algebra:
    """How sets of posts combine: bitmaps, or doc lists."""

    both: str  # intersection
    either: str  # union
    everything: str  # the set of every post

    def all_of(self, parts: list[str]) -> str:
        return "(" + f" {self.both} ".join(parts) + ")"

    def any_of(self, parts: list[str]) -> str:
        return "(" + f" {self.either} ".join(parts) + ")"


def word_sets(p: Plan, token: list[str], algebra: Algebra) -> list[str]:
    """Each word's set of posts: any alternative, each with every one of its tokens,
    given ``token[i]``, the set of token ``i``."""
    return [
        algebra.any_of([algebra.all_of([token[i] for i in a.tokens]) for a in w.alternatives])
        for w in p.words
    ]


def soft_and(words: list[str], algebra: Algebra) -> tuple[str, str]:
    """THE rule of which posts a search keeps, given each word's set of posts
    (:func:`word_sets`): those with any word, and, apart, those with every word (counted
    for the page and ranked first). Checks, exclusions and topics then narrow both."""
    if not words:  # only checks or exclusions: every post they keep
        return algebra.everything, algebra.everything
    return algebra.any_of(words), algebra.all_of(words)


def idf_sql(posts: str, df: str) -> str:
    """BM25's inverse document frequency, as SQL over two column expressions; the
    ranking and the stored keywords weigh a term by the same rule."""
    return f"ln(1 + ({posts} - {df} + 0.5) / ({df} + 0.5))"


def topic_term(text: str) -> str:
    """What a ``topic=`` value stands for: a fitted topic's name as it is; else the index
    term of a typed keyword (``FlashAttention`` → ``flashattention``, ``Flash Attention``
    → ``flash attention``), as links made before topics were fitted meant."""
    if is_topic_name(text):
        return text
    tokens = default_segmenter().tokens(text)
    return tokens[0] if len(tokens) == 1 else " ".join(text.lower().split())


def topic_docs_sql(topics: tuple[str, ...]) -> tuple[str, list[object]]:
    """The docs in any of ``topics``: a fitted topic's posts (``post_topics``), or, for a
    value that names no topic, the posts that mention it as a keyword."""
    named = [t for t in topics if is_topic_name(t)]
    words = [topic_term(t) for t in topics if not is_topic_name(t)]
    parts, params = [], []
    if named:
        marks = ", ".join("?" for _ in named)
        parts.append(
            "SELECT doc FROM post_topics WHERE topic_id IN"
            f" (SELECT topic_id FROM topics WHERE label IN ({marks}))"
        )
        params += named
    if words or not named:
        marks = ", ".join("?" for _ in words) or "NULL"
        parts.append(
            "SELECT doc FROM postings WHERE term_id IN"
            f" (SELECT term_id FROM terms WHERE term IN ({marks}))"
        )
        params += words
    return " UNION ".join(parts), params


def scores_sql(
    token_terms: list[TokenTerms],
    words: tuple[Word, ...],
    filter_clause: str = "TRUE",
    soft: bool = True,
    top: int | None = None,
    doc_filter: str = "TRUE",
) -> tuple[str, list[object]]:
    """A query of ``(doc, score)``: BM25 over the postings, for posts with any of
    ``words`` (as :func:`soft_and` keeps them) that pass ``filter_clause`` (on
    the ``posts`` columns; ``TRUE`` skips the join).

    A token scores its exact term plus its best compound (discounted by the rule,
    :func:`word_terms`): a family of terms counts once. An alternative scores the sum of
    its tokens, times its weight, when the post has them all; a word scores its best
    alternative. With ``soft`` (a search), the score is the number of words the post has
    plus its BM25 squeezed below 1, so that every ``ORDER BY score DESC`` lists posts
    with every word first, then those with most; without (similar posts), plain BM25.

    ``doc_filter`` is a condition on ``h.doc`` alone (a bit test), whose parameters
    follow ``filter_clause``'s.

    With ``top``, only the best ``top`` posts need their right score (a page of cards):
    for one word, the others may be left out (:func:`_best_rows`).
    """
    used = sorted({i for w in words for a in w.alternatives for i in a.tokens})
    # Each token's word and weight, when every alternative is one token of one word (most
    # searches, dictionary variants included): then a word's score is the best of its
    # tokens' weighted parts, one plain aggregate per word.
    of_word = {a.tokens[0]: (k, a.weight) for k, w in enumerate(words) for a in w.alternatives}
    simple = all(len(a.tokens) == 1 for w in words for a in w.alternatives) and sum(
        len(w.alternatives) for w in words
    ) == len(of_word)
    unions = " UNION ALL ".join(
        f"SELECT {i} AS grp, {of_word.get(i, (0, 1.0))[0]} AS word,"
        f" {of_word.get(i, (0, 1.0))[1]} AS wt, term_id, df, w FROM ({token_terms[i].sql})"
        for i in used
    )
    params: list[object] = [p for i in used for p in token_terms[i].params]
    filtered = f"WHERE {doc_filter}"
    if filter_clause != "TRUE":
        filtered += f" AND h.doc IN (SELECT doc FROM posts WHERE {filter_clause})"
    pruned = ""
    if top is not None and simple and len(words) == 1 and soft:
        pruned = _best_rows(int(top), MAX_EXPANSION * len(used))
    if simple:
        hits, relevance, per_doc = _scores_one_token_each(len(words), "kept" if pruned else "tok")
    else:
        hits, relevance, per_doc = _scores_of_alternatives(words, used)
    score = "hits + relevance / (relevance + 1)" if soft else "relevance"
    sql = f"""
        WITH m AS ({unions}),
        n AS (SELECT count(*)::DOUBLE AS n FROM posts WHERE doc IS NOT NULL),
        hits AS (SELECT m.grp, m.word, s.doc,
                        m.w * {idf_sql("n.n", "m.df")} * s.impact AS part,
                        m.wt * m.w * {idf_sql("n.n", "m.df")} * s.impact AS weighted
                 FROM postings s JOIN m USING (term_id), n),
        tok AS (SELECT * FROM hits h {filtered}),{pruned}
        {per_doc},
        judged AS (SELECT doc, {hits} AS hits, {relevance} AS relevance FROM per_doc)
        SELECT doc, {score} AS score FROM judged WHERE hits > 0"""
    return sql, params


def _best_rows(top: int, rows_per_doc: int) -> str:
    """CTEs that narrow ``tok`` to the rows of the posts that can be among the ``top`` best
    of a one-word search, whose score rises with its best row's ``weighted``.

    Aggregating every post a broad word matches (most of a million) takes most of the
    search's time; a page needs a few. Rows in ``weighted`` order list each post first at
    its best, so the first ``top * rows_per_doc`` rows (a post has at most one per term of
    each token) hold the ``top`` best posts; the ``top``-th of those sets the cutoff.
    Posts under it cannot rank higher; the slack keeps ties within rounding of the score."""
    return f"""
        best AS (SELECT doc, weighted FROM tok ORDER BY weighted DESC, doc
                 LIMIT {top * rows_per_doc}),
        cutoff AS (SELECT min(m) AS v FROM (SELECT max(weighted) AS m FROM best
                   GROUP BY doc ORDER BY m DESC LIMIT {top})),
        kept AS (SELECT tok.* FROM tok, cutoff
                 WHERE tok.weighted >= cutoff.v - abs(cutoff.v) * 1e-9),"""


def _scores_one_token_each(size: int, rows: str = "tok") -> tuple[str, str, str]:
    """Like :func:`_scores_of_alternatives`, when each alternative is one token of one word
    (the postings hit read from ``rows``)."""
    if size == 1:
        return "1", "t", f"per_doc AS (SELECT doc, max(weighted) AS t FROM {rows} GROUP BY doc)"
    parts = ", ".join(
        f"coalesce(max(weighted) FILTER (WHERE word = {k}), 0) AS t{k}" for k in range(size)
    )
    per_doc = f"per_doc AS (SELECT doc, bit_or(1 << word) AS found, {parts} FROM tok GROUP BY doc)"
    return "bit_count(found)", " + ".join(f"t{k}" for k in range(size)), per_doc


def _scores_of_alternatives(words: tuple[Word, ...], used: list[int]) -> tuple[str, str, str]:
    """(words a post has, its relevance, the ``per_doc`` CTE they read) over ``tok``, the
    postings hit, in one aggregation per post: each token's best term (its family counted
    once); one per token and word stays one plain ``max``, as cheap as a sum."""
    # A bit per token present: cheaper than a distinct count of tokens per post.
    parts = ", ".join(f"coalesce(max(part) FILTER (WHERE grp = {i}), 0) AS t{i}" for i in used)
    per_doc = f"per_doc AS (SELECT doc, bit_or(1 << grp) AS matched, {parts} FROM tok GROUP BY doc)"

    def alternative(a: Alternative) -> tuple[str, str]:
        mask = sum(1 << i for i in a.tokens)
        has = f"(matched & {mask}) = {mask}"
        mean = f"({' + '.join(f't{i}' for i in a.tokens)}) / {len(a.tokens)}"
        return has, f"CASE WHEN {has} THEN {a.weight} * {mean} ELSE 0 END"

    has_word, word_score = [], []
    for w in words:
        found = [alternative(a) for a in w.alternatives]
        has_word.append("(" + " OR ".join(h for h, _ in found) + ")::INTEGER")
        scored = [s for _, s in found]
        word_score.append(f"greatest({', '.join(scored)})" if len(scored) > 1 else scored[0])
    return " + ".join(has_word) or "0", " + ".join(word_score) or "0", per_doc
