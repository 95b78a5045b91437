"""The two apps the benchmarks compare, the store check they share, and the machine line.

``app`` is the explorer itself (``app.py``); ``pandas`` is ``bench/baseline``, the
same three pages written the way most people would (the whole table in
``st.cache_data``, pandas masks and ``groupby``). Both read the same URL parameters
and serve the same paths (``/``, ``/posts``, ``/topics``). ``floor`` is only for the
cold start: a page with the Overview's title, metrics and two tiny charts and no
data work, which shows what Streamlit, Plotly and Chromium alone take.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from lib.bootstrap import needs_seeding, schema_version
from lib.config import REPO_ROOT
from lib.store import SCHEMA_VERSION, connect_read_only

# Words and a category a reader might search, one pair a round or run: each round of a
# benchmark asks other words in another category, as a new reader would (with the same ones,
# every query after the first is a cache hit). Not "Generative Model": picked in the floor
# page's list, its click starts no run (not found why).
READER_SEARCHES = (
    ("LoRA", "NLP"),
    ("显存", "Large Model"),
    ("量化", "Python"),
    ("注意力", "NLP"),
    ("MoE", "Large Model"),
    ("FlashAttention", "Python"),
    ("分布式训练", "NLP"),
    ("训练", "Large Model"),
    ("微调", "Python"),
)


@dataclass(frozen=True)
class Page:
    name: str
    script: str  # relative to the app's entry script, as ``AppTest.switch_page`` wants it
    url_path: str  # in the browser
    title: str  # the page's ``st.title``: proof that the run showed the right page


@dataclass(frozen=True)
class App:
    name: str
    entry: Path
    pages: tuple[Page, ...]
    tour: bool = True  # whether it serves the other pages (``floor`` has only ``/``)


APPS = {
    "app": App(
        "app",
        REPO_ROOT / "app.py",
        (
            Page("Overview", "pages/overview.py", "", "Overview"),
            Page("Browse", "pages/posts.py", "posts", "Browse posts"),
            Page("Topics", "pages/topics.py", "topics", "Topics"),
        ),
    ),
    "pandas": App(
        "pandas",
        REPO_ROOT / "bench" / "baseline" / "app.py",
        (
            Page("Overview", "views/overview.py", "", "Overview"),
            Page("Browse", "views/posts.py", "posts", "Browse posts"),
            Page("Topics", "views/topics.py", "topics", "Topics"),
        ),
    ),
    "floor": App(
        "floor",
        REPO_ROOT / "bench" / "baseline" / "floor.py",
        (Page("Overview", "floor.py", "", "Overview"),),
        tour=False,
    ),
}


def check_store(db: str) -> None:
    """Refuse a store that the app would write to when it starts.

    The app imports the bundled posts into a store older than them (and upgrades
    an older schema), which rewrites the file. A benchmark must leave its store as
    it found it, so such a store is rejected with the way out: a fresh copy.
    """
    if not os.path.exists(db):
        sys.exit(f"{db}: no such store")
    if schema_version(db) < SCHEMA_VERSION or needs_seeding(db):
        sys.exit(
            f"{db}: the app would import the bundled posts into this store when it starts"
            " (it is older than data/seed, or of an older schema). Benchmark a copy instead:"
            f" cp {db} /tmp/bench.duckdb (a fresh copy is newer than the seed files)."
        )


def machine() -> str:
    """One line naming the hardware and versions the figures were measured with.

    The load average is part of it: other work on a two-core machine skews every
    figure, and the reader should see when that was the case.
    """
    with open("/proc/meminfo") as meminfo:
        total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return (
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at start),"
        f" {total_kb / 2**20:.1f} GiB RAM; Python"
        f" {platform.python_version()}, DuckDB {duckdb.__version__}, Streamlit"
        f" {st.__version__}, pandas {pd.__version__}"
    )


def post_count(db: str) -> int:
    con = connect_read_only(db)
    try:
        return int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
    finally:
        con.close()
