#!/bin/bash
# Port states under heavy loss: 20 runs of 12 lab addresses x 2 ports (80
# open, 443 closed) with 30% loss each way on link L1; prints how each port
# came out, the probes sent and the port checks among them. Needs root and a
# lab that is up (lab/lab up). RG_BIN picks the binary (default
# build/routegraph). Results: docs/benchmarks.md.
set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${RG_BIN:-build/routegraph}
A="198.19.0.226 198.19.0.227 198.19.0.228 198.19.32.226 198.19.32.227 198.19.32.228
   2001:db8:310::e2 2001:db8:310::e3 2001:db8:310::e4 2001:db8:110::e2 2001:db8:110::e3
   2001:db8:110::e4"
OUT=$(mktemp -d)
trap 'lab/lab impair remove loss L1 >/dev/null 2>&1; rm -rf "$OUT"' EXIT
# shellcheck disable=SC2086 # one word per address
lab/lab impair loss 30 L1 $A >/dev/null 2>&1 || exit 1
for i in $(seq 1 20); do
  # shellcheck disable=SC2086
  timeout 60 lab/lab exec "$BIN" -q -n --asn-source none --format json -p 80,443 $A \
    >"$OUT/run-$i.json" || exit 1
done
python3 - "$OUT" <<'PY'
import collections, glob, json, sys
states, probes, checks = collections.Counter(), 0, 0
for f in sorted(glob.glob(sys.argv[1] + "/run-*.json")):
    d = json.load(open(f))
    probes += d["stats"]["probes_sent"]
    checks += d["stats"].get("port_checks_sent", 0)
    for t in d["traces"]:
        states[({80: "open", 443: "closed"}[t["port"]], t["state"])] += 1
for (want, got), n in sorted(states.items()):
    print(f"{want} port reported {got}: {n}")
print(f"probes {probes}, port checks {checks}")
PY
