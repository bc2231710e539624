#!/usr/bin/env bash
# Installs poi-service and serves it on http://127.0.0.1:8000 from the embedded store with the shipped data.
# Extra arguments go to `poi-service serve` (e.g. --port 8080 --workers 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/poi-service serve "$@"
