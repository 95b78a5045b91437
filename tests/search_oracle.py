"""The reference the resolved search is checked against: every filter as plain SQL.

``lib.selection`` answers a search from bitmaps over the dense doc numbers; here the
same search is the slow, obvious ``doc IN (postings…)``, built from the same rules
(``lib.search.word_terms``, ``lib.search_plan.plan``, ``lib.search.soft_and``), over doc
sets instead of bitmaps. Product code never calls it: at a million posts it is slow.
"""

from __future__ import annotations

from lib.filters import Filters, where
from lib.search import (
    Algebra,
    Check,
    TokenTerms,
    check_condition,
    plan,
    query_terms,
    soft_and,
    topic_docs_sql,
    word_sets,
)

EVERY_POST = "(SELECT doc FROM posts WHERE doc IS NOT NULL)"
DOC_SETS = Algebra("INTERSECT", "UNION", EVERY_POST)


def _docs(terms: TokenTerms) -> str:
    return f"SELECT doc FROM postings WHERE term_id IN (SELECT term_id FROM ({terms.sql}))"


def matching_docs_sql(q: str) -> tuple[str, list[object]]:
    """The docs ``q`` matches, as a doc list (any word; every check; no exclusion)."""
    p = plan(q)
    if p.error:
        return "SELECT NULL::INTEGER AS doc WHERE FALSE", []
    found = query_terms(q)
    ctes = ", ".join(f"t{i} AS ({_docs(g)})" for i, g in enumerate(found))
    params: list[object] = [v for g in found for v in g.params]
    token = [f"(SELECT doc FROM t{i})" for i in range(len(found))]

    def check_set(check: Check) -> str:
        cond, cond_params = check_condition(check)
        params.extend(cond_params)
        narrowed = ""
        if check.tokens:
            narrowed = f" AND doc IN {DOC_SETS.all_of([token[i] for i in check.tokens])}"
        return f"(SELECT doc FROM posts WHERE doc IS NOT NULL{narrowed} AND {cond})"

    sql, _ = soft_and(word_sets(p, token, DOC_SETS), DOC_SETS)
    for check in p.required:
        sql = f"({sql} INTERSECT {check_set(check)})"
    for check in p.excluded:
        sql = f"({sql} EXCEPT {check_set(check)})"
    return f"{'WITH ' + ctes if ctes else ''} SELECT doc FROM {sql}", params


def where_with_search(filters: Filters, alias: str = "") -> tuple[str, list[object]]:
    """A ``WHERE`` clause of every filter, the words and topics as ``doc IN (…)``."""
    col = f"{alias}." if alias else ""
    clause, params = where(filters, alias)
    clauses = [] if clause == "TRUE" else [clause]
    if filters.q.strip():
        docs, docs_params = matching_docs_sql(filters.q)
        clauses.append(f"{col}doc IN ({docs})")
        params = [*params, *docs_params]
    if filters.topics:
        docs, docs_params = topic_docs_sql(filters.topics)
        clauses.append(f"{col}doc IN ({docs})")
        params = [*params, *docs_params]
    return (" AND ".join(clauses) or "TRUE"), params
