#!/usr/bin/env bash
# The demo: install what is missing, build, bring the lab up and trace six lab
# targets (three networks, IPv4 and IPv6) on ports 80 and 443. Prints the
# table and writes the table, JSON, the route graph (DOT, SVG, PNG) and the
# HTML report to out/, with the lab's own AS data. (The names resolve to IPv6
# first, through the lab's hosts file.) Run as root on Debian 12.
# The lab stays up afterwards for more runs (lab/lab exec build/routegraph ...);
# lab/lab down removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
scripts/fetch-asn-data.sh
lab/lab up
mkdir -p out
# Started as root, routegraph runs as the sudo user, or as ROUTEGRAPH_USER
# (default nobody) without sudo (README, Privileges): that account writes out/.
chown "${SUDO_UID:-$(id -u "${ROUTEGRAPH_USER:-nobody}")}" out
# ROUTEGRAPH_LAB_ONLY: refuse any target outside the lab's address ranges.
ROUTEGRAPH_LAB_ONLY=1 lab/lab exec build/routegraph -p 80,443 -o out/lab --format all \
  --asn-db lab/asn.csv \
  198.19.0.10 198.19.16.10 198.19.32.10 web1.h1.lab web1.h2.lab web1.h3.lab
echo
echo "wrote the table, JSON, DOT, SVG, PNG and HTML report to $(pwd)/out/lab.{txt,json,dot,svg,png,html}"
