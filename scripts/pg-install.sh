#!/usr/bin/env bash
# Installs PostgreSQL 15 + PostGIS 3 from Debian for the PostGIS test suite and benchmark.
#
# Idempotent: a quick no-op when both are present. Needs root (CI and the dev machines run as root).
# The tests never use Debian's default cluster: tests/pg.py starts a throwaway cluster of its own
# on a free loopback port, so this script keeps Debian from creating (and starting) 'main' on 5432.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
CONTROL="/usr/share/postgresql/${PG_MAJOR}/extension/postgis.control"

if [[ -x "${BIN}/initdb" && -f "${CONTROL}" ]]; then
  echo "pg-install: PostgreSQL ${PG_MAJOR} with PostGIS already installed"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "pg-install: run as root (apt-get install postgresql-${PG_MAJOR}-postgis-3)" >&2
  exit 1
fi

# No default cluster: postgresql-common reads this before the server package's postinst runs.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/poi-no-main-cluster.conf

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  "postgresql-${PG_MAJOR}" "postgresql-${PG_MAJOR}-postgis-3" >/dev/null

# Should a cluster still have been started by the package scripts, stop it: nothing here uses it.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name port status _; do
    if [[ "${status}" == online* ]]; then
      echo "pg-install: stopping Debian cluster ${ver}/${name} on port ${port} (unused by the tests)"
      pg_ctlcluster "${ver}" "${name}" stop || true
    fi
  done
fi

if [[ ! -x "${BIN}/initdb" || ! -f "${CONTROL}" ]]; then
  echo "pg-install: installation finished but ${BIN}/initdb or ${CONTROL} is missing" >&2
  exit 1
fi
echo "pg-install: installed PostgreSQL ${PG_MAJOR} with PostGIS ($(dpkg-query -W -f='${Version}' "postgresql-${PG_MAJOR}-postgis-3"))"
