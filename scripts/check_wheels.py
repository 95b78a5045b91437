"""Does everything ``requirements.txt`` installs come as a wheel for Community Cloud?

    python scripts/check_wheels.py [--requirements requirements.txt]

Community Cloud installs the requirements on Linux x86_64 for the Python chosen at deploy
time, and a package without a wheel there would be built from source, slowly or not at all.
For each of CPython 3.11, 3.12 and 3.13, uv resolves the requirements (with every package
they pull in) for manylinux x86_64 taking wheels only, reading PyPI's metadata and
downloading nothing. Then it names the packages whose wheels need a glibc newer than
manylinux2014's 2.17. Exit status 1 when some Python lacks a wheel.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")
# glibc 2.28, which Community Cloud's Debian (glibc 2.31) and any newer Linux provide.
PLATFORM = "x86_64-manylinux_2_28"
OLDEST = "x86_64-manylinux2014"  # glibc 2.17, for the report only
REPO_ROOT = Path(__file__).resolve().parent.parent


def _uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        sys.exit("error: uv is missing: pip install -r requirements-dev.txt")
    return found


def resolve(requirements: str, python: str, platform: str, no_deps: bool = False) -> list[str]:
    """The pinned packages (``name==version``) uv resolves; raises with uv's reason."""
    # The running interpreter stands in: uv would otherwise download the Python it targets.
    command = [_uv(), "pip", "compile", "-", "--python", sys.executable, "--no-python-downloads"]
    command += ["--python-version", python]
    command += ["--python-platform", platform, "--only-binary", ":all:"]
    command += ["--no-header", "--no-annotate", "--quiet", *(["--no-deps"] if no_deps else [])]
    result = subprocess.run(
        command, input=requirements, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise ValueError(" ".join(result.stderr.split()) or "uv failed")
    return [line for line in result.stdout.splitlines() if "==" in line]


def _without_wheels(packages: list[str], python: str, platform: str) -> list[str]:
    """Which ``packages`` have no wheel for ``platform``: uv names one per failed resolution
    ("Because duckdb==2.0.0 has no usable wheels"), so each named one is set aside in turn."""
    left, missing = list(packages), []
    while left:
        try:
            resolve("\n".join(left) + "\n", python, platform, no_deps=True)
            break
        except ValueError as exc:
            named = re.search(r"Because (\S+==\S+) has no usable wheels", str(exc))
            if named is None or named.group(1) not in left:
                raise
            missing.append(named.group(1))
            left.remove(named.group(1))
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=REPO_ROOT / "requirements.txt")
    args = parser.parse_args(argv)
    requirements = args.requirements.read_text(encoding="utf-8")
    failed = False
    resolved: list[str] = []
    for python in PYTHONS:
        try:
            resolved = resolve(requirements, python, PLATFORM)
        except ValueError as exc:
            print(f"CPython {python}, {PLATFORM}: NO: {exc}")
            failed = True
            continue
        print(f"CPython {python}, {PLATFORM}: all {len(resolved)} packages have wheels")
    newer = _without_wheels(resolved, PYTHONS[-1], OLDEST)
    if newer:
        print(f"Without a {OLDEST} wheel (need glibc 2.28 or newer): {', '.join(newer)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
