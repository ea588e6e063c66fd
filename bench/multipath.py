#!/usr/bin/env python3
"""Multipath discovery against scamper's tracelb in the lab (lab/lab up
first, inside the lab lock): the same targets, the same confidence, the
same flow field for both (--methods: tcp = TCP source port, scamper's
tcp-sport, over IPv6 its udp-sport; udp = UDP source port, udp-sport;
icmp = the echo identifier/checksum, icmp-echo). Per tool and target: the
branches found per TTL
against lab/topology.json's ground truth (found, missing, invented), the
links between them found (of those the routes allow, the destination's
left out), the
probes the tool says it sent, and the packets the prober's nft counter saw
leave (lab/lab counters: probes_out, which also counts the kernel's RSTs
after a SYN-ACK; scamper's TCP probes go out through the datalink, past
that hook, so only its own count holds for them). Prints a Markdown table.

  flock -o /run/rg-lab-use.lock sh -c 'lab/lab up && \\
      python3 bench/multipath.py --routegraph build/routegraph; lab/lab down'
"""
import argparse
import ipaddress
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOPO = json.load(open(os.path.join(ROOT, "lab", "topology.json")))
NETS = {t["name"]: t for t in TOPO["targets"]}
PROBER_NS = TOPO["prober"]["netns"]
LAB = os.path.join(ROOT, "lab", "lab")


def sh(argv, timeout=600):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def probes_out():
    for line in sh([LAB, "counters"]).splitlines():
        name, value = line.split()
        if name == "probes_out":
            return int(value)
    sys.exit("lab/lab counters: no probes_out")


def norm(a):
    return str(ipaddress.ip_address(a))


def truth(net, family):
    """{ttl: set of addresses} up to the destination."""
    t = NETS[net]
    out = {i + 1: {norm(a) for a in r if a} for i, r in enumerate(t["responders"][str(family)])}
    return out


def truth_edges(net, family):
    """{(ttl, address before, address)}: the diamonds' links the routes
    allow, the destination left out."""
    return {(i + 1, norm(b[i - 1]), norm(b[i])) for b in NETS[net]["branches"][str(family)]
            for i in range(1, len(b)) if b[i - 1] and b[i]}


SAVE = None  # --save DIR: each tool's raw output kept there


def keep(name, text):
    if SAVE:
        with open(os.path.join(SAVE, name), "w") as f:
            f.write(text)


def run_routegraph(binary, addr, conf, method):
    port = ["-p", "80"] if method == "tcp" else ["-p", "33434"] if method == "udp" else []
    out = sh(["ip", "netns", "exec", PROBER_NS, binary, "-n", "-q", "--format", "json",
              "-P", method, *port, f"--multipath={conf}", addr])
    keep(f"routegraph-{method}-{addr}-{conf}.json", out)
    doc = json.loads(out)
    mp = doc["traces"][0]["multipath"]
    found = {h["ttl"]: {norm(b["address"]) for b in h["branches"] if b["address"]}
             for h in mp["hops"]}
    edges = {(h["ttl"], norm(f), norm(b["address"])) for h in mp["hops"]
             for b in h["branches"] if b["address"] and not b["destination"] for f in b["from"]}
    return found, edges, doc["stats"]["probes_sent"]


def hops_of(doc, out, edges):
    """{ttl: responders} of scamper's tracelb record: the first node at
    firsthop, and each link's next hop at the TTL of the probes that found
    it (a node's q_ttl is the TTL its answer quoted, not its distance);
    edges: (ttl, node, next hop) of its links (scamper 20211212 writes a
    node's links as one list of next hops, each with its probes)."""
    nodes = doc.get("nodes", [])
    if nodes and nodes[0].get("addr"):
        out.setdefault(doc.get("firsthop", 1), set()).add(norm(nodes[0]["addr"]))
    for n in nodes:
        for link in n.get("links", []):
            for seg in link:
                for p in seg.get("probes", []):
                    if seg.get("addr") and p.get("replyc"):
                        out.setdefault(p["ttl"], set()).add(norm(seg["addr"]))
                        if n.get("addr"):
                            edges.add((p["ttl"], norm(n["addr"]), norm(seg["addr"])))


def run_scamper(addr, conf, method):
    # -W 15: scamper's shortest wait between probes (150 ms); -w 1: a second per reply
    dport = "-d 80 " if method == "tcp-sport" else "-d 33434 " if method == "udp-sport" else ""
    out = sh(["ip", "netns", "exec", PROBER_NS, "scamper", "-O", "json", "-p", "1000", "-c",
              f"tracelb -P {method} {dport}-c {conf} -W 15 -w 1", "-i", addr])
    keep(f"scamper-{method}-{addr}-{conf}.json", out)
    found, edges, probec = {}, set(), None
    for line in out.splitlines():
        doc = json.loads(line)
        if doc.get("type") == "tracelb":
            probec = doc.get("probec")
            hops_of(doc, found, edges)
    return found, edges, probec


def score(found, want, dst):
    got = {(t, a) for t, s in found.items() for a in s if a != dst}
    exp = {(t, a) for t, s in want.items() for a in s}
    return len(got & exp), len(exp - got), len(got - exp)


def score_edges(edges, want, dst):
    """Links found of the lab's (ttl, before, after), those to the
    destination left out: 'found/all'."""
    got = {e for e in edges if dst not in e[1:]}
    return f"{len(got & want)}/{len(want)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routegraph", required=True)
    ap.add_argument("--nets", default="h1,hmp,hic")
    ap.add_argument("--confidence", default="95,99")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--methods", default="tcp", help="tcp,udp,icmp")
    ap.add_argument("--first-host", type=int, default=200,
                    help="the first address number used in each target network")
    ap.add_argument("--save", help="keep each tool's raw output in this directory")
    a = ap.parse_args()
    global SAVE
    SAVE = a.save
    rows, pairs = [], {}
    nconf = len(a.confidence.split(","))
    for meth in a.methods.split(","):
        for net in a.nets.split(","):
            for fam in (4, 6):
                want = truth(net, fam)
                want_edges = truth_edges(net, fam)
                nbranch = sum(len(s) for s in want.values())
                for ci, conf in enumerate(a.confidence.split(",")):
                    for rep in range(a.repeat):
                        # a fresh address per run: no state shared between runs
                        pfx = ipaddress.ip_network(NETS[net][f"v{fam}_prefix"])
                        addr = str(pfx[a.first_host + rep * nconf + ci])
                        # scamper 20211212 sends no tcp-sport probe over IPv6 (probec 0):
                        # there its udp-sport, which varies the same field
                        method = {"tcp": "tcp-sport" if fam == 4 else "udp-sport",
                                  "udp": "udp-sport", "icmp": "icmp-echo"}[meth]
                        counts = []
                        for tool in (f"routegraph -P {meth}", f"scamper {method}"):
                            before = probes_out()
                            if tool.startswith("routegraph"):
                                found, edges, said = run_routegraph(a.routegraph, addr, conf, meth)
                            else:
                                found, edges, said = run_scamper(addr, conf, method)
                            lab = probes_out() - before
                            ok, miss, extra = score(found, want, norm(addr))
                            rows.append((net, fam, conf, rep + 1, tool, f"{ok}/{nbranch}", miss,
                                         extra, score_edges(edges, want_edges, norm(addr)),
                                         said, lab))
                            got, of = score_edges(edges, want_edges, norm(addr)).split("/")
                            counts.append((said, miss == 0, got == of))
                        pairs.setdefault((meth, net, fam, conf), []).append(counts)
    print("| target | family | confidence | run | tool | branches found | missing | invented "
          "| links found | probes (tool's count) | packets out (lab counter) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()
    summary(pairs)


def summary(pairs):
    """Per case: both tools' counts, and in how many runs routegraph sent no
    more than scamper, among the runs where scamper found every branch (a
    run that missed one stopped early: it compares nothing). Links: where
    the lab's hashing lets only some of the routes' links occur (hmp's two
    diamonds hash alike; ICMP on h1 and hmp), every run misses some."""
    print("| method | target | family | confidence | runs | routegraph probes (mean, max) "
          "| scamper probes (mean, min) | runs with routegraph <= scamper (scamper complete) "
          "| runs with a branch missing (routegraph, scamper) "
          "| runs with a link missing (routegraph, scamper) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (meth, net, fam, conf), runs in pairs.items():
        rg = [r[0][0] for r in runs]
        sc = [r[1][0] or 0 for r in runs]
        full = [(r[0][0], r[1][0] or 0) for r in runs if r[1][1]]
        le = sum(1 for a, b in full if a <= b)
        print(f"| {meth} | {net} | {fam} | {conf} | {len(runs)} | {sum(rg) / len(rg):.1f}, "
              f"{max(rg)} | {sum(sc) / len(sc):.1f}, {min(sc)} | {le}/{len(full)} "
              f"| {sum(1 for r in runs if not r[0][1])}, {sum(1 for r in runs if not r[1][1])} "
              f"| {sum(1 for r in runs if not r[0][2])}, {sum(1 for r in runs if not r[1][2])} |")


if __name__ == "__main__":
    main()
