"""``python -m lib.export --parquet DIR [--db PATH]``: publish a store as a Parquet dataset.

Every table of the DuckDB store (whatever tables it has) becomes ``DIR/<table>/part-0.parquet``,
then ``DIR/_manifest.parquet`` lists them (layout: ``lib.dataset``). This is how a team
publishes a store for apps on other machines: export to a folder, then copy the folder to
a file share or a bucket (manifest last; see the README).

The export is written to a hidden folder beside ``DIR`` and renamed into place only when
every file is complete, so a failed or killed export leaves the previous dataset (or
nothing), never half a dataset that looks whole. Files are written read-only (mode 0444):
the app and the SQL console only read them.

Exit status 0 on success, 1 when the export failed (``DIR`` is unchanged), 2 for a wrong
command line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lib.config import resolve_db
from lib.dataset import MANIFEST, TABLE_NAME
from lib.locator import StoreError, is_remote_url, locate
from lib.store import writer_lock
from lib.store_kinds import open_read_only

# DuckDB's own row-group size: Parquet statistics then prune as finely as the file's zone maps.
ROW_GROUP_SIZE = 122_880
# Sort keys that keep row-group statistics useful: a term's postings sit in few row groups.
SORT_KEYS: dict[str, tuple[str, ...]] = {"postings": ("term_id", "doc"), "posts": ("doc", "id")}
PART = "part-0.parquet"


class ExportError(Exception):
    """An export that did not happen; the message says why, and the target is unchanged."""


@dataclass(frozen=True)
class ExportSummary:
    target: str
    tables: dict[str, int]  # table -> rows

    def describe(self) -> str:
        rows = sum(self.tables.values())
        listed = ", ".join(f"{name} {n:,}" for name, n in self.tables.items())
        return f"exported {len(self.tables)} tables ({rows:,} rows) to {self.target}: {listed}"


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table of the store's main schema, in name order."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary"
        " ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    if not TABLE_NAME.match(table):
        raise ExportError(f"the table name {table!r} cannot be a dataset folder")
    keys = [f'"{k}"' for k in SORT_KEYS.get(table, ()) if k in _columns(con, table)]
    order = f" ORDER BY {', '.join(keys)}" if keys else ""
    path.parent.mkdir(parents=True)
    con.execute(
        f'COPY (SELECT * FROM "{table}"{order}) TO ?'
        f" (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})",
        [str(path)],
    )
    rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
    return int(rows[0][0])


def _is_dataset(path: Path) -> bool:
    """Whether ``path`` may be replaced: an earlier export, or an empty folder."""
    return path.is_dir() and ((path / MANIFEST).is_file() or not any(path.iterdir()))


def export_parquet(db_path: str, target: str) -> ExportSummary:
    """Write every table of the DuckDB store ``db_path`` as a Parquet dataset at ``target``."""
    source = locate(db_path)
    if source.kind != "duckdb":
        raise ExportError(
            f"{db_path} is not a DuckDB file; export reads a DuckDB store (--db PATH)."
        )
    if is_remote_url(target) or target.lower().startswith(("md:", "parquet:")):
        raise ExportError(
            f"export writes a local folder, not {target}: export to a folder, then copy it"
            " to the bucket with its own tools (data files first, _manifest.parquet last)."
        )
    final = Path(target).expanduser().absolute()
    if final.exists() and not _is_dataset(final):
        raise ExportError(
            f"{final} exists and is not a Parquet dataset written by lib.export (it has no"
            f" {MANIFEST}); it is left alone. Choose another folder, or empty it first."
        )
    try:
        con = open_read_only(source)
    except StoreError as exc:
        raise ExportError(exc.message) from None
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        with writer_lock(final.with_name(f".{final.name}")):
            # Holding the lock, leftovers belong to an export that was killed.
            for stale in final.parent.glob(f".{final.name}.tmp*"):
                shutil.rmtree(stale, ignore_errors=True)
            staging = final.with_name(f".{final.name}.tmp{os.getpid()}")
            try:
                counts = _write(con, staging)
                _swap(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except duckdb.Error as exc:
        raise ExportError(f"the export failed: {exc}") from None
    finally:
        con.close()
    return ExportSummary(str(final), counts)


def _write(con: duckdb.DuckDBPyConnection, staging: Path) -> dict[str, int]:
    staging.mkdir()
    counts: dict[str, int] = {}
    manifest: dict[str, list[object]] = {"table_name": [], "file": [], "rows": []}
    for table in base_tables(con):
        counts[table] = _copy_table(con, table, staging / table / PART)
        manifest["table_name"].append(table)
        manifest["file"].append(f"{table}/{PART}")
        manifest["rows"].append(counts[table])
    if not counts:
        raise ExportError("the store has no tables to export")
    schema = pa.schema([("table_name", pa.string()), ("file", pa.string()), ("rows", pa.int64())])
    pq.write_table(pa.table(manifest, schema=schema), staging / MANIFEST)  # last: "complete"
    for folder, _dirs, names in os.walk(staging):
        for name in names:
            path = os.path.join(folder, name)
            os.chmod(path, 0o444)
            _sync_if_possible(path)
    _sync_if_possible(str(staging))
    return counts


def _swap(staging: Path, final: Path) -> None:
    """Put ``staging`` at ``final``; an earlier dataset there is moved aside, then removed."""
    old = final.with_name(f".{final.name}.tmp-old{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if old.exists():
            os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
    _sync_if_possible(str(final.parent))


def _sync_if_possible(path: str) -> None:
    """Flush a file or folder to the disk where the file system allows it; best effort,
    as some cannot sync a folder."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.export",
        description="Write every table of a DuckDB posts store as a Parquet dataset"
        " (DIR/<table>/part-0.parquet and DIR/_manifest.parquet), replacing DIR atomically.",
    )
    parser.add_argument("--parquet", required=True, metavar="DIR", help="the dataset's folder")
    parser.add_argument(
        "--db", help="the store to export (default: $POSTS_DB or data/posts.duckdb)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    db = resolve_db(args.db)
    try:
        summary = export_parquet(db, args.parquet)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"nothing was written; {args.parquet} is unchanged", file=sys.stderr)
        return 1
    print(summary.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
