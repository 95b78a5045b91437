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
from lib.ingest.detect import BULK_PARSERS, expand, parser_for
from lib.ingest.fast_insert import FastBatch, insert_fast
from lib.ingest.index import update_index
from lib.ingest.merge import Conflict, MergeStats, merge_run, sightings_from
from lib.ingest.naming import shown_name, stored_name
from lib.ingest.postings import PARALLEL_FROM, EarlySegmentation
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


@dataclass
class _Parsed:
    """Every file of a run, parsed: the fast lane's tables and the other records."""

    # Each record with its file's digest and its place (file, row): records of the fast
    # lane's leftovers rejoin the others in file order, so the first sighting still wins.
    placed: list[tuple[PostRecord, str, tuple[int, int]]] = field(default_factory=list)
    fast: list[FastBatch] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    files: int = 0
    records: int = 0
    skipped: list[str] = field(default_factory=list)
    unpublished: list[tuple[str, str]] = field(default_factory=list)
    read_as: list[tuple[str, str]] = field(default_factory=list)
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    feeds: set[int] = field(default_factory=set)  # file numbers of feeds, merged last


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
    started = datetime.now().replace(microsecond=0)
    run = _parse_all(sources, fmt, options or ParseOptions(), progress, fast_lane, skip_bad)
    if run.files == 0:
        raise IngestError(", ".join(map(shown_name, sources)), "no readable files found")
    stats = MergeStats(rejected=run.bad_files)
    if progress:
        progress(f"merging {run.records:,} records into the store", run.files, run.records)
    with write_transaction(db_path) as con:
        run_id = int(scalar(con, "SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs"))
        out_of_range = _merge_and_index(con, run, run_id, started, stats, progress)
        _record_run(
            con, run_id, started, sources, run.formats, run.files, run.records, stats,
            len(out_of_range),
        )  # fmt: skip
    return RunSummary(
        run_id=run_id,
        files=run.files,
        records=run.records,
        added=stats.added,
        updated=stats.updated,
        unchanged=stats.unchanged,
        rejected=stats.rejected,
        conflicts=stats.conflicts,
        skipped=run.skipped,
        formats=run.formats,
        dates_out_of_range=out_of_range,
        unpublished=run.unpublished,
        read_as=run.read_as,
    )


def _parse_all(
    sources: list[str],
    fmt: str | None,
    options: ParseOptions,
    progress: Progress | None,
    fast_lane: bool,
    skip_bad: bool,
) -> _Parsed:
    """Read and parse every file before anything is written."""
    run = _Parsed()
    for unit in expand(sources, fmt, run.skipped, options):
        run.files += 1
        run.formats[unit.fmt] = run.formats.get(unit.fmt, 0) + 1
        name = unit.name  # as stored: without credentials or the server's paths
        digest = unit.digest
        bulk = BULK_PARSERS.get(unit.fmt) if fast_lane else None
        try:
            encoding, found = file_encoding(unit.fmt, unit.data, name, unit.options.encoding)
            file_options = replace(unit.options, encoding=encoding)
            if bulk is not None:
                table, slow, rows = bulk(unit.data, name, file_options)
                if table.num_rows:
                    run.fast.append(FastBatch(name, digest, table, run.files))
                run.records += table.num_rows
            else:
                slow = parser_for(unit.fmt)(unit.data, name, file_options)
                rows = list(range(1, len(slow) + 1))
        except NotPublished as exc:
            run.unpublished.append((unit.shown, exc.reason))
            continue
        except IngestError as exc:  # the user is told where the file is, not its stored name
            if skip_bad:
                where = str(exc).removesuffix(f": {exc.detail}")
                run.bad_files.append((where, f"{exc.detail}; the file was skipped (--skip-bad)"))
                continue
            raise IngestError(unit.shown, exc.detail, line=exc.line, row=exc.row) from exc
        if found:
            run.read_as.append((found, unit.shown))
        if unit.fmt == "feed":
            run.feeds.add(run.files)
        places = ((run.files, row) for row in rows)
        run.placed.extend(
            (record, digest, place) for record, place in zip(slow, places, strict=True)
        )
        run.records += len(slow)
        if progress:
            progress(name, run.files, run.records)
    return run


def _merge_and_index(
    con: duckdb.DuckDBPyConnection,
    run: _Parsed,
    run_id: int,
    started: datetime,
    stats: MergeStats,
    progress: Progress | None,
) -> list[tuple[str, str]]:
    """Write the fast lane's new posts, merge every other record, and index what changed;
    returns (where, the date) of each record whose date is out of range."""
    early: list[EarlySegmentation] = []

    def segment_early(con: duckdb.DuckDBPyConnection, posts: str) -> None:
        (count,) = con.execute(f"SELECT count(*) FROM ({posts})").fetchall()[0]
        if count >= PARALLEL_FROM:
            early.append(EarlySegmentation(con, posts))

    try:
        placed = sightings_from(run.placed, stats)
        # The fast lane takes no date out of range (lib.ingest.fast_lane): the records
        # are all of them, and those not rejected are stored.
        out_of_range = [
            (s.record.locator, s.record.date_out_of_range)
            for s, _ in placed
            if s.record.date_out_of_range is not None
        ]
        others = [sighting for sighting, _ in placed]
        added, unchanged, rest = insert_fast(
            con, run.fast, others, run_id, started, on_new=segment_early
        )
        placed += sightings_from(rest, stats)
        # Stable: file order, the first sighting first; a feed is rendered from the
        # posts, so a post's own file speaks first (its date in the site's time zone).
        placed.sort(key=lambda item: (item[1][0] in run.feeds, item[1]))
        sightings = [sighting for sighting, _ in placed]
        merge_run(con, sightings, run_id, started, stats, fresh=set(added))
        stats.added += len(added)
        stats.unchanged += unchanged
        stats.changed_ids = added + stats.changed_ids
        if progress:
            indexing = f"indexing {len(stats.changed_ids):,} new or changed posts"
            progress(indexing, run.files, run.records)
        # Early segmentation saw the new posts as the fast lane wrote them; a merged
        # record may have changed one since.
        usable = early[0] if early and not sightings else None
        update_index(con, stats.changed_ids, early=usable)
    finally:
        for started_early in early:
            started_early.cancel()
    return out_of_range


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
