#!/usr/bin/env bash
# A throwaway PostGIS cluster for trying the PostGIS backend by hand (the tests and the benchmark
# start their own through tests/pg.py; they do not need this script).
#
#   scripts/pg-test-cluster.sh start    # prints: export POI_TEST_POSTGRES_URL=postgresql://...
#   scripts/pg-test-cluster.sh status
#   scripts/pg-test-cluster.sh stop     # stops the server and removes its directory
#
# The cluster lives in a temporary directory, listens on a free 127.0.0.1 port (and a unix socket
# inside that directory), runs as the `postgres` user when started by root, and trusts local
# connections: for tests and experiments only. Run scripts/pg-install.sh first.
# With the printed URL exported, pytest uses this server instead of starting its own, and
# POI_DATABASE_URL=<that URL with another database name> points the service at it.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${POI_PG_CLUSTER_STATE:-/tmp/poi-pg-test-cluster}"
PY=".venv/bin/python"

case "${1:-}" in
  start)
    if [[ -f "$STATE.pid" ]] && kill -0 "$(cat "$STATE.pid")" 2>/dev/null; then
      echo "already running:"; cat "$STATE.url"; exit 0
    fi
    rm -f "$STATE.url" "$STATE.log"
    # tests/pg.py keeps the cluster while this Python process lives; SIGTERM or SIGINT stops it cleanly,
    # and its watchdog removes the cluster should the process die otherwise.
    nohup "$PY" -m tests.pg >"$STATE.url" 2>"$STATE.log" </dev/null &
    echo $! >"$STATE.pid"
    for _ in $(seq 1 120); do
      if grep -q '^export ' "$STATE.url" 2>/dev/null; then cat "$STATE.url"; exit 0; fi
      if ! kill -0 "$(cat "$STATE.pid")" 2>/dev/null; then cat "$STATE.log" >&2; exit 1; fi
      sleep 0.5
    done
    echo "cluster did not come up in 60 s; see $STATE.log" >&2
    exit 1
    ;;
  stop)
    if [[ -f "$STATE.pid" ]]; then
      pid="$(cat "$STATE.pid")"
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      fi
      rm -f "$STATE.pid" "$STATE.url" "$STATE.log"
      echo "stopped"
    else
      echo "not running"
    fi
    ;;
  status)
    if [[ -f "$STATE.pid" ]] && kill -0 "$(cat "$STATE.pid")" 2>/dev/null; then
      echo "running:"; cat "$STATE.url"
    else
      echo "not running"; exit 1
    fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
