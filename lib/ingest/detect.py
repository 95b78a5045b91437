"""Which parser reads which source.

A SOURCE on the command line is a file, a folder or an http(s) URL. Files are
recognised by their extension and, when that says nothing, by their first bytes;
folders are walked (a Hexo/Hugo/Jekyll ``_posts`` folder, a folder of
snapshots), skipping hidden files and files of no known kind, which are listed
so that nothing is dropped without a word.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pyarrow as pa

from lib.ingest import tabular
from lib.ingest.feeds import looks_like_feed, parse_feed
from lib.ingest.markdown import looks_like_markdown_post, parse_markdown
from lib.ingest.naming import shown_name, stored_name
from lib.ingest.notebooks import notebook_markdown
from lib.ingest.reading import decode_text, is_web_url, read_bytes
from lib.ingest.records import IngestError, ParseOptions, PostRecord
from lib.ingest.sites import PostPlace, Site, SiteFinder
from lib.ingest.snapshot import looks_like_snapshot, parse_snapshot

Parser = Callable[[bytes, str, ParseOptions], list[PostRecord]]
BulkParser = Callable[[bytes, str, ParseOptions], "tuple[pa.Table, list[PostRecord], list[int]]"]

EXTENSIONS = {
    ".txt": "snapshot",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".md": "markdown",
    ".markdown": "markdown",
    ".qmd": "markdown",  # Quarto: Markdown with pandoc's divs, spans and citations
    ".rmd": "markdown",  # R Markdown, the same
    ".ipynb": "markdown",  # a notebook post, read as the Markdown it renders to
    # Jekyll and Hexo also build posts written in HTML under front matter; an HTML file
    # without front matter (a rendered page) is skipped like a README.
    ".html": "markdown",
    ".htm": "markdown",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class SourceFile:
    """One readable unit: its name in the store, its format, its bytes and their digest, and
    where it is, for messages (the path as typed or walked; a URL without credentials)."""

    name: str
    fmt: str
    data: bytes
    shown: str
    # The run's options, with the post's place in its site for a Markdown post.
    options: ParseOptions = field(default_factory=ParseOptions)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def parser_for(fmt: str) -> Parser:
    try:
        return PARSERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None


def _parse_snapshot_bytes(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    text = decode_text(data, source, options.encoding)
    if not looks_like_snapshot(text):
        raise IngestError(
            source, "does not look like a listing snapshot (no excerpt lines ending in '...')"
        )
    return parse_snapshot(text, source)


PARSERS: dict[str, Parser] = {
    "snapshot": _parse_snapshot_bytes,
    "feed": parse_feed,
    "markdown": parse_markdown,
    "csv": tabular.parse_csv,
    "jsonl": tabular.parse_jsonl,
    "json": tabular.parse_json,
    "parquet": tabular.parse_parquet,
}


FORMATS = tuple(PARSERS)

# Formats with a fast lane (lib.ingest.fast_lane): clean rows come back as one Arrow table.
BULK_PARSERS: dict[str, BulkParser] = {
    "parquet": tabular.parse_parquet_bulk,
    "csv": tabular.parse_csv_bulk,
    "jsonl": tabular.parse_jsonl_bulk,
    "json": tabular.parse_json_bulk,
}


def expand(
    sources: list[str],
    forced: str | None,
    skipped: list[str],
    options: ParseOptions | None = None,
) -> Iterator[SourceFile]:
    """Every file behind the given sources, in a stable order, with its format, named as
    the store will name it (:func:`lib.ingest.naming.stored_name`), and the options to
    parse it with: a Markdown post's carry its place in its site (:mod:`lib.ingest.sites`)."""
    options = options or ParseOptions()
    sites = SiteFinder(options)
    for source in sources:
        shown = shown_name(source)
        if is_web_url(source):
            data = read_bytes(source)
            fmt = forced or sniff(data, shown)
            file_options = _with_place(options, fmt, _url_place(options, source))
            yield SourceFile(stored_name(source), fmt, data, shown, file_options)
            continue
        path = Path(source)
        if path.is_dir():
            yield from _walk(path, forced, skipped, sites)
        elif path.exists():
            data = _post_bytes(path, read_bytes(source))
            fmt = forced or _by_extension(path) or sniff(data, shown)
            place = sites.place_of(path) if fmt == "markdown" else None
            file_options = _with_place(options, fmt, place)
            yield SourceFile(stored_name(source), fmt, data, shown, file_options)
        else:
            raise IngestError(shown, "no such file or folder")


def _walk(
    folder: Path, forced: str | None, skipped: list[str], sites: SiteFinder
) -> Iterator[SourceFile]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "_drafts")) for part in relative.parts) or not path.is_file():
            continue
        fmt = forced or _by_extension(path)
        if fmt is None or sites.is_build_output(path):
            skipped.append(str(path))  # a site's rendered pages and themes are not its posts
            continue
        try:
            data = _post_bytes(path, read_bytes(str(path)))
        except IngestError:  # a notebook that is not one: not a post file either
            skipped.append(str(path))
            continue
        if fmt == "markdown" and not forced and not looks_like_markdown_post(_head(data)):
            skipped.append(str(path))  # a README.md beside the posts is not a post
            continue
        place = sites.place_of(path, walked=folder) if fmt == "markdown" else None
        file_options = _with_place(sites.options, fmt, place)
        stored = stored_name(str(path), named=str(folder))
        yield SourceFile(stored, fmt, data, str(path), file_options)


def _post_bytes(path: Path, data: bytes) -> bytes:
    """A file's bytes as its parser reads them: a notebook as its Markdown."""
    return notebook_markdown(data, str(path)) if path.suffix.lower() == ".ipynb" else data


def _with_place(options: ParseOptions, fmt: str, place: PostPlace | None) -> ParseOptions:
    return replace(options, place=place) if fmt == "markdown" and place is not None else options


def _url_place(options: ParseOptions, url: str) -> PostPlace | None:
    """A post fetched by URL has no site folder: only ``--generator``/``--permalink`` apply."""
    if options.generator is None and options.permalink is None:
        return None
    site = SiteFinder(options).with_options(Site(generator=options.generator))
    return PostPlace(site, PurePosixPath(PurePosixPath(urlsplit(url).path).name or "post.md"))


def _head(data: bytes) -> str:
    """The opening of a file as text, enough for the format checks."""
    return data[:8192].decode("utf-8", errors="replace")


def _by_extension(path: Path) -> str | None:
    return EXTENSIONS.get(path.suffix.lower())


def sniff(data: bytes, source: str) -> str:
    """The format of bytes with no telling name (a URL, a file without extension)."""
    if data.startswith(b"PAR1"):
        return "parquet"
    text = _head(data)
    if looks_like_feed(text):
        return "feed"
    if looks_like_markdown_post(text):
        return "markdown"
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        first_line = head.split("\n", 1)[0].strip()
        return "jsonl" if first_line.endswith("}") else "json"
    if looks_like_snapshot(head):
        return "snapshot"
    first = head.split("\n", 1)[0]
    if first.count(",") >= 2 or first.count("\t") >= 2 or first.count(";") >= 2:
        return "csv"
    raise IngestError(source, f"cannot tell the format; pass --format ({', '.join(FORMATS)})")
