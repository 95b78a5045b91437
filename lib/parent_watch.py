"""Child processes that end with their parent, however the parent ended.

A process killed with SIGKILL runs no cleanup, so the processes it started live on under
PID 1: the SQL console's workers, an import's segmentation workers (about 250 MB each) and,
through the pipe those workers hold, multiprocessing's resource tracker. So each child
watches its parent itself. ``prctl(PR_SET_PDEATHSIG)`` is not used: it fires when the
*thread* that started the child exits, and an import starts its workers from a feeder
thread that ends long before the import does.
"""

from __future__ import annotations

import os
import threading
import time

POLL_S = 0.25  # how late a child may notice; a poll costs a system call


def exit_with_parent(parent: int) -> None:
    """End this process soon after ``parent`` is no longer its parent.

    ``parent`` is the pid the parent had when it started this process, passed in rather
    than read here, so that a parent gone before this runs is noticed too. Meant as a
    ``ProcessPoolExecutor`` initializer or a worker's first call.
    """
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    # An orphan is handed to another process (PID 1 or a subreaper), so its parent pid changes.
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os._exit(1)  # at once: no atexit handler or pool shutdown may wait on the dead parent
