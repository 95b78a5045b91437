"""Which static site a Markdown post belongs to, and what that site's config says.

Jekyll, Hexo and Hugo read the same front matter differently (a space-separated
``categories:`` is two categories for Jekyll and one for the others) and place a post
at a URL of their own making. So a post is read as its generator means it once the
generator is known: from the site's config, found by walking up from the post
(Jekyll ``_config.yml`` + ``_posts/``, Hexo ``_config.yml`` + ``source/_posts/``, Hugo
``hugo.toml``/``config.toml``/… + ``content/``, Quarto ``_quarto.yml``), or from
``--generator`` for a bare folder. A post in none of these is read as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lib.ingest.github_pages import pages_address
from lib.ingest.records import IngestError, ParseOptions
from lib.ingest.yaml_toml import load_toml, load_yaml

GENERATORS = ("jekyll", "hexo", "hugo", "quarto", "hf-blog")
QUARTO_CONFIGS = ("_quarto.yml", "_quarto.yaml")
HUGO_CONFIGS = tuple(
    f"{stem}.{ext}" for stem in ("hugo", "config") for ext in ("toml", "yaml", "yml", "json")
)
# What each generator builds into or installs beside the posts: walking a site's folder
# must not read its rendered pages, copied feeds or a theme's example posts as posts.
NOT_SOURCE = {
    "jekyll": (
        "_site",
        ".jekyll-cache",
        "vendor",
        "node_modules",
        "_layouts",
        "_includes",
        "_sass",
    ),
    "hexo": ("public", "node_modules", "themes", "scaffolds"),
    "hugo": ("public", "resources", "themes", "archetypes", "node_modules"),
    "quarto": ("_site", "_freeze", ".quarto", "site_libs", "node_modules", "renv"),
    "hf-blog": ("assets", "node_modules", "scripts", "utils"),
}
# The Hugging Face blog's layout: Markdown posts beside ``_blog.yml``, the listing that gives
# each post (by file name) its date and tags; a translation's folder (``zh/``) has its own.
HF_LISTING = "_blog.yml"
HF_BLOG_ADDRESS = "https://huggingface.co/blog"  # what the listing's /blog/ paths are under


@dataclass(frozen=True)
class Site:
    """What a post's URL and dates depend on (``generator`` is ``None`` for ``--permalink``
    alone).

    ``base`` is the site's address without a trailing slash (Jekyll ``url`` + ``baseurl``,
    Hexo ``url``, Hugo ``baseURL``). ``permalink`` is the site's pattern (Jekyll, Hexo),
    ``section_permalinks`` Hugo's per section; ``taxonomies`` are Hugo's plural names.
    """

    generator: str | None
    base: str | None = None
    permalink: str | None = None
    section_permalinks: Mapping[str, str] = field(default_factory=dict)
    timezone: ZoneInfo | None = None
    taxonomies: tuple[str, ...] = ("tags", "categories")
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostPlace:
    """A post in its site: ``path`` is relative to the site's post folder.

    That folder is where the generator's own names start: the Jekyll site root (so
    ``ai/_posts/x.md`` keeps its category folder), Hexo's ``source/_posts`` (its
    ``:title`` keeps sub-folders) and Hugo's ``content`` (its first folder is the section).
    """

    site: Site
    path: PurePosixPath
    page: bool = False  # a page of the site (about.md, archive.md), outside its post folder


def site_base(address: object) -> str | None:
    """An http(s) site address without its trailing slash, or ``None``."""
    text = str(address or "").strip()
    if not text.lower().startswith(("http://", "https://")):
        return None
    return text.rstrip("/")


def _join_base(url: object, prefix: object) -> str | None:
    """``url`` with a sub-path (Jekyll ``baseurl``; Hexo ``root`` when ``url`` lacks it)."""
    base = site_base(url)
    sub = str(prefix or "").strip().strip("/")
    if base is None or not sub or base.endswith(f"/{sub}"):
        return base
    return f"{base}/{sub}"


class SiteFinder:
    """Finds the site of each post of a run, reading every config once."""

    def __init__(self, options: ParseOptions):
        self.options = options
        self._sites: dict[Path, Site | None] = {}

    def place_of(self, post: Path, walked: Path | None = None) -> PostPlace | None:
        """The post's place in the site that holds it, or under the command line's options.

        ``walked`` is the folder the user named, whose layout stands for the site's
        when no config is found. A page of a site (``about.md``) found walking a folder is
        placed as a page, to be skipped; named on its own, it is read as a post, as before.
        """
        post = post.resolve()
        for folder in post.parents:
            found = self._site_at(folder, post)
            if found is not None:
                return None if found.page and walked is None else found
        if self.options.generator is None and self.options.permalink is None:
            return None
        site = self.with_options(Site(generator=self.options.generator))
        start = walked.resolve() if walked is not None and walked.is_dir() else post.parent
        return PostPlace(site, PurePosixPath(post.relative_to(start).as_posix()))

    def is_build_output(self, path: Path) -> bool:
        """True for a file the site's generator wrote or installed, not its author."""
        path = path.resolve()
        for folder in path.parents:
            site = self._config_site(folder)
            if site is not None:
                inside = path.relative_to(folder).parts
                return bool(inside) and inside[0] in NOT_SOURCE[site.generator or ""]
        return False

    def _site_at(self, folder: Path, post: Path) -> PostPlace | None:
        site = self._config_site(folder)
        if site is None:
            return None
        inside = post.relative_to(folder)
        if site.generator == "jekyll" and "_posts" in inside.parts[:-1]:
            return PostPlace(site, PurePosixPath(inside.as_posix()))
        if site.generator == "quarto":  # every document is a page; a listing names the posts
            return PostPlace(site, PurePosixPath(inside.as_posix()))
        prefix = {"hexo": ("source", "_posts"), "hugo": ("content",)}.get(site.generator or "")
        if prefix and inside.parts[: len(prefix)] == prefix:
            return PostPlace(site, PurePosixPath(*inside.parts[len(prefix) :]))
        if site.generator in ("jekyll", "hexo"):  # its pages: about.md, source/about/index.md
            return PostPlace(site, PurePosixPath(inside.as_posix()), page=True)
        if site.generator == "hf-blog":  # a post beside its listing; deeper files are not
            return PostPlace(site, PurePosixPath(inside.as_posix()), page=len(inside.parts) > 1)
        return None

    def _config_site(self, folder: Path) -> Site | None:
        if folder not in self._sites:
            site = _read_site(folder, self.options.generator)
            self._sites[folder] = self.with_options(site) if site is not None else None
        return self._sites[folder]

    def with_options(self, site: Site) -> Site:
        """The command line's ``--base-url`` and ``--permalink`` win over the config's."""
        if self.options.base_url:
            site = replace(site, base=site_base(self.options.base_url))
        if self.options.permalink:
            site = replace(site, permalink=self.options.permalink, section_permalinks={})
        return site


def _read_site(folder: Path, generator: str | None) -> Site | None:
    """The site whose config is in ``folder``, if its layout is a generator's."""
    wanted = GENERATORS if generator is None else (generator,)
    jekyll_or_hexo = folder / "_config.yml"
    if not jekyll_or_hexo.is_file():
        jekyll_or_hexo = folder / "_config.yaml"
    if "hexo" in wanted and jekyll_or_hexo.is_file() and (folder / "source" / "_posts").is_dir():
        return _hexo_site(jekyll_or_hexo)
    if "jekyll" in wanted and jekyll_or_hexo.is_file() and (folder / "_posts").is_dir():
        return _jekyll_site(jekyll_or_hexo)
    if "quarto" in wanted:
        for name in QUARTO_CONFIGS:
            if (folder / name).is_file():
                return _quarto_site(folder / name)
    if "hugo" in wanted and (folder / "content").is_dir():
        for name in HUGO_CONFIGS:
            if (folder / name).is_file():
                return _hugo_site(folder / name)
    if "hf-blog" in wanted and (folder / HF_LISTING).is_file():
        return _hf_blog_site(folder)
    return None


def _read_config(path: Path) -> Mapping[str, Any]:
    """A YAML, TOML or JSON config as a mapping; a broken one stops the run, naming it."""
    loaded = _read_data(path, "the site config")
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise IngestError(str(path), "the site config must be 'key: value' pairs", line=1)
    return loaded


def _read_data(path: Path, what: str) -> object:
    """A YAML, TOML or JSON file's values (``what`` it is, for errors naming the file)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(source, f"cannot read {what}: {exc}") from None
    if path.suffix == ".toml":
        return load_toml(text, 1, source, what=what)
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(source, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        except (ValueError, RecursionError):  # a 4,300-digit number, or nesting past the stack
            raise IngestError(source, f"{what} is not JSON a site would write") from None
    return load_yaml(text, 1, source, what=what)


def _timezone(name: object, config: Path) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise IngestError(str(config), f"unknown time zone {name!r}") from None


def _jekyll_site(path: Path) -> Site:
    config = _read_config(path)
    url, baseurl = config.get("url"), config.get("baseurl")
    if site_base(url) is None and (pages := pages_address(path.parent)) is not None:
        url = pages.url  # GitHub Pages fills in what the config leaves out
        baseurl = pages.baseurl if baseurl is None else baseurl
    return Site(
        generator="jekyll",
        base=_join_base(url, baseurl),
        permalink=str(config.get("permalink") or "date"),
        timezone=_timezone(config.get("timezone"), path),
        settings={"build_future": config.get("future") is True},
    )


def _hexo_site(path: Path) -> Site:
    config = _read_config(path)
    # Hexo's docs put a sub-folder in both ``url`` and ``root``; older configs only in root.
    return Site(
        generator="hexo",
        base=_join_base(config.get("url"), config.get("root")),
        permalink=str(config.get("permalink") or ":year/:month/:day/:title/"),
        timezone=_timezone(config.get("timezone"), path),
        settings={
            key: config.get(key)
            for key in (
                "new_post_name",
                "default_category",
                "filename_case",
                "category_map",
                "permalink_defaults",
            )
        },
    )


def _hugo_site(path: Path) -> Site:
    # Hugo reads its config's keys whatever their case.
    settings = {str(key).lower(): value for key, value in _read_config(path).items()}
    permalinks = settings.get("permalinks")
    permalinks = permalinks if isinstance(permalinks, Mapping) else {}
    # Hugo 0.119+ nests them by kind: [permalinks.page] post = "…".
    if isinstance(permalinks.get("page"), Mapping):
        permalinks = permalinks["page"]
    taxonomies = settings.get("taxonomies")
    if isinstance(taxonomies, Mapping):  # singular = plural; the plural is the front matter key
        plural = tuple(str(name).lower() for name in taxonomies.values())
    else:
        plural = ("tags", "categories")
    return Site(
        generator="hugo",
        base=site_base(settings.get("baseurl")),
        section_permalinks={
            str(section): str(pattern)
            for section, pattern in permalinks.items()
            if isinstance(pattern, str)
        },
        timezone=_timezone(settings.get("timezone"), path),
        taxonomies=plural,
        settings={
            "lower_paths": not settings.get("disablepathtolower", False),
            "ugly_urls": bool(settings.get("uglyurls", False)),
            "build_future": settings.get("buildfuture") is True,
        },
    )


def _quarto_site(path: Path) -> Site:
    website = _read_config(path).get("website")
    address = website.get("site-url") if isinstance(website, Mapping) else None
    return Site(generator="quarto", base=site_base(address))


def _hf_blog_site(folder: Path) -> Site:
    """The Hugging Face blog's folder: its listing by file name, and the URL folder of a
    translation (``zh/_blog.yml`` under a folder with its own listing: ``/blog/zh/…``)."""
    path = folder / HF_LISTING
    loaded = _read_data(path, "the blog's listing") or []
    if not isinstance(loaded, list) or not all(isinstance(e, Mapping) for e in loaded):
        raise IngestError(
            str(path), "the listing must be a list of '- local: name' entries", line=1
        )
    listing = {str(e["local"]): e for e in loaded if e.get("local")}
    prefix: list[str] = []
    for parent in folder.parents:
        if not (parent / HF_LISTING).is_file():
            break
        prefix.insert(0, folder.relative_to(parent).parts[0])
        folder = parent
    return Site(
        generator="hf-blog",
        base=HF_BLOG_ADDRESS,
        settings={"listing": listing, "folder": "/".join(prefix)},
    )
