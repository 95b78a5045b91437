"""The blogs a team follows: the ``sources`` setting, and dated snapshots of their feeds.

A source is an http(s) URL the importer reads, usually the blog's RSS or Atom feed. The
list comes from the environment variable ``POSTS_SOURCES`` (URLs separated by spaces or
new lines), else from the ``sources`` key of the Streamlit secrets, in either shape::

    sources = ["https://blog.example.com/atom.xml"]    # each refreshed every 60 minutes

    [[sources]]
    url = "https://blog.example.com/atom.xml"
    refresh_minutes = 30                               # optional; at least 1

The app imports them at start and then on that schedule (``lib.refresh``). A feed holds
only a blog's latest posts, so ``python -m lib.sources snapshot`` saves each one under
``data/seed/feeds/`` as a dated file (run daily by ``.github/workflows/refresh-feeds.yml``):
committed, the snapshots keep the blog's history, which the app imports with the rest of
``data/seed/`` at every start.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from lib.config import REPO_ROOT, SEED_DIR
from lib.ingest.detect import EXTENSIONS, parser_for, sniff
from lib.ingest.naming import redact_url, shown_name
from lib.ingest.reading import is_web_url, read_bytes
from lib.ingest.records import IngestError, ParseOptions

ENV_VAR = "POSTS_SOURCES"
SECRETS_FILE = REPO_ROOT / ".streamlit" / "secrets.toml"
SNAPSHOT_DIR = SEED_DIR / "feeds"
DEFAULT_REFRESH_MINUTES = 60
MIN_REFRESH_MINUTES = 1  # a typo such as 0.1 must not make the app poll a blog every 6 s
FETCH_TIMEOUT_S = 20.0
# The file extension a snapshot is saved with, by format: the first one the importer knows.
SUFFIXES = {fmt: suffix for suffix, fmt in reversed(EXTENSIONS.items())}


@dataclass(frozen=True)
class Source:
    url: str
    refresh_s: float = DEFAULT_REFRESH_MINUTES * 60.0

    @property
    def shown(self) -> str:
        """The URL without credentials, for pages and messages."""
        return shown_name(self.url)


@dataclass(frozen=True)
class SourceList:
    sources: tuple[Source, ...] = ()
    # What was wrong with the setting, one line each (entries left out, values replaced).
    problems: tuple[str, ...] = ()


def parse_sources(value: object) -> SourceList:
    """The sources in a ``sources`` value: a list of URLs, of ``{url, refresh_minutes}``
    tables, or both; a single URL string; or nothing."""
    if value is None or value == "":
        return SourceList()
    if isinstance(value, str):
        value = value.split()
    if isinstance(value, Mapping) or not isinstance(value, Sequence):
        return SourceList(problems=("sources must be a list of URLs or of [[sources]] tables",))
    found: dict[str, Source] = {}
    problems: list[str] = []
    for number, item in enumerate(value, 1):
        source = _source(item, f"sources entry {number}", problems)
        if source is not None and source.url not in found:
            found[source.url] = source
    return SourceList(tuple(found.values()), tuple(problems))


def _source(item: object, where: str, problems: list[str]) -> Source | None:
    table = item if isinstance(item, Mapping) else {"url": item}
    url = table.get("url")
    if not isinstance(url, str) or not is_web_url(url.strip()):
        shown = shown_name(url) if isinstance(url, str) else repr(url)
        problems.append(f"{where}: {shown!r} is not an http(s) URL; left out")
        return None
    url = url.strip()
    minutes = table.get("refresh_minutes", DEFAULT_REFRESH_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not minutes > 0:
        problems.append(
            f"{where}: refresh_minutes {minutes!r} is not a positive number;"
            f" {DEFAULT_REFRESH_MINUTES} used"
        )
        minutes = DEFAULT_REFRESH_MINUTES
    elif minutes < MIN_REFRESH_MINUTES:
        problems.append(f"{where}: refresh_minutes {minutes} raised to {MIN_REFRESH_MINUTES}")
        minutes = MIN_REFRESH_MINUTES
    return Source(url, float(minutes) * 60.0)


def resolve_sources(secret: object = None, secrets_file: Path | None = None) -> SourceList:
    """``POSTS_SOURCES``, else the ``sources`` secret the app passes in (``lib`` does not
    read Streamlit's secrets), else the ``sources`` of ``secrets_file`` if given."""
    if os.environ.get(ENV_VAR, "").strip():
        return parse_sources(os.environ[ENV_VAR])
    if secret is not None:
        return parse_sources(secret)
    if secrets_file is not None and secrets_file.is_file():
        try:
            settings = tomllib.loads(secrets_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            return SourceList(problems=(f"{secrets_file.name} is not valid TOML: {exc}",))
        return parse_sources(settings.get("sources"))
    return SourceList()


# --- Dated snapshots ------------------------------------------------------------------------


def snapshot_folder(url: str) -> Path:
    """Where a source's snapshots go, relative to the snapshot folder: ``<host>/<feed>``.

    The host (``_port`` added when there is one), then the URL's path without its extension
    (``index`` for none), so two feeds of one blog keep apart; a query string adds a short
    hash of itself, never its text, which may hold a token; so does a path that holds one
    (``/token/abc123/feed.xml``), named by its redacted text.
    """
    parts = urlsplit(url)
    host = _slug((parts.hostname or "host") + (f"_{parts.port}" if parts.port else ""))
    redacted = urlsplit(redact_url(url)).path  # a token in the path never names a folder
    path = redacted.strip("/")
    stem = re.sub(r"\.(xml|rss|atom|json|jsonl|csv|parquet|md|txt)$", "", path, flags=re.I)
    feed = _slug(stem.replace("/", "_")) or "index"
    if parts.query or redacted != parts.path:
        hidden = parts.query + ("" if redacted == parts.path else parts.path)
        feed += "-" + hashlib.sha256(hidden.encode()).hexdigest()[:8]
    return Path(host) / feed


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")


@dataclass(frozen=True)
class Saved:
    source: Source
    path: Path | None  # the file written, or the newest one when the content was unchanged
    written: bool
    error: str | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"failed: {self.error}"
        verb = "saved" if self.written else "unchanged, newest is"
        return f"{verb} {self.path} ({self.source.shown})"


def save_snapshot(source: Source, out: Path, day: date, timeout: float = FETCH_TIMEOUT_S) -> Saved:
    """Fetch ``source`` and save it as ``out/<host>/<feed>/<day>.<ext>``, unless it is
    byte for byte the newest snapshot already there. Nothing is written for a fetch that
    fails or for content the importer refuses, so a broken feed never reaches the seed."""
    try:
        data = read_bytes(source.url, timeout=timeout)
        fmt = sniff(data, source.shown)
        parser_for(fmt)(data, source.shown, ParseOptions())  # refuses what an import would
    except IngestError as exc:
        return Saved(source, None, False, error=str(exc))
    folder = out / snapshot_folder(source.url)
    earlier = sorted(p for p in folder.glob("????-??-??.*") if p.is_file())
    if earlier and earlier[-1].read_bytes() == data:
        return Saved(source, earlier[-1], False)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{day.isoformat()}{SUFFIXES[fmt]}"
    partial = target.with_name(f".{target.name}.part")  # hidden: imports skip it
    partial.write_bytes(data)
    os.replace(partial, target)
    return Saved(source, target, True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.sources",
        description="Save each configured source (POSTS_SOURCES, else the sources of the"
        " secrets file) as a dated file, to keep the history its feed forgets.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    snapshot = commands.add_parser("snapshot", help="save every source under --out")
    snapshot.add_argument("--out", type=Path, default=SNAPSHOT_DIR, help="default data/seed/feeds")
    snapshot.add_argument(
        "--secrets", type=Path, default=SECRETS_FILE, help="default .streamlit/secrets.toml"
    )
    snapshot.add_argument("--date", type=date.fromisoformat, help="the day to name files by")
    args = parser.parse_args(argv)
    configured = resolve_sources(secrets_file=args.secrets)
    for problem in configured.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not configured.sources:
        print(f"error: no sources: set {ENV_VAR} or `sources` in {args.secrets}", file=sys.stderr)
        return 2
    day = args.date or datetime.now(UTC).date()
    results = [save_snapshot(source, args.out, day) for source in configured.sources]
    for result in results:
        print(result.describe(), file=sys.stderr if result.error else sys.stdout)
    return 1 if any(result.error for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
