"""``/post?id=…``: everything stored about one post, its original link, and the way back."""

from __future__ import annotations

import streamlit as st

from lib import queries, topics
from lib.charts import label
from lib.dates import date_label
from lib.ingest.fields import after_title
from lib.safe_text import (
    BODY_CHUNK_CHARS,
    CATEGORY_CHARS,
    TITLE_CHARS,
    clip,
    escape_markdown,
    highlighted,
    link_host,
    safe_link,
    shown,
    tag_list,
)
from lib.search import query_tokens
from lib.topic_terms import written_in
from ui.active_filters import active_filters
from ui.filter_url import filter_params
from ui.filters import current
from ui.post_nav import POST_PAGE, back_link, keyword_links, post_params, previous_next
from ui.shell import require_shell
from ui.store_access import run

require_shell()

filters = current()
post_id = st.query_params.get("id", "")
back_link(filters)

post = run(queries.post, post_id) if post_id else None
if post is None:
    st.title("Post not found")
    st.info(
        "No post has this id. It may have been removed by a re-import; browse the posts instead."
    )
    st.stop()

# A link to this same page (a similar post, previous, next) changes the post but not the
# address bar; writing the id makes Streamlit push it, so a reload shows this post.
st.query_params["id"] = post["id"]
title = post["title"] or "Untitled post"
st.title(shown(title, TITLE_CHARS), anchor=False)
active_filters(filters)
if len(title) > TITLE_CHARS:
    with st.expander(f"The whole title ({len(title):,} characters)"):
        st.markdown(shown(title, BODY_CHUNK_CHARS))
meta = [
    shown(label(post["category"]), CATEGORY_CHARS),
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

# The title is shown above: a body opening by repeating it (``# Title``) starts after it.
text = after_title(post["body"], post["title"]) if post["body"] else post["excerpt"]
if text:
    more_key = f"_post_chars_{post['id']}"
    limit = st.session_state.get(more_key, BODY_CHUNK_CHARS)
    st.markdown(highlighted(text, query_tokens(filters.q), limit=limit, paragraphs=True))
    if len(text) > limit:
        left = len(text) - limit
        st.button(
            f"Show more ({left:,} more characters)",
            on_click=lambda: st.session_state.update({more_key: limit + BODY_CHUNK_CHARS}),
        )
    if not post["body"]:
        st.caption("Only the excerpt is known for this post.")

topic = run(topics.post_topic, post["id"])
if topic:  # its main topic, a link to Browse filtered by it (the other filters kept)
    kept = {k: v for k, v in filter_params(filters).items() if k != "topic"}
    st.page_link(
        "pages/posts.py", label=f"Topic: {clip(topic, 120)}", query_params={**kept, "topic": topic}
    )
keywords = run(queries.keywords, post["id"])
if keywords:
    written = written_in(
        f"{post['title'] or ''}\n{post['body'] or post['excerpt'] or ''}", keywords
    )
    keyword_links(keywords, filters, written)
previous_next(filters, post["id"])

similar = run(queries.similar, post["id"])
if similar:
    st.subheader("Similar posts")
    for other in similar:
        st.page_link(
            POST_PAGE,
            label=escape_markdown(clip(other["title"] or "Untitled post", 90)),
            icon=":material/article:",
            query_params=post_params(filters, other["id"]),
        )

with st.expander("Where this post was seen"):
    st.write(
        # Import times, not publication dates: said so, as readers took them for the latter.
        f"First imported {post['first_seen']:%Y-%m-%d %H:%M},"
        f" last imported {post['last_seen']:%Y-%m-%d %H:%M},"
        f" {post['sightings']} sighting(s) merged into this one post."
    )
    st.dataframe(run(queries.sightings_of, post["id"]), hide_index=True)
