#!/usr/bin/env bash
# Installs GDAL's command-line tools (ogrinfo, ogr2ogr) from Debian for the OGC client tests
# (tests/ogc/test_gdal_dates.py runs ogrinfo against a real server, as analysts and QGIS users do).
#
# Idempotent: a quick no-op when ogrinfo is present. Needs root (CI and the dev machines run as root).
set -euo pipefail

if command -v ogrinfo >/dev/null 2>&1; then
  echo "gdal-install: $(ogrinfo --version) already installed"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "gdal-install: run as root (apt-get install gdal-bin)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends gdal-bin >/dev/null

if ! command -v ogrinfo >/dev/null 2>&1; then
  echo "gdal-install: installation finished but ogrinfo is missing" >&2
  exit 1
fi
echo "gdal-install: installed $(ogrinfo --version)"
