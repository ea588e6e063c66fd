#!/usr/bin/env python3
"""routegraph speed benchmark: routegraph and peer tracers side by side in the lab.

    sudo bench/run.py [--sizes 1,64,1024] [--repeat 3] [--tools LIST] [--throttle [ROUTER|all]]
                      [--rg-default [--rg-extra ARGS]]

Every tool traces the same targets on ports 80 and 443 from inside rg-prober.
Per tool and size it reports wall time, probes sent and packets received
(counted by nft counters in router r1, not by the tool), peak memory (GNU time)
and accuracy against lab/topology.json, plus each figure's ratio to the floor.
Nothing is installed here: missing tools are skipped with the command that
installs them (scripts/install-bench-deps.sh installs all). See bench/README.md.

Internal sub-commands (run by the benchmark itself):
    run.py worker SPEC.json        runs one tool's invocations inside rg-prober
    run.py scapy-trace TARGETS W   scapy's traceroute(), under Debian's python3
"""
import argparse
import concurrent.futures
import ctypes
import datetime
import ipaddress
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
LAB = os.path.join(ROOT, "lab", "lab")
TOPO_PATH = os.path.join(ROOT, "lab", "topology.json")
PROBER_NS = "rg-prober"
COUNT_NS = "rg-r1"            # probes are counted where they enter r1
COUNT_IF = "to-prober"        # r1's interface towards the prober
NFT_TABLE = "rg_bench"        # family inet, in COUNT_NS; created and deleted here
STATE_DIR = "/run/routegraph-bench"
THROTTLE_STATE = os.path.join(STATE_DIR, "throttle.json")
PORTS = (80, 443)
NET_ORDER = ("h2", "h1", "h3")  # size 1 is h2: ECMP, a silent hop, a filtered port
HOST_BASE = 512                 # targets from the middle of each /22 and /118,
                                # away from the low addresses the tests use
SCAMPER_MAX_PPS = 10000         # scamper refuses -p above this
SCAMPER_WINDOW = 256            # -w 0 (unlimited) and 512 overflow scamper's routing
                                # socket at 1024 targets (ENOBUFS) and lose traces
RG_GIVE_UP_MIN = 0.1            # routegraph's shortest give-up wait (see --help -w)
DEBIAN_PY = "/usr/bin/python3"  # python3-scapy lives in Debian's python only
GNU_TIME = "/usr/bin/time"
ROUTERS = ("r1", "r2", "r3a", "r3b", "r4", "r5", "r6", "r7")
# Linux's default ICMP rate limit (lab/lab impair ratelimit): a token bucket per
# destination (here: the prober) of 6 tokens, one token back per
# icmp_ratelimit = 1000 ms. IPv6 (net.ipv6.icmp.ratelimit=1000) is the same on
# kernel 6.18: the old "more bandwidth to wider prefixes" scaling of the
# interval is gone (upstream 0201eedb69b2, in 6.18-stable).
ICMP_BURST = 6
ICMP_PER_S = 1.0
ICMP_REFILL_S = ICMP_BURST / ICMP_PER_S + 1.0   # empty bucket -> full, with a margin

# Peers: tool name -> (Debian package, what the run does).
TOOLS = {
    "routegraph": (None, "routegraph, all targets x both ports in one run"),
    "routegraph6": (None, "routegraph, the same host numbers in the IPv6 /118s (extra row)"),
    "routegraph-noas": (None, "routegraph --asn-source none: no AS annotation (extra row)"),
    "routegraph-rate": (None, "routegraph with --rate RATE on top of its options (extra row; "
                        "with --rg-default: the defaults plus --rate only)"),
    "scapy": ("python3-scapy", "scapy traceroute(targets, dport=[80,443], retry=-2), one process"),
    "traceroute": ("traceroute", "traceroute -T, one target and port at a time"),
    "traceroute16": ("traceroute", "traceroute -T, 16 target/port runs in parallel"),
    "tcptraceroute16": ("tcptraceroute", "tcptraceroute, 16 target/port runs in parallel"),
    "mtr16": ("mtr-tiny", "mtr -T --report -c 1, 16 target/port runs in parallel"),
    "scamper": ("scamper", "scamper TCP traces over the target list, one run per port"),
}
PEERS = [t for t in TOOLS if not t.startswith("routegraph")]


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def sh(argv, check=True, input_text=None, timeout=120):
    r = subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def norm(addr):
    return ipaddress.ip_address(addr).compressed if addr else None


# ---------------------------------------------------------------------------
# Ground truth, targets and the floor
# ---------------------------------------------------------------------------

class Truth:
    def __init__(self, topo):
        self.nets = {t["name"]: t for t in topo["targets"]}
        self.router_of = {norm(a): r["name"] for r in topo["routers"]
                          for fam in ("4", "6") for a in r["addresses"][fam]}
        self._nets = [(ipaddress.ip_network(t["v4_prefix"]), t) for t in topo["targets"]]
        self._nets += [(ipaddress.ip_network(t["v6_prefix"]), t) for t in topo["targets"]]

    def net_of(self, addr):
        a = ipaddress.ip_address(addr)
        for net, t in self._nets:
            if a.version == net.version and a in net:
                return t
        raise ValueError(f"{addr} is in no lab target network")

    def targets(self, size, family):
        key = "v4_prefix" if family == 4 else "v6_prefix"
        out = []
        for i in range(size):
            net = ipaddress.ip_network(self.nets[NET_ORDER[i % 3]][key])
            out.append(str(net[HOST_BASE + i // 3]))
        return out

    def floor_probes(self, addr, port, retries):
        """One probe per hop up to the destination, plus `retries` for every
        silent TTL at or below it (a silent router, and the destination TTL of
        a filtered port, whose distance the other port of the same address
        gives away)."""
        t = self.net_of(addr)
        silent = sum(1 for h in t["branches"]["4"][0] if h is None)
        if t["ports"][str(port)] == "filtered":
            silent += 1
        return t["distance"] + retries * silent

    def needs_timeout(self, addr, port):
        t = self.net_of(addr)
        return (t["ports"][str(port)] == "filtered"
                or any(h is None for h in t["branches"]["4"][0]))


def floor_for(truth, targets, retries, timeout, rate):
    probes = sum(truth.floor_probes(a, p, retries) for a in targets for p in PORTS)
    # A silent TTL is known silent only once its last attempt timed out, and a
    # retry goes only after the attempt before it timed out: (1 + retries) x
    # timeout in a row, however fast the rest goes.
    chain = (1 + retries) * timeout if any(truth.needs_timeout(a, p)
                                           for a in targets for p in PORTS) else 0.0
    give_up = min(timeout, RG_GIVE_UP_MIN)
    return {"probes": probes, "wall": max(probes / rate, chain),
            "rate_bound": probes / rate, "timeout_chain": chain,
            "wall_adaptive": max(probes / rate, chain / timeout * give_up if timeout else 0)}


# ---------------------------------------------------------------------------
# Accuracy
# ---------------------------------------------------------------------------

def new_trace():
    # hops: measured addresses per TTL; inferred: routegraph's inferred_responder
    # (never measured on this trace); silence: its label of an unanswered hop.
    return {"hops": {}, "state": None, "inferred": {}, "silence": {}}


def add_hop(tr, ttl, addr):
    """Records a probed TTL; addr None = a probe there got no answer."""
    lst = tr["hops"].setdefault(int(ttl), [])
    a = norm(addr)
    if a and a not in lst:
        lst.append(a)


def router_group(truth, exp):
    """The router(s) answering at a ground-truth hop: 'r4', or 'r3a+r3b' for an
    ECMP hop whose branch the flow's hash picks."""
    return "+".join(sorted({truth.router_of[a] for a in exp}))


def score(truth, traces, targets, family, state_known=True):
    """Compares parsed traces {(addr, port): trace} with the ground truth.

    Per hop (TTL 1 up to the target's distance): *found* when the hop shows
    an address of the ground truth (measured; or, with no measured address,
    routegraph's inferred_responder on a branch consistent with the trace's
    measured hops); *wrong* when it shows an address that is not (measured),
    or an inferred one off every consistent branch, or any address where the
    ground truth is silent; otherwise not found. hops_right = found, or
    rightly empty (a silent router, a filtered port's destination TTL)."""
    fam = str(family)
    res = {"traces": 0, "traces_right": 0, "hops": 0, "hops_right": 0,
           "ports": 0, "ports_right": 0, "ports_unknown": 0,
           "ecmp": 0, "ecmp_one_branch": 0, "ecmp_undetermined": 0, "ecmp_guessed": 0,
           "missing": 0, "wrong": [],
           # hops that have an answerer in the ground truth (a router that
           # answers, the destination of an open or closed port)
           "findable": 0, "found_measured": 0, "found_inferred": 0, "hops_wrong": 0,
           "wrong_measured": 0, "wrong_inferred": 0, "wrong_hops": [],
           # router hops: needed (per router group) and measured right
           "router_needed": {}, "router_measured": {},
           # routegraph's labels of unanswered hops that should have an answer
           # (rate-limited is right) and of truly silent ones (silent is right)
           "label_rate_limited": 0, "label_silent": 0, "label_wrong": 0}
    for addr in targets:
        t = truth.net_of(addr)
        d = t["distance"]
        branches = t["branches"][fam]
        for port in PORTS:
            res["traces"] += 1
            tr = traces.get((norm(addr), port))
            if tr is None:
                res["missing"] += 1
                tr = new_trace()
            state = t["ports"][str(port)]
            # The branches consistent with what this trace measured below d.
            consistent = [b for b in branches
                          if all(g == b[k - 1] for k, got in tr["hops"].items() if 1 <= k < d
                                 for g in got)]
            ok_all = True
            for ttl in range(1, d + 1):
                got = tr["hops"].get(ttl, [])
                inf = norm(tr["inferred"].get(ttl)) if not got else None
                label = tr["silence"].get(ttl) if not got else None
                if ttl < d:
                    exp = t["responders"][fam][ttl - 1]
                    if exp == [None]:
                        found, wrong = False, bool(got) or bool(inf)
                        ok = not wrong
                        if label:
                            res["label_silent" if label == "silent" else "label_wrong"] += 1
                    else:
                        grp = router_group(truth, exp)
                        res["router_needed"][grp] = res["router_needed"].get(grp, 0) + 1
                        res["findable"] += 1
                        if got:
                            found = all(g in exp for g in got)
                            wrong = not found
                            if found:
                                res["router_measured"][grp] = res["router_measured"].get(grp, 0) + 1
                        elif inf:
                            found = any(b[ttl - 1] == inf for b in consistent)
                            wrong = not found
                        else:
                            found = wrong = False
                            if label:
                                res["label_rate_limited" if label == "rate-limited"
                                    else "label_wrong"] += 1
                        ok = found
                else:
                    if state == "filtered":
                        found, wrong = False, bool(got) or bool(inf)
                        ok = not wrong
                    else:
                        res["findable"] += 1
                        if got:
                            found = got == [norm(addr)]
                            wrong = not found
                        elif inf:
                            found = inf == norm(addr)
                            wrong = not found
                        else:
                            found = wrong = False
                        ok = found
                res["hops"] += 1
                res["hops_right"] += ok
                if found:
                    res["found_measured" if got else "found_inferred"] += 1
                if wrong:
                    res["hops_wrong"] += 1
                    res["wrong_measured" if got else "wrong_inferred"] += 1
                    if len(res["wrong_hops"]) < 10:
                        res["wrong_hops"].append({"target": addr, "port": port, "ttl": ttl,
                                                  "measured": got, "inferred": inf,
                                                  "expected": t["responders"][fam][ttl - 1]
                                                  if ttl < d else [norm(addr)]})
                ok_all &= ok
            if state_known:
                res["ports"] += 1
                if tr["state"] == state:
                    res["ports_right"] += 1
                else:
                    ok_all = False
                    res["ports_unknown"] += tr["state"] == "unknown"
            res["traces_right"] += ok_all
            if not ok_all and len(res["wrong"]) < 5:
                res["wrong"].append({"target": addr, "port": port, "state": tr["state"],
                                     "hops": {k: v for k, v in sorted(tr["hops"].items())}})
            branches = t["branches"][fam]
            if len(branches) > 1:
                res["ecmp"] += 1
                # Measured hops, and inferred ones where nothing was measured
                # (marked as such by routegraph; judged like measured ones).
                seen = {"hops": {k: tr["hops"].get(k) or
                                 ([norm(tr["inferred"][k])] if k in tr["inferred"] else [])
                                 for k in set(tr["hops"]) | set(tr["inferred"])}}
                ob = one_branch(seen, branches)
                # A branch no measured hop of the trace shows, only inferred:
                # counted as found above (every branch is consistent), but the
                # flow's hash, not other traces, decides it.
                differ = [i + 1 for i in range(len(branches[0]))
                          if len({b[i] for b in branches}) > 1]
                if not any(tr["hops"].get(k) for k in differ) and \
                        any(k in tr["inferred"] for k in differ):
                    res["ecmp_guessed"] += 1
                res["ecmp_one_branch"] += ob is True
                res["ecmp_undetermined"] += ob is None
    res["ports_wrong"] = res["ports"] - res["ports_right"]
    return res


def one_branch(tr, branches):
    """True when the hops where the branches differ all answered, each with one
    address, all from the same branch; False when they show a mix (or an
    address of no branch); None when some stayed silent and the rest fit one
    branch (under ICMP throttling, say)."""
    differ = [i for i in range(len(branches[0])) if len({b[i] for b in branches}) > 1]
    got = [tr["hops"].get(i + 1, []) for i in differ]
    if any(len(g) > 1 for g in got):
        return False
    answered = [(i, g[0]) for i, g in zip(differ, got) if g]
    if not any(all(b[i] == a for i, a in answered) for b in branches):
        return False
    return True if len(answered) == len(differ) else None


# --- parsers: each returns {(addr, port): trace} ----------------------------

def parse_routegraph(path):
    doc = json.load(open(path))
    out = {}
    for t in doc["traces"]:
        tr = new_trace()
        for h in t["hops"]:
            for p in h["probes"]:
                add_hop(tr, h["ttl"], p["reply"]["from"] if p.get("reply") else None)
            if h.get("inferred_responder"):
                tr["inferred"][int(h["ttl"])] = h["inferred_responder"]
            if h.get("silence"):
                tr["silence"][int(h["ttl"])] = h["silence"]
        tr["state"] = t["state"]
        tr["port_probes"] = t.get("port_probes")
        out[(norm(t["address"]), t["port"])] = tr
    return out, doc


def parse_scapy(path):
    doc = json.load(open(path))
    out = {}
    for dst, dport, ttl, src, flags, _icmp in doc["answered"]:
        tr = out.setdefault((norm(dst), dport), new_trace())
        add_hop(tr, ttl, src)
    for (dst, _port), tr in out.items():
        # scapy probes every TTL: the destination answers all TTLs from its
        # distance on; the trace is what comes before and at the first of them.
        at = [ttl for ttl, a in tr["hops"].items() if dst in a]
        if at:
            d = min(at)
            tr["hops"] = {k: v for k, v in tr["hops"].items() if k <= d}
    for dst, dport, ttl, src, flags, _icmp in doc["answered"]:
        tr = out[(norm(dst), dport)]
        if norm(src) == norm(dst) and ttl == max(tr["hops"]):
            tr["state"] = "open" if flags and "S" in flags else (
                "closed" if flags and "R" in flags else "filtered")
    for tr in out.values():
        if tr["state"] is None:
            tr["state"] = "filtered"
    return out, doc


HOP_LINE = re.compile(r"^\s*(\d+)\s+(.*)$")


def parse_hop_text(text, dst, open_re, closed_re):
    """Linux traceroute and tcptraceroute text: one line per TTL."""
    tr = new_trace()
    reached = None
    for line in text.splitlines():
        m = HOP_LINE.match(line)
        if not m:
            continue
        ttl, rest = int(m.group(1)), m.group(2)
        addrs = [w for w in rest.split() if re.fullmatch(r"[0-9a-fA-F:.]+", w) and
                 (":" in w or w.count(".") == 3)]
        add_hop(tr, ttl, None)
        for a in addrs:
            try:
                add_hop(tr, ttl, a)
            except ValueError:
                continue
        if norm(dst) in tr["hops"][ttl] and reached is None:
            reached = ttl
            if re.search(open_re, rest):
                tr["state"] = "open"
            elif re.search(closed_re, rest):
                tr["state"] = "closed"
            else:
                tr["state"] = "filtered"
    if reached is None:
        tr["state"] = "filtered"
    return tr


def parse_per_target(invs, kind):
    out = {}
    for inv in invs:
        dst, port = inv["meta"]["target"], inv["meta"]["port"]
        try:
            text = open(inv["out"], errors="replace").read()
        except OSError:
            continue
        if not text.strip():
            continue
        if kind == "traceroute":
            tr = parse_hop_text(text, dst, r"<syn", r"<rst")
        elif kind == "tcptraceroute":
            tr = parse_hop_text(text, dst, r"\[open\]", r"\[closed\]")
        else:
            tr = parse_mtr(text)
            if tr is None:
                continue
        out[(norm(dst), port)] = tr
    return out


def parse_mtr(text):
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    tr = new_trace()
    for h in doc["report"]["hubs"]:
        host = h.get("host")
        add_hop(tr, h["count"], None if host in (None, "???") else host)
    return tr  # mtr reports no port state


def parse_scamper(invs):
    out = {}
    for inv in invs:
        try:
            lines = open(inv["out"], errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("type") != "trace":
                continue
            tr = new_trace()
            dst = norm(d["dst"])
            for h in d.get("hops", []):
                add_hop(tr, h["probe_ttl"], h.get("addr"))
                if norm(h.get("addr")) == dst and "tcp_flags" in h and tr["state"] is None:
                    f = h["tcp_flags"]
                    tr["state"] = "open" if f & 0x12 == 0x12 else (
                        "closed" if f & 0x04 else "filtered")
            if tr["state"] is None:
                tr["state"] = "filtered"
            out[(dst, d["dport"])] = tr
    return out


# ---------------------------------------------------------------------------
# nft counters in r1 (where every probe of every tool passes, AF_PACKET too)
# ---------------------------------------------------------------------------

COUNTERS = ("syn_out", "other_out", "foreign_syn", "tcp_in", "icmp_in")


def nft(script, ns=COUNT_NS):
    return sh(["ip", "netns", "exec", ns, "nft", "-f", "-"], input_text=script)


def counters_install():
    counters_remove()
    nft(f"""
table inet {NFT_TABLE} {{
    set t4 {{ type ipv4_addr; }}
    set t6 {{ type ipv6_addr; }}
    set q4 {{ typeof @th,192,32; }}
    set q6 {{ typeof @th,256,128; }}
{"".join(f"    counter {c} {{}}{chr(10)}" for c in COUNTERS)}
    # What the prober sends: SYNs to the benchmark's targets are the probes;
    # anything else to them is the prober kernel's RSTs and ACKs.
    chain pre {{
        type filter hook prerouting priority -300; policy accept;
        iifname != "{COUNT_IF}" accept
        ip daddr @t4 tcp flags & (syn | ack) == syn counter name syn_out accept
        ip6 daddr @t6 tcp flags & (syn | ack) == syn counter name syn_out accept
        ip daddr @t4 counter name other_out accept
        ip6 daddr @t6 counter name other_out accept
        tcp flags & (syn | ack) == syn counter name foreign_syn
    }}
    # What the prober gets: TCP from a target, ICMP errors quoting one.
    chain post {{
        type filter hook postrouting priority 300; policy accept;
        oifname != "{COUNT_IF}" accept
        ip saddr @t4 meta l4proto tcp counter name tcp_in accept
        ip6 saddr @t6 meta l4proto tcp counter name tcp_in accept
        icmp type {{ time-exceeded, destination-unreachable }} @th,192,32 @q4 counter name icmp_in accept
        icmpv6 type {{ time-exceeded, destination-unreachable }} @th,256,128 @q6 counter name icmp_in accept
    }}
}}
""")


def counters_remove():
    sh(["ip", "netns", "exec", COUNT_NS, "nft", "delete", "table", "inet", NFT_TABLE], check=False)


def counters_set_targets(v4, v6):
    def elems(xs, raw):
        if not xs:
            return ""
        vals = [hex(int(ipaddress.ip_address(x))) if raw else x for x in xs]
        return "{ " + ", ".join(vals) + " }"
    lines = [f"flush set inet {NFT_TABLE} {s}" for s in ("t4", "t6", "q4", "q6")]
    for s, xs, raw in (("t4", v4, False), ("q4", v4, True), ("t6", v6, False), ("q6", v6, True)):
        if xs:
            lines.append(f"add element inet {NFT_TABLE} {s} {elems(xs, raw)}")
    nft("\n".join(lines) + "\n")


def counters_reset():
    sh(["ip", "netns", "exec", COUNT_NS, "nft", "reset", "counters", "table", "inet", NFT_TABLE])


def counters_read():
    r = sh(["ip", "netns", "exec", COUNT_NS, "nft", "-j", "list", "counters", "table", "inet",
            NFT_TABLE])
    out = {}
    for item in json.loads(r.stdout)["nftables"]:
        c = item.get("counter")
        if c:
            out[c["name"]] = c["packets"]
    return out


# ---------------------------------------------------------------------------
# Lab and throttling
# ---------------------------------------------------------------------------

def lab_status():
    r = sh([LAB, "status"], check=False)
    return r.stdout.strip()


# The benchmark measures the plain lab: a tracer's speed under link delays
# or the kernel's ICMP limits is another figure (lab/lab up options).
PLAIN_MODE = "icmp-limits=off delays=off"
# --delays: the same lab with links of real delay (lab/lab up --delays on),
# restored to the plain lab when the run ends.
LAB_MODE = {"want": PLAIN_MODE, "up": []}


def lab_usable():
    # "outdated" only means lab/lab was edited since up: the network is there.
    st = lab_status()
    return (st.startswith("up ") or st.startswith("outdated")) and st.endswith(LAB_MODE["want"])


def ensure_lab(wait_s=180):
    """Waits for the plain lab (others may be rebuilding it, or using it in
    another mode for a while); brings it up only when it is down. Never takes
    it down."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        st = lab_status()
        if lab_usable():
            return
        if st == "down" or (LAB_MODE["up"] and st.startswith("up ")):
            log(f"lab is {st}; lab/lab up {' '.join(LAB_MODE['up'])}")
            sh([LAB, "up", *LAB_MODE["up"]], check=False, timeout=180)
        else:
            time.sleep(3)
    die(f"lab not usable after {wait_s} s (status: {lab_status()})")


def throttle_on(routers):
    """The lab's own switch to Linux's default ICMP rate limit (lab/lab impair),
    router by router. The state file is written first, so an interrupted run's
    throttles are lifted by the next run."""
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(THROTTLE_STATE, "w") as f:
        json.dump({"routers": list(routers)}, f)
    for r in routers:
        sh([LAB, "impair", "ratelimit", r])


def throttle_off():
    """Lifts our throttles (also ones left over by an interrupted run)."""
    try:
        st = json.load(open(THROTTLE_STATE))
        routers = st["routers"] if "routers" in st else [st["router"]]
    except (OSError, ValueError, KeyError):
        return
    for r in routers:
        if os.path.exists(f"/run/netns/rg-{r}"):
            sh([LAB, "impair", "remove", "ratelimit", r], check=False)
    os.unlink(THROTTLE_STATE)


CLONE_NEWNET = 0x40000000


class IcmpWatch(threading.Thread):
    """Watches every router's ICMP rate limit while a tool runs: other people's
    tests switch routers to Linux's limit for a few seconds (lab/lab impair
    ratelimit), which would silently change what a tracer sees. Reads the
    sysctl from inside each namespace by setns in this thread only: microseconds
    a look, where `lab/lab impair status` costs most of a second of CPU."""

    def __init__(self, expected):
        super().__init__(daemon=True)
        self.expected = set(expected)   # routers that should be rate limited
        self.events = set()
        self.halt = threading.Event()

    @staticmethod
    def limited_now():
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        out = set()
        try:
            for r in ROUTERS:
                try:
                    fd = os.open(f"/run/netns/rg-{r}", os.O_RDONLY)
                except OSError:
                    continue
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        continue
                    try:
                        with open("/proc/sys/net/ipv4/icmp_ratelimit") as f:
                            if f.read().strip() != "0":
                                out.add(r)
                    finally:
                        if libc.setns(home, CLONE_NEWNET) != 0:
                            raise OSError("setns back to our own namespace failed")
                finally:
                    os.close(fd)
        finally:
            os.close(home)
        return out

    def run(self):
        while not self.halt.wait(0.25):
            got = self.limited_now()
            if got != self.expected:
                self.events.add(f"rate-limited routers {sorted(got) or 'none'}, "
                                f"expected {sorted(self.expected) or 'none'}")

    def stop(self):
        self.halt.set()
        self.join()
        return sorted(self.events)


def settle_icmp(expected, wait_s=600):
    """Waits until exactly the expected routers are rate limited: someone
    else's impairment ends by itself; our own throttle is put back if someone
    lifted it (lab up, impair clear)."""
    deadline = time.monotonic() + wait_s
    while True:
        got = IcmpWatch.limited_now()
        if got == set(expected):
            return True
        for r in set(expected) - got:
            sh([LAB, "impair", "ratelimit", r], check=False)
        if got - set(expected):
            if time.monotonic() > deadline:
                return False
            log(f"routers rate limited by someone else: {sorted(got - set(expected))}; waiting")
            time.sleep(5)


# ---------------------------------------------------------------------------
# Tools: availability and invocations
# ---------------------------------------------------------------------------

def check_tools(wanted, rg_bin):
    ok, missing = [], {}
    for t in wanted:
        pkg = TOOLS[t][0]
        if t.startswith("routegraph"):
            if not (rg_bin and os.access(rg_bin, os.X_OK)):
                missing[t] = ("no routegraph binary: build it (meson setup build && ninja -C build)"
                              " or pass --routegraph PATH")
                continue
        elif t == "scapy":
            r = sh([DEBIAN_PY, "-c", "import scapy.all"], check=False) \
                if os.path.exists(DEBIAN_PY) else None
            if r is None or r.returncode != 0:
                missing[t] = f"apt-get install {pkg}   (or scripts/install-bench-deps.sh)"
                continue
        else:
            exe = {"traceroute": "traceroute", "traceroute16": "traceroute",
                   "tcptraceroute16": "tcptraceroute", "mtr16": "mtr",
                   "scamper": "scamper"}[t]
            path = shutil.which(exe) or shutil.which(exe, path="/usr/sbin:/usr/bin:/sbin:/bin")
            if not path:
                missing[t] = f"apt-get install {pkg}   (or scripts/install-bench-deps.sh)"
                continue
            if t.startswith("traceroute"):
                v = sh([path, "--version"], check=False)
                if "Modern traceroute" not in v.stdout + v.stderr:
                    missing[t] = (f"{path} is not Linux traceroute (-T needs Debian's "
                                  "'traceroute' package): apt-get install traceroute")
                    continue
        ok.append(t)
    return ok, missing


def tool_versions(rg_bin):
    def first(argv):
        try:
            r = sh(argv, check=False, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        txt = (r.stdout + r.stderr).strip().splitlines()
        return txt[0] if txt and not txt[0].startswith("Traceback") else None

    head = first(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = first(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "src"])
    rg = first([rg_bin, "--version"]) if rg_bin else None
    if rg and head:
        rg += f" ({rg_bin}, built from {head}" + (" + uncommitted changes in src/)" if dirty
                                                  else ")")
    return {
        "routegraph": rg,
        "scapy": first([DEBIAN_PY, "-c", "import scapy; print('scapy', scapy.VERSION)"]),
        "traceroute": first(["traceroute", "--version"]),
        "tcptraceroute": dpkg_version("tcptraceroute"),
        "mtr": first(["mtr", "--version"]),
        "scamper": first(["scamper", "-v"]),
        "GNU time": dpkg_version("time"),
    }


def dpkg_version(pkg):
    r = sh(["dpkg-query", "-W", "-f=${Version}", pkg], check=False)
    return f"{pkg} {r.stdout.strip()}" if r.returncode == 0 else None


def invocations(tool, cfg, targets_v4, targets_v6, rundir):
    """The commands one measurement of `tool` runs, and how many at once."""
    w, r = cfg.timeout, cfg.retries
    ws = f"{w:g}"
    invs = []

    def inv(name, argv, **meta):
        base = os.path.join(rundir, name)
        invs.append({"argv": argv, "out": base + ".out", "err": base + ".err",
                     "time": base + ".time", "meta": meta})

    if tool.startswith("routegraph"):
        tl = targets_v6 if tool == "routegraph6" else targets_v4
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(tl) + "\n")
        extra = ["--asn-source", "none"] if tool == "routegraph-noas" else []
        extra += shlex.split(cfg.rg_extra)
        if cfg.rg_default:
            # Its default probing options: only output, ports and -n (no DNS, as
            # every peer runs with -n) are given.
            if tool == "routegraph-rate":
                extra += ["--rate", str(cfg.rate)]
            inv(tool, [cfg.routegraph, "-n", "-q", "--format", "json", "-p", "80,443",
                       *extra, "-f", tf])
        else:
            inv(tool, [cfg.routegraph, "-n", "-q", "--format", "json", "-p", "80,443",
                       "-w", ws, "-r", str(r), "--rate", str(cfg.rate), *extra, "-f", tf])
        return invs, 1
    if tool == "scapy":
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(targets_v4) + "\n")
        inv("scapy", [DEBIAN_PY, os.path.abspath(__file__), "scapy-trace", tf, ws])
        return invs, 1
    if tool == "scamper":
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(targets_v4) + "\n")
        pps = min(cfg.rate, SCAMPER_MAX_PPS)
        for port in PORTS:
            inv(f"scamper-{port}", ["scamper", "-O", "json", "-p", str(pps),
                                    "-w", str(SCAMPER_WINDOW), "-c",
                                    f"trace -P tcp -d {port} -q {1 + r} -w {max(1, round(w))} "
                                    f"-g {cfg.gap} -m {cfg.max_ttl}", "-f", tf])
        return invs, 1
    for a in targets_v4:
        for port in PORTS:
            name = f"{tool}-{a}-{port}"
            if tool.startswith("traceroute"):
                argv = ["traceroute", "-T", "-p", str(port), "-n", "-q", "1", "-w", ws,
                        "-m", str(cfg.max_ttl), "-O", "info", a]
            elif tool.startswith("tcptraceroute"):
                argv = ["tcptraceroute", "-n", "-q", "1", "-w", ws, "-m", str(cfg.max_ttl),
                        a, str(port)]
            else:
                argv = ["mtr", "-T", "-P", str(port), "--report", "-c", "1", "-n", "--json",
                        "-i", "0.1", "--timeout", ws, "--gracetime", ws,
                        "-m", str(cfg.max_ttl), a]
            inv(name, argv, target=a, port=port)
    return invs, (1 if tool == "traceroute" else cfg.parallel)


# ---------------------------------------------------------------------------
# Worker: runs inside rg-prober, times the tool, collects peak RSS
# ---------------------------------------------------------------------------

def gnu_time_rss(path):
    try:
        for line in open(path, errors="replace"):
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def worker_main(spec_path):
    spec = json.load(open(spec_path))
    invs = spec["invocations"]
    deadline = time.monotonic() + spec["budget"]
    env = dict(os.environ, **spec.get("env", {}))
    stop = threading.Event()

    def run_one(i):
        inv = invs[i]
        left = deadline - time.monotonic()
        if left <= 0.5 or stop.is_set():
            stop.set()
            return {"skipped": True}
        cap = min(left, spec["per_call_timeout"])
        argv = [GNU_TIME, "-v", "-o", inv["time"], "timeout", "-k", "2", f"{cap:.1f}",
                *inv["argv"]]
        with open(inv["out"], "wb") as o, open(inv["err"], "wb") as e:
            t0, rt0 = time.monotonic(), time.time()
            p = subprocess.Popen(argv, stdout=o, stderr=e, env=env, start_new_session=True)
            try:
                rc = p.wait(timeout=cap + 10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # our own session, by its id
                rc = p.wait()
            t1 = time.monotonic()
        timed_out = rc in (124, 137, -9)
        if timed_out:
            stop.set()
        return {"rc": rc, "wall": t1 - t0, "start_realtime": rt0,
                "rss_kb": gnu_time_rss(inv["time"]), "timed_out": timed_out}

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=spec["parallel"]) as ex:
        results = list(ex.map(run_one, range(len(invs))))
    wall = time.monotonic() - t0
    done = [r for r in results if not r.get("skipped")]
    json.dump({"wall": wall, "results": results,
               "completed": sum(1 for r in done if not r["timed_out"]),
               "timed_out": stop.is_set() or any(r["timed_out"] for r in done),
               "rss_kb": max((r["rss_kb"] or 0 for r in done), default=0)}, sys.stdout)


def scapy_main(targets_path, timeout):
    t0 = time.monotonic()
    from scapy.all import ICMP, IP, TCP, conf, traceroute  # noqa: E402  (Debian's python3)
    conf.verb = 0
    targets = [x.strip() for x in open(targets_path) if x.strip()]
    t1 = time.monotonic()
    ans, unans = traceroute(targets, dport=list(PORTS), retry=-2, timeout=float(timeout),
                            verbose=0)
    t2 = time.monotonic()
    rows = []
    for snd, rcv in ans:
        flags = str(rcv[TCP].flags) if rcv.haslayer(TCP) else None
        icmp = [rcv[ICMP].type, rcv[ICMP].code] if rcv.haslayer(ICMP) else None
        rows.append([snd[IP].dst, snd[TCP].dport, snd[IP].ttl, rcv[IP].src, flags, icmp])
    json.dump({"import_s": t1 - t0, "call_s": t2 - t1, "answered": rows,
               "unanswered": len(unans)}, sys.stdout)


# ---------------------------------------------------------------------------
# One measurement
# ---------------------------------------------------------------------------

class Runner:
    def __init__(self, cfg, truth, workdir):
        self.cfg, self.truth, self.workdir = cfg, truth, workdir
        self.worker = None
        self.last_end = time.monotonic()  # the throttle was just switched on

    def measure(self, tool, size, rep, tv4, tv6):
        rundir = os.path.join(self.workdir, f"{size}", f"r{rep}", tool)
        os.makedirs(rundir, exist_ok=True)
        invs, par = invocations(tool, self.cfg, tv4, tv6, rundir)
        single = len(invs) <= 2
        spec = {"invocations": invs, "parallel": par, "budget": self.cfg.budget,
                "per_call_timeout": self.cfg.budget if single else self.cfg.call_timeout,
                "env": {"ROUTEGRAPH_LAB_ONLY": "1"}}
        spec_path = os.path.join(rundir, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        expected = self.cfg.throttled
        for attempt in range(4):
            ensure_lab()
            calm = settle_icmp(expected)
            if expected:
                # Every tool starts with the routers' buckets full (6 answers),
                # not drained by the tool before it.
                left = ICMP_REFILL_S - (time.monotonic() - self.last_end)
                if left > 0:
                    time.sleep(left)
            try:
                counters_reset()
            except RuntimeError:
                counters_install()  # the lab was rebuilt under us
                counters_set_targets(tv4, tv6)
                counters_reset()
            watch = IcmpWatch(expected)
            watch.start()
            w = self.run_worker(spec_path)
            self.last_end = time.monotonic()
            disturbed = watch.stop() + ([] if calm else ["never calm"])
            try:
                cnt = counters_read()
            except RuntimeError:
                cnt = None
            if w is None or cnt is None or not lab_usable():
                log(f"{tool} {size}: the lab changed during the run; waiting and re-running")
                time.sleep(10)
                continue
            if disturbed and attempt < 3:
                log(f"{tool} {size}: ICMP rate limits changed during the run ({disturbed[0]}); "
                    "re-running")
                continue
            break
        else:
            return {"error": "lab kept disappearing"}
        m = {"wall": w["wall"], "rss_kb": w["rss_kb"], "timed_out": w["timed_out"],
             "completed": w["completed"], "invocations": len(invs), "counters": cnt,
             "probes": cnt["syn_out"], "received": cnt["tcp_in"] + cnt["icmp_in"],
             "other_out": cnt["other_out"], "foreign_syn": cnt["foreign_syn"],
             "example": shlex.join(invs[0]["argv"]), "disturbed": disturbed}
        ok_rc = {0, 1} if tool == "tcptraceroute16" else {0}  # 1: not reached
        m["failed"] = sum(1 for r in w["results"]
                          if not r.get("skipped") and not r["timed_out"] and r["rc"] not in ok_rc)
        m["accuracy"] = self.accuracy(tool, invs, tv4, tv6, m)
        if "error" not in m["accuracy"]:
            m["icmp"] = icmp_ceiling(m["accuracy"], self.cfg.throttled, w["wall"])
        if tool.startswith("routegraph"):
            m["breakdown"] = rg_breakdown(invs[0]["out"], w["results"][0], w["wall"])
        if tool == "scapy":
            try:
                d = json.load(open(invs[0]["out"]))
                m["call_s"], m["import_s"] = d["call_s"], d["import_s"]
            except (OSError, ValueError, KeyError):
                pass
        return m

    def run_worker(self, spec_path):
        argv = ["ip", "netns", "exec", PROBER_NS, sys.executable, os.path.abspath(__file__),
                "worker", spec_path]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        self.worker = p
        try:
            out, err = p.communicate(timeout=self.cfg.budget + 60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the worker's own session, by its id
            out, err = p.communicate()
        finally:
            self.worker = None
        if p.returncode != 0:
            log(f"worker failed ({p.returncode}): {err.strip()[-500:]}")
            return None
        return json.loads(out)

    def accuracy(self, tool, invs, tv4, tv6, m):
        try:
            if tool.startswith("routegraph"):
                traces, doc = parse_routegraph(invs[0]["out"])
                m["tool_stats"] = doc.get("stats")
                fam, tl = (6, tv6) if tool == "routegraph6" else (4, tv4)
                return score(self.truth, traces, tl, fam)
            if tool == "scapy":
                traces, _ = parse_scapy(invs[0]["out"])
            elif tool == "scamper":
                traces = parse_scamper(invs)
            elif tool.startswith("traceroute"):
                traces = parse_per_target(invs, "traceroute")
            elif tool.startswith("tcptraceroute"):
                traces = parse_per_target(invs, "tcptraceroute")
            else:
                traces = parse_per_target(invs, "mtr")
                return score(self.truth, traces, tv4, 4, state_known=False)
            return score(self.truth, traces, tv4, 4)
        except (OSError, ValueError, KeyError) as e:
            return {"error": f"could not parse the output: {e}"}

    def kill_worker(self):
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)


def icmp_ceiling(acc, throttled, wall):
    """The most router hops any tracer can measure in a run of `wall` seconds:
    a throttled router sends at most ICMP_BURST + ICMP_PER_S x wall
    time-exceeded answers towards the prober, so per router (an ECMP pair
    counts as one group with twice the budget, since the flow's hash picks
    the branch) min(hops needing it, its budget); unthrottled routers: all
    hops needing them. r6 never answers and needs no budget."""
    per = {}
    for grp, need in acc["router_needed"].items():
        rs = grp.split("+")
        cap = need if not all(r in throttled for r in rs) else \
            min(need, int(len(rs) * (ICMP_BURST + ICMP_PER_S * wall)))
        per[grp] = {"needed": need, "ceiling": cap,
                    "measured": acc["router_measured"].get(grp, 0)}
    return {"wall": wall, "per_router": per,
            "needed": sum(v["needed"] for v in per.values()),
            "ceiling": sum(v["ceiling"] for v in per.values()),
            "measured": sum(v["measured"] for v in per.values())}


def rg_breakdown(json_path, res, wall):
    """Where routegraph's wall time went, from its own JSON timestamps."""
    try:
        doc = json.load(open(json_path))
    except (OSError, ValueError):
        return None

    def ts(s):
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()

    sent, recv = [], []
    for t in doc["traces"]:
        for h in t["hops"]:
            for p in h["probes"]:
                if p.get("sent"):
                    sent.append(ts(p["sent"]))
                if p.get("reply") and p["reply"].get("received"):
                    recv.append(ts(p["reply"]["received"]))
    if not sent or not doc.get("start_time"):
        return None
    start, end, spawn = ts(doc["start_time"]), ts(doc["end_time"]), res["start_realtime"]
    fresh = sorted(ts(p["sent"]) for t in doc["traces"] for h in t["hops"]
                   for p in h["probes"] if p["attempt"] == 0 and p.get("sent"))
    return {
        "process": res["wall"],
        "startup": start - spawn,                # exec, sockets, privilege drop, targets
        "engine": end - start,
        "fresh_sent": fresh[-1] - start,         # the last first-attempt probe went out
        "last_probe": max(sent) - start,         # usually a retry
        "last_reply": (max(recv) - start) if recv else None,
        "tail": end - max(sent),                 # waiting for the last probe to be lost
        "output_exit": res["wall"] - (end - spawn),  # annotation, output, exit
    }


# ---------------------------------------------------------------------------
# Aggregation and report
# ---------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


ACC_KEYS = (("hops_right", "hops"), ("ports_right", "ports"), ("ecmp_one_branch", "ecmp"),
            ("traces_right", "traces"))


def summarize(runs):
    """Median figures over repeats; accuracy as the worst repeat."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return None
    s = {"n": len(ok), "timed_out": any(r["timed_out"] for r in ok),
         "wall": med([r["wall"] for r in ok]), "wall_min": min(r["wall"] for r in ok),
         "wall_max": max(r["wall"] for r in ok),
         "probes": med([r["probes"] for r in ok]), "received": med([r["received"] for r in ok]),
         "other_out": med([r["other_out"] for r in ok]),
         "rss_kb": max(r["rss_kb"] or 0 for r in ok),
         "foreign_syn": sum(r["foreign_syn"] for r in ok),
         "completed": min(r["completed"] for r in ok), "invocations": ok[0]["invocations"],
         "failed": sum(r.get("failed", 0) for r in ok),
         "disturbed": sorted({e for r in ok for e in r.get("disturbed", [])})}
    if any("call_s" in r for r in ok):
        s["call_s"] = med([r.get("call_s") for r in ok])
    accs = [r["accuracy"] for r in ok if "error" not in r["accuracy"]]
    if accs:
        s["acc"] = {k: min(accs, key=lambda a, k=k, b=b: a[k] / a[b] if a[b] else 1.0)
                    for k, b in ACC_KEYS}
        s["wrong"] = next((a["wrong"] for a in accs if a["wrong"]), [])
    else:
        s["acc_error"] = ok[0]["accuracy"].get("error")
    bds = [r["breakdown"] for r in ok if r.get("breakdown")]
    if bds:
        s["breakdown"] = {k: med([b[k] for b in bds]) for k in bds[0]}
    stats = [r.get("tool_stats") for r in ok if r.get("tool_stats")]
    if stats:
        s["tool_probes"] = med([x["probes_sent"] for x in stats])
        s["tool_stats"] = stats[0]
    # Exactness (issue 11): the worst run (most wrong, then fewest found) with
    # its own wall time, counts and ICMP ceiling, never mixed across runs.
    full = [r for r in ok if "error" not in r["accuracy"] and "icmp" in r]
    if full:
        a_of = lambda r: r["accuracy"]  # noqa: E731
        worst = max(full, key=lambda r: (a_of(r)["hops_wrong"] + a_of(r)["ports_wrong"],
                                         -(a_of(r)["found_measured"] + a_of(r)["found_inferred"])))
        s["exact"] = {"acc": worst["accuracy"], "icmp": worst["icmp"], "wall": worst["wall"],
                      "counters": worst.get("counters") or {},
                      "probes": worst["probes"], "received": worst["received"],
                      "timed_out": worst["timed_out"], "tool_stats": worst.get("tool_stats")}
    return s


def found_of(a):
    return a["found_measured"] + a["found_inferred"]


def exact_table(cfg, size, summary):
    """Per tool: port states and hops wrong, hops found, wall, probes, replies,
    and the router hops measured against the ICMP ceiling (issue 11)."""
    L = ["| tool | port states wrong | hops wrong | hops found (measured + inferred) / "
         "findable | wall s | probes | replies (ICMP) | answered | router hops measured / ICMP "
         "ceiling (needed) |",
         "|---|---|---|---|---|---|---|---|---|"]
    for tool in cfg.tools:
        s = summary.get((size, tool))
        if not s or "exact" not in s:
            continue
        e = s["exact"]
        a, ic = e["acc"], e["icmp"]
        ports = f"{a['ports_wrong']}" + (f" ({a['ports_unknown']} unknown)" if a["ports_unknown"]
                                         else "") if a["ports"] else "n/a"
        fd = found_of(a)
        wall = fmt_s(e["wall"]) + (" (budget hit)" if e["timed_out"] else "")
        ans = f"{100 * e['received'] / e['probes']:.0f}%" if e["probes"] else "—"
        icmp_in = e.get("counters", {}).get("icmp_in")
        rep = f"{e['received']:g}" + (f" ({icmp_in})" if icmp_in is not None else "")
        over = " (more than the routers can send: answers credited to several traces)" \
            if ic["measured"] > ic["ceiling"] else ""
        L.append(f"| {tool} | {ports} | {a['hops_wrong']} | {a['found_measured']} + "
                 f"{a['found_inferred']} / {a['findable']} = "
                 f"{100 * fd / a['findable']:.1f}% | {wall} | {e['probes']:g} | "
                 f"{rep} | {ans} | {ic['measured']} / {ic['ceiling']} "
                 f"({ic['needed']}){over} |")
    return "\n".join(L) + "\n"


def exact_goals(cfg, size, summary):
    """Issue 11's target, checked for routegraph and routegraph6 when every
    router is throttled: every port state right, no hop wrong, >= 90% of hops
    found (measured, or inferred and marked), wall < 0.5 x the most complete
    peer's (most hops found; of equals, the fastest)."""
    peers = [(found_of(summary[(size, t)]["exact"]["acc"]), -summary[(size, t)]["exact"]["wall"],
              t) for t in PEERS if (size, t) in summary and "exact" in summary[(size, t)]]
    out = []
    # The most complete peer by hops found, and (when that one has wrong
    # hops) the most complete of those with none: both comparisons are shown.
    best = []
    if peers:
        best.append((max(peers)[2], "most complete peer"))
        clean = [x for x in peers if summary[(size, x[2])]["exact"]["acc"]["hops_wrong"] == 0]
        if clean and max(clean)[2] != best[0][0]:
            best.append((max(clean)[2], "most complete peer with no hop wrong"))
    for tool in ("routegraph", "routegraph6"):
        s = summary.get((size, tool))
        if not s or "exact" not in s:
            continue
        e = s["exact"]
        a = e["acc"]
        out.append((f"{tool}: every port state right", f"{a['ports_wrong']} wrong",
                    a["ports_wrong"] == 0))
        out.append((f"{tool}: no hop wrong", f"{a['hops_wrong']} wrong", a["hops_wrong"] == 0))
        fd = found_of(a)
        out.append((f"{tool}: >= 90% of hops found", f"{fd}/{a['findable']} = "
                    f"{100 * fd / a['findable']:.1f}%", fd >= 0.9 * a["findable"]))
        for pt, what in best:
            pe = summary[(size, pt)]["exact"]
            note = " (peer hit the budget: its wall is a lower bound)" if pe["timed_out"] else ""
            out.append((f"{tool}: wall < 0.5 x {what} ({pt}: {found_of(pe['acc'])} hops found, "
                        f"{pe['acc']['hops_wrong']} wrong, {fmt_s(pe['wall'])} s{note})",
                        f"{fmt_s(e['wall'])} s = {e['wall'] / pe['wall']:.3f}x",
                        e["wall"] < 0.5 * pe["wall"]))
    if not out:
        return ""
    L = ["| goal | measured | met |", "|---|---|---|"]
    L += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in out]
    return "\n".join(L) + "\n"


def frac(a, key, base):
    if a is None:
        return "—"
    n, d = a[key][key], a[key][base]
    if d == 0:
        return "n/a"
    return f"{n}/{d}" if n != d else f"all {d}"


def fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def report(cfg, env, versions, floors, summary, missing, skipped, started, workdir, examples):
    L = []
    p = L.append
    p(f"Run {started} UTC, `{cfg.command}`")
    p("")
    p("Machine: " + "; ".join(f"{k}: {v}" for k, v in env.items()))
    p("")
    p("Settings: " + ", ".join([
        f"timeout {cfg.timeout:g} s", f"retries {cfg.retries}", f"rate {cfg.rate}/s",
        f"max TTL {cfg.max_ttl}", f"gap {cfg.gap}", f"{cfg.parallel} in parallel where stated",
        f"budget {cfg.budget} s per tool run", f"{cfg.repeat} repeats",
        f"throttled routers: {' '.join(cfg.throttled) or 'none'}",
        "routegraph: " + (f"its default options{' plus ' + cfg.rg_extra if cfg.rg_extra else ''}"
                          if cfg.rg_default else "the flags above")]))
    p("")
    p("Versions: " + "; ".join(f"{v}" for v in versions.values() if v))
    p("")
    for size in cfg.sizes:
        fl = floors[size]
        p(f"### {size} target{'s' if size > 1 else ''} x 2 ports ({2 * size} traces)")
        p("")
        p(f"Floor: {fl['probes']} probes; wall {fl['wall']:.3f} s = max({fl['probes']} probes / "
          f"{cfg.rate}/s = {fl['rate_bound']:.3f} s, (1 + {cfg.retries} retries) x "
          f"{cfg.timeout:g} s timeout = {fl['timeout_chain']:.3f} s). With routegraph's "
          f"shortest give-up wait ({RG_GIVE_UP_MIN:g} s) instead of the timeout: "
          f"{fl['wall_adaptive']:.3f} s.")
        p("")
        p("| tool | wall s (median) | min–max | x floor | probes | x floor | other out | "
          "received | peak RSS MB | hops right | port states right | ECMP one branch | "
          "traces right |")
        p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for tool in cfg.tools:
            s = summary.get((size, tool))
            if s is None:
                why = skipped.get((size, tool)) or missing.get(tool, "not run")
                p(f"| {tool} | {why} | | | | | | | | | | | |")
                continue
            wall = fmt_s(s["wall"])
            if s["timed_out"]:
                wall = f"> {cfg.budget} (budget; {s['completed']}/{s['invocations']} done)"
            if "call_s" in s:
                wall += f" (call {fmt_s(s['call_s'])})"
            acc = s.get("acc")
            ecmp = frac(acc, "ecmp_one_branch", "ecmp")
            if acc and acc["ecmp_one_branch"].get("ecmp_undetermined"):
                ecmp += f" ({acc['ecmp_one_branch']['ecmp_undetermined']} undetermined)"
            ports = frac(acc, "ports_right", "ports") if acc and acc["ports_right"]["ports"] \
                else ("n/a" if acc else "—")
            p(f"| {tool} | {wall} | {fmt_s(s['wall_min'])}–{fmt_s(s['wall_max'])} | "
              f"{s['wall'] / fl['wall']:.2f} | {s['probes']:g} | {s['probes'] / fl['probes']:.2f} | "
              f"{s['other_out']:g} | {s['received']:g} | {s['rss_kb'] / 1024:.1f} | "
              f"{frac(acc, 'hops_right', 'hops')} | {ports} | "
              f"{ecmp} | {frac(acc, 'traces_right', 'traces')} |")
        p("")
        p("Exactness (the worst run of each tool; hops found: of the hops the ground truth has "
          "an answerer for; ICMP ceiling: per router min(hops needing it, "
          f"{ICMP_BURST} + {ICMP_PER_S:g}/s x the run's wall) when throttled):")
        p("")
        p(exact_table(cfg, size, summary))
        if cfg.throttled and set(cfg.throttled) == set(ROUTERS):
            g11 = exact_goals(cfg, size, summary)
            if g11:
                p("Issue 11's target (every router at Linux's default ICMP limit):")
                p("")
                p(g11)
        for tool in cfg.tools:
            s = summary.get((size, tool))
            g = s and s.get("exact") and s["exact"]["acc"].get("ecmp_guessed")
            if g:
                p(f"{tool}: {g} ECMP trace(s) with the branch only inferred, no hop of it "
                  "measured (counted as found: every branch is consistent with the trace)")
                p("")
        for tool in cfg.tools:
            s = summary.get((size, tool))
            if s and s.get("exact") and s["exact"]["acc"]["wrong_hops"]:
                p(f"{tool}: first wrong hops: `{json.dumps(s['exact']['acc']['wrong_hops'])[:1500]}`")
                p("")
        for tool in cfg.tools:
            s = summary.get((size, tool))
            st = s and s.get("exact") and s["exact"].get("tool_stats")
            if st:
                p(f"{tool}'s own counts (worst run): " + ", ".join(
                    f"{k} {v}" for k, v in st.items()))
                p("")
        peers = [(summary[(size, t)]["wall"], t) for t in PEERS
                 if (size, t) in summary and not summary[(size, t)]["timed_out"]]
        rg = summary.get((size, "routegraph"))
        if rg and peers:
            fw, ft = min(peers)
            p(f"routegraph / fastest peer ({ft}, {fmt_s(fw)} s): {rg['wall'] / fw:.3f} "
              f"(peer is {fw / rg['wall']:.1f}x slower)")
            p("")
        if rg and rg.get("breakdown"):
            b = rg["breakdown"]
            p("routegraph wall-time breakdown (median, s): " + ", ".join(
                f"{k} {fmt_s(v)}" for k, v in b.items() if v is not None))
            p("")
        if rg and "tool_probes" in rg:
            p(f"routegraph's own count of probes sent: {rg['tool_probes']:g} "
              f"(nft in r1: {rg['probes']:g})")
            p("")
        dist = [(t, summary[(size, t)]["disturbed"]) for t in cfg.tools
                if (size, t) in summary and summary[(size, t)]["disturbed"]]
        for t, d in dist:
            p(f"{t}: ICMP rate limits changed by someone else during a run even after "
              f"re-running: {'; '.join(d)}")
            p("")
        contaminated = [t for t in cfg.tools if (size, t) in summary
                        and summary[(size, t)]["foreign_syn"]]
        if contaminated:
            p("Other traffic in the lab during: " + ", ".join(
                f"{t} ({summary[(size, t)]['foreign_syn']} foreign SYNs)" for t in contaminated)
              + " (not counted in the figures, but it shares the CPU)")
            p("")
        wrong = [(t, summary[(size, t)]["wrong"]) for t in TOOLS
                 if t.startswith("routegraph") and (size, t) in summary and summary[(size, t)].get("wrong")]
        for t, w in wrong:
            p(f"{t}: first traces not right: `{json.dumps(w)[:1500]}`")
            p("")
    p("Commands (the first invocation of each tool's last run; per-target tools run one "
      "such command per target and port):")
    p("")
    for tool in cfg.tools:
        ex = examples.get(tool)
        if ex:
            p(f"- {tool}: {TOOLS[tool][1]}: `{ex}`")
    p("")
    p(f"Raw outputs and results.json: {workdir}")
    return "\n".join(L) + "\n"


def goals(cfg, floors, summary):
    """The issue's targets for routegraph, checked against this run."""
    out = []

    def acc_perfect(s):
        a = s.get("acc")
        return a and all(a[k][k] == a[k][b] for k, b in (
            ("hops_right", "hops"), ("ports_right", "ports"), ("ecmp_one_branch", "ecmp")))

    s = summary.get((64, "routegraph"))
    if s:
        peers = [(summary[(64, t)]["wall"], t) for t in PEERS
                 if (64, t) in summary and not summary[(64, t)]["timed_out"]]
        if peers:
            fw, ft = min(peers)
            out.append((f"64x2: wall < 0.5 x fastest peer ({ft} {fw:.3f} s)",
                        f"{s['wall']:.3f} s = {s['wall'] / fw:.3f}x", s["wall"] < 0.5 * fw))
        out.append(("64x2: probes <= 1.05 x floor",
                    f"{s['probes']:g} / {floors[64]['probes']} = "
                    f"{s['probes'] / floors[64]['probes']:.3f}",
                    s["probes"] <= 1.05 * floors[64]["probes"]))
        out.append(("64x2: every hop and port state right, every ECMP trace on one branch",
                    "yes" if acc_perfect(s) else "no", bool(acc_perfect(s))))
    s = summary.get((1024, "routegraph"))
    if s:
        out.append((f"1024x2: wall < 10 s at --rate {cfg.rate}", f"{s['wall']:.3f} s",
                    s["wall"] < 10))
        out.append(("1024x2: probes <= 1.1 x floor",
                    f"{s['probes']:g} / {floors[1024]['probes']} = "
                    f"{s['probes'] / floors[1024]['probes']:.3f}",
                    s["probes"] <= 1.1 * floors[1024]["probes"]))
        out.append(("1024x2: peak RSS < 64 MB", f"{s['rss_kb'] / 1024:.1f} MB",
                    s["rss_kb"] < 64 * 1024))
        out.append(("1024x2: every hop and port state right, every ECMP trace on one branch",
                    "yes" if acc_perfect(s) else "no", bool(acc_perfect(s))))
    if not out:
        return ""
    L = ["| goal | measured | met |", "|---|---|---|"]
    L += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in out]
    return "\n".join(L) + "\n"


def rate_goal(cfg, summary):
    """Issue 11: with default options, within 2x of the --rate RATE wall time."""
    out = []
    for size in cfg.sizes:
        a, b = summary.get((size, "routegraph")), summary.get((size, "routegraph-rate"))
        if a and b:
            out.append((f"{size}x2: default options within 2x of --rate {cfg.rate} "
                        f"({fmt_s(b['wall'])} s)", f"{fmt_s(a['wall'])} s = "
                        f"{a['wall'] / b['wall']:.2f}x", a["wall"] <= 2 * b["wall"]))
    if not out:
        return ""
    L = ["| goal | measured | met |", "|---|---|---|"]
    L += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in out]
    return "\n".join(L) + "\n"


def machine():
    def first(argv):
        try:
            return sh(argv, check=False).stdout.strip()
        except OSError:
            return "?"
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = first(["free", "-h"]).splitlines()
    osr = "?"
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osr = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"nproc": first(["nproc"]), "CPU": cpu,
            "memory": mem[1].split()[1] if len(mem) > 1 else "?",
            "kernel": platform.release(), "OS": osr}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench/run.py", description="routegraph speed benchmark against peer tracers, "
        "in the lab (needs root and lab/lab).")
    ap.add_argument("--sizes", default="1,64,1024", help="target counts (default 1,64,1024)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and size (default 3)")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma list from {','.join(TOOLS)} (default all)")
    ap.add_argument("--routegraph", help="routegraph binary (default: build/routegraph, "
                    "then routegraph on PATH)")
    ap.add_argument("--rate", type=int, default=20000,
                    help="routegraph --rate, scamper -p (capped at 10000); default 20000")
    ap.add_argument("--timeout", type=float, default=1.0,
                    help="per-probe timeout for every tool, seconds (default 1)")
    ap.add_argument("--retries", type=int, default=1,
                    help="retries for silent hops where a tool has them (default 1)")
    ap.add_argument("--max-ttl", type=int, default=30)
    ap.add_argument("--gap", type=int, default=5,
                    help="scamper -g (routegraph's --gap default is also 5)")
    ap.add_argument("--parallel", type=int, default=16,
                    help="concurrent runs for the per-target tools (default 16)")
    ap.add_argument("--budget", type=int, default=300,
                    help="hard limit in seconds for one tool run; a tool that hits it is not "
                    "run again at that size or larger ones (default 300)")
    ap.add_argument("--call-timeout", type=int, default=120,
                    help="hard limit for one per-target invocation (default 120)")
    ap.add_argument("--throttle", nargs="?", const="r4", metavar="ROUTER",
                    help="switch ROUTER (default r4; a comma list; 'all' = every router) to "
                    "Linux's default ICMP rate limit for the whole run; restored afterwards")
    ap.add_argument("--delays", action="store_true",
                    help="measure in the lab with link delays (lab/lab up --delays on: RTTs up "
                    "to 40 ms); the plain lab is brought back afterwards")
    ap.add_argument("--rg-default", action="store_true",
                    help="run routegraph with its default options (no --rate, -w, -r); the "
                    "peers still get --rate/--timeout/--retries")
    ap.add_argument("--rg-extra", default="",
                    help="extra routegraph options, appended to its command line "
                    "(e.g. '--rate 20000' with --rg-default)")
    ap.add_argument("--workdir", help="where raw outputs go (default /tmp/routegraph-bench-TIME)")
    ap.add_argument("--report", help="also write the markdown report to this file")
    ap.add_argument("--resume", action="store_true",
                    help="keep the measurements already in WORKDIR/runs.json (from an "
                    "interrupted run with the same settings) and run only the missing ones")
    cfg = ap.parse_args(argv)
    cfg.command = shlex.join(["bench/run.py", *argv])
    try:
        cfg.sizes = [int(x) for x in cfg.sizes.split(",") if x]
    except ValueError:
        ap.error("--sizes: comma list of numbers")
    if not cfg.sizes or any(s < 1 or s > 3 * (1024 - HOST_BASE) for s in cfg.sizes):
        ap.error(f"--sizes: each 1..{3 * (1024 - HOST_BASE)}")
    cfg.tools = [t for t in cfg.tools.split(",") if t]
    bad = [t for t in cfg.tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown tools: {','.join(bad)} (known: {','.join(TOOLS)})")
    if cfg.repeat < 1 or cfg.repeat > 20:
        ap.error("--repeat: 1..20")
    cfg.throttled = []
    if cfg.throttle:
        cfg.throttled = list(ROUTERS) if cfg.throttle == "all" else \
            [r for r in cfg.throttle.split(",") if r]
        if not cfg.throttled or any(r not in ROUTERS for r in cfg.throttled):
            ap.error(f"--throttle: 'all' or router names from {','.join(ROUTERS)}")
    if cfg.resume and not cfg.workdir:
        ap.error("--resume needs --workdir")
    if not cfg.routegraph:
        cand = os.path.join(ROOT, "build", "routegraph")
        cfg.routegraph = cand if os.access(cand, os.X_OK) else shutil.which("routegraph")
    if cfg.routegraph:
        cfg.routegraph = os.path.abspath(cfg.routegraph)
    return cfg


def main(argv):
    if argv[:1] == ["worker"] and len(argv) == 2:
        return worker_main(argv[1])
    if argv[:1] == ["scapy-trace"] and len(argv) == 3:
        return scapy_main(argv[1], argv[2])
    cfg = parse_args(argv)
    if os.geteuid() != 0:
        die("needs root (network namespaces, nft): sudo bench/run.py ...")
    for exe, pkg in ((GNU_TIME, "time"), ("/usr/sbin/nft", "nftables")):
        if not os.path.exists(exe):
            die(f"missing {exe}: apt-get install {pkg}")
    tools, missing = check_tools(cfg.tools, cfg.routegraph)
    for t, how in missing.items():
        log(f"skipping {t}: {how}")
    if not tools:
        die("no tool to run")
    truth = Truth(json.load(open(TOPO_PATH)))
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    workdir = cfg.workdir or tempfile.mkdtemp(prefix="routegraph-bench-")
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o755)  # routegraph drops to the sudo user and must read targets.txt
    runner = Runner(cfg, truth, workdir)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    throttle_off()  # an interrupted earlier run may have left one
    if cfg.delays:
        LAB_MODE.update(want="icmp-limits=off delays=on", up=["--delays", "on"])
    ensure_lab()
    versions = tool_versions(cfg.routegraph)  # before the tree moves on during a long run
    runs, skipped, floors = {}, {}, {}
    blown = {}
    saved = os.path.join(workdir, "runs.json")
    if cfg.resume and os.path.exists(saved):
        for key, v in json.load(open(saved)).items():
            size, tool = key.split("/")
            runs[(int(size), tool)] = v
            if any(m.get("timed_out") for m in v):
                blown[tool] = min(blown.get(tool, int(size)), int(size))
        log(f"resuming: {sum(len(v) for v in runs.values())} measurements from {saved}")
    try:
        counters_install()
        if cfg.throttled:
            throttle_on(cfg.throttled)
        for size in cfg.sizes:
            tv4, tv6 = truth.targets(size, 4), truth.targets(size, 6)
            floors[size] = floor_for(truth, tv4, cfg.retries, cfg.timeout, cfg.rate)
            counters_set_targets(tv4, tv6)
            for rep in range(cfg.repeat):
                order = tools[rep % len(tools):] + tools[:rep % len(tools)]
                for tool in order:
                    if len(runs.get((size, tool), [])) > rep:
                        continue  # measured before the resume
                    if tool in blown and blown[tool] <= size:
                        skipped[(size, tool)] = (f"not run: hit the {cfg.budget} s budget at "
                                                 f"{blown[tool]} targets")
                        continue
                    log(f"size {size} run {rep + 1}/{cfg.repeat}: {tool}")
                    m = runner.measure(tool, size, rep, tv4, tv6)
                    runs.setdefault((size, tool), []).append(m)
                    with open(saved + ".tmp", "w") as f:
                        json.dump({f"{s}/{t}": v for (s, t), v in runs.items()}, f)
                    os.replace(saved + ".tmp", saved)
                    if "error" in m:
                        log(f"  {tool}: {m['error']}")
                        continue
                    a = m["accuracy"]
                    log(f"  {tool}: {m['wall']:.3f} s, {m['probes']} probes, "
                        f"{m['received']} received, {m['rss_kb'] / 1024:.1f} MB"
                        + (f", hops {a['hops_right']}/{a['hops']}, ports "
                           f"{a['ports_right']}/{a['ports']}, ecmp "
                           f"{a['ecmp_one_branch']}/{a['ecmp']}" if "error" not in a else
                           f", {a['error']}")
                        + (" TIMED OUT" if m["timed_out"] else ""))
                    if m["timed_out"]:
                        blown[tool] = min(blown.get(tool, size), size)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        runner.kill_worker()
        raise
    finally:
        throttle_off()
        counters_remove()
        if cfg.delays:
            log("lab/lab up: the plain lab again")
            sh([LAB, "up"], check=False, timeout=180)
    summary = {k: s for k, v in runs.items() if (s := summarize(v))}
    env = machine()
    examples = {t: m["example"] for (_s, t), v in runs.items() for m in v if "example" in m}
    text = report(cfg, env, versions, floors, summary, missing, skipped,
                  started, workdir, examples)
    g = "" if cfg.throttled or cfg.rg_default or cfg.delays else goals(cfg, floors, summary)
    if cfg.throttled:
        text += (f"\nThrottled run ({' '.join(cfg.throttled)} at Linux's default ICMP rate "
                 "limit): the speed issue's goals do not apply.\n")
    elif cfg.rg_default:
        text += ("\nroutegraph ran with its default options: the speed issue's goals (set "
                 f"for --rate {cfg.rate} -w {cfg.timeout:g} -r {cfg.retries}) are not checked.\n")
        g = rate_goal(cfg, summary)
    if g:
        text += "\nGoals (routegraph):\n\n" + g
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump({"settings": {k: v for k, v in vars(cfg).items()}, "machine": env,
                   "floors": floors, "missing": missing,
                   "runs": {f"{s}/{t}": v for (s, t), v in runs.items()},
                   "summary": {f"{s}/{t}": v for (s, t), v in summary.items()}}, f, indent=1)
    with open(os.path.join(workdir, "report.md"), "w") as f:
        f.write(text)
    if cfg.report:
        with open(cfg.report, "w") as f:
            f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
