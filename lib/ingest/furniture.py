"""What a blogging platform adds to every post, which is not the post: read as nothing.

Substack's feed holds its subscribe forms, "Share" and "Subscribe now" buttons and image
expand buttons inside each post's HTML; Medium ends every post with "… was originally
published in … on Medium, where people are continuing the conversation …"; WordPress SEO
plugins end each feed item with "The post … appeared first on …". Left in, they lead every
excerpt's tail, fill the post page, and their words ("subscribe", "conversation",
"highlighting") become the keywords and topics of a whole blog. Elements are known by the
names the platform gives them (``data-component-name``, a class); sentences by their whole
paragraph, so a post that discusses Medium keeps every word it wrote.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Substack's components that hold no post text (its editor names each block it renders).
_COMPONENTS = frozenset(
    (
        "SubscribeWidgetToDOM",  # the email form and its "Thanks for reading" caption
        "ButtonCreateButton",  # "Subscribe now", "Share", "Leave a comment"
        "CaptionedButtonToDOM",
        "FootnoteAnchorToDOM",  # the footnote number glued to the word before it
        "SponsorshipCampaignToDOM",
        "PollToDOM",
        "EmbeddedPublicationToDOMWithSubscribe",
    )
)
# Classes of the same furniture, for feeds that keep classes but not component names, and
# of WordPress's "Continue reading" link, Jetpack's share and related-post blocks and
# Ghost's sign-up card.
_CLASSES = frozenset(
    (
        *("subscription-widget-wrap", "subscription-widget-wrap-editor", "subscription-widget"),
        *("button-wrapper", "captioned-button-wrap", "image-link-expand", "share-dialog"),
        *("footnote-anchor", "footnote-number", "sponsorship-campaign-embed", "poll-embed"),
        *("more-link", "sharedaddy", "jp-relatedposts", "kg-signup-card"),
    )
)

# Whole paragraphs a platform writes under (or into) every post.
_FOOTER_LINES = re.compile(
    "|".join(
        (
            r".{1,400}? was originally published in .{1,200}? on Medium, where people are"
            r" continuing the conversation by highlighting and responding to this story\.",
            r"The post .{1,400}? appeared first on .{1,200}?\.",
            r"Thanks for reading .{1,200}?! Subscribe for free to receive new posts and support"
            r" my work\.",
            r".{1,200}? is a reader-supported publication\. To receive new posts and support my"
            r" work, consider becoming a free or paid subscriber\.",
            # An image's credit, the first line of many Medium posts (and so their excerpt).
            r"\(?(?:Photo|Image|Picture|Illustration) (?:by|from) .{1,150}? on"
            r" (?:Unsplash|Pexels|Pixabay)\.?\)?",
            r"\(?(?:Photo|Image|Picture|Illustration|Figure) by (?:the )?author\.?\)?",
            # A translation's credits (the Hugging Face blog's Chinese posts end with them).
            r"(?:英文原文|原文链接|原文地址|原文作者|中文译者|译者|审校|校对|排版)\s*[:：].{0,300}",
            # A feed's link to the rest of the post (Substack's paid preview ends so).
            r"(?:Read more|Continue reading|Keep reading|Read the full (?:post|article))"
            r"(?: on .{1,80}?)?\s*(?:»|→|\.\.\.|…)?",
        )
    ),
    re.IGNORECASE,
)
_BLANK_LINES = re.compile(r"\n{3,}")


def is_furniture(attrs: list[tuple[str, str | None]]) -> bool:
    """True for an element a platform adds to every post (a subscribe form, a button)."""
    values = dict(attrs)
    if values.get("data-component-name") in _COMPONENTS:
        return True
    classes = values.get("class")
    return bool(classes) and not _CLASSES.isdisjoint(classes.split())


def without_footer_lines(text: str) -> str:
    """``text`` without the paragraphs (lines) a platform writes under every post."""
    if not text:
        return text
    lines = text.split("\n")
    kept = [line for line in lines if not _FOOTER_LINES.fullmatch(line.strip())]
    if len(kept) == len(lines):
        return text
    return _BLANK_LINES.sub("\n\n", "\n".join(kept)).strip()


def _is_tracking(key: str, value: str) -> bool:
    """A query parameter a platform adds to its feed's links to count the clicks: UTM
    campaign tags (FeedBurner, newsletters) and Medium's ``source=rss…``."""
    key = key.lower()
    return key.startswith("utm_") or (key == "source" and value.lower().startswith("rss"))


def without_tracking(link: str | None) -> str | None:
    """A feed entry's link without its click-counting parameters: the post's own address,
    which is what its source's permalink and a reader's bookmark say."""
    if not link or "?" not in link:
        return link
    try:
        parts = urlsplit(link)
    except ValueError:
        return link  # not a link: the URL rules refuse it later, with their reason
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(key, value) for key, value in query if not _is_tracking(key, value)]
    if len(kept) == len(query):
        return link
    return urlunsplit(parts._replace(query=urlencode(kept)))
