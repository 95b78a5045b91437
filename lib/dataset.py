"""A store published as a Parquet dataset: its layout, and reading it as the app's tables.

The layout, as ``python -m lib.export`` writes it::

    ROOT/_manifest.parquet          one row per file: table_name, file (relative), rows
    ROOT/<table>/part-0.parquet     every table of the store, one folder each

The manifest is written last, so a dataset whose export did not finish is not taken for a
complete one; it also lists the files, which is what makes a dataset readable over plain
``https://``, where there is no listing. A local folder without a manifest is still read,
taking ``ROOT/<table>/*.parquet`` and ``ROOT/<table>.parquet`` as tables, for datasets made
by hand or by other tools.

A reader gets one view per table over ``read_parquet``, so every query written for the
DuckDB file (``lib.queries``, ``lib.topics``, the SQL page) runs unchanged. Postings are
exported sorted by term, so Parquet's row-group statistics skip other terms' rows as
DuckDB's zone maps do in the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from lib.locator import Locator, StoreMissing, StoreUnavailable, is_remote_url

MANIFEST = "_manifest.parquet"
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A manifest comes from whoever published the dataset: its files must stay inside the
# dataset (no absolute paths, no "..", no URLs), since readers open exactly these files.
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=-]*$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=-]*\.parquet$")


@dataclass(frozen=True)
class DatasetTable:
    """One table of a dataset: its files, relative to the root, and its row count if known."""

    name: str
    files: tuple[str, ...]
    rows: int | None = None


def join(root: str, relative: str) -> str:
    """A file of the dataset as DuckDB should open it: a URL, or an absolute local path."""
    if is_remote_url(root):
        return f"{root.rstrip('/')}/{relative}"
    return str(Path(root).resolve() / relative)


def safe_relative(file: str) -> bool:
    parts = PurePosixPath(file).parts
    return (
        bool(parts)
        and not file.startswith("/")
        and all(_PART.match(p) for p in parts[:-1])
        and bool(_FILE_NAME.match(parts[-1]))
    )


def tables(con: duckdb.DuckDBPyConnection, locator: Locator) -> list[DatasetTable]:
    """The dataset's tables, from its manifest (or, for a local folder without one, its files).

    ``con`` is used to read the manifest, so that remote datasets are read by DuckDB's own
    file systems (httpfs for ``s3://`` and ``https://``).
    """
    root = locator.location
    if not is_remote_url(root):
        if not Path(root).is_dir():
            raise StoreMissing(
                f"There is no Parquet dataset at {root}: the folder does not exist.",
                command=f"python -m lib.export --db data/posts.duckdb --parquet {root}",
            )
        if not Path(root, MANIFEST).is_file():
            return _scan_folder(Path(root))
    try:
        rows = con.execute(
            "SELECT table_name, file, rows FROM read_parquet(?) ORDER BY table_name, file",
            [join(root, MANIFEST)],
        ).fetchall()
    except duckdb.Error as exc:
        raise _remote_error(locator, exc) from None
    found: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for name, file, count in rows:
        if not TABLE_NAME.match(str(name)) or not safe_relative(str(file)):
            raise StoreUnavailable(
                f"The manifest of {root} lists a table or file outside the dataset"
                f" ({name!r}, {file!r}); it was not read."
            )
        found.setdefault(name, []).append(file)
        counts[name] = counts.get(name, 0) + int(count or 0)
    return [DatasetTable(name, tuple(files), counts[name]) for name, files in found.items()]


def _scan_folder(root: Path) -> list[DatasetTable]:
    found: dict[str, list[str]] = {}
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and TABLE_NAME.match(entry.name):
            files = sorted(
                f"{entry.name}/{f.name}"
                for f in entry.iterdir()
                if f.is_file() and _FILE_NAME.match(f.name)
            )
            if files:
                found.setdefault(entry.name, []).extend(files)
        elif entry.is_file() and entry.suffix == ".parquet" and TABLE_NAME.match(entry.stem):
            found.setdefault(entry.stem, []).append(entry.name)
    if not found:
        raise StoreMissing(
            f"{root} holds no Parquet dataset: no {MANIFEST}, and no <table>/*.parquet"
            " or <table>.parquet files.",
            command=f"python -m lib.export --db data/posts.duckdb --parquet {root}",
        )
    return [DatasetTable(name, tuple(files)) for name, files in found.items()]


def _remote_error(locator: Locator, exc: duckdb.Error) -> StoreUnavailable:
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if is_remote_url(locator.location) and "extension" in text.lower():
        return StoreUnavailable(
            f"Cannot read {locator.describe()}: DuckDB reads object storage and web URLs through"
            " its httpfs (or azure) extension, which could not be loaded here; it is downloaded"
            f" on first use and needs network access. DuckDB said: {first}"
        )
    return StoreUnavailable(f"Cannot read the manifest of {locator.describe()}: {first}")


def sql_string(value: str) -> str:
    """A SQL string literal. Views cannot take prepared parameters, so file names are quoted."""
    return "'" + value.replace("'", "''") + "'"


def view_sql(table: DatasetTable, root: str | None, catalog: str | None = None) -> str:
    """``CREATE VIEW`` for one table; file names relative when ``root`` is None."""
    files = ", ".join(sql_string(f if root is None else join(root, f)) for f in table.files)
    target = f'"{table.name}"' if catalog is None else f'{catalog}.main."{table.name}"'
    return f"CREATE VIEW {target} AS SELECT * FROM read_parquet([{files}])"


def create_views(
    con: duckdb.DuckDBPyConnection, locator: Locator, found: list[DatasetTable]
) -> None:
    """One view per table in ``con``'s current database, over the dataset's files."""
    for table in found:
        try:
            con.execute(view_sql(table, locator.location))
        except duckdb.Error as exc:
            raise _remote_error(locator, exc) from None


def local_signature(root: str) -> tuple[int, ...] | None:
    """Changes whenever the dataset is replaced or any of its files is.

    The folder's inode changes when an export swaps a new folder in; the newest
    modification time, the file count and the total size catch files changed in place.
    """
    try:
        top = os.stat(root)
    except FileNotFoundError:
        return None
    newest = count = size = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                st = os.stat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            newest = max(newest, st.st_mtime_ns)
            count += 1
            size += st.st_size
    return (top.st_ino, newest, count, size)
