"""``/posts``: the cards for the current filters, paginated and sortable, with downloads."""

from __future__ import annotations

import io
import math

import pyarrow.parquet as pq
import streamlit as st

from lib import queries
from lib.spreadsheet import spreadsheet_csv
from ui import bad_params
from ui.active_filters import active_filters, reset_page
from ui.cards import card_list
from ui.filters import current, search_note
from ui.post_nav import LIST_PAGE_KEY, LIST_SORT_KEY
from ui.shell import require_shell
from ui.store_access import cursor, run

require_shell()

PAGE_SIZE = 20


PAGE_SEEN_KEY = "_page_url_seen"  # the URL's ``page`` when last read or written


def read_page_from_url() -> None:
    """Put the URL's ``page`` into the page box when the URL changed from outside (a first
    visit, a link, Back or Forward); otherwise the box holds the truth.

    The box is not bound to the URL: a bound box takes a first visit's value as it is
    (``page=999`` of 3 pages stayed in the box), and its changes replace the history entry
    instead of adding one, as paging should (``ui.filter_url`` does the same for filters).
    """
    in_url = st.query_params.get("page")
    if "page" not in st.session_state or in_url != st.session_state.get(PAGE_SEEN_KEY):
        st.session_state["page"] = in_url or "1"
        st.session_state[PAGE_SEEN_KEY] = in_url


def shown_page(asked: str, pages: int) -> int:
    """The page ``asked`` for, or the one shown instead, with a line saying why."""
    if not asked.strip():
        return 1
    try:
        number = int(asked.strip())
    except ValueError:
        st.caption(bad_params.note("page", asked, "not a page number"))
        return 1
    if number < 1:
        st.caption(bad_params.note("page", asked, "pages are numbered from 1"))
        return 1
    if number > pages:
        # The last page, as a list that shrank since the link was shared would want.
        st.caption(f":material/info: There are {pages:,} pages, not {number:,}: the last shown.")
        return pages
    return number


def write_page_to_url(page: int) -> None:
    """The page shown into the URL, as a new history entry when it changed; page 1 is left
    out, as a widget's default is."""
    wanted = None if page == 1 else str(page)
    if st.query_params.get("page") != wanted:
        if wanted is None:
            del st.query_params["page"]
        else:
            st.query_params["page"] = wanted
    st.session_state[PAGE_SEEN_KEY] = wanted


filters = current()
st.session_state[LIST_PAGE_KEY] = "pages/posts.py"  # where the post page's Back leads
st.title("Browse posts")
active_filters(filters)
total = run(queries.count, filters)
pages = max(1, math.ceil(total / PAGE_SIZE))

top = st.columns([2, 1.4, 1], vertical_alignment="bottom")
top[0].markdown(f"**{total:,}** posts match" if total != 1 else "**1** post matches")
search_note(filters, total)
# Relevance is offered (and the default) only while there is a search to rank by.
sorts = [queries.RELEVANCE, "newest", "oldest"] if filters.q else ["newest", "oldest"]
bad_params.check_choice("sort", sorts)
if st.session_state.get("sort", sorts[0]) not in sorts:
    del st.session_state["sort"]  # the default: left out of the URL, as a default is
# A segmented control and a text box, not a select box and a number box: the Overview has
# already loaded their code, where those two were chunks a first visit to Browse waited
# for after its last message (bench/README.md).
sort = top[1].segmented_control(
    "Sort",
    options=sorts,
    key="sort",
    bind="query-params",
    on_change=reset_page,
    default=sorts[0],
    required=True,
)
st.session_state[LIST_SORT_KEY] = sort  # the order of the post page's previous and next
read_page_from_url()
page = shown_page(str(st.session_state["page"]), pages)
st.session_state["page"] = str(page)  # the box shows the page shown
top[2].text_input(
    f"Page (of {pages:,})",
    key="page",
    validate=(r"^\s*[0-9]+\s*$", "A page number, such as 2."),
)
write_page_to_url(page)

card_list(run(queries.cards, filters, sort, PAGE_SIZE, (page - 1) * PAGE_SIZE), filters)


def _go_to(number: int) -> None:
    st.session_state["page"] = str(number)  # a callback: it runs before the page box is drawn


if total > PAGE_SIZE:
    # Paging below the cards too: on a phone the page box is twenty cards up.
    back, where, onward = st.columns([1, 2, 1], vertical_alignment="center")
    back.button(
        "← Previous page",
        key="page_back",
        disabled=page <= 1,
        on_click=_go_to,
        args=(page - 1,),
        width="stretch",
    )
    where.caption(f"Page {page:,} of {pages:,} · {PAGE_SIZE} posts per page")
    onward.button(
        "Next page →",
        key="page_onward",
        disabled=page >= pages,
        on_click=_go_to,
        args=(page + 1,),
        width="stretch",
    )


def _csv() -> bytes:
    # Exports are built on click and not cached: a million rows must not sit in the cache.
    return spreadsheet_csv(queries.export(cursor(), filters))


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(queries.export(cursor(), filters), buffer)
    return buffer.getvalue()


if total:
    # Behind one button: a download button's code is a chunk the browser loads and mounts
    # with the page, the last thing a visit to Browse waited for (bench/README.md).
    with st.popover("Download", icon=":material/download:"):
        if total > queries.EXPORT_LIMIT:
            st.caption(
                f"Downloads hold the newest {queries.EXPORT_LIMIT:,} of these {total:,} posts;"
                " narrow the filters, or export the whole store with `python -m lib.export`."
            )
        st.download_button(
            "Download CSV",
            data=_csv,
            file_name="posts.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            "Download Parquet",
            data=_parquet,
            file_name="posts.parquet",
            mime="application/vnd.apache.parquet",
            icon=":material/download:",
            on_click="ignore",
        )
