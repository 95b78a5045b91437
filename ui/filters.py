"""The filter panel shared by every page, kept in the URL so a view can be shared.

Widgets live in the sidebar of ``app.py`` and are rendered on every page, which
is what keeps the filters when the reader switches page. Their keys are the URL
parameters: ``category`` (repeated), ``from``, ``to``, ``q``, ``topic`` (repeated);
``ui.filter_url`` reads and writes them.
"""

from __future__ import annotations

import streamlit as st

from lib import queries, topic_links
from lib.charts import label
from lib.dates import published_years
from lib.filters import MAX_QUERY_CHARS, Filters
from lib.safe_text import CATEGORY_CHARS, escape_markdown, shown
from lib.search import PHRASE_TEXT_LIMIT
from ui.active_filters import reset_page
from ui.bad_params import check_filter_params
from ui.filter_url import current, read_url, write_url
from ui.store_access import run

__all__ = ["EARLIEST", "LATEST", "current", "filter_panel", "search_note"]

EARLIEST = published_years().earliest  # no post is dated outside the years the store keeps
LATEST = published_years().latest
CATEGORY_OPTIONS = 1_000  # categories offered in the box, the largest first
CATEGORIES_LISTED = 50  # categories counted under the box
CATEGORY_OPTION_CHARS = 200  # a longer name is no category a reader picks, but 1 MB a page


SEARCH_HELP = """Posts with every word come first, then those with most of them.

- `LoRA 显存`: both words (then either)
- `"旋转位置编码"`: the exact phrase
- `attention -flash`: leave out posts with a word
- `LoRA OR QLoRA`: either word
- `title:RoPE`, `tag:PyTorch`, `category:NLP`: in one field only

Words also find the longer words built on them (识别 → 人脸识别), ranked after the word
itself, and their other names (MoE → 混合专家)."""


def _clear() -> None:
    st.session_state["category"] = []
    st.session_state["from"] = None
    st.session_state["to"] = None
    st.session_state["q"] = ""
    st.session_state["topic"] = []
    reset_page()


def filter_panel() -> Filters:
    # Before the widgets: a value they cannot take is named, then left out.
    categories = [label(cat) for cat, _ in run(queries.category_counts, Filters())]
    in_url = tuple(st.query_params.get_all("topic"))
    renamed = run(topic_links.renamed_topics, in_url) if in_url else {}
    check_filter_params(categories, EARLIEST, LATEST, renamed)
    read_url(categories, EARLIEST, LATEST, renamed)
    with st.sidebar:
        st.subheader("Filters")
        category_box = st.container()
        st.text_input(
            "Words in the post",
            key="q",
            placeholder="e.g. LoRA, 显存, FlashAttention",
            max_chars=MAX_QUERY_CHARS,
            help=SEARCH_HELP,
        )
        in_url_kept = [t for t in in_url if t not in renamed]  # not a stale topic's name
        chosen = list(dict.fromkeys([*in_url_kept, *current().topics]))
        st.multiselect(
            "Topics",
            options=chosen,
            key="topic",
            accept_new_options=True,
            placeholder="Any topic: type one, or pick on Topics",
            help=(
                "Posts in any of these topics (pick them on the Topics page, where each is"
                " named by its terms), or, for a word typed here, posts that mention it."
            ),
        )
        for title, key in (("From", "from"), ("To", "to")):
            st.date_input(
                title,
                value=None,
                key=key,
                min_value=EARLIEST,
                max_value=LATEST,
                format="YYYY-MM-DD",
            )
        counts = [(label(cat), n) for cat, n in run(queries.category_counts, current())]
        chosen = set(current().categories)
        # No format_func: the options are the names the URL holds (counts go below). The
        # largest only, and those chosen: a file of 100,000 categories must not send them
        # all to every page.
        category_box.multiselect(
            "Category",
            options=[
                name
                for i, (name, _) in enumerate(counts)
                if (i < CATEGORY_OPTIONS and len(name) <= CATEGORY_OPTION_CHARS) or name in chosen
            ],
            key="category",
            placeholder="All categories",
        )
        more = len(counts) - CATEGORIES_LISTED
        category_box.caption(
            "Posts per category under the other filters: "
            + " · ".join(
                f"{shown(name, CATEGORY_CHARS)} **{n:,}**" for name, n in counts[:CATEGORIES_LISTED]
            )
            + (f" · and {more:,} more" if more > 0 else "")
        )
        st.button("Clear filters", on_click=_clear, width="stretch")
    write_url(current())
    return current()


def _quoted(words: tuple[str, ...]) -> str:
    return ", ".join(f"“{escape_markdown(w)}”" for w in words)


def search_note(filters: Filters, total: int) -> bool:
    """One line each for what the search did that the reader would not guess: a query it
    could not read, the stop words it left out, no post found, or how many of the posts
    have every word. Returns whether it said that nothing matched."""
    if not filters.q.strip():
        return False
    note = run(queries.search_note, filters)
    if note.error:
        st.warning(f"Search not understood: {escape_markdown(note.error)}", icon=":material/error:")
        return True
    if note.ignored:
        st.caption(
            f":material/info: Left out of the search as too common: {_quoted(note.ignored)}."
        )
    if note.unchecked:
        st.caption(
            f":material/info: {_quoted(note.unchecked)}: its words are together in over"
            f" {PHRASE_TEXT_LIMIT:,} posts, too many to check their order; matched as the words."
        )
    if total == 0:
        if filters.without_search() != Filters():
            return False  # the page's own line names the filters to try removing
        if not note.only_words:  # a phrase, a field or an exclusion may be what failed
            said = "No post matches this search."
        else:
            said = f"No post has {'any of these words' if note.every is not None else 'this word'}."
        st.info(said, icon=":material/search_off:")
        return True
    if note.any_word_fallback and note.every is not None:
        rest = total - note.every
        if note.every == 0:
            st.caption(
                f":material/info: No post has every word: showing the {total:,} with some,"
                " those with most first."
            )
        else:
            have = "post has" if note.every == 1 else "posts have"
            st.caption(
                f":material/info: {note.every:,} {have} every word; {rest:,} more"
                f" {'has' if rest == 1 else 'have'} some, listed after them by relevance."
            )
    return False
