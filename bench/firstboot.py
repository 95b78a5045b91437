"""First boot as on Community Cloud: an empty disk, the seed imported, the first Overview.

    python -m bench.firstboot [--corpus bench/out/corpus-100k.parquet] [--repeat 2]

Each boot starts from a ``git clone`` of this repository's HEAD in a temporary folder (no
``data/posts.duckdb``, as on Cloud's fresh disk); with ``--corpus`` a Parquet export goes
into its ``data/seed/``, as a team would commit one. ``streamlit run app.py`` is spawned
headless with no ``POSTS_DB`` (so the default store is built from the seed at first visit),
Chromium opens ``/`` as soon as the server answers, and the time from the spawn to a
complete Overview is printed with the server's memory peaks, sampled as ``bench.coldstart``
does: ``VmHWM`` of the server process, and the summed RSS of its process tree (which counts
the import's segmentation workers). Then the same seed is imported alone by ``python -m
lib.ingest`` into a new store, timed, with its peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.apps import machine
from bench.coldstart import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    Memory,
    free_port,
    stop,
    wait_complete,
    wait_healthy,
)
from lib.config import REPO_ROOT


def clone(target: Path, corpus: Path | None) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(target)], check=True)
    if corpus is not None:
        shutil.copy(corpus, target / "data" / "seed" / corpus.name)
    return target


def first_boot(browser: Browser, app: Path, timeout: float) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = app.parent / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    env = {k: v for k, v in os.environ.items() if k != "POSTS_DB"}
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=app,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stop() ends the server's whole process group
        )
    try:
        with Memory(process.pid) as memory:
            wait_healthy(url, process, log, timeout)
            healthy = time.perf_counter() - started
            page = context.new_page()
            page.goto(url + "/")
            wait_complete(page, "", "Overview", timeout * 1000)
            overview = time.perf_counter() - started
            peaks = memory.peaks()
    finally:
        context.close()
        stop(process)
    return f"server answers {healthy:.2f} s, first Overview complete {overview:.2f} s; {peaks}"


# The import in a process of its own that reports its own peak, which a parent's
# RUSAGE_CHILDREN would mix with the servers it started before.
_IMPORT = """import resource, runpy, sys
sys.argv = ["lib.ingest", "-q", "--db", sys.argv[1], "data/seed"]
try:
    runpy.run_module("lib.ingest", run_name="__main__")
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def import_alone(app: Path) -> str:
    db = app.parent / "alone.duckdb"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT, str(db)], cwd=app, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stderr}")
    peak_kb = int(done.stderr.split()[-1])
    return f"import alone {seconds:.1f} s, peak RSS {peak_kb / 1024:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a Parquet export to add to data/seed/")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per step")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"seed: data/seed/ of HEAD{f' + {args.corpus}' if args.corpus else ''}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    app = clone(Path(tmp) / "app", args.corpus)
                    print(f"  boot {i + 1}: {first_boot(browser, app, args.timeout)}")
        finally:
            browser.close()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"  {import_alone(clone(Path(tmp) / 'app', args.corpus))}")


if __name__ == "__main__":
    main()
