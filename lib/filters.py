"""The filter panel's state, and the SQL ``WHERE`` clause it stands for.

Every page filters through :func:`where`, with parameters only, so the same view
is counted, charted and listed by exactly the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

# The URL value, and the label, for "posts without a category". Streamlit writes a bound
# widget's displayed label into the URL, so value and label must be one and the same.
NO_CATEGORY = "Uncategorized"
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    q: str = ""
    topics: tuple[str, ...] = ()

    def without_categories(self) -> Filters:
        return replace(self, categories=())

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for w in self.q[:MAX_QUERY_CHARS].split() if w))


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
    for word in filters.words:
        clauses.append(
            f"contains(lower(concat_ws(' ', {col}title, {col}excerpt, {col}body, "
            f"array_to_string({col}tags, ' '))), ?)"
        )
        params.append(word.lower())
    return (" AND ".join(clauses) or "TRUE"), params
