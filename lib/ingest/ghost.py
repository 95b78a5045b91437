"""A Ghost blog's JSON export (Settings → Labs → Export) as rows of posts.

The export is one object, ``{"db": [{"meta": …, "data": {"posts": […], "tags": […],
"posts_tags": […]}}]}``: pages, drafts and scheduled posts sit beside the published posts,
and tags are joined to posts through ``posts_tags``. Each published post becomes a row of
the ordinary export columns (its ``html`` as the body, its own excerpt, its tags in their
order), so the rest of the import reads it like any JSON export. The export holds no site
address: a post's link is its ``canonical_url``, else ``--base-url`` and its slug.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def ghost_posts(document: Any, base_url: str | None) -> list[dict[str, Any]] | None:
    """The published posts of a Ghost export as rows, or ``None`` for any other document."""
    data = _data(document)
    if data is None:
        return None
    # Internal tags ("#internal") steer templates and are never shown to a reader.
    tag_names = {
        t.get("id"): t.get("name")
        for t in _list(data, "tags")
        if isinstance(t, dict) and not str(t.get("name") or "").startswith("#")
    }
    tags_of: dict[Any, list[tuple[int, str]]] = {}
    for link in _list(data, "posts_tags"):
        if isinstance(link, dict) and (name := tag_names.get(link.get("tag_id"))):
            order = link.get("sort_order")
            tags_of.setdefault(link.get("post_id"), []).append(
                (order if isinstance(order, int) else 0, str(name))
            )
    zone = _site_timezone(data)
    rows = []
    for post in _list(data, "posts"):
        if not isinstance(post, dict) or not _published_post(post):
            continue
        rows.append(
            {
                "title": post.get("title"),
                "body": post.get("html") or post.get("plaintext"),
                "format": "html" if post.get("html") else "text",
                "excerpt": post.get("custom_excerpt"),
                "published": _site_time(post.get("published_at"), zone),
                "tags": [name for _, name in sorted(tags_of.get(post.get("id"), []))],
                "url": post.get("canonical_url") or _link(base_url, post.get("slug")),
                "guid": post.get("uuid") or post.get("id"),
            }
        )
    return rows


def _data(document: Any) -> Mapping[str, Any] | None:
    if not isinstance(document, dict) or not isinstance(document.get("db"), list):
        return None
    first = document["db"][0] if document["db"] else None
    data = first.get("data") if isinstance(first, dict) else None
    return data if isinstance(data, dict) and isinstance(data.get("posts"), list) else None


def _site_timezone(data: Mapping[str, Any]) -> ZoneInfo | None:
    """The blog's time zone (its ``timezone`` setting), in which Ghost shows post dates."""
    for setting in _list(data, "settings"):
        if isinstance(setting, dict) and setting.get("key") == "timezone":
            try:
                return ZoneInfo(str(setting.get("value")))
            except (ZoneInfoNotFoundError, ValueError):
                return None
    return None


def _site_time(value: object, zone: ZoneInfo | None) -> object:
    """``published_at`` (UTC) in the blog's own time zone, so its day is the one shown."""
    if zone is None or not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value  # read, or refused, by the ordinary date rules
    return moment.astimezone(zone).isoformat() if moment.tzinfo else value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _published_post(post: Mapping[str, Any]) -> bool:
    """A post (not a page) that readers can open: Ghost's ``type`` and ``status``."""
    return post.get("type", "post") == "post" and post.get("status", "published") == "published"


def _link(base_url: str | None, slug: object) -> str | None:
    if not base_url or not isinstance(slug, str) or not slug:
        return None
    return f"{base_url.rstrip('/')}/{slug}/"
