"""Links to a fitted topic made before a refit renamed it.

A topic is named by its most distinctive terms (``lib.topic_labels``), and a refit (at an
import that doubles the store, or ``python -m lib.topic_model refit``) may name the same
group of posts a little differently: a shared ``topic=`` link then named no topic and
matched no post, without a word. Such a name now leads to the topic sharing most of its
terms, and the page says so.
"""

from __future__ import annotations

import duckdb

from lib.topic_names import LABEL_SEPARATOR, OUTLIER, OUTLIER_LABEL, is_topic_name


def _terms(name: str) -> set[str]:
    return {part.strip().casefold() for part in name.split(LABEL_SEPARATOR) if part.strip()}


def renamed_topics(
    con: duckdb.DuckDBPyConnection, values: tuple[str, ...]
) -> dict[str, str | None]:
    """For each ``topic=`` value that looks like a topic's name but names none now: the
    topic now sharing most of its terms (the larger on a tie), or None when none shares
    any. Values that name a topic, and keywords, are left out."""
    names = [v for v in dict.fromkeys(values) if is_topic_name(v)]
    if not names:
        return {}
    rows = con.execute(
        "SELECT label, terms, size FROM topics WHERE topic_id <> ? ORDER BY size DESC, label",
        [OUTLIER],
    ).fetchall()
    labels = {OUTLIER_LABEL, *(label for label, _, _ in rows)}
    found: dict[str, str | None] = {}
    for name in names:
        if name in labels:
            continue
        wanted = _terms(name)
        best, shared_most = None, 0
        for label, terms, _ in rows:  # largest first, so a tie keeps the larger topic
            shared = len(wanted & (_terms(label) | {t.casefold() for t in terms}))
            if shared > shared_most:
                best, shared_most = label, shared
        found[name] = best
    return found
