#!/usr/bin/env bash
# Installs what rentlink needs on a fresh Debian/Ubuntu machine: redis-server (for the embedded Redis and
# the tests), Chromium (for the admin browser test) and the npm packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${SKIP_BROWSER:-}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing ${missing[*]} with apt-get" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "please install: ${missing[*]} (or set REDIS_URL to an existing Redis)" >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund
