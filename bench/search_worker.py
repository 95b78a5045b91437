"""Times searches sent on stdin, for ``bench.search --before``: run with the tree to time
on ``PYTHONPATH``, so that the same script times the code of any commit.

Each line in is a JSON object (``q``, ``categories``, ``start``); each line out, the
milliseconds of the Browse page's two questions: the count, then the first page ranked.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from datetime import date

from lib import queries, selection
from lib.filters import Filters
from lib.store import connect_read_only


def main() -> None:
    con = connect_read_only(sys.argv[1])
    # The tables about every post are made once per store, as in the app (code from
    # before there were any drops them all).
    keeps = (
        {"store_wide": False}
        if "store_wide" in inspect.signature(selection.forget).parameters
        else {}
    )
    for line in sys.stdin:
        asked = json.loads(line)
        start = date.fromisoformat(asked["start"]) if asked.get("start") else None
        filters = Filters(tuple(asked.get("categories", ())), start, None, asked["q"])
        selection.forget(con, **keeps)  # every search timed as a new one
        started = time.perf_counter()
        queries.count(con, filters)
        queries.cards(con, filters, queries.RELEVANCE, 20)
        print(f"{(time.perf_counter() - started) * 1000:.3f}", flush=True)


if __name__ == "__main__":
    main()
