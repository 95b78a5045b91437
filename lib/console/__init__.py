"""The SQL console: read-only queries over the store, for anyone on the internet.

The console is the one place where strangers write code that the server runs, so four
independent walls stand between a query and anything it should not touch; a mistake in one
is caught by the next.

1. **The statement is checked before it runs** (:mod:`lib.console.checks`): one read-only
   query over the store's tables; functions that read files, show settings or run other
   SQL are refused by name, from a classified catalogue (:mod:`lib.console.functions`).
2. **It runs in a DuckDB instance of its own** (:mod:`lib.console.sandbox`): the store
   attached read-only, no file or network access, no extensions, one thread, a memory limit,
   the configuration locked; thrown away after the query.
3. **That instance lives in a worker process** (:mod:`lib.console.worker`) whose heap and
   CPU time the kernel caps, so what DuckDB's own limits miss still cannot grow the server.
4. **The server kills the worker at the deadline** (:mod:`lib.console.pool`), queues queries
   fairly (one running per session, a few in all), and keeps at most ``MAX_ROWS`` rows and
   ``MAX_RESULT_BYTES`` bytes of any result; results are cached within a byte budget
   (:mod:`lib.console.cache`).

Every cap is a setting (:mod:`lib.console.limits`). ``lib`` never imports Streamlit:
``pages/sql.py`` renders what this package returns.
"""

from __future__ import annotations

from pathlib import Path

from lib.console.cache import ResultCache, answer
from lib.console.checks import Checked, check_statement, check_tables
from lib.console.errors import (
    ConsoleBusy,
    ConsoleError,
    ConsoleMemory,
    ConsoleRefused,
    ConsoleTimeout,
    ConsoleUnavailable,
)
from lib.console.limits import (
    DEFAULT_TIMEOUT_S,
    MAX_RESULT_BYTES,
    MAX_ROWS,
    MAX_SQL_CHARS,
    MEMORY_LIMIT,
)
from lib.console.pool import pool, run_console
from lib.console.results import ConsoleResult, to_frame
from lib.console.sandbox import open_sandbox, schema, store_tables, unavailable

EXAMPLES_DIR = Path(__file__).parent / "examples"


def _examples() -> dict[str, str]:
    """The examples the page offers, in file order: each file's first line is ``-- Label``."""
    found: dict[str, str] = {}
    for path in sorted(EXAMPLES_DIR.glob("*.sql")):
        first, _, sql = path.read_text(encoding="utf-8").partition("\n")
        found[first.removeprefix("--").strip()] = sql.strip()
    return found


EXAMPLES: dict[str, str] = _examples()

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "EXAMPLES",
    "MAX_RESULT_BYTES",
    "MAX_ROWS",
    "MAX_SQL_CHARS",
    "MEMORY_LIMIT",
    "Checked",
    "ConsoleBusy",
    "ConsoleError",
    "ConsoleMemory",
    "ConsoleRefused",
    "ConsoleResult",
    "ConsoleTimeout",
    "ConsoleUnavailable",
    "ResultCache",
    "answer",
    "check_statement",
    "check_tables",
    "open_sandbox",
    "pool",
    "run_console",
    "schema",
    "store_tables",
    "to_frame",
    "unavailable",
]
