#!/usr/bin/env bash
# Installs the peer tracers the benchmark (bench/run.py) compares routegraph
# with, plus GNU time for peak memory, strace for bench/startup.py, gnuplot
# and perf for bench/scale.py. Debian
# 12 package names. Not needed to build or test routegraph. Quiet and quick
# when everything is already there.
set -euo pipefail

PKGS=(
  python3-scapy   # scapy's traceroute(); runs under Debian's /usr/bin/python3
  traceroute      # Linux traceroute (-T: TCP SYN)
  tcptraceroute
  mtr-tiny        # mtr without the GTK front end (-T --report)
  scamper         # scamper + sc_warts2json
  time            # /usr/bin/time -v: peak memory
  strace          # bench/startup.py: exec to first probe
  python3         # the benchmark itself
  gnuplot-nox     # bench/scale.py --plot: the PNG of RSS and wall per size
  linux-perf      # perf: where the send/receive path spends its time
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
