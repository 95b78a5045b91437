"""The app as Community Cloud runs it, and the wheels Cloud needs.

Cloud clones the repository, installs ``requirements.txt`` with uv into a new virtual
environment, writes the app's secrets to ``.streamlit/secrets.toml`` and runs ``streamlit
run app.py`` headless on an empty disk. Here: a ``git clone`` of this repository's HEAD (so
uncommitted changes are not in it, as they would not be on Cloud), uv from PyPI installing
into a virtual environment in a temporary folder, a secrets file naming a feed served on
127.0.0.1, and the first Overview in Chromium, which must hold the bundled posts and the
feed's. The server's peak memory and the time to that first page are printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from lib.config import REPO_ROOT
from tests.e2e.helpers import (
    STARTUP_SECONDS,
    assert_no_exception,
    free_port,
    main_text,
    metric_value,
    open_page,
)
from tests.helpers import FeedServer, query, rss

pytestmark = pytest.mark.e2e

INSTALL_SECONDS = 600  # a first install downloads about 250 MB of wheels from PyPI
FEED_POSTS = [
    ("投机解码的接受率", "https://team.example.com/spec", "2026-11-20"),
    ("KV cache 压缩三法", "https://team.example.com/kv", "2026-11-15"),
]


def _uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("uv is missing: `pip install -r requirements-dev.txt` installs it (PyPI)")
    return found


def _run(command: list[str], cwd: Path | None = None) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}  # this machine's Python, never a download
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_SECONDS
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr[-3000:]}"


@dataclass
class Deployment:
    clone: Path
    venv: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """A fresh clone and a new virtual environment with its requirements, as Cloud makes."""
    root = tmp_path_factory.mktemp("cloud")
    clone, venv = root / "app", root / "venv"
    _run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)])
    _run([_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)])
    python = str(venv / "bin" / "python")
    _run([_uv(), "pip", "install", "--quiet", "--python", python, "-r", "requirements.txt"], clone)
    return Deployment(clone, venv)


def _peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of the process's resident memory (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


@contextlib.contextmanager
def _served(deployment: Deployment, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run app.py`` from the clone's environment, headless as on Cloud."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("POSTS_DB", "POSTS_SOURCES")}
    env["PATH"] = f"{deployment.venv / 'bin'}:{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(deployment.venv)
    command = [str(deployment.venv / "bin" / "streamlit"), "run", "app.py"]
    command += ["--server.headless", "true", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=deployment.clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so that the server and whatever it starts stop together
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            assert process.poll() is None, f"the app exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no answer:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        yield url, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


@pytest.mark.timeout(INSTALL_SECONDS + 300)
def test_a_fresh_clone_boots_with_the_bundled_posts_and_the_teams_feed(
    deployment: Deployment,
    feed_server: FeedServer,
    seeded_db: str,
    page: Page,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed = feed_server.serve("/atom.xml", rss(FEED_POSTS))
    secrets = deployment.clone / ".streamlit" / "secrets.toml"
    secrets.write_text(f'[[sources]]\nurl = "{feed}"\nrefresh_minutes = 60\n', "utf-8")
    store = deployment.clone / "data" / "posts.duckdb"
    assert not store.exists(), "Cloud's disk starts empty"
    bundled = query(seeded_db, "SELECT count(*) FROM posts")[0][0]

    started = time.monotonic()
    with _served(deployment, tmp_path / "streamlit.log") as (url, server):
        open_page(page, url + "/")
        first_page_s = time.monotonic() - started
        assert_no_exception(page)
        assert metric_value(page, "Posts") == f"{bundled + len(FEED_POSTS):,}"
        assert FEED_POSTS[0][0] in main_text(page)  # the newest post, among the latest cards
        assert query(str(store), "SELECT count(*) FROM posts WHERE source = ?", [feed]) == [
            (len(FEED_POSTS),)
        ]
        peak_mb = _peak_rss_mb(server.pid)
    assert feed_server.requests, "the feed was fetched from the secrets' sources"
    with capsys.disabled():
        print(
            f"\nCloud-like boot: first Overview {first_page_s:.1f} s after spawn;"
            f" server peak RSS {peak_mb:.0f} MB ({bundled} bundled + {len(FEED_POSTS)} feed posts)"
        )


def _check_wheels(requirements: Path) -> subprocess.CompletedProcess[str]:
    script = str(REPO_ROOT / "scripts" / "check_wheels.py")
    return subprocess.run(
        [sys.executable, script, "--requirements", str(requirements)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_requirement_has_wheels_for_the_pythons_cloud_offers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _check_wheels(REPO_ROOT / "requirements.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    for python in ("3.11", "3.12", "3.13"):
        assert f"CPython {python}, x86_64-manylinux_2_28: all " in result.stdout
    with capsys.disabled():
        print("\n" + result.stdout.strip())
    # The check can fail: NumPy 1.24 has no wheel for CPython 3.12 or 3.13.
    old = tmp_path / "requirements.txt"
    old.write_text("numpy==1.24.4\n", encoding="utf-8")
    refused = _check_wheels(old)
    assert refused.returncode == 1
    assert "CPython 3.11, x86_64-manylinux_2_28: all 1 packages have wheels" in refused.stdout
    assert "CPython 3.13, x86_64-manylinux_2_28: NO" in refused.stdout
