"""Keeping a running app's store fresh: the seed folder and the configured sources.

One :class:`Refresher` per store in a process does that store's writes, one round at a
time (``lib.store.writer_lock`` keeps other processes in line). Every write goes through
``lib.store.write_transaction``: an import builds a copy of the store and swaps it in, so
sessions read the old store throughout and move to the new one when its signature changes
(``ui/store_access.py``). The imports of a round run in one child process (``lib.isolated_import``),
which also reads the store to decide; the server reads it only at start, before the app's
own connection exists.

- At start (:meth:`Refresher.boot`, while the first page waits): the seed folder if the
  store lacks some of it (``lib.bootstrap.ensure_seeded``), then every source, so the first
  page already shows the blog's latest posts, merged into what the seed holds.
- Then, from a background thread: the seed folder is looked at every :data:`SEED_CHECK_S`
  seconds (one ``stat`` per file), and a change is imported; each source is fetched on its
  own schedule, and content already imported (the same bytes, by digest) writes nothing.
- A fetch or an import that fails leaves the store as it was; its time and message are
  kept for ``/data`` (:meth:`Refresher.statuses`), and it is tried again on its schedule.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from lib.bootstrap import ensure_seeded, is_default, seed_state
from lib.config import DEFAULT_DB, SEED_DIR
from lib.ingest.naming import scrub_message
from lib.ingest.reading import read_bytes
from lib.ingest.records import IngestError
from lib.isolated_import import ImportFailed, Job, import_in_child
from lib.locator import locate
from lib.sources import FETCH_TIMEOUT_S, Source

SEED_CHECK_S = 10.0
SEED_NAME = "data/seed/"


@dataclass(frozen=True)
class Status:
    """What became of the last check of one source (or of the seed folder), for ``/data``."""

    name: str  # the URL without credentials, or SEED_NAME
    every_s: float | None  # the schedule; None for the seed folder, checked on every change
    checked_at: datetime | None = None
    outcome: str = "not checked yet"  # "2 added, 0 updated, 8 unchanged", "unchanged", "failed"
    error: str | None = None
    ok_at: datetime | None = None  # the last check that succeeded


@dataclass(frozen=True)
class _Job:
    key: str  # SEED_NAME or a source's URL
    job: Job
    checked_at: datetime


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Refresher:
    """The seed folder and the sources of one store, checked and imported a round at a time."""

    def __init__(
        self,
        db_path: str,
        *,
        seed_dir: Path = SEED_DIR,
        default_db: str | os.PathLike[str] = DEFAULT_DB,
        seed_check_s: float = SEED_CHECK_S,
        fetch_timeout_s: float = FETCH_TIMEOUT_S,
        background: bool = True,
    ) -> None:
        """``background=False`` starts no thread: the caller runs :meth:`run_due` itself."""
        self.db_path = db_path
        self.seed_dir = seed_dir
        self.default_db = default_db
        self.seed_check_s = seed_check_s
        self.fetch_timeout_s = fetch_timeout_s
        self.background = background
        # Only the default store gets the seed (lib.bootstrap), so only it is watched.
        self.watches_seed = locate(db_path).kind == "duckdb" and is_default(db_path, default_db)
        self._lock = threading.Lock()  # guards the fields below
        self._sources: dict[str, Source] = {}
        self._due: dict[str, float] = {}  # time.monotonic() at which each source is next due
        self._status: dict[str, Status] = {}
        self._digests: dict[str, str] = {}  # each source's content last imported or found stored
        self._thread: threading.Thread | None = None
        self._seed_seen: tuple[object, ...] | None = None
        self._seed_next = 0.0
        self._writing = threading.Lock()  # one round at a time
        self._booting = threading.Lock()
        self._booted = False
        self._wake = threading.Event()
        self._stopping = threading.Event()

    # --- What the app calls ---------------------------------------------------------------

    def boot(self, sources: Sequence[Source]) -> None:
        """The first call imports what the seed folder and ``sources`` hold before it returns,
        then starts the background checks; a later call hands over the sources (the secrets
        may have changed), which the background thread fetches if they are new."""
        with self._booting:
            if not self._booted:
                self._set_sources(sources)
                with self._writing:
                    self._seed_seen = seed_state(self.seed_dir) if self.watches_seed else None
                    self._seed_next = time.monotonic() + self.seed_check_s
                    self._round(self._seed_jobs(trust_mtime=True))
                self._booted = True
        self.configure(sources)

    def configure(self, sources: Sequence[Source]) -> None:
        """Check ``sources`` from now on: new ones at once, the others on their schedule."""
        if self._set_sources(sources):
            self._wake.set()
        self._start_thread()

    def check_now(self) -> None:
        """Make every source due and wake the background thread, as their schedules would."""
        with self._lock:
            self._due = dict.fromkeys(self._due, 0.0)
        self._start_thread()
        self._wake.set()

    def statuses(self) -> list[Status]:
        """The seed folder's (for the default store), then each source's, in their order."""
        with self._lock:
            return [self._status[key] for key in [SEED_NAME, *self._sources] if key in self._status]

    def run_due(self) -> None:
        """One round: the seed folder if it is time and it changed, and every source due."""
        with self._writing:
            jobs: list[_Job] = []
            now = time.monotonic()
            if self.watches_seed and now >= self._seed_next:
                self._seed_next = now + self.seed_check_s
                state = seed_state(self.seed_dir)
                if state != self._seed_seen:  # the child decides whether to import
                    self._seed_seen = state
                    job = Job(seed_dir=str(self.seed_dir), default_db=str(self.default_db))
                    jobs.append(_Job(SEED_NAME, job, _now()))
            self._round(jobs)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    # --- A round --------------------------------------------------------------------------

    def _round(self, jobs: list[_Job]) -> None:
        """Fetch the sources that are due, then import ``jobs`` and the sources whose bytes
        the store lacks, in that order (the seed's history first), in one child process."""
        now = time.monotonic()
        with self._lock:
            due = [source for url, source in self._sources.items() if self._due[url] <= now]
        for source in due:
            checked = self._check(source)
            if isinstance(checked, _Job):
                jobs.append(checked)
            else:
                self._record(source.url, checked)
        if not jobs:
            return
        results = import_in_child(self.db_path, [job.job for job in jobs])
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, ImportFailed):
                self._record(job.key, Status(job.key, None, job.checked_at, "failed", str(result)))
                continue
            if job.job.digest is not None:
                with self._lock:
                    self._digests[job.key] = job.job.digest
            self._record(job.key, Status(job.key, None, job.checked_at, result))

    def _seed_jobs(self, trust_mtime: bool) -> list[_Job]:
        """At start: the seed folder's import, when the store lacks some of it."""
        if not self.watches_seed:  # a named store is only migrated, and a failure shows as before
            ensure_seeded(self.db_path, self.seed_dir, self.default_db)
            return []
        checked, wanted = _now(), []
        try:  # ensure_seeded decides and migrates; the import itself joins the round
            ensure_seeded(
                self.db_path,
                self.seed_dir,
                self.default_db,
                trust_mtime=trust_mtime,
                run_import=lambda _db, sources: wanted.append(sources),
            )
        except Exception as exc:  # a full disk, say: the thread must outlive it, and report it
            error = f"{type(exc).__name__}: {exc}"
            self._record(SEED_NAME, Status(SEED_NAME, None, checked, "failed", error))
            return []
        if not wanted:
            self._record(SEED_NAME, Status(SEED_NAME, None, checked, "up to date"))
        return [_Job(SEED_NAME, Job(sources=tuple(sources)), checked) for sources in wanted]

    def _check(self, source: Source) -> Status | _Job:
        """Fetch a source: a status when there is nothing to import, else the import to run."""
        checked = _now()
        failed = Status(source.shown, source.refresh_s, checked, "failed")
        refused = self._unwritable()
        if refused is not None:
            return replace(failed, error=refused)
        try:
            data = read_bytes(source.url, timeout=self.fetch_timeout_s)
            digest = hashlib.sha256(data).hexdigest()
            with self._lock:
                if self._digests.get(source.url) == digest:  # no child to start
                    return Status(source.shown, source.refresh_s, checked, "unchanged")
        except IngestError as exc:  # named without credentials by lib.ingest
            return replace(failed, error=str(exc))
        except Exception as exc:  # the thread must outlive any one failure, and report it
            return replace(failed, error=scrub_message(f"{type(exc).__name__}: {exc}", source.url))
        return _Job(source.url, Job(sources=(source.url,), digest=digest), checked)

    def _record(self, key: str, status: Status) -> None:
        """Keep a check's status (and a source's next check), with the last success's time."""
        with self._lock:
            source = self._sources.get(key)
            if key != SEED_NAME and source is None:
                return  # removed from the secrets meanwhile
            previous = self._status.get(key)
            ok_at = status.checked_at if status.error is None else None
            if ok_at is None and previous is not None:
                ok_at = previous.ok_at
            name, every = (SEED_NAME, None) if source is None else (source.shown, source.refresh_s)
            self._status[key] = replace(status, name=name, every_s=every, ok_at=ok_at)
            if source is not None:
                self._due[key] = time.monotonic() + source.refresh_s

    def _unwritable(self) -> str | None:
        """Why the sources cannot be imported into this store, if they cannot."""
        kind = locate(self.db_path).kind
        if kind != "duckdb":
            what = "a Parquet dataset" if kind == "parquet" else "a MotherDuck database"
            return (
                f"the store is {what}, which imports cannot write; import into a DuckDB file"
                " and export it, or use the default store"
            )
        if not os.path.exists(self.db_path) and not is_default(self.db_path, self.default_db):
            return f"the store {self.db_path} does not exist (a store you name is not created)"
        return None

    # --- The sources and the background thread ----------------------------------------------

    def _set_sources(self, sources: Sequence[Source]) -> bool:
        """Take ``sources`` as the ones to check; whether they changed."""
        with self._lock:
            wanted = {source.url: source for source in sources}
            if wanted == self._sources:
                return False
            for url in self._sources.keys() - wanted.keys():
                self._due.pop(url, None)
                self._status.pop(url, None)
            for url, source in wanted.items():
                self._due.setdefault(url, 0.0)  # a new source is due at once
                old = self._status.get(url) or Status(source.shown, source.refresh_s)
                self._status[url] = replace(old, every_s=source.refresh_s)
            self._sources = wanted
            return True

    def _start_thread(self) -> None:
        with self._lock:
            idle = not self.watches_seed and not self._sources
            if idle or not self.background or self._thread is not None or self._stopping.is_set():
                return
            self._thread = threading.Thread(
                target=self._loop, name=f"refresh {self.db_path}", daemon=True
            )
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.clear()
            if self._stopping.is_set():
                return
            self.run_due()
            self._wake.wait(self._seconds_to_next())

    def _seconds_to_next(self) -> float | None:
        with self._lock:
            times = list(self._due.values())
        if self.watches_seed:
            times.append(self._seed_next)
        return max(0.0, min(times) - time.monotonic()) if times else None


_RUNNING: dict[str, Refresher] = {}
_RUNNING_LOCK = threading.Lock()


def start(db_path: str, sources: Sequence[Source]) -> Refresher:
    """The process's refresher for ``db_path``, booted by the first call (see
    :meth:`Refresher.boot`); a later call hands it ``sources``."""
    with _RUNNING_LOCK:
        refresher = _RUNNING.get(db_path)
        if refresher is None:
            refresher = _RUNNING[db_path] = Refresher(db_path)
    refresher.boot(sources)
    return refresher


def stop(db_path: str) -> None:
    """Stop the refresher of ``db_path`` and forget it (the next :func:`start` boots anew)."""
    with _RUNNING_LOCK:
        refresher = _RUNNING.pop(db_path, None)
    if refresher is not None:
        refresher.stop()
