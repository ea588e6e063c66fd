#!/usr/bin/env bash
# The browser test of an HTML report: installs playwright-core (once, into
# RG_BROWSER_DEPS, outside the work tree) and Debian's chromium when
# missing, then runs report-test.mjs. Prints TAP; exits non-zero on failure.
#
#   tests/browser/run.sh REPORT.html SCREENSHOT.png [--literal TEXT]...
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DEPS=${RG_BROWSER_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/routegraph-browser}
export RG_BROWSER_DEPS=$DEPS

if [ ! -x /usr/bin/chromium ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# npm ci only when the lock file changed since the last install.
mkdir -p "$DEPS"
if ! cmp -s "$HERE/package-lock.json" "$DEPS/package-lock.json" ||
   [ ! -f "$DEPS/node_modules/playwright-core/package.json" ]; then
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DEPS/"
  (cd "$DEPS" && npm ci --silent --no-audit --no-fund --loglevel=error >/dev/null)
fi

exec node "$HERE/report-test.mjs" "$@"
