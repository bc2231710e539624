#!/usr/bin/env bash
# Installs headless Chromium from Debian for the browser tests and the map benchmark.
#
# Idempotent: a quick no-op when /usr/bin/chromium is present. Needs root (CI and the dev machines run
# as root). Playwright's own browser download (`playwright install`) is never used: the tests drive
# this Debian build through Playwright's Python package with executable_path=/usr/bin/chromium.
set -euo pipefail

CHROMIUM="${POI_CHROMIUM:-/usr/bin/chromium}"

if [[ -x "${CHROMIUM}" ]]; then
  echo "browser-install: $("${CHROMIUM}" --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "browser-install: run as root (apt-get install chromium)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

if [[ ! -x "${CHROMIUM}" ]]; then
  echo "browser-install: installation finished but ${CHROMIUM} is missing" >&2
  exit 1
fi
echo "browser-install: installed $("${CHROMIUM}" --version 2>/dev/null || echo chromium)"
