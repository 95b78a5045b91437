"""The filter panel's state, and the SQL ``WHERE`` clause it stands for.

Every page filters through :func:`where`, with parameters only, so the same view
is counted, charted and listed by exactly the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from lib.search import MAX_QUERY_CHARS, match_clauses, query_tokens, topic_clause

__all__ = ["MAX_QUERY_CHARS", "NO_CATEGORY", "Filters", "where"]

# The URL value, and the label, for "posts without a category". Streamlit writes a bound
# widget's displayed label into the URL, so value and label must be one and the same.
NO_CATEGORY = "Uncategorized"


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    q: str = ""
    topics: tuple[str, ...] = ()

    def without_categories(self) -> Filters:
        return replace(self, categories=())

    def without_search(self) -> Filters:
        return replace(self, q="")

    def columns_only(self) -> Filters:
        """The filters a post's own columns answer (category and dates), without the
        words and topics, which go through the index (see ``lib.selection``)."""
        return replace(self, q="", topics=())

    def search_only(self) -> Filters:
        """The words and topics alone: what ``lib.selection`` resolves once and keeps."""
        return Filters(q=self.q, topics=self.topics)

    @property
    def words(self) -> tuple[str, ...]:
        """The search tokens, as the index knows them: what cards highlight."""
        return query_tokens(self.q) if self.q.strip() else ()


def where(filters: Filters, alias: str = "") -> tuple[str, list[object]]:
    """A ``WHERE`` clause (``TRUE`` when nothing is filtered) and its parameters."""
    col = f"{alias}." if alias else ""
    clauses: list[str] = []
    params: list[object] = []
    if filters.categories:
        named = [c for c in filters.categories if c != NO_CATEGORY]
        parts = []
        if named:
            parts.append(f"{col}category IN ({', '.join('?' for _ in named)})")
            params.extend(named)
        if NO_CATEGORY in filters.categories:
            parts.append(f"{col}category IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")")
    if filters.start:
        clauses.append(f"{col}published >= ?")
        params.append(filters.start)
    if filters.end:
        clauses.append(f"{col}published <= ?")
        params.append(filters.end)
    if filters.q.strip():
        found, found_params = match_clauses(filters.q, col)
        clauses.extend(found)
        params.extend(found_params)
    if filters.topics:
        topic_sql, topic_params = topic_clause(filters.topics, col)
        clauses.append(topic_sql)
        params.extend(topic_params)
    return (" AND ".join(clauses) or "TRUE"), params
