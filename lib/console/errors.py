"""The console's errors, each with a message fit to show the person who wrote the query.

Raised in the worker process and again in the server from its report, so this module
imports neither pandas nor Streamlit: a worker starts quicker without them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from lib.console.limits import DUCKDB_MEMORY_MB, MAX_MESSAGE_CHARS, MIB, WORKER_MEMORY_BYTES
from lib.locator import locate


class ConsoleError(Exception):
    """A query that gave no result; ``message`` is fit to show the person who wrote it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConsoleRefused(ConsoleError):
    """The query was not run: it is not a read-only query over the store's tables."""


class ConsoleTimeout(ConsoleError):
    """The query ran past the time limit and was cancelled."""


class ConsoleUnavailable(ConsoleError):
    """The console cannot serve this kind of store (see :func:`unavailable`)."""


class ConsoleBusy(ConsoleError):
    """Every slot was taken for as long as the query was willing to wait; worth retrying."""


class ConsoleMemory(ConsoleError):
    """The query needed more memory than the console allows; its worker is replaced."""


# Every kind a worker may report, by name: the report carries a name, never an object.
KINDS: dict[str, type[ConsoleError]] = {
    kind.__name__: kind
    for kind in (
        ConsoleError,
        ConsoleRefused,
        ConsoleTimeout,
        ConsoleUnavailable,
        ConsoleBusy,
        ConsoleMemory,
    )
}

MEMORY_MESSAGE = (
    f"The query needs more memory than the console allows ({DUCKDB_MEMORY_MB} MB for DuckDB,"
    f" {WORKER_MEMORY_BYTES // MIB:,} MB for its worker): aggregate, add a LIMIT, or select"
    " fewer or shorter values."
)


def message_for(exc: BaseException, db_path: str | None = None) -> str:
    if isinstance(exc, duckdb.InterruptException):
        return "The query was cancelled."
    if isinstance(exc, duckdb.OutOfMemoryException):
        return MEMORY_MESSAGE
    text = str(exc)
    if db_path:
        text = hide_store(text, db_path)
    return clipped(text)


def hide_store(text: str, db_path: str) -> str:
    """``text`` without where the store lives on the server (as given, and resolved)."""
    location = locate(db_path).location
    names = {db_path, location}
    if not locate(db_path).remote:
        names.add(str(Path(location).resolve()))
    for name in sorted(names, key=len, reverse=True):
        if name:
            text = text.replace(name, "<the store>")
    return text


def clipped(text: str) -> str:
    text = text.strip() or "The query failed."
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " …"
