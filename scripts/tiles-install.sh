#!/usr/bin/env bash
# Installs tilemaker from Debian (`poi-service osm tiles`, its tests and bench/tiles_bench.py) and wrk
# (the tile-serving part of bench/tiles_bench.py).
#
# Idempotent: a quick no-op when both are present. Needs root (CI and the dev machines run as root).
set -euo pipefail

if command -v tilemaker >/dev/null && command -v wrk >/dev/null; then
  echo "tiles-install: $(tilemaker --help 2>&1 | head -1) and wrk already installed"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "tiles-install: run as root (apt-get install tilemaker wrk)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends tilemaker wrk >/dev/null

if ! command -v tilemaker >/dev/null; then
  echo "tiles-install: installation finished but tilemaker is missing" >&2
  exit 1
fi
echo "tiles-install: installed $(tilemaker --help 2>&1 | head -1)"
