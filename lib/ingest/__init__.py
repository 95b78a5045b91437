"""Filling the ``posts`` table from the blog's sources, one all-or-nothing run at a time.

``run_ingest`` is what the CLI (``python -m lib.ingest``), the app's first start
and the tests call. Every file is parsed before anything is written, then the
whole run is merged in one transaction on a copy of the store (see
``lib.store.write_transaction``): a bad file or a kill leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import duckdb

from lib.dates import ENV_VAR as DATES_ENV_VAR
from lib.dates import published_years
from lib.ingest.bulk import FastBatch, insert_fast
from lib.ingest.detect import BULK_PARSERS, expand, parser_for
from lib.ingest.index import PARALLEL_FROM, Presegmented, update_index
from lib.ingest.merge import Conflict, MergeStats, merge_run, sightings_from
from lib.ingest.naming import shown_name, stored_name
from lib.ingest.reading import file_encoding
from lib.ingest.records import IngestError, NotPublished, ParseOptions, PostRecord
from lib.store import scalar, write_transaction

__all__ = ["IngestError", "ParseOptions", "RunSummary", "run_ingest"]

Progress = Callable[[str, int, int], None]


@dataclass
class RunSummary:
    run_id: int
    files: int
    records: int
    added: int
    updated: int
    unchanged: int
    rejected: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    # (where, the date) for each stored record whose date lay outside the years the
    # store keeps, and was stored as no date; the date as written if Python has no such day.
    dates_out_of_range: list[tuple[str, str]] = field(default_factory=list)
    # (file, why) for each post its site never builds (a draft), left out of the store.
    unpublished: list[tuple[str, str]] = field(default_factory=list)
    # (encoding, file) for each file found to be in another encoding than UTF-8.
    read_as: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        kinds = ", ".join(f"{n} {fmt}" for fmt, n in sorted(self.formats.items()))
        lines = [
            f"run {self.run_id}: {self.files} file(s) ({kinds or 'none'}),"
            f" {self.records} record(s):"
            f" {self.added} added, {self.updated} updated, {self.unchanged} unchanged,"
            f" {len(self.rejected)} rejected, {len(self.conflicts)} conflict(s),"
            f" {len(self.dates_out_of_range)} date(s) out of range"
        ]
        lines += [f"  rejected {where}: {why}" for where, why in self.rejected[:20]]
        lines += [f"  read as {encoding}: {where}" for encoding, where in self.read_as[:20]]
        years = published_years().describe()
        lines += [
            f"  date out of range at {where}: {written!r} is not in {years}, stored as no date"
            for where, written in self.dates_out_of_range[:20]
        ]
        if len(self.dates_out_of_range) > 20:
            more = len(self.dates_out_of_range) - 20
            lines.append(f"  … {more} more dates out of range ({years}; set {DATES_ENV_VAR})")
        lines += [
            f"  conflict in {c.field} of post {c.post_id} at {c.locator}:"
            f" kept {c.kept!r}, not {c.offered!r}"
            for c in self.conflicts[:20]
        ]
        if len(self.conflicts) > 20:
            lines.append(f"  … {len(self.conflicts) - 20} more conflicts in table `conflicts`")
        lines += [f"  skipped (not a post file): {path}" for path in self.skipped[:20]]
        lines += [
            f"  not published ({why}), skipped: {where}" for where, why in self.unpublished[:20]
        ]
        if len(self.unpublished) > 20:
            lines.append(f"  … {len(self.unpublished) - 20} more posts not published, skipped")
        return "\n".join(lines)


def run_ingest(
    db_path: str,
    sources: list[str],
    fmt: str | None = None,
    options: ParseOptions | None = None,
    progress: Progress | None = None,
    fast_lane: bool = True,
    skip_bad: bool = False,
) -> RunSummary:
    """Parse every source, then merge them all into the store in one transaction.

    ``fast_lane=False`` sends every row down the per-record path; the tests use it
    to check that both lanes store the same posts. ``skip_bad`` (``--skip-bad``) leaves
    out a file that cannot be read or parsed, as a rejection, instead of stopping the run.
    """
    options = options or ParseOptions()
    started = datetime.now().replace(microsecond=0)
    skipped: list[str] = []
    # Each record with its file's digest and its place (file, row): records of the fast
    # lane's leftovers rejoin the others in file order, so the first sighting still wins.
    parsed: list[tuple[PostRecord, str, tuple[int, int]]] = []
    fast: list[FastBatch] = []
    formats: dict[str, int] = {}
    files = 0
    records = 0
    unpublished: list[tuple[str, str]] = []
    read_as: list[tuple[str, str]] = []
    bad_files: list[tuple[str, str]] = []
    feeds: set[int] = set()  # file numbers of feeds, merged after the posts' own files
    for unit in expand(sources, fmt, skipped, options):
        files += 1
        formats[unit.fmt] = formats.get(unit.fmt, 0) + 1
        name = unit.name  # as stored: without credentials or the server's paths
        digest = unit.digest
        bulk = BULK_PARSERS.get(unit.fmt) if fast_lane else None
        try:
            encoding, found = file_encoding(unit.fmt, unit.data, name, unit.options.encoding)
            file_options = replace(unit.options, encoding=encoding)
            if bulk is not None:
                table, slow, rows = bulk(unit.data, name, file_options)
                if table.num_rows:
                    fast.append(FastBatch(name, digest, table, files))
                records += table.num_rows
            else:
                slow = parser_for(unit.fmt)(unit.data, name, file_options)
                rows = list(range(1, len(slow) + 1))
        except NotPublished as exc:
            unpublished.append((unit.shown, exc.reason))
            continue
        except IngestError as exc:  # the user is told where the file is, not its stored name
            if skip_bad:
                where = str(exc).removesuffix(f": {exc.detail}")
                bad_files.append((where, f"{exc.detail}; the file was skipped (--skip-bad)"))
                continue
            raise IngestError(unit.shown, exc.detail, line=exc.line, row=exc.row) from exc
        if found:
            read_as.append((found, unit.shown))
        if unit.fmt == "feed":
            feeds.add(files)
        places = ((files, row) for row in rows)
        parsed.extend((record, digest, place) for record, place in zip(slow, places, strict=True))
        records += len(slow)
        if progress:
            progress(name, files, records)
    if files == 0:
        raise IngestError(", ".join(map(shown_name, sources)), "no readable files found")
    stats = MergeStats(rejected=bad_files)
    if progress:
        progress(f"merging {records:,} records into the store", files, records)
    early: list[Presegmented] = []

    def segment_early(con: duckdb.DuckDBPyConnection, posts: str) -> None:
        (count,) = con.execute(f"SELECT count(*) FROM ({posts})").fetchall()[0]
        if count >= PARALLEL_FROM:
            early.append(Presegmented(con, posts))

    with write_transaction(db_path) as con:
        try:
            run_id = int(scalar(con, "SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs"))
            placed = sightings_from(parsed, stats)
            # The fast lane takes no date out of range (lib.ingest.bulk): the records
            # are all of them, and those not rejected are stored.
            out_of_range = [
                (s.record.locator, s.record.date_out_of_range)
                for s, _ in placed
                if s.record.date_out_of_range is not None
            ]
            others = [sighting for sighting, _ in placed]
            added, unchanged, rest = insert_fast(
                con, fast, others, run_id, started, on_new=segment_early
            )
            placed += sightings_from(rest, stats)
            # Stable: file order, the first sighting first; a feed is rendered from the
            # posts, so a post's own file speaks first (its date in the site's time zone).
            placed.sort(key=lambda item: (item[1][0] in feeds, item[1]))
            sightings = [sighting for sighting, _ in placed]
            merge_run(con, sightings, run_id, started, stats, fresh=set(added))
            stats.added += len(added)
            stats.unchanged += unchanged
            stats.changed_ids = added + stats.changed_ids
            if progress:
                indexing = f"indexing {len(stats.changed_ids):,} new or changed posts"
                progress(indexing, files, records)
            # Early segmentation saw the new posts as the fast lane wrote them; a merged
            # record may have changed one since.
            usable = early[0] if early and not sightings else None
            update_index(con, stats.changed_ids, early=usable)
        finally:
            for started_early in early:
                started_early.cancel()
        _record_run(
            con, run_id, started, sources, formats, files, records, stats, len(out_of_range)
        )
    return RunSummary(
        run_id=run_id,
        files=files,
        records=records,
        added=stats.added,
        updated=stats.updated,
        unchanged=stats.unchanged,
        rejected=stats.rejected,
        conflicts=stats.conflicts,
        skipped=skipped,
        formats=formats,
        dates_out_of_range=out_of_range,
        unpublished=unpublished,
        read_as=read_as,
    )


def _record_run(
    con, run_id, started, sources, formats, files, records, stats: MergeStats, out_of_range: int
) -> None:
    con.execute(
        """INSERT INTO ingest_runs (run_id, started_at, finished_at, sources, formats, files,
                                    records, added, updated, unchanged, rejected, conflicts,
                                    dates_out_of_range)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            run_id,
            started,
            datetime.now().replace(microsecond=0),
            [stored_name(s) for s in sources],
            sorted(formats),
            files,
            records,
            stats.added,
            stats.updated,
            stats.unchanged,
            len(stats.rejected),
            len(stats.conflicts),
            out_of_range,
        ],
    )
    if stats.conflicts:
        con.executemany(
            "INSERT INTO conflicts VALUES (?, ?, ?, ?, ?, ?)",
            [[run_id, c.post_id, c.field, c.kept, c.offered, c.locator] for c in stats.conflicts],
        )
    if stats.rejected:
        con.executemany(
            "INSERT INTO rejections VALUES (?, ?, ?)",
            [[run_id, where, why] for where, why in stats.rejected],
        )
