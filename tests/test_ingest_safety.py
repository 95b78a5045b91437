"""An import is all or nothing: killed half-way, the previous store is intact."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench.corpus import generate
from lib.config import REPO_ROOT, SEED_DIR
from lib.ingest import run_ingest
from lib.ingest.postings import PARALLEL_FROM
from lib.store import connect_read_only
from tests.helpers import cpu_ticks, open_app, query, table_state


def _big_snapshots(folder: Path, files: int = 6, cards: int = 2500) -> Path:
    rng = random.Random(7)
    words = "大模型 显存 分布式训练 FlashAttention LoRA MoE RLHF 注意力 推理 量化 KV cache".split()
    folder.mkdir()
    for f in range(files):
        lines = ["LATEST UPDATES", ""]
        for i in range(cards):
            text = f"第{f}-{i}篇 " + "".join(rng.choice(words) for _ in range(60))
            lines += ["Large Model", "2025-01-02", text[:340] + "..."]
        (folder / f"{f:03d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return folder


def _start_ingest(db: str, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lib.ingest", "-q", "--db", db, str(source)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_import_killed_mid_way_leaves_the_previous_store_intact(
    db_path: str, tmp_path: Path
) -> None:
    run_ingest(db_path, [str(SEED_DIR)])
    before = table_state(db_path)
    source = _big_snapshots(tmp_path / "big")
    rng = random.Random(11)
    kills = 0
    for _ in range(3):
        proc = _start_ingest(db_path, source)
        deadline = time.monotonic() + 60
        # Wait until the writer works on its copy of the store, then kill it at a random moment.
        while not list(Path(db_path).parent.glob("posts.duckdb.tmp*")):
            assert proc.poll() is None, "ingest finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            assert table_state(db_path) == before
            assert query(db_path, "SELECT count(*) FROM ingest_runs")[0][0] == 1
    assert kills >= 1
    # The next import cleans up after the killed one and completes.
    summary = run_ingest(db_path, [str(source)])
    assert summary.added == 6 * 2500
    assert query(db_path, "SELECT count(*) FROM posts")[0][0] == 33 + 6 * 2500
    assert list(Path(db_path).parent.glob("posts.duckdb.tmp*")) == []


def durable_state(db: str) -> list[tuple]:
    """What an import decides, without the clock: equal for any two complete runs of it."""
    return (
        query(
            db, "SELECT id, title, excerpt, category, published, url, source FROM posts ORDER BY id"
        )
        + query(
            db,
            "SELECT post_id, source, locator, fingerprint FROM sightings"
            " ORDER BY post_id, source, locator, fingerprint",
        )
        + query(db, "SELECT run_id, files, records, added, updated FROM ingest_runs ORDER BY 1")
    )


def test_import_killed_at_random_points_leaves_the_old_or_the_new_store(
    db_path: str, tmp_path: Path
) -> None:
    """SIGKILL at seeded points spread over an import: each time, all of it or none of it.

    A first, complete run (on a copy) gives the import's length, when its writer starts
    on the copy of the store, and the store it produces. Each trial then restores the
    original store, starts the same import, and kills it: three times inside the writing
    phase, two anywhere from start to end. The store afterwards must open and hold exactly
    the old data or exactly the new, never a mix.
    """
    run_ingest(db_path, [str(SEED_DIR)])
    original = tmp_path / "original.duckdb"
    shutil.copyfile(db_path, original)
    old = durable_state(db_path)
    source = _big_snapshots(tmp_path / "big", files=3, cards=1200)

    started = time.monotonic()
    proc = _start_ingest(db_path, source)
    writing_from = None
    while proc.poll() is None:
        if writing_from is None and list(Path(db_path).parent.glob("posts.duckdb.tmp*")):
            writing_from = time.monotonic() - started
        time.sleep(0.005)
    length = time.monotonic() - started
    assert proc.returncode == 0 and writing_from is not None
    new = durable_state(db_path)
    assert new != old

    rng = random.Random(2026)
    window = length - writing_from
    delays = [writing_from + window * (k + rng.random()) / 3 for k in range(3)]
    delays += [length * (k + rng.random()) / 2 for k in range(2)]
    outcomes: list[str] = []
    for delay in delays:
        shutil.copyfile(original, db_path)
        Path(f"{db_path}.wal").unlink(missing_ok=True)
        started = time.monotonic()
        proc = _start_ingest(db_path, source)
        while proc.poll() is None and time.monotonic() - started < delay:
            time.sleep(0.002)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = durable_state(db_path)
        assert state in (old, new), (
            f"the store is neither old nor new after a kill at {delay:.2f} s"
        )
        outcomes.append(
            ("killed, " if killed else "finished, ") + ("old" if state == old else "new")
        )
    assert sum(o.startswith("killed") for o in outcomes) >= 3, outcomes
    assert "killed, old" in outcomes, outcomes
    # The next import cleans up after the killed ones and completes.
    shutil.copyfile(original, db_path)
    run_ingest(db_path, [str(source)])
    assert durable_state(db_path) == new
    assert list(Path(db_path).parent.glob("posts.duckdb.tmp*")) == []


def test_readers_keep_working_while_an_import_runs(db_path: str, tmp_path: Path) -> None:

    run_ingest(db_path, [str(SEED_DIR)])
    reader = connect_read_only(db_path)
    try:
        run_ingest(db_path, [str(_big_snapshots(tmp_path / "big", files=1, cards=50))])
        # The open connection still answers from the file it opened ...
        assert reader.execute("SELECT count(*) FROM posts").fetchall() == [(33,)]
    finally:
        reader.close()
    # ... and a new one sees the new data.
    assert query(db_path, "SELECT count(*) FROM posts")[0][0] == 83


def _descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid`` (children, their children …) with its command line."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # a process that just ended
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
            commands[int(entry.name)] = command
    found: dict[int, str] = {}
    below = [pid]
    while below:
        parent = below.pop()
        for child, of in parents.items():
            if of == parent and child not in found:
                found[child] = commands[child]
                below.append(child)
    return found


def _alive(pid: int) -> bool:
    return cpu_ticks(pid) is not None  # None once it is gone or a zombie, which holds nothing


def test_a_killed_import_leaves_no_process_and_the_app_removes_its_copy(
    db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL while segmenting: its segmentation workers and multiprocessing's resource
    tracker end within seconds, and the next app start deletes the copy of the store the
    import was writing (hundreds of MB at scale), leaving the store as it was."""
    run_ingest(db_path, [str(SEED_DIR)])
    before = table_state(db_path)
    corpus = tmp_path / "corpus.parquet"
    pq.write_table(generate(3 * PARALLEL_FROM), corpus)  # enough to segment in workers
    proc = _start_ingest(db_path, corpus)
    try:
        deadline = time.monotonic() + 120
        while True:  # until a worker has spent a second segmenting, past its start-up
            assert proc.poll() is None, "the import ended before it was segmenting"
            assert time.monotonic() < deadline, _descendants(proc.pid)
            family = _descendants(proc.pid)
            workers = [pid for pid, command in family.items() if "spawn_main" in command]
            if any((cpu_ticks(pid) or 0) > os.sysconf("SC_CLK_TCK") for pid in workers):
                break
            time.sleep(0.05)
        family = _descendants(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert any("resource_tracker" in command for command in family.values()), family
    deadline = time.monotonic() + 5
    while any(map(_alive, family)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [family[pid] for pid in family if _alive(pid)] == []
    copies = sorted(p.name for p in tmp_path.glob("posts.duckdb.tmp*"))
    assert (
        copies == [f"posts.duckdb.tmp{proc.pid}", f"posts.duckdb.tmp{proc.pid}.wal"][: len(copies)]
    )
    assert copies, "the killed import left no copy to clean up"

    open_app(monkeypatch, db_path)  # the app's start
    assert list(tmp_path.glob("posts.duckdb.tmp*")) == []
    assert table_state(db_path) == before
