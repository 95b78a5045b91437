"""What Jekyll, Hexo and Hugo mean by the same front matter: categories, tags, drafts, dates.

The store keeps one category per post and a list of tags. A generator's categories
are paths (Jekyll's list and Hexo's plain list are one hierarchy, ``深度学习 > 自然语言处理``;
Hexo's list items that are lists, and Hugo's terms, are paths of their own), so the
post's category is the leaf of its first path, as a reader would name it, and the other
category names follow the tags, as they did before sites were read (``split_categories``
kept them as tags rather than dropping them). Hugo's own taxonomies (``series``) follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from lib.ingest.fields import clean_line

if TYPE_CHECKING:  # sites reads configs with markdown's loaders, which read posts with this
    from lib.ingest.sites import PostPlace, Site

CategoryPath = tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    """A post's categories as paths, its tags, and its other taxonomies' terms."""

    category_paths: tuple[CategoryPath, ...] = ()
    tags: tuple[str, ...] = ()
    other_terms: tuple[str, ...] = ()

    @property
    def category(self) -> str | None:
        """The leaf of the first path: ``深度学习 > 自然语言处理`` is about 自然语言处理."""
        return self.category_paths[0][-1] if self.category_paths else None

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for path in self.category_paths for name in path))

    def stored_tags(self) -> list[str]:
        """The tags, then the other category names, then other taxonomies' terms."""
        others = [name for name in self.category_names if name != self.category]
        return [*self.tags, *others, *self.other_terms]


# Taxonomies of people (Hugo Blox's ``authors: [admin]``): shown as a byline, never a tag.
PEOPLE_TAXONOMIES = frozenset({"authors", "author", "contributors"})


def read_terms(meta: Mapping[str, Any], place: PostPlace) -> Terms:
    """The front matter's categories and tags as the post's generator reads them."""
    generator = place.site.generator
    if generator == "jekyll":
        return _jekyll_terms(meta, place.path)
    if generator == "hexo":
        return Terms(_hexo_paths(meta.get("categories")), _names(meta.get("tags")))
    if generator == "quarto":  # flat categories, shown as a post's tags; no tags of its own
        return Terms(tuple((name,) for name in _names(meta.get("categories"))), ())
    if generator == "hf-blog":  # the listing's tags; the blog has no categories
        return Terms((), _names(meta.get("tags")))
    return _hugo_terms(meta, place.site)


# A listing's month without a day ("March, 2020"): the blog shows the month's first day.
_MONTH_ONLY = re.compile(r"([A-Za-z]{3,9})\.?,?\s+(\d{4})")


def listed_meta(meta: Mapping[str, Any], place: PostPlace) -> Mapping[str, Any]:
    """The front matter with what the site's listing says of the post: the Hugging Face
    blog keeps each post's date and tags in ``_blog.yml``, not in the post."""
    if place.site.generator != "hf-blog":
        return meta
    entry = place.site.settings["listing"].get(place.path.stem) or {}
    listed = {key: entry[key] for key in ("title", "date", "tags") if key in entry}
    when = listed.get("date")
    if isinstance(when, str) and (month := _MONTH_ONLY.fullmatch(when.strip())):
        listed["date"] = f"{month.group(1)} 1, {month.group(2)}"
    return {**listed, **meta}


def unlisted(place: PostPlace) -> str | None:
    """Why a post of a blog with a listing is not shown: the listing does not name it."""
    if place.site.generator == "hf-blog" and place.path.stem not in place.site.settings["listing"]:
        return "not in _blog.yml, the blog's listing"
    return None


def unpublished(
    meta: Mapping[str, Any], generator: str | None, path: PurePosixPath | None = None
) -> str | None:
    """Why the generator never builds this post (the front matter that says so), or ``None``.

    A Quarto site's documents are all pages: its listing page (``listing:``), an about page
    (``about:``) and pages beside ``_quarto.yml`` are not posts.
    """
    if generator in ("jekyll", "hexo") and meta.get("published") is False:
        return "published: false"
    if generator in ("hugo", "quarto") and str(meta.get("draft")).lower() == "true":
        return "draft: true"
    if generator == "hugo":
        return _hugo_unlisted(meta, path)
    if generator == "quarto":
        page = next((key for key in ("listing", "about") if key in meta), None)
        if page is not None:
            return f"a page ({page}:), not a post"
        if path is not None and len(path.parts) == 1:
            return "a page beside _quarto.yml, not a post"
    return None


def not_built_yet(moment: object, site: Site, today: date) -> str | None:
    """Why the generator does not build this post today: dated after today, as Jekyll
    (``future: false``) and Hugo (``buildFuture = false``) leave a scheduled post out unless
    the site's config says otherwise; ``None`` when it is built."""
    if site.generator not in ("jekyll", "hugo") or site.settings.get("build_future"):
        return None
    day = moment.date() if isinstance(moment, datetime) else moment
    if not isinstance(day, date) or day <= today:
        return None
    name = "Jekyll" if site.generator == "jekyll" else "Hugo"
    return f"dated {day.isoformat()}, after today: {name} builds it from that day"


def _hugo_unlisted(meta: Mapping[str, Any], path: PurePosixPath | None) -> str | None:
    """Hugo's list pages (``_index.md``), headless bundles and pages built but never
    rendered or listed are no posts of the blog."""
    if path is not None and path.stem == "_index":
        return "a list page (_index), not a post"
    if meta.get("headless") is True:
        return "headless: true"
    build = meta.get("build") or meta.get("_build")
    if isinstance(build, Mapping) and str(build.get("render")).lower() in ("never", "false"):
        return "build: render: never"
    return None


def site_time(moment: datetime | date, site: Site) -> datetime | date:
    """The post's date and time as its site shows them.

    Jekyll and Hexo show every time in the site's ``timezone`` (``22:10 -0800`` on
    31 January is 1 February in Shanghai); Hugo keeps the offset the author wrote.
    A time without an offset is already the site's.
    """
    if (
        site.generator in ("jekyll", "hexo")
        and site.timezone is not None
        and isinstance(moment, datetime)
        and moment.tzinfo is not None
    ):
        try:
            return moment.astimezone(site.timezone)
        except (OverflowError, ValueError):  # year 1 or 9999 has no room to move
            return moment
    return moment


def _names(value: object) -> tuple[str, ...]:
    """A YAML scalar as one name, a list (nested lists flattened) as its names, in order."""
    if value is None:
        return ()
    items: Iterable[object] = value if isinstance(value, list | tuple) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, list | tuple):
            names.extend(_names(item))
        elif (name := clean_line(item)) is not None:
            names.append(name)
    return tuple(dict.fromkeys(names))


def _jekyll_plural(meta: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """Jekyll's plural keys: a string is a list split on whitespace (``tags: gan long-read``)."""
    value = meta.get(key)
    if isinstance(value, str):
        return _names(value.split())
    return _names(value)


def _jekyll_terms(meta: Mapping[str, Any], path: PurePosixPath) -> Terms:
    # Folders above _posts are categories too (``ai/_posts/x.md`` is in "ai"); the
    # singular key comes last and is one name however many words it has.
    parts = path.parts
    folders = parts[: parts.index("_posts")] if "_posts" in parts else ()
    names = (*_jekyll_plural(meta, "categories"), *folders, *_names(meta.get("category")))
    tags = (*_jekyll_plural(meta, "tags"), *_names(meta.get("tag")))
    names_path = tuple(dict.fromkeys(names))
    return Terms((names_path,) if names_path else (), tuple(dict.fromkeys(tags)))


def _hexo_paths(value: object) -> tuple[CategoryPath, ...]:
    """Hexo's ``categories``: a plain list is one hierarchy; once an item is a list, each
    item is a path of its own (``[[自然语言处理, 意图识别], 工程实践]`` is two)."""
    if value is None or value == "":
        return ()
    if not isinstance(value, list):
        return tuple(path for path in [_names(value)] if path)
    if any(isinstance(item, list) for item in value):
        return tuple(path for item in value if (path := _names(item)))
    return tuple(path for path in [_names(value)] if path)


def _hugo_terms(meta: Mapping[str, Any], site: Site) -> Terms:
    """Hugo's taxonomies are flat: each category term is a path of one name."""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    others: list[str] = []
    for plural in site.taxonomies:
        names = _names(meta.get(plural))
        if plural == "categories":
            categories = names
        elif plural == "tags":
            tags = names
        elif plural not in PEOPLE_TAXONOMIES:  # a byline, not a subject
            others.extend(names)
    return Terms(tuple((name,) for name in categories), tags, tuple(dict.fromkeys(others)))
