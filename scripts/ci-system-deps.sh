#!/usr/bin/env bash
# Debian packages the test suite needs: PostGIS + pgRouting (exactness oracles and
# benchmarks; the tests start their own throwaway cluster on 127.0.0.1), Chromium
# (real-browser map tests, driven by Playwright from PyPI) and Noto CJK fonts (Chinese
# text in screenshots). Installs only what is missing; needs root (or sudo).
set -euo pipefail
packages=(postgresql-15-postgis-3 postgresql-15-pgrouting chromium fonts-noto-cjk python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "need root to install: ${missing[*]}" >&2; exit 1; fi
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
