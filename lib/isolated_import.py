"""Imports in a process of their own, for the app: ``python -m lib.isolated_import STORE JOBS``.

The app imports while it serves (``lib.refresh``). Inside the server, an import would leave
its peak memory (1.9 GB for 100,000 posts) in the server's heap after it ended, and its
segmentation workers, started with "spawn", would import the server's ``__main__``, which
Streamlit sets to the page it is running, and run the page instead of starting. A child
process has neither problem. One child runs every job of a round in turn, so its start
(loading pandas, pyarrow and jieba: about a second) is paid once.

The child also does the store's reading that decides whether to import. In the server, a
read-only connection opened for that could be the one DuckDB hands the app's next connection
too (one database instance per file and process), which would then go on reading the file
an import had just replaced.

A job (:class:`Job`) is one all-or-nothing ``lib.ingest.run_ingest`` call; one failing
leaves the others to run. The child prints one JSON line per job, in order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from lib.config import REPO_ROOT

TIMEOUT_S = 3600  # then the child is killed; the copy it was writing goes at the next write


@dataclass(frozen=True)
class Job:
    """``sources`` imported, unless the store already read content of ``digest`` (a fetched
    source's SHA-256); or, with ``seed_dir``, the seed folder if the store lacks some of it."""

    sources: tuple[str, ...] = ()
    digest: str | None = None
    seed_dir: str | None = None
    default_db: str | None = None  # with seed_dir: the store that gets the seed


class ImportFailed(Exception):
    """A job's sources were refused (the message names the file and line), or the child died."""


def import_in_child(db_path: str, jobs: list[Job]) -> list[str | ImportFailed]:
    """Each job run on ``db_path``, in order, in one child process: for each, what it did
    ("2 added, 0 updated, 8 unchanged", "unchanged", "up to date") or why it failed."""
    payload = json.dumps([asdict(job) for job in jobs])
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lib.isolated_import", db_path, payload],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        stopped = ImportFailed(f"the import took more than {TIMEOUT_S} s and was stopped")
        return [stopped] * len(jobs)
    results: list[str | ImportFailed] = []
    for line in done.stdout.splitlines():
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue  # not one of ours
        if isinstance(result, dict) and "error" in result:
            results.append(ImportFailed(str(result["error"])))
        elif isinstance(result, dict) and "outcome" in result:
            results.append(str(result["outcome"]))
    if len(results) < len(jobs):  # the child died on the way
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        died = ImportFailed(f"the import ended with status {done.returncode}: {tail}")
        results += [died] * (len(jobs) - len(results))
    return results


def _run(db_path: str, job: Job) -> str:
    """One job, in the child."""
    from lib.bootstrap import ensure_seeded, seen_digests
    from lib.ingest import run_ingest  # pandas, pyarrow, jieba: the child alone loads them

    counts: list[str] = []

    def run(db: str, sources: list[str]) -> None:
        summary = run_ingest(db, sources)
        counts.append(
            f"{summary.added} added, {summary.updated} updated, {summary.unchanged} unchanged"
        )

    if job.seed_dir is not None:  # a changed folder: it is read, since a copied file is old
        seed_dir, default_db = Path(job.seed_dir), job.default_db or db_path
        ensure_seeded(db_path, seed_dir, default_db, trust_mtime=False, run_import=run)
        return counts[0] if counts else "up to date"
    if job.digest is not None and job.digest in (seen_digests(db_path, [job.digest]) or set()):
        return "unchanged"
    run(db_path, list(job.sources))
    return counts[0]


def main(argv: list[str]) -> int:
    from lib.ingest import IngestError
    from lib.ingest.naming import scrub_message

    db_path = argv[0]
    jobs = [Job(**{**job, "sources": tuple(job["sources"])}) for job in json.loads(argv[1])]
    failed = 0
    for job in jobs:
        try:
            line = {"outcome": _run(db_path, job)}
        except IngestError as exc:  # named without credentials or server paths by lib.ingest
            line, failed = {"error": str(exc)}, failed + 1
        except Exception as exc:  # a full disk, say: the next job may still succeed
            text = f"{type(exc).__name__}: {exc}"
            for source in job.sources:
                text = scrub_message(text, source) if "://" in source else text
            line, failed = {"error": text}, failed + 1
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
