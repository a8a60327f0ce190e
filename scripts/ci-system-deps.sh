#!/usr/bin/env bash
# Debian packages the test suite needs: PostGIS + pgRouting (exactness oracles and
# benchmarks; the tests start their own throwaway cluster on 127.0.0.1), Chromium
# (real-browser map tests, driven by Playwright from PyPI), Noto CJK fonts (Chinese
# text in screenshots and the report's picture) and poppler-utils (pdftoppm/pdfinfo: the
# report's PDF pages checked for size and clipping). Installs only what is missing;
# needs root (or sudo).
# PostgreSQL's major version is the one installed, else the one this Debian release
# ships (its `postgresql` metapackage: 15 on bookworm, 17 on trixie, ...).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="need-root"; fi
fi

pg_major() {
  local installed
  installed=$(ls /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true)
  if [ -n "$installed" ]; then echo "$installed"; return; fi
  apt-cache policy postgresql 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {split($2, v, "+"); print v[1]}'
}

export DEBIAN_FRONTEND=noninteractive
updated=0
major=$(pg_major)
if [ -z "$major" ]; then  # no package lists yet: fetch them, then ask again
  if [ "$SUDO" = "need-root" ]; then echo "need root to run apt-get update" >&2; exit 1; fi
  $SUDO apt-get update -qq
  updated=1
  major=$(pg_major)
fi
if [ -z "$major" ]; then
  echo "cannot tell which PostgreSQL this Debian release ships (apt-cache policy postgresql)" >&2
  exit 1
fi
packages=("postgresql-$major-postgis-3" "postgresql-$major-pgrouting" chromium fonts-noto-cjk poppler-utils python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (PostgreSQL $major)"
  exit 0
fi
if [ "$SUDO" = "need-root" ]; then echo "need root to install: ${missing[*]}" >&2; exit 1; fi
echo "installing system packages: ${missing[*]}"
[ "$updated" -eq 1 ] || $SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
