#!/usr/bin/env bash
# Installs what routegraph needs to build, test and run its lab on Debian 12,
# and to build and check its Debian package (debian/).
# Quiet and quick when everything is already there.
set -euo pipefail

PKGS=(
  gcc clang libclang-rt-14-dev meson ninja-build pkg-config libxml2-dev
  libjansson-dev libcap-dev libcmocka-dev libmnl-dev
  libgraphviz-dev libc-ares-dev libmaxminddb-dev libsqlite3-dev libmicrohttpd-dev
  prometheus
  iproute2 nftables util-linux python3 man-db valgrind libcap2-bin
  nsd
  dpkg-dev debhelper lintian bash-completion
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
# npm fetches the offline AS data (scripts/fetch-asn-data.sh) and node checks
# the report's script (tests/lint/report-assets.sh); the machine image may
# carry its own Node.js, else Debian's will do.
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
