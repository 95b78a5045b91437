"""Running a console query: a small pool of worker processes, a fair queue, and hard deadlines.

Each query runs in a worker process of its own (:mod:`lib.console.worker`), never in the
server, so nothing a query does can take the server's memory or CPU past the worker's caps.
Workers start when first needed, serve one query at a time, and are killed, not asked, at
the deadline; a worker that hit a limit (or served many queries, or kept much memory) is
replaced. Queries wait in one first-come queue with at most one running per session, so one
visitor cannot hold every worker; while a query waits, ``on_wait`` hears where it stands.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lib.config import REPO_ROOT
from lib.console import limits, wire
from lib.console.checks import clean
from lib.console.errors import KINDS, MEMORY_MESSAGE, ConsoleBusy, ConsoleError, ConsoleTimeout
from lib.console.results import ConsoleResult, to_frame

# Environment variables a worker keeps: what Python needs to start, nothing that may be secret.
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")
REPLY_SLACK_BYTES = 4 * 1024 * 1024  # an Arrow stream's framing beyond the rows' own bytes
READ_CHUNK = 1024 * 1024
JANITOR_S = 30.0  # how often idle workers are looked at
# Below the server from its first instruction (its imports included), so a worker starting
# or running slows queries, not pages.
NICENESS = 10
WaitReport = Callable[[str], None]


class _WorkerGone(Exception):
    """The worker ended (or broke the protocol) before its reply was complete."""


@dataclass
class Worker:
    """One worker process and what the pool knows of it."""

    process: subprocess.Popen[bytes]
    ready: bool = False
    served: int = 0
    idle_since: float = field(default_factory=time.monotonic)

    def kill(self) -> None:
        """SIGKILL and reap: a query past its deadline gets no chance to finish."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # stuck in the kernel: reaped when it leaves
            threading.Thread(target=self.process.wait, daemon=True).start()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def wait_ready(self, deadline: float) -> None:
        if not self.ready:
            try:
                self.ready = _read_exactly(self.process, 1, deadline) == wire.READY
            except TimeoutError:
                raise _WorkerGone("the worker did not start in time") from None
            if not self.ready:
                raise _WorkerGone("the worker did not start")

    def has_started(self) -> bool:
        """Whether the worker is up, without waiting: its ready byte is read only if sent."""
        if not self.ready and self.process.stdout is not None:
            readable, _, _ = select.select([self.process.stdout.fileno()], [], [], 0)
            if readable:
                try:
                    self.wait_ready(time.monotonic() + 1)
                except _WorkerGone:  # died while idle: the caller's readiness wait says so
                    return False
        return self.ready

    def exchange(
        self, request: dict[str, Any], deadline: float, max_reply: int
    ) -> tuple[bytes, int]:
        """Send one request; its whole reply and the header's length, or raise by ``deadline``."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(wire.request_line(request))
            self.process.stdin.flush()
        except BrokenPipeError:
            raise _WorkerGone("the worker ended before the query reached it") from None
        prefix = _read_exactly(self.process, wire.PREFIX.size, deadline)
        head_len, body_len = wire.PREFIX.unpack(prefix)
        if head_len > wire.MAX_HEADER_BYTES or body_len > max_reply:
            raise _WorkerGone("the reply was larger than the caps allow")
        return _read_exactly(self.process, head_len + body_len, deadline), head_len


def _read_exactly(process: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
    """``size`` bytes from the worker's stdout; TimeoutError at ``deadline``."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    chunks: list[bytes] = []
    got = 0
    while got < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            raise TimeoutError
        chunk = os.read(fd, min(READ_CHUNK, size - got))
        if not chunk:
            raise _WorkerGone("the worker ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


@dataclass(eq=False)
class _Ticket:
    session: str


class Pool:
    """The worker processes of this server, and the queue in front of them."""

    def __init__(self, size: int = limits.MAX_WORKERS) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._queue: deque[_Ticket] = deque()
        self._running_sessions: set[str] = set()
        self._busy = 0
        self._home = tempfile.mkdtemp(prefix="console-home-")
        threading.Thread(target=self._janitor, name="console-janitor", daemon=True).start()

    # --- The queue ------------------------------------------------------------------------

    def _may_start(self, ticket: _Ticket) -> bool:
        if self._busy >= self.size or ticket.session in self._running_sessions:
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
                        self._cond.wait(min(remaining, 0.5))
        except BaseException:
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
            raise

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
        env = {
            name: value
            for name, value in os.environ.items()
            if name in WORKER_ENV or name.startswith(limits.ENV_PREFIX)  # the caps reach it too
        }
        env["HOME"] = self._home  # DuckDB's home directory setting shows nothing of the server's
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lib.console.worker",
                str(limits.WORKER_MEMORY_BYTES),
                str(os.getpid()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=REPO_ROOT,
            env=env,
        )
        with contextlib.suppress(OSError):  # already gone: its first read says so
            own = os.getpriority(os.PRIO_PROCESS, 0)  # below the server, whatever its own
            os.setpriority(os.PRIO_PROCESS, process.pid, min(own + NICENESS, 19))
        return Worker(process)

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
            if not self._idle and self._busy < self.size:
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
        except _WorkerGone:  # killed while idle (by the OS, or an operator): one more try
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
        keep = False
        try:
            worker = self._ready_worker()
            started = time.monotonic()
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
                raise _WorkerGone("the reply was not readable") from None
            worker.served += 1
            keep = (
                not header.get("recycle")
                and worker.served < limits.QUERIES_PER_WORKER
                and int(header.get("rss") or 0) < limits.WORKER_MEMORY_BYTES // 2
            )
            return header, raw[head_len:], seconds
        except _WorkerGone:
            raise ConsoleError(_why_gone(worker)) from None
        except OSError as exc:  # no process could be started (out of processes or memory)
            raise ConsoleBusy(f"The console could not start a worker ({exc.strerror}).") from None
        finally:
            if worker is not None and not keep:
                worker.kill()
            self._release(session, worker if keep else None)


def _why_gone(worker: Worker | None) -> str:
    code = None if worker is None else worker.process.poll()
    if code == -signal.SIGXCPU:
        return "The query used more CPU time than the console allows, and was stopped."
    if code is not None and code < 0 and code in (-signal.SIGSEGV, -signal.SIGABRT):
        return f"{MEMORY_MESSAGE} Its worker was stopped and replaced."
    return "The query stopped its worker before it finished; a new worker takes the next query."


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
    return ConsoleResult(
        sql=str(header["sql"]),
        frame=to_frame(wire.rows(body)),
        truncated=header.get("limit_reason") is not None,
        limit_reason=header.get("limit_reason"),
        seconds=seconds,
        max_rows=max_rows,
        max_bytes=max_bytes,
    )
