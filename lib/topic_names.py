"""How topics are named, shared by the model, the filter and the pages (no imports, so the
search module can use it without importing the model)."""

from __future__ import annotations

OUTLIER = -1
OUTLIER_LABEL = "(outliers)"
LABEL_SEPARATOR = " · "  # a ``topic=`` value holding it names a fitted topic, not a keyword


def is_topic_name(value: str) -> bool:
    """Whether a ``topic=`` value names a fitted topic; any other value is a keyword, as
    links made before topics were fitted (``topic=lora``) meant."""
    return LABEL_SEPARATOR in value or value == OUTLIER_LABEL
