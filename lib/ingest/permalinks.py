"""A post's public URL, made as its generator makes it from the site's permalink pattern.

Each generator fills its own placeholders its own way: Jekyll's ``:title`` is the file
name's slug with its case kept, Hexo's keeps the sub-folder under ``_posts``, Hugo's
``:slug`` falls back to the title, urlized and lower-cased. URLs are kept as IRIs
(``/2024/02/01/旋转位置编码/``): only ASCII characters a URL cannot hold are escaped.
A pattern with a placeholder its generator does not know gives no URL rather than a
wrong one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:  # sites reads configs with markdown's loaders, which read posts with this
    from lib.ingest.sites import PostPlace

JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
# Jekyll's (and many a Hexo blog's) dated file name: 2024-03-05-my-post.md.
FILE_NAME_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-")
_ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)
_PLACEHOLDER = re.compile(r":([A-Za-z_]+)")
_MONTHS = "January February March April May June July August September October November December"
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
# Go's zero time: what Hugo's date placeholders give for a post without a date.
HUGO_ZERO = datetime(1, 1, 1)
# ASCII that may stand in a URL path unescaped; anything else ASCII is %-escaped.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class PostFacts:
    """What a permalink is made of: ``moment`` is in the site's time (None: no date)."""

    title: str | None
    slug: str | None
    moment: datetime | date | None
    category_paths: tuple[tuple[str, ...], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


def post_url(place: PostPlace, facts: PostFacts, written: str | None) -> str | None:
    """The post's absolute URL: the front matter's own link, else the site's pattern."""
    if written and _ABSOLUTE.match(written):
        return written
    path = _site_path(place, facts, written)
    if place.site.base is None or path is None:
        return None
    return place.site.base + "".join(_escaped(c) if c.isascii() else c for c in path)


def jekyll_id(place: PostPlace, facts: PostFacts, written: str | None) -> str | None:
    """A Jekyll post's ``id`` as jekyll-feed writes it in ``<id>``: the URL's folder and
    the file's slug (``/skill`` of ``2023-06-12-skill-tree.md`` is ``/skill-tree``), so
    two posts sharing a permalink still have ids of their own."""
    path = _site_path(place, facts, written)
    if place.site.generator != "jekyll" or place.site.base is None or path is None:
        return None
    slug = facts.slug or _file_slug(place.path)
    folder = str(PurePosixPath(path).parent).rstrip("/")
    return place.site.base + "".join(map(_escaped, f"{folder}/{slug}"))


def _escaped(char: str) -> str:
    return quote(char, safe=_PATH_SAFE)


def _site_path(place: PostPlace, facts: PostFacts, written: str | None) -> str | None:
    """The post's path under the site's address: ``/`` first, no doubled slashes."""
    site = place.site
    if written and _ABSOLUTE.match(written):
        return None
    if written:
        path = written
        if site.generator == "jekyll":  # Jekyll fills placeholders in a post's own permalink
            path = _expand(written, _jekyll_values(place, facts))
    else:
        path = _BUILDERS.get(site.generator or "", _generic_path)(place, facts)
    if path is None:
        return None
    return re.sub(r"/{2,}", "/", "/" + path.strip().lstrip("/"))


def _expand(pattern: str, values: Mapping[str, str | None]) -> str | None:
    """``pattern`` with its ``:name`` placeholders filled; ``None`` if one is unknown."""
    unknown = False

    def fill(found: re.Match[str]) -> str:
        nonlocal unknown
        name = found.group(1)
        # Jekyll: ``:title_`` is ``:title`` then ``_`` when no ``title_`` placeholder exists.
        for key in (name, name.rstrip("_")):
            if key in values:
                value = values[key]
                if value is None:
                    break
                return value + name[len(key) :]
        unknown = True
        return found.group(0)

    expanded = _PLACEHOLDER.sub(fill, pattern)
    return None if unknown else expanded


def _date_values(moment: datetime | date | None) -> dict[str, str | None]:
    """Every generator's date placeholders; ``None`` values when the post has no date."""
    if moment is None:
        return dict.fromkeys(_date_values(HUGO_ZERO))
    at = moment if isinstance(moment, datetime) else datetime.combine(moment, time())
    iso_year, iso_week, iso_day = at.isocalendar()
    month, weekday = _MONTHS.split()[at.month - 1], _DAYS.split()[at.weekday()]
    return {
        "year": f"{at.year:04d}",
        "month": f"{at.month:02d}",
        "day": f"{at.day:02d}",
        "i_month": str(at.month),
        "i_day": str(at.day),
        "hour": f"{at.hour:02d}",
        "minute": f"{at.minute:02d}",
        "second": f"{at.second:02d}",
        "short_year": f"{at.year % 100:02d}",
        "y_day": f"{at.timetuple().tm_yday:03d}",
        "yearday": str(at.timetuple().tm_yday),
        "week": f"{iso_week:02d}",
        "w_year": f"{iso_year:04d}",
        "w_day": str(iso_day),
        "short_month": month[:3].upper(),
        "long_month": month,
        "monthname": month,
        "short_day": weekday[:3].upper(),
        "long_day": weekday,
        "weekday": str(iso_day % 7),  # Go: Sunday is 0
        "weekdayname": weekday,
    }


# --- Jekyll ---------------------------------------------------------------------------------


def jekyll_slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's ``Utils.slugify``: runs of other characters become one hyphen.

    Letters, marks and digits of any script stay ("default"); "pretty" also keeps
    ``._~!$&'()+,;=@``.
    """
    keep = "._~!$&'()+,;=@" if mode == "pretty" else ""
    slug = re.sub(r"-+", "-", "".join(c if _is_word(c) or c in keep else "-" for c in text))
    slug = slug.strip("-")
    return slug if cased else slug.lower()


def _is_word(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def _file_slug(path: PurePosixPath) -> str:
    """The file name without its extension and without a leading ``YYYY-MM-DD-``."""
    return FILE_NAME_DATE.sub("", path.stem)


def _jekyll_values(place: PostPlace, facts: PostFacts) -> dict[str, str | None]:
    slug = facts.slug or _file_slug(place.path)
    names = [name for path in facts.category_paths for name in path]
    return {
        **_date_values(facts.moment),
        "title": jekyll_slugify(slug, "pretty", cased=True),
        "slug": jekyll_slugify(slug),
        "name": jekyll_slugify(place.path.stem),
        "categories": "/".join(dict.fromkeys(name.lower() for name in names)),
        "slugified_categories": "/".join(dict.fromkeys(map(jekyll_slugify, names))),
        "output_ext": ".html",
        "collection": "posts",
    }


def _jekyll_path(place: PostPlace, facts: PostFacts) -> str | None:
    pattern = place.site.permalink or "date"
    return _expand(JEKYLL_STYLES.get(pattern, pattern), _jekyll_values(place, facts))


# --- Hexo -----------------------------------------------------------------------------------


def hexo_slugize(text: str, transform: int = 0) -> str:
    """hexo-util's ``slugize``: accents dropped, punctuation and spaces become one hyphen;
    ``transform`` 1 lower-cases, 2 upper-cases (``filename_case``)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    plain = re.sub(r"[\x00-\x1f]", "", plain)
    slug = re.sub(r"[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:\"'<>,.?/]+", "-", plain).strip("-")
    return {1: slug.lower(), 2: slug.upper()}.get(transform, slug)


def _hexo_title(place: PostPlace) -> str:
    """Hexo's ``:title``: the path under ``_posts`` without its extension (sub-folders
    kept), matched against ``new_post_name`` (``:year-:month-:day-:title.md`` leaves the
    date out)."""
    stem = str(place.path.with_suffix(""))
    rule = str(place.site.settings.get("new_post_name") or ":title.md")
    rule = rule.rsplit(".", 1)[0] if "." in PurePosixPath(rule).name else rule
    segments = {"year": r"\d{4}", "month": r"\d{2}", "day": r"\d{2}", "i_month": r"\d{1,2}"}
    segments |= {"i_day": r"\d{1,2}", "title": r".+?"}
    pattern = re.sub(
        r":(\w+)",
        lambda m: f"(?P<{m.group(1)}>{segments.get(m.group(1), '.+?')})",
        re.escape(rule).replace(r"\:", ":"),
    )
    try:
        found = re.fullmatch(pattern, stem)
    except re.error:  # a rule naming one placeholder twice
        found = None
    if found is not None and found.groupdict().get("title"):
        return found.group("title")
    return hexo_slugize(stem)  # as Hexo does for a path its rule does not match


def _hexo_path(place: PostPlace, facts: PostFacts) -> str | None:
    settings = place.site.settings
    title = _hexo_title(place)
    case = int(settings.get("filename_case") or 0)
    mapping = settings.get("category_map") or {}
    category = str(settings.get("default_category") or "uncategorized")
    if facts.category_paths:  # the last category, under its parents
        last = facts.category_paths[-1]
        category = "/".join(hexo_slugize(str(mapping.get(n, n)), case) for n in last)
    # Hexo fills any other placeholder from the post's front matter, then from the
    # config's permalink_defaults (``:lang``).
    extra = {**(settings.get("permalink_defaults") or {}), **facts.meta}
    values: dict[str, str | None] = {
        str(key): str(value)
        for key, value in extra.items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    moment = facts.moment
    stamp = datetime.combine(moment, time()) if type(moment) is date else moment
    values |= {
        **_date_values(facts.moment),
        "title": title,
        "name": PurePosixPath(title).name,
        "post_title": hexo_slugize(facts.title or "", 1),
        "category": category,
        "hash": None,
    }
    if isinstance(stamp, datetime):
        digest = hashlib.sha1(f"{title}{int(stamp.timestamp())}".encode())
        values["hash"] = digest.hexdigest()[:12]
    return _expand(place.site.permalink or ":year/:month/:day/:title/", values)


# --- Hugo -----------------------------------------------------------------------------------


def hugo_urlize(text: str, lower: bool = True) -> str:
    """Hugo's ``urlize``: spaces become a hyphen, characters a path cannot hold go
    (letters, digits and marks of any script stay), then lower-case."""
    kept: list[str] = []
    hyphen_due = False
    for char in text:
        if _is_word(char) or char in "./\\_-#+~@":
            if hyphen_due and char != "-":
                kept.append("-")
            hyphen_due = False
            kept.append(char)
        elif kept and kept[-1] != "-" and char.isspace():
            hyphen_due = True
    slug = "".join(kept)
    return slug.lower() if lower else slug


def _hugo_path(place: PostPlace, facts: PostFacts) -> str | None:
    site = place.site
    lower = bool(site.settings.get("lower_paths", True))
    parts = place.path.parts
    bundle = place.path.stem in ("index", "_index")
    folders = parts[:-2] if bundle else parts[:-1]
    filename = parts[-2] if bundle and len(parts) > 1 else place.path.stem
    title = hugo_urlize(facts.title or "", lower)
    slug = hugo_urlize(facts.slug, lower) if facts.slug else None
    name = hugo_urlize(filename, lower)
    section = parts[0] if len(parts) > 1 else ""
    pattern = site.permalink or site.section_permalinks.get(section)
    if pattern is None:  # Hugo's default: the page's folders, then its slug or file name
        path = "/".join([*folders, slug or name]) + "/"
        path = path.lower() if lower else path
    else:
        values = {
            **_date_values(facts.moment or HUGO_ZERO),
            "title": title,
            "slug": slug or title,
            "filename": name,
            "contentbasename": name,
            "slugorfilename": slug or name,
            "slugorcontentbasename": slug or name,
            "section": section,
            "sections": "/".join(folders),
        }
        # Go date layouts (``:{2006-01}``) are not read: no URL rather than a wrong one.
        path = None if ":{" in pattern else _expand(pattern, values)
    if path is not None and site.settings.get("ugly_urls") and path.endswith("/"):
        path = path.rstrip("/") + ".html"
    return path


def _quarto_path(place: PostPlace, facts: PostFacts) -> str | None:
    """Quarto renders ``posts/x/index.qmd`` to ``posts/x/index.html`` and links it so, in its
    listings and feeds alike."""
    return place.path.with_suffix(".html").as_posix()


# --- No generator: --permalink with the placeholders all three share --------------------------


def _generic_path(place: PostPlace, facts: PostFacts) -> str | None:
    slug = facts.slug or _file_slug(place.path)
    names = [name for path in facts.category_paths for name in path]
    values = {
        **_date_values(facts.moment),
        "title": slug,
        "slug": slug,
        "name": slug,
        "filename": slug,
        "categories": "/".join(names),
        "category": names[0] if names else None,
        "section": place.path.parts[0] if len(place.path.parts) > 1 else "",
    }
    return _expand(place.site.permalink or "", values)


def _hf_blog_path(place: PostPlace, facts: PostFacts) -> str | None:
    """The Hugging Face blog links a post by its file name (``/blog/zh/lora`` for
    ``zh/lora.md``), under its translation's folder."""
    return f"{place.site.settings.get('folder', '')}/{place.path.stem}"


_BUILDERS: dict[str, Callable[[PostPlace, PostFacts], str | None]] = {
    "jekyll": _jekyll_path,
    "hexo": _hexo_path,
    "hugo": _hugo_path,
    "quarto": _quarto_path,
    "hf-blog": _hf_blog_path,
}
