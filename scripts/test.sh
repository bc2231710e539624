#!/usr/bin/env bash
# Installs everything the tests need (Python packages; PostgreSQL/PostGIS, Chromium, tilemaker from Debian)
# and runs the whole suite: lint, types, tests. The test session starts and stops its own
# throwaway PostGIS cluster and uvicorn servers. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# This is the CI run: tests that need PostGIS or Chromium fail, never skip, when either is missing.
export CI="${CI:-true}"
scripts/bootstrap.sh test
for installer in scripts/pg-install.sh scripts/browser-install.sh scripts/tiles-install.sh scripts/gdal-install.sh; do
  if [ -x "$installer" ]; then "$installer"; fi
done
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/pytest -p no:cacheprovider "$@"
