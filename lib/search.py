"""Search over the index that ingest builds (see ``lib.ingest.index``), in DuckDB SQL.

A query is segmented exactly as the posts were. Each query token becomes a group
of index terms: the token itself, and terms that contain it, so that ``显存`` also
finds ``显存占用``, a single character still finds the words it is part of, and
``moe`` finds ``moe-lightning``. A post matches when it has a term of every group;
it is ranked by BM25, with terms that only contain the token counting half.

Everything here returns SQL and parameters; nothing reads the store, so the
filter clause stays a pure function of the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lib.segment import default_segmenter

MAX_QUERY_CHARS = 200
MAX_TOKENS = 8  # a pasted paragraph is not a query; its first words are
MAX_EXPANSION = 64  # terms per query token, most frequent first
PARTIAL_WEIGHT = 0.5  # a term that only contains the query token
K1, B = 1.2, 0.75  # BM25's usual constants
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def query_tokens(q: str) -> tuple[str, ...]:
    """The query's search tokens, segmented as the posts were.

    A query made only of stop words (``的``) still searches for them literally,
    rather than silently matching everything.
    """
    text = q[:MAX_QUERY_CHARS]
    tokens = default_segmenter().tokens(text)
    if not tokens:
        tokens = [w.lower() for w in text.split()]
    return tuple(dict.fromkeys(tokens))[:MAX_TOKENS]


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
    if _CJK.search(token):
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
        partial = "(starts_with(term, ?) OR ends_with(term, ?) OR regexp_matches(term, ?))"
        extra = (token, token, rf"[-._ ]{re.escape(token)}")
    sql = f"""SELECT term_id, df, CASE WHEN {same} THEN 1.0 ELSE {PARTIAL_WEIGHT} END AS w
              FROM terms WHERE df > 0 AND ({same} OR {partial})
              ORDER BY w DESC, df DESC, term LIMIT {MAX_EXPANSION}"""
    return Group(token, sql, (*same_params, *same_params, *extra))


def groups(q: str) -> list[Group]:
    return [group(token) for token in query_tokens(q)]


def _docs_of(g: Group) -> str:
    return f"SELECT doc FROM postings WHERE term_id IN (SELECT term_id FROM ({g.sql}))"


def match_clauses(q: str, col: str = "") -> tuple[list[str], list[object]]:
    """``WHERE`` conditions that keep the posts matching every token of ``q``."""
    found = groups(q)
    return [f"{col}doc IN ({_docs_of(g)})" for g in found], [p for g in found for p in g.params]


def matching_docs_sql(q: str) -> tuple[str, list[object]]:
    """The docs matching every token of ``q``, straight from the postings (no posts scan)."""
    found = groups(q)
    parts = [f"SELECT DISTINCT doc FROM ({_docs_of(g)})" for g in found]
    return " INTERSECT ".join(parts), [p for g in found for p in g.params]


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
    term_groups: list[Group], filter_clause: str = "TRUE", require_all: bool = True
) -> tuple[str, list[object]]:
    """A query of ``(doc, score)``: BM25 over the postings, for posts passing
    ``filter_clause`` (on the ``posts`` columns; ``TRUE`` skips the join).

    With ``require_all`` a post must match every group (a search); without it any
    group will do (similar posts, found through a post's own keywords).
    """
    unions = " UNION ALL ".join(
        f"SELECT {i} AS grp, term_id, df, w FROM ({g.sql})" for i, g in enumerate(term_groups)
    )
    params: list[object] = [p for g in term_groups for p in g.params]
    # A bit per group, OR-ed: a distinct count of groups per post cost twice the search.
    full = (1 << len(term_groups)) - 1
    having = f"bit_or(1 << h.grp) = {full}" if require_all and len(term_groups) > 1 else "TRUE"
    filtered = ""
    if filter_clause != "TRUE":
        filtered = f"WHERE h.doc IN (SELECT doc FROM posts WHERE {filter_clause})"
    sql = f"""
        WITH m AS ({unions}),
        n AS (SELECT count(*)::DOUBLE AS n FROM posts WHERE doc IS NOT NULL),
        hits AS (SELECT m.grp, s.doc, m.w * {idf_sql("n.n", "m.df")} * s.impact AS part
                 FROM postings s JOIN m USING (term_id), n)
        SELECT h.doc, sum(h.part) AS score FROM hits h {filtered}
        GROUP BY h.doc HAVING {having}"""
    return sql, params
