"""Post cards: untrusted text rendered inert, search words highlighted."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lib.charts import label
from lib.dates import date_label
from lib.filters import Filters
from lib.safe_text import (
    CATEGORY_CHARS,
    TITLE_CHARS,
    highlighted,
    link_host,
    safe_link,
    shown,
    tag_list,
)
from lib.search import query_tokens
from ui.filter_url import filter_params

EXCERPT_CHARS = 600


def card(post: dict[str, Any], filters: Filters) -> None:
    # Few elements a card: a browser mounts each of Streamlit's elements at a cost, and a
    # page shows 20 cards (bench/README.md). Title, line under it, excerpt and tags are one
    # Markdown block, the two links one row.
    words = query_tokens(filters.q)
    with st.container(border=True):
        title = post.get("title") or "Untitled post"
        meta = [
            shown(label(post.get("category")), CATEGORY_CHARS),
            date_label(post.get("published")),
        ]
        if post.get("title_derived"):
            meta.append("title derived from the text")
        blocks = [
            f"#### {highlighted(title, words, limit=TITLE_CHARS)}",
            f":small[:gray[{' · '.join(meta)}]]",
            highlighted(post["excerpt"], words, limit=EXCERPT_CHARS)
            if post.get("excerpt")
            else ":small[:gray[No excerpt.]]",
        ]
        if post.get("tags"):
            blocks.append(f":small[:gray[Tags: {tag_list(post['tags'])}]]")
        st.markdown("\n\n".join(blocks))
        links = st.container(horizontal=True, gap="medium", vertical_alignment="center")
        links.page_link(
            "pages/post.py",
            label="Read the post",
            icon=":material/article:",
            query_params={"id": post["id"], **filter_params(filters)},
        )
        url = safe_link(post.get("url"))
        if url:
            links.link_button(f"Original on {link_host(url)} ↗", url)


def _what_to_try(filters: Filters) -> str:
    """A suggestion naming only the filters that are set."""
    tries = [
        text
        for text, is_set in (
            ("removing a category", filters.categories),
            ("widening the dates", filters.start or filters.end),
            ("removing a topic", filters.topics),
            ("changing the words", filters.q.strip()),
        )
        if is_set
    ]
    return f" Try {' or '.join(tries)}." if tries else ""


def card_list(posts: list[dict[str, Any]], filters: Filters) -> None:
    if not posts:
        if filters.q.strip() and filters.without_search() == Filters():
            return  # the search's own note said why (ui.filters.search_note)
        st.info(f"No posts match these filters.{_what_to_try(filters)}")
        return
    for post in posts:
        card(post, filters)
