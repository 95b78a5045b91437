"""Making sure the app has data on a fresh clone, with no step beyond ``streamlit run``.

Everything in ``data/seed`` (the bundled snapshots, and whatever a team adds: exports,
Markdown folders, saved feeds, nested as it likes) is imported into the default store
(``data/posts.duckdb``) when it is missing or older than them; ``lib.refresh`` checks the
folder again while the app runs. Importing is idempotent and merges, so a default store
that also holds the user's own imports keeps them; and a store that already saw every
seed file is not rewritten at all.

A store the user names (``POSTS_DB``, ``--db``, the ``posts_db`` secret) is theirs: it
never gets the sample posts, and a missing one is not created (the app says so). It is
still migrated to the current schema, since the app's queries need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from lib.config import DEFAULT_DB, SEED_DIR
from lib.locator import locate
from lib.store import (
    SCHEMA_VERSION,
    connect_read_only,
    remove_stale_copies,
    scalar,
    write_transaction,
)


def seed_files(seed_dir: Path = SEED_DIR) -> list[Path]:
    """The seed's files, but those in hidden folders or hidden themselves, as imports skip."""
    return sorted(
        p
        for p in seed_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(seed_dir).parts)
    )


SeedState = tuple[tuple[str, int, int], ...]


def seed_state(seed_dir: Path = SEED_DIR) -> SeedState:
    """Every seed file's path, modification time and size: a change to any of them (a file
    added, edited or removed) changes this, at the cost of one ``stat`` per file."""
    found: list[tuple[str, int, int]] = []
    for path in seed_files(seed_dir):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while the folder was walked
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def seen_digests(db_path: str, digests: list[str]) -> set[str] | None:
    """Which of ``digests`` (SHA-256 of a source's bytes) some import already read into the
    store; None when the store cannot tell (missing, or from an older schema)."""
    if not os.path.exists(db_path):
        return None
    con = connect_read_only(db_path)
    try:
        return {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT source_digest FROM sightings WHERE source_digest IN "
                f"({', '.join('?' for _ in digests)})",
                digests,
            ).fetchall()
        }
    except Exception:
        return None  # a store from an older schema: importing brings it up to date
    finally:
        con.close()


def needs_seeding(db_path: str, seed_dir: Path = SEED_DIR, *, trust_mtime: bool = True) -> bool:
    """Whether some seed file was never imported into the store.

    With ``trust_mtime`` a store newer than every seed file is taken as up to date without
    reading the files (the check at start); a running app, which noticed a change in the
    folder, reads them, since a file copied with its old time is not newer.
    """
    files = seed_files(seed_dir)
    if not files:
        return False
    if not os.path.exists(db_path):
        return True
    if trust_mtime and os.path.getmtime(db_path) >= max(p.stat().st_mtime for p in files):
        return False
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    seen = seen_digests(db_path, digests)
    return seen is None or not set(digests) <= seen


def schema_version(db_path: str) -> int:
    con = connect_read_only(db_path)
    try:
        return int(scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'") or 0)
    except Exception:
        return 0
    finally:
        con.close()


def upgrade(db_path: str) -> bool:
    """Bring a store written by an older version up to the current schema and index.

    A user's own store cannot be rebuilt from the bundled data, so it is migrated
    in place (through the same all-or-nothing write as an import). True when it was.
    """
    if not os.path.exists(db_path):
        return False
    version = schema_version(db_path)
    if version >= SCHEMA_VERSION:
        return False
    from lib.ingest.index import update_index
    from lib.ingest.keywords import refresh_topic_months

    # The write migrates the tables and columns, and clears dates out of range.
    with write_transaction(db_path) as con:
        if version in (5, 6, 7):  # the index is current
            return True
        if version == 4:  # the index is current; only the monthly topic counts are new
            refresh_topic_months(con)
            return True
        # Rebuild the whole index: older layouts are not worth converting.
        for table in ("postings", "terms", "post_keywords"):
            con.execute(f"DELETE FROM {table}")
        con.execute("UPDATE posts SET doc = NULL, doc_len = NULL")
        update_index(con, [])
    return True


def is_default(db_path: str, default_db: str | os.PathLike[str] = DEFAULT_DB) -> bool:
    """Whether ``db_path`` is the default store, however it is spelled."""
    return Path(db_path).expanduser().resolve() == Path(default_db).expanduser().resolve()


Importer = Callable[[str, list[str]], object]  # (store, sources), as lib.ingest.run_ingest


def ensure_seeded(
    db_path: str,
    seed_dir: Path = SEED_DIR,
    default_db: str | os.PathLike[str] = DEFAULT_DB,
    *,
    trust_mtime: bool = True,
    run_import: Importer | None = None,
) -> bool:
    """Get a store ready to read; True when it was (re)written.

    The default store (``default_db``) gets the bundled data when needed; any other DuckDB
    file is only migrated, if it exists; Parquet datasets and MotherDuck are left as they are.
    Copies of a DuckDB store left by killed imports are removed (never a running one's).
    ``trust_mtime`` is :func:`needs_seeding`'s; ``run_import`` imports the seed folder
    (``lib.ingest.run_ingest`` by default; the app runs it in a process of its own).
    """
    if locate(db_path).kind != "duckdb":
        return False
    # A killed import's copy of the store (hundreds of MB) would otherwise wait for the
    # next import; a folder the app may not write to must not stop it from reading.
    with contextlib.suppress(OSError):
        remove_stale_copies(db_path)
    if not is_default(db_path, default_db):
        return upgrade(db_path)
    upgraded = upgrade(db_path)
    if not needs_seeding(db_path, seed_dir, trust_mtime=trust_mtime):
        return upgraded
    if run_import is None:
        from lib.ingest import run_ingest as run_import
    run_import(db_path, [str(seed_dir)])
    return True
