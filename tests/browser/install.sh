#!/usr/bin/env bash
# Installs what tests/test_browser.py needs: Debian's chromium + chromium-driver and axe-core.
# Idempotent: does nothing (and is quick) when everything is already present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "install.sh: installing chromium and chromium-driver with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "install.sh: chromium and chromium-driver are missing; install them as root:" \
         "apt-get install chromium chromium-driver" >&2
  fi
fi

if [[ ! -f "$here/node_modules/axe-core/axe.min.js" ]]; then
  if command -v npm >/dev/null 2>&1; then
    echo "install.sh: installing axe-core into $here/node_modules" >&2
    cd "$here"
    if [[ -f package-lock.json ]]; then
      npm ci --silent --no-audit --no-fund
    else
      npm install --silent --no-audit --no-fund
    fi
  else
    echo "install.sh: npm is missing; install Node.js and npm, then run this script again" >&2
  fi
fi
