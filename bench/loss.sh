#!/bin/bash
# Port states under heavy loss: 20 runs of 12 lab addresses x 2 ports (80 open,
# 443 closed) with 30% loss each way on link L1. Needs root and a lab that is
# up (lab/lab up). RG_BIN picks the binary (default build/routegraph).
A="198.19.0.226 198.19.0.227 198.19.0.228 198.19.32.226 198.19.32.227 198.19.32.228 2001:db8:310::e2 2001:db8:310::e3 2001:db8:310::e4 2001:db8:110::e2 2001:db8:110::e3 2001:db8:110::e4"
lab/lab impair loss 30 L1 $A >/dev/null 2>&1
for i in $(seq 1 20); do
  timeout 60 lab/lab exec ${RG_BIN:-build/routegraph} -q -n --asn-source none --format json -p 80,443 $A > /tmp/lb-$i.json
done
lab/lab impair remove loss L1 >/dev/null 2>&1
python3 - <<'PY'
import json, collections
c = collections.Counter(); checks = probes = 0; badhops = 0
for i in range(1, 21):
    d = json.load(open(f"/tmp/lb-{i}.json"))
    checks += d["stats"].get("port_checks_sent",0); probes += d["stats"]["probes_sent"]
    n = sum(len(h["probes"]) for t in d["traces"] for h in t["hops"])
    badhops += n != d["stats"]["probes_sent"]
    for t in d["traces"]:
        want = {80: "open", 443: "closed"}[t["port"]]
        c[(want, t["state"])] += 1
print(dict(c)); print("probes", probes, "port checks", checks, "runs where JSON probes != probes_sent", badhops)
PY
