"""The console's limits: one place for every cap, each a setting with a safe default.

Each can be set in the environment (``CONSOLE_<NAME>``, e.g. ``CONSOLE_TIMEOUT_S=10``), so
an operator with a bigger machine can loosen them without a code change; a value that is
not a positive, finite number is ignored, so a typo can never remove a limit.
"""

from __future__ import annotations

import math
import os

ENV_PREFIX = "CONSOLE_"


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(ENV_PREFIX + name, "")
    try:
        value = float(raw)
    except ValueError:
        return default
    # "inf" would remove the limit (or stop the server at start, as an int); "nan" is no number
    return value if value > 0 and math.isfinite(value) else default


MIB = 1024 * 1024

# Wall time a query may run, from the moment its worker starts it; then the worker is killed.
DEFAULT_TIMEOUT_S = _setting("TIMEOUT_S", 5.0)
# Rows and bytes of result kept; the worker stops reading past them, so more is never made.
MAX_ROWS = int(_setting("MAX_ROWS", 10_000))
# Columns a result may have: each costs the server a pandas and an Arrow column to show, and
# 10,000 of them (``SELECT 1,1,…``, 20,000 characters) took it 3 s of CPU per visit.
MAX_COLUMNS = int(_setting("MAX_COLUMNS", 1_000))
MAX_RESULT_BYTES = int(_setting("MAX_RESULT_MB", 16) * MIB)
MAX_SQL_CHARS = 20_000
# DuckDB's own limit inside the worker: most queries fail cleanly here, well under the cap below.
DUCKDB_MEMORY_MB = int(_setting("DUCKDB_MEMORY_MB", 256))
MEMORY_LIMIT = f"{DUCKDB_MEMORY_MB}MB"  # as DuckDB's setting spells it
# The OS's cap on each worker's heap (RLIMIT_DATA): what DuckDB's limit does not bound (one huge
# value from a scalar function) fails to allocate here instead of growing the machine's memory.
WORKER_MEMORY_BYTES = int(_setting("WORKER_MEMORY_MB", 1024) * MIB)
# Worker processes at most; each serves one query at a time, and one session has one at a time.
MAX_WORKERS = int(_setting("WORKERS", 3))
# How long a query waits in the queue for a worker before it is told the console is busy.
QUEUE_WAIT_S = _setting("QUEUE_WAIT_S", 15.0)
# With every worker busy and a query waiting, the query running longest is stopped once it
# has run this long, so visitors with many tabs cannot keep everyone else waiting a deadline.
PREEMPT_AFTER_S = _setting("PREEMPT_AFTER_S", 1.0)
# How long a new worker may take to start (import DuckDB) before it is given up on.
WORKER_START_S = _setting("WORKER_START_S", 30.0)
# A worker serves this many queries, then is replaced, so nothing it leaked outlives it.
QUERIES_PER_WORKER = int(_setting("QUERIES_PER_WORKER", 200))
# An idle worker is stopped after this long, so an unused console holds no memory.
WORKER_IDLE_S = _setting("WORKER_IDLE_S", 300.0)
# Results kept for repeat visits: a budget for the whole process and one per session.
CACHE_BYTES = int(_setting("CACHE_MB", 64) * MIB)
SESSION_CACHE_BYTES = int(_setting("SESSION_CACHE_MB", 24) * MIB)
CACHE_TTL_S = _setting("CACHE_TTL_S", 600.0)

MAX_EXPRESSION_DEPTH = 200  # keeps the parse tree shallow enough to walk in Python
MAX_MESSAGE_CHARS = 2_000
