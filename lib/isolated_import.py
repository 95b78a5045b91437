"""Imports in a process of their own, for the app: ``python -m lib.isolated_import STORE JOBS``.

The app imports while it serves (``lib.refresh``). Inside the server, an import would leave
its peak memory (1.9 GB for 100,000 posts) in the server's heap after it ended, and its
segmentation workers, started with "spawn", would import the server's ``__main__``, which
Streamlit sets to the page it is running, and run the page instead of starting. A child
process has neither problem. One child runs every job of a round in turn, so its start
(loading pandas, pyarrow and jieba: about a second) is paid once.

A job is a list of sources imported by one ``lib.ingest.run_ingest`` call, all or nothing;
one failing leaves the others to run. The child prints one JSON line per job, in order.
"""

from __future__ import annotations

import json
import subprocess
import sys

from lib.config import REPO_ROOT

TIMEOUT_S = 3600  # then the child is killed; the copy it was writing goes at the next write


class ImportFailed(Exception):
    """A job's sources were refused (the message names the file and line), or the child died."""


def import_in_child(db_path: str, jobs: list[list[str]]) -> list[str | ImportFailed]:
    """Each job imported into ``db_path``, in order, in one child process: for each, what it
    did ("2 added, 0 updated, 8 unchanged") or why it failed."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lib.isolated_import", db_path, json.dumps(jobs)],
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
            results.append(ImportFailed(result["error"]))
        elif isinstance(result, dict) and "added" in result:
            results.append(
                f"{result['added']} added, {result['updated']} updated,"
                f" {result['unchanged']} unchanged"
            )
    if len(results) < len(jobs):  # the child died on the way
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        died = ImportFailed(f"the import ended with status {done.returncode}: {tail}")
        results += [died] * (len(jobs) - len(results))
    return results


def main(argv: list[str]) -> int:
    from lib.ingest import IngestError, run_ingest
    from lib.ingest.naming import scrub_message

    db_path, jobs = argv[0], json.loads(argv[1])
    failed = 0
    for sources in jobs:
        try:
            summary = run_ingest(db_path, sources)
        except IngestError as exc:  # named without credentials or server paths by lib.ingest
            print(json.dumps({"error": str(exc)}, ensure_ascii=False), flush=True)
            failed += 1
            continue
        except Exception as exc:  # a full disk, say: the next job may still succeed
            text = f"{type(exc).__name__}: {exc}"
            for source in sources:
                text = scrub_message(text, source) if "://" in source else text
            print(json.dumps({"error": text}, ensure_ascii=False), flush=True)
            failed += 1
            continue
        counts = {"added": summary.added, "updated": summary.updated}
        print(json.dumps({**counts, "unchanged": summary.unchanged}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
