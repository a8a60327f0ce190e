#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, a virtual environment
# with gisrenew and its test extras, ruff (lint and format), the layer contracts of
# docs/ARCHITECTURE.md (import-linter), then pytest (PostGIS and Chromium tests
# included; they start what they need themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ci-system-deps.sh
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
