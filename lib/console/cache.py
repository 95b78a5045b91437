"""Console results kept for repeat visits, within a byte budget for the process and per session.

A shared ``/sql?sql=…`` link is opened again and again, so its result is kept; a query that
ran into a limit is kept too, so clicking again does not run it again. Entries are evicted by
size (least recently used first), never by count alone: 64 large results cannot add up to
gigabytes. A session that fills its own budget evicts its own entries, not other people's.
"Busy" is never kept, since the next try may find a free worker.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from lib.console import limits
from lib.console.errors import ConsoleBusy, ConsoleError
from lib.console.memory import release_free_memory
from lib.console.pool import WaitReport, run_console
from lib.console.results import ConsoleResult

Outcome = ConsoleResult | ConsoleError
ENTRY_OVERHEAD_BYTES = 1024  # the key, the message and the bookkeeping of one entry


@dataclass
class _Entry:
    outcome: Outcome
    size: int
    session: str
    stored_at: float


def outcome_size(outcome: Outcome, sql: str) -> int:
    """Bytes an entry holds: the frame's memory plus its text.

    pandas counts strings deeply but not the arrays inside cells (a list column's), which
    the rows' own measure (``held_bytes``) does count.
    """
    size = ENTRY_OVERHEAD_BYTES + len(sql.encode("utf-8", "replace"))
    if isinstance(outcome, ConsoleResult):
        frame_bytes = int(outcome.frame.memory_usage(index=True, deep=True).sum())
        size += max(frame_bytes, outcome.held_bytes)
    else:
        size += len(outcome.message.encode("utf-8", "replace"))
    return size


class ResultCache:
    """Least-recently-used outcomes, bounded in bytes overall and per session."""

    def __init__(
        self,
        budget_bytes: int = limits.CACHE_BYTES,
        session_bytes: int = limits.SESSION_CACHE_BYTES,
        ttl_s: float = limits.CACHE_TTL_S,
    ) -> None:
        self.budget_bytes = budget_bytes
        self.session_bytes = session_bytes
        self.ttl_s = ttl_s
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        with self._lock:
            return sum(entry.size for entry in self._entries.values())

    def get(self, key: Hashable) -> Outcome | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.stored_at > self.ttl_s:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.outcome

    def put(self, key: Hashable, outcome: Outcome, size: int, session: str) -> None:
        """Keep ``outcome`` unless it alone exceeds a budget; evict the oldest to make room."""
        if size > min(self.budget_bytes, self.session_bytes):
            return
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = _Entry(outcome, size, session, time.monotonic())
            self._evict(lambda entry: entry.session == session, self.session_bytes)
            self._evict(lambda entry: True, self.budget_bytes)

    def _evict(self, counts: Callable[[_Entry], bool], budget: int) -> None:
        total = sum(entry.size for entry in self._entries.values() if counts(entry))
        for key in list(self._entries):
            if total <= budget:
                return
            entry = self._entries[key]
            if counts(entry):
                del self._entries[key]
                total -= entry.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


results = ResultCache()  # this process's


def answer(
    db_path: str,
    sql: str,
    *,
    store_key: Hashable,
    session: str,
    timeout_s: float = limits.DEFAULT_TIMEOUT_S,
    on_wait: WaitReport | None = None,
    cache: ResultCache = results,
) -> Outcome:
    """The outcome of ``sql`` on the store, from the cache when this store answered it lately.

    ``store_key`` changes when the store does (the app passes the store's signature), so a
    new import is never answered from an old file. Raises only :class:`ConsoleBusy`.
    """
    key = (store_key, sql, timeout_s)
    kept = cache.get(key)
    if kept is not None:
        return kept
    release_free_memory()  # what earlier results' pages freed, before this one allocates
    try:
        outcome: Outcome = run_console(
            db_path, sql, timeout_s=timeout_s, session=session, on_wait=on_wait
        )
    except ConsoleBusy:
        raise
    except ConsoleError as exc:
        outcome = exc
    cache.put(key, outcome, outcome_size(outcome, sql), session)
    return outcome
