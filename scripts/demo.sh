#!/usr/bin/env bash
# The main job from a fresh clone: a virtual environment with gisrenew, then
# `gisrenew demo` on the bundled sample city (GeoPackage files, no server).
# Extra arguments go to `gisrenew demo` (e.g. --lang en, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  # Debian ships venv/ensurepip separately
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/gisrenew demo "$@"
