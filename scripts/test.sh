#!/usr/bin/env bash
# Installs what the tests need (Python packages, and Chromium with a CJK font for the
# browser tests), checks style, then runs every test. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fc-list 2>/dev/null | grep -i "noto sans cjk" >/dev/null || need_apt+=(fonts-noto-cjk)  # not -q: with pipefail, SIGPIPE would fail it
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: the browser tests need Debian packages: ${need_apt[*]} (install them as root)" >&2
    exit 1
  fi
  echo "installing ${need_apt[*]} ..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
python -m ruff check .
python -m ruff format --check .
python -m pytest "$@"
