"""Giving the memory that results freed back to the operating system.

A 16 MB result is copied several times on its way to a page (the worker's reply, Arrow,
pandas, Streamlit's own Arrow for the browser), each in the arena of the thread that serves
the session. glibc keeps what those copies freed in their arenas, so a server that showed a
few large results to a few visitors kept memory it no longer used. Fewer arenas, and a trim
before each new result, give it back. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2

_libc: ctypes.CDLL | None = None
_lock = threading.Lock()
_configured = False


def _glibc() -> ctypes.CDLL | None:
    global _libc, _configured
    with _lock:
        if not _configured:
            _configured = True
            name = ctypes.util.find_library("c")
            try:
                libc = ctypes.CDLL(name) if name else None
                if libc is not None and hasattr(libc, "malloc_trim"):
                    libc.mallopt(M_ARENA_MAX, ARENAS)
                    _libc = libc
            except (OSError, AttributeError):
                _libc = None
        return _libc


def release_free_memory() -> None:
    """Return the free memory of every arena to the OS (glibc's ``malloc_trim``)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
