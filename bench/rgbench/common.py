"""What every part of the benchmark shares: paths, the lab's names (read
from lab/topology.json, the lab's one description), the peer tools, and
small helpers (logging, running a command)."""
import ipaddress
import json
import os
import shlex
import subprocess
import sys

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH_DIR)
RUN_PY = os.path.join(BENCH_DIR, "run.py")  # the entry the worker and scapy run again
LAB = os.path.join(ROOT, "lab", "lab")
TOPO_PATH = os.path.join(ROOT, "lab", "topology.json")
with open(TOPO_PATH, encoding="utf-8") as _f:
    TOPO = json.load(_f)
PROBER_NS = TOPO["prober"]["netns"]
# Probes are counted where they enter the prober's gateway router, on its
# interface towards the prober.
_L0 = next(l for l in TOPO["links"] if TOPO["prober"]["name"] in l["ends"])
GATEWAY = next(e for e in _L0["ends"] if e != TOPO["prober"]["name"])
ROUTER_NS = {r["name"]: r["netns"] for r in TOPO["routers"]}
COUNT_NS = ROUTER_NS[GATEWAY]
COUNT_IF = f"to-{TOPO['prober']['name']}"
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
ROUTERS = tuple(ROUTER_NS)
# Linux's default ICMP rate limit (lab/lab impair ratelimit): a token bucket per
# destination (here: the prober) of 6 tokens, one token back per
# icmp_ratelimit = 1000 ms. IPv6 (net.ipv6.icmp.ratelimit=1000) is the same on
# kernel 6.18: the old "more bandwidth to wider prefixes" scaling of the
# interval is gone (upstream 0201eedb69b2, in 6.18-stable).
ICMP_BURST = TOPO["conditions"]["icmp_limits"]["measured"]["burst"]
ICMP_PER_S = 1000.0 / int(TOPO["impairments"]["ratelimit"]["sysctls"]["net.ipv4.icmp_ratelimit"])
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
