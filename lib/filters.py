"""The filter panel's state, and the SQL ``WHERE`` clause of its categories and dates.

The words and topics select posts through the index: ``lib.selection`` resolves them,
and adds its test to :func:`where`'s clause, with parameters only, so the same view is
counted, charted and listed by exactly the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

__all__ = ["MAX_QUERY_CHARS", "NO_CATEGORY", "Filters", "where"]

MAX_QUERY_CHARS = 200  # what the search box takes, and the search reads

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


def where(filters: Filters, alias: str = "") -> tuple[str, list[object]]:
    """A ``WHERE`` clause of the categories and dates (``TRUE`` when neither is filtered)
    and its parameters; the words and topics are ``lib.selection``'s."""
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
    return (" AND ".join(clauses) or "TRUE"), params
