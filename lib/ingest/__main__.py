"""``python -m lib.ingest [--db PATH] SOURCE...``: fill the posts store.

``python -m lib.ingest --rederive [--db PATH]`` derives the stored posts' text again
from their stored source, with the current rules (:mod:`lib.ingest.rederive`).

Exit status 0 on success, 1 when a source is bad (the store is left exactly as
it was), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import os
import sys

from tqdm import tqdm

from lib.config import resolve_db
from lib.ingest import IngestError, ParseOptions, run_ingest
from lib.ingest.detect import FORMATS
from lib.ingest.merge import POST_FIELDS
from lib.ingest.rederive import rederive
from lib.ingest.sites import GENERATORS
from lib.locator import StoreReadOnly, locate, refuse_writes


def _parse_map(items: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    mapping: dict[str, str] = {}
    allowed = {*POST_FIELDS, "guid", "format"} - {"title_derived"}
    for item in items:
        target, sep, column = item.partition("=")
        if not sep or not column or target not in allowed:
            parser.error(f"--map takes FIELD=COLUMN with FIELD one of {', '.join(sorted(allowed))}")
        mapping[target] = column
    return mapping


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.ingest",
        description="Import blog posts (listing snapshots, RSS/Atom, Markdown with front matter,"
        " CSV/JSON/JSON Lines/Parquet) into the DuckDB posts store.",
    )
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="file, folder or http(s) URL")
    parser.add_argument("--db", help="database file (default: $POSTS_DB or data/posts.duckdb)")
    parser.add_argument("--format", choices=FORMATS, help="read every source as this format")
    parser.add_argument(
        "--encoding",
        help="text encoding of every source, e.g. GBK (default: each file's own, UTF-8 or"
        " the legacy encoding it is found to be in)",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="read FIELD from COLUMN in CSV/JSON/Parquet exports (repeatable), e.g. title=headline",
    )
    parser.add_argument(
        "--base-url",
        help="site address for relative links and Markdown slugs; for Markdown posts of a site,"
        " instead of the address in its config",
    )
    parser.add_argument(
        "--generator",
        choices=GENERATORS,
        help="read Markdown posts as this generator does (categories, tags, dates, drafts,"
        " URLs); needed only for posts with no site config (_config.yml, hugo.toml …) above them",
    )
    parser.add_argument(
        "--permalink",
        metavar="PATTERN",
        help="make Markdown posts' URLs from --base-url and this pattern, e.g."
        " /:year/:month/:day/:title/ (instead of a site config's permalink)",
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out a file that cannot be read or parsed (listed as rejected) and import"
        " the rest, instead of writing nothing",
    )
    parser.add_argument(
        "--rederive",
        action="store_true",
        help="import nothing: derive the stored posts' text, excerpts, derived titles and"
        " index again from their stored source, with the current rules",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing on success (no progress bar)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.rederive and args.sources:
        parser.error("--rederive takes no SOURCE: it reads the store's own sources")
    if not args.rederive and not args.sources:
        parser.error("the following arguments are required: SOURCE")
    options = ParseOptions(
        encoding=args.encoding,
        columns=_parse_map(args.map, parser),
        base_url=args.base_url,
        generator=args.generator,
        permalink=args.permalink,
    )
    db = resolve_db(args.db)
    try:  # a Parquet dataset or MotherDuck: say what to do instead, before reading anything
        refuse_writes(locate(db))
    except StoreReadOnly as exc:
        print(f"error: {exc.message}\n{exc.command}", file=sys.stderr)
        return 2
    if args.rederive:
        if not os.path.exists(db):
            print(f"error: no store at {db} to re-derive", file=sys.stderr)
            return 1
        summary = rederive(db)
        if not args.quiet:
            print(summary.describe())
            print(f"database: {db}")
        return 0
    bar = tqdm(desc="reading", unit=" file", disable=args.quiet or None, file=sys.stderr)

    def progress(name: str, files: int, records: int) -> None:
        if name.startswith("merging "):
            bar.set_description_str(name)  # the last, possibly long, phase of a run
            bar.refresh()
            return
        bar.set_postfix_str(f"{records:,} posts", refresh=False)
        bar.update(1)

    try:
        summary = run_ingest(
            db, args.sources, args.format, options, progress, skip_bad=args.skip_bad
        )
    except IngestError as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        print(f"nothing was written; {db} is unchanged", file=sys.stderr)
        return 1
    bar.close()
    if not args.quiet:
        print(summary.describe())
        print(f"database: {db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
