"""A worker process as the server holds it: started, awaited, asked one query, killed.

The worker's own side, which runs the query, is :mod:`lib.console.worker`; the pool
(:mod:`lib.console.pool`) decides which worker takes which query and when one is replaced.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lib.config import REPO_ROOT
from lib.console import limits, wire
from lib.console.errors import MEMORY_MESSAGE, ConsoleError, ConsoleMemory

# Environment variables a worker keeps: what Python needs to start, nothing that may be secret.
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")
READ_CHUNK = 1024 * 1024
# Below the server from its first instruction (its imports included), so a worker starting
# or running slows queries, not pages.
NICENESS = 10


class WorkerGone(Exception):
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
                raise WorkerGone("the worker did not start in time") from None
            if not self.ready:
                raise WorkerGone("the worker did not start")

    def has_started(self) -> bool:
        """Whether the worker is up, without waiting: its ready byte is read only if sent."""
        if not self.ready and self.process.stdout is not None:
            readable, _, _ = select.select([self.process.stdout.fileno()], [], [], 0)
            if readable:
                try:
                    self.wait_ready(time.monotonic() + 1)
                except WorkerGone:  # died while idle: the caller's readiness wait says so
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
            raise WorkerGone("the worker ended before the query reached it") from None
        prefix = _read_exactly(self.process, wire.PREFIX.size, deadline)
        head_len, body_len = wire.PREFIX.unpack(prefix)
        if head_len > wire.MAX_HEADER_BYTES or body_len > max_reply:
            raise WorkerGone("the reply was larger than the caps allow")
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
            raise WorkerGone("the worker ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def start_worker(home: str) -> Worker:
    """A new worker process with the console's caps, niced below the server; ``home`` is its
    HOME, a folder of the pool's own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in WORKER_ENV or name.startswith(limits.ENV_PREFIX)  # the caps reach it too
    }
    env["HOME"] = home  # DuckDB's home directory setting shows nothing of the server's
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


def gone_error(worker: Worker | None) -> ConsoleError:
    """The error of a query whose worker died, by how it died: a worker that hit its heap
    cap aborts (SIGABRT, SIGSEGV), and that is a ``ConsoleMemory`` as the worker's own report
    of it would be."""
    code = None if worker is None else worker.process.poll()
    if code == -signal.SIGXCPU:
        return ConsoleError(
            "The query used more CPU time than the console allows, and was stopped."
        )
    if code is not None and code < 0 and code in (-signal.SIGSEGV, -signal.SIGABRT):
        return ConsoleMemory(f"{MEMORY_MESSAGE} Its worker was stopped and replaced.")
    return ConsoleError(
        "The query stopped its worker before it finished; a new worker takes the next query."
    )
