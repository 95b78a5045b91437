"""``/post?id=…``: everything stored about one post, its original link, and the way back."""

from __future__ import annotations

import streamlit as st

from lib.charts import label
from lib.dates import date_label
from lib.safe_text import (
    BODY_CHUNK_CHARS,
    TITLE_CHARS,
    clip,
    escape_markdown,
    highlighted,
    link_host,
    safe_link,
    shown,
    tag_list,
)
from ui.data import run
from ui.filters import current, query_params
from ui.shell import require_shell

require_shell()

filters = current()
post_id = st.query_params.get("id", "")
back = st.session_state.get("_last_list_page", "pages/posts.py")
st.page_link(back, label="Back", icon=":material/arrow_back:", query_params=query_params(filters))

post = run("post", post_id) if post_id else None
if post is None:
    st.title("Post not found")
    st.info(
        "No post has this id. It may have been removed by a re-import; browse the posts instead."
    )
    st.stop()

title = post["title"] or "Untitled post"
st.title(shown(title, TITLE_CHARS), anchor=False)
if len(title) > TITLE_CHARS:
    with st.expander(f"The whole title ({len(title):,} characters)"):
        st.markdown(shown(title, BODY_CHUNK_CHARS))
meta = [
    escape_markdown(label(post["category"])),
    date_label(post["published"]),
]
if post["title_derived"]:
    meta.append("title derived from the text (the source has none)")
st.caption(" · ".join(meta))
url = safe_link(post["url"])
if url:
    st.link_button(f"Read the original on {link_host(url)} ↗", url)
else:
    st.caption("The source gives no link to the original post.")
if post["tags"]:
    st.caption("Tags: " + tag_list(post["tags"], shown_tags=50))

text = post["body"] or post["excerpt"]
if text:
    more_key = f"_post_chars_{post['id']}"
    limit = st.session_state.get(more_key, BODY_CHUNK_CHARS)
    st.markdown(highlighted(text, filters.words, limit=limit))
    if len(text) > limit:
        left = len(text) - limit
        st.button(
            f"Show more ({left:,} more characters)",
            on_click=lambda: st.session_state.update({more_key: limit + BODY_CHUNK_CHARS}),
        )
    if not post["body"]:
        st.caption("Only the excerpt is known for this post.")

keywords = run("keywords", post["id"])
if keywords:
    st.caption("Keywords: " + " · ".join(shown(k, 40) for k in keywords))

similar = run("similar", post["id"])
if similar:
    st.subheader("Similar posts")
    for other in similar:
        st.page_link(
            "pages/post.py",
            label=escape_markdown(clip(other["title"] or "Untitled post", 90)),
            icon=":material/article:",
            query_params={**query_params(filters), "id": other["id"]},
        )

with st.expander("Where this post was seen"):
    st.write(
        f"First seen {post['first_seen']:%Y-%m-%d %H:%M},"
        f" last seen {post['last_seen']:%Y-%m-%d %H:%M},"
        f" {post['sightings']} sighting(s) merged into this one post."
    )
    st.dataframe(run("sightings_of", post["id"]), hide_index=True)
