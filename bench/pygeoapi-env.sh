#!/usr/bin/env bash
# Benchmark-only environment for pygeoapi (bench/http_bench.py compares our API with it).
# Creates bench/.venv-pygeoapi (gitignored); never touches the project's .venv.
#
# pygeoapi reads the GeoPackage through two of its own providers:
#   OGR        - GDAL's GPKG driver (uses the GeoPackage R*Tree for bbox); needs the `osgeo` bindings,
#                which PyPI only ships as source, so they come from Debian's python3-gdal and the
#                venv is built on Debian's /usr/bin/python3 with --system-site-packages to see them;
#   SQLiteGPKG - Python's sqlite3 + SpatiaLite (libsqlite3-mod-spatialite).
# 0.21.0 is the newest pygeoapi for Python 3.11 (0.22+ need 3.12; Debian 12 python3-gdal is 3.11).
# pygeoapi's Starlette app runs under uvicorn (the same server as ours), installed here too.
# Usage: bench/pygeoapi-env.sh        (idempotent; prints the venv's python)
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv-pygeoapi
PYGEOAPI_VERSION="${PYGEOAPI_VERSION:-0.21.0}"

need=()
/usr/bin/python3 -c 'from osgeo import ogr' 2>/dev/null || need+=(python3-gdal)
/usr/bin/python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
ls /usr/lib/x86_64-linux-gnu/mod_spatialite.so* >/dev/null 2>&1 || need+=(libsqlite3-mod-spatialite)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

stamp="$VENV/.installed-$PYGEOAPI_VERSION"
if [ ! -f "$stamp" ]; then
  rm -rf "$VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "pygeoapi==$PYGEOAPI_VERSION" "uvicorn[standard]" starlette
  "$VENV/bin/python" -c 'import pygeoapi, starlette, uvicorn; from osgeo import ogr' >/dev/null
  touch "$stamp"
fi
echo "$PWD/$VENV/bin/python"
