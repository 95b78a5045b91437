"""Running a console query: a small pool of worker processes, a fair queue, and hard deadlines.

Each query runs in a worker process of its own (:mod:`lib.console.worker`), never in the
server, so nothing a query does can take the server's memory or CPU past the worker's caps.
Workers start when first needed, serve one query at a time, and are killed, not asked, at
the deadline; a worker that hit a limit (or served many queries, or kept much memory) is
replaced. Queries wait in one first-come queue with at most one running per session, so one
visitor cannot hold every worker; while a query waits, ``on_wait`` hears where it stands. A
visitor with many tabs is many sessions, so when every worker is busy and a query waits, the
query that has run longest (past ``PREEMPT_AFTER_S``) is stopped to make room.
How one worker is started, asked and killed is :mod:`lib.console.worker_handle`.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.console import limits, wire
from lib.console.checks import clean
from lib.console.errors import KINDS, ConsoleBusy, ConsoleError, ConsoleTimeout
from lib.console.results import ConsoleResult, to_frame
from lib.console.sizes import held_bytes
from lib.console.worker_handle import Worker, WorkerGone, gone_error, start_worker

REPLY_SLACK_BYTES = 4 * 1024 * 1024  # an Arrow stream's framing beyond the rows' own bytes
JANITOR_S = 30.0  # how often idle workers are looked at
WaitReport = Callable[[str], None]


@dataclass(eq=False)
class _Ticket:
    session: str


@dataclass(eq=False)
class _Running:
    """A query on its worker: when it started, and whether it was stopped to make room."""

    worker: Worker
    started: float
    preempted: bool = False


class Pool:
    """The worker processes of this server, and the queue in front of them."""

    def __init__(self, size: int = limits.MAX_WORKERS) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._queue: deque[_Ticket] = deque()
        self._running_sessions: set[str] = set()
        self._running: list[_Running] = []
        self._busy = 0
        self._home = tempfile.mkdtemp(prefix="console-home-")
        threading.Thread(target=self._janitor, name="console-janitor", daemon=True).start()

    # --- The queue ------------------------------------------------------------------------

    def _may_start(self, ticket: _Ticket) -> bool:
        return self._busy < self.size and self._is_next(ticket)

    def _is_next(self, ticket: _Ticket) -> bool:
        """Whether ``ticket`` is the next to run once a worker is free."""
        if ticket.session in self._running_sessions:
            return False
        for ahead in self._queue:  # first come, first served among those that may run
            if ahead is ticket:
                return True
            if ahead.session not in self._running_sessions:
                return False
        return False

    def _where(self, ticket: _Ticket) -> str:
        if ticket.session in self._running_sessions:
            return "Waiting for your previous query to finish."
        ahead = list(itertools.takewhile(lambda t: t is not ticket, self._queue))
        if not ahead:
            return f"Waiting for a free worker: all {self.size} are running queries."
        return (
            f"Waiting for a free worker: {len(ahead)} quer{'y' if len(ahead) == 1 else 'ies'}"
            f" ahead of yours, {self.size} running."
        )

    def _admit(self, session: str, wait_s: float, on_wait: WaitReport | None) -> None:
        """Return once this session's query may run; ConsoleBusy after ``wait_s``."""
        ticket = _Ticket(session)
        deadline = time.monotonic() + wait_s
        with self._cond:
            self._queue.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._may_start(ticket):
                        self._queue.remove(ticket)
                        self._running_sessions.add(session)
                        self._busy += 1
                        return
                    overdue_in = self._preempt_longest() if self._is_next(ticket) else None
                    where = self._where(ticket)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ConsoleBusy(
                            f"The console is busy; after {wait_s:g} s: {where} Try again in a"
                            " moment."
                        )
                if on_wait is not None:
                    on_wait(where)  # may raise (a rerun of the page): the ticket is dropped
                with self._cond:
                    if not self._may_start(ticket):
                        self._cond.wait(min(remaining, 0.5, overdue_in or 0.5))
        except BaseException:
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
            raise

    def _preempt_longest(self) -> float | None:
        """Stop the query that has run longest, once past ``PREEMPT_AFTER_S``, unless one is
        already being stopped; else the seconds until it is past. Called holding the lock; it
        only signals, as the query's own thread reads the pipe and reaps the worker."""
        if not self._running or any(r.preempted for r in self._running):
            return None
        longest = min(self._running, key=lambda r: r.started)
        overdue_in = longest.started + limits.PREEMPT_AFTER_S - time.monotonic()
        if overdue_in > 0:
            return overdue_in
        longest.preempted = True
        with contextlib.suppress(OSError):
            longest.worker.process.kill()
        return None

    def _release(self, session: str, worker: Worker | None) -> None:
        """Hand back a healthy worker, or start its replacement (ready by the next query) when
        no idle one is left: a start takes CPU just as other visitors' queries need it."""
        with self._cond:
            self._busy -= 1
            self._running_sessions.discard(session)
            if worker is None and not self._idle:
                with contextlib.suppress(OSError):  # the next query tries again, and says why
                    worker = self._spawn()
            if worker is not None:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
            self._cond.notify_all()

    # --- Workers --------------------------------------------------------------------------

    def _spawn(self) -> Worker:
        os.makedirs(self._home, exist_ok=True)  # again after a shutdown, which removed it
        return start_worker(self._home)

    def _drop_stale(self) -> list[Worker]:
        """Take out of the idle list the workers idle too long or dead; the caller kills them."""
        with self._cond:
            now = time.monotonic()
            stale = [
                w
                for w in self._idle
                if now - w.idle_since > limits.WORKER_IDLE_S or w.process.poll() is not None
            ]
            self._idle = [w for w in self._idle if w not in stale]
        return stale

    def _janitor(self) -> None:
        """Stop idle workers even when no query comes to find them (a daemon thread)."""
        while True:
            time.sleep(min(limits.WORKER_IDLE_S, JANITOR_S))
            for worker in self._drop_stale():
                worker.kill()

    def _take_worker(self) -> Worker:
        for worker in self._drop_stale():
            worker.kill()
        with self._cond:
            worker = self._idle_worker()
            # The last idle one taken: start a spare. With none to take, the query's own new
            # worker is starting, and a spare beside it would be two starts on a busy machine.
            if worker is not None and not self._idle and self._busy < self.size:
                with contextlib.suppress(OSError):  # the spare is a nicety; the query is not
                    self._idle.append(self._spawn())
        return worker if worker is not None else self._spawn()

    def _idle_worker(self) -> Worker | None:
        """The idle worker a query should take: one that is up (the latest used, so the others
        can grow idle and stop), else the one that started first. A replacement or a spare
        still importing DuckDB would make the query wait for it. Called holding the lock."""
        if not self._idle:
            return None
        started = [w for w in self._idle if w.has_started()]
        worker = started[-1] if started else self._idle[0]
        self._idle.remove(worker)
        return worker

    def _ready_worker(self) -> Worker:
        """A worker that is up: an idle one, else a new one (and a new one if that one died)."""
        worker = self._take_worker()
        try:
            worker.wait_ready(time.monotonic() + limits.WORKER_START_S)
        except WorkerGone:  # killed while idle (by the OS, or an operator): one more try
            worker.kill()
            worker = self._spawn()
            worker.wait_ready(time.monotonic() + limits.WORKER_START_S)
        return worker

    def prestart(self) -> None:
        """Start one worker ahead of the first query, so it does not wait for DuckDB's import."""
        with self._cond:
            if self._idle or self._busy:
                return
            self._idle.append(self._spawn())

    @property
    def running(self) -> int:
        """Queries running now (each in its own worker)."""
        with self._cond:
            return self._busy

    def workers(self) -> list[int]:
        """The process ids of the workers alive now (for tests and the page's status)."""
        with self._cond:
            return [w.process.pid for w in self._idle if w.process.poll() is None]

    def shutdown(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
        shutil.rmtree(self._home, ignore_errors=True)  # else each server leaves one in /tmp

    # --- A query --------------------------------------------------------------------------

    def run(
        self,
        request: dict[str, Any],
        *,
        session: str,
        timeout_s: float,
        on_wait: WaitReport | None = None,
    ) -> tuple[dict[str, Any], bytes, float]:
        """The worker's header and rows for ``request``, and the seconds it took to run."""
        self._admit(session, limits.QUEUE_WAIT_S, on_wait)
        worker: Worker | None = None
        running: _Running | None = None
        keep = False
        try:
            worker = self._ready_worker()
            started = time.monotonic()
            running = _Running(worker, started)
            with self._cond:
                self._running.append(running)
            max_reply = int(request["max_bytes"]) * 2 + REPLY_SLACK_BYTES
            try:
                raw, head_len = worker.exchange(request, started + timeout_s, max_reply)
            except TimeoutError:
                raise ConsoleTimeout(
                    f"Query cancelled after {timeout_s:g} s, the time limit. Add a LIMIT or a"
                    " filter, or aggregate before joining."
                ) from None
            seconds = time.monotonic() - started
            try:
                header = wire.json_header(raw[:head_len])
            except ValueError:
                raise WorkerGone("the reply was not readable") from None
            worker.served += 1
            keep = (
                not header.get("recycle")
                and worker.served < limits.QUERIES_PER_WORKER
                and int(header.get("rss") or 0) < limits.WORKER_MEMORY_BYTES // 2
            )
            return header, raw[head_len:], seconds
        except WorkerGone:
            if running is not None and running.preempted:
                raise ConsoleBusy(
                    f"Your query was stopped after {time.monotonic() - running.started:.1f} s"
                    " to make room: every worker was busy and another query was waiting. Try"
                    " again in a moment, or add a LIMIT or a filter."
                ) from None
            raise gone_error(worker) from None
        except OSError as exc:  # no process could be started (out of processes or memory)
            raise ConsoleBusy(f"The console could not start a worker ({exc.strerror}).") from None
        finally:
            if running is not None:
                with self._cond:
                    self._running.remove(running)
                keep = keep and not running.preempted  # signalled as it finished: gone
            if worker is not None and not keep:
                worker.kill()
            self._release(session, worker if keep else None)


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    """This process's pool, made on first use; its workers end with the process."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool()
            atexit.register(_pool.shutdown)
        return _pool


_sessions = itertools.count()


def run_console(
    db_path: str,
    sql: str,
    *,
    timeout_s: float = limits.DEFAULT_TIMEOUT_S,
    max_rows: int = limits.MAX_ROWS,
    max_bytes: int = limits.MAX_RESULT_BYTES,
    session: str | None = None,
    on_wait: WaitReport | None = None,
) -> ConsoleResult:
    """Run one read-only query over the store, or raise a :class:`ConsoleError` that says why not.

    Never raises anything else for any ``sql``: errors from DuckDB become messages. Calls
    without a ``session`` each count as a session of their own.
    """
    text = clean(sql)  # refuse the obviously unusable here, without a worker
    request = {
        "db": str(db_path),
        "sql": text,
        "max_rows": max_rows,
        "max_bytes": max_bytes,
        "cpu_s": timeout_s + 1,
    }
    who = session if session is not None else f"anonymous-{next(_sessions)}"
    header, body, seconds = pool().run(request, session=who, timeout_s=timeout_s, on_wait=on_wait)
    if not header.get("ok"):
        kind = KINDS.get(str(header.get("kind")), ConsoleError)
        raise kind(str(header.get("message") or "The query failed."))
    table = wire.rows(body)
    return ConsoleResult(
        sql=str(header["sql"]),
        frame=to_frame(table),
        truncated=header.get("limit_reason") is not None,
        limit_reason=header.get("limit_reason"),
        seconds=seconds,
        max_rows=max_rows,
        max_bytes=max_bytes,
        held_bytes=held_bytes(table),
    )
