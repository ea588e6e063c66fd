"""The internet's conditions in the lab: links with real delay (lab/lab up
--delays on) and the kernel's own ICMP rate limits (--icmp-limits default).

run.py imports this module after test_hostile, so its @test functions run
last: each brings the lab up in another mode, and always back to the plain
lab (lab/lab up) when it ends, pass or fail. Expectations come from
topology.json's "conditions". Target addresses: host numbers 300-399 of each
target network (run.py uses lower ones, test_hostile 200-299, the benchmark
512 and up)."""
import json
import sys

from harness import NETS, PROBER, TOPO, lab, net_of, run, target, test

COND = TOPO["conditions"]
PLAIN = "up icmp-limits=off delays=off\n"


def rg_json(*args):
    main = sys.modules["__main__"]
    wrap = main.WRAP  # run.py's --wrap (valgrind)
    r = run(["ip", "netns", "exec", PROBER["netns"], *wrap, main.BIN, "-q", "-n", "--asn-source",
             "none", "--format", "json", *args],
            timeout=90 * (10 if wrap else 1), env={"ROUTEGRAPH_LAB_ONLY": "1"})
    assert r.rc == 0 and r.err == "", r
    return json.loads(r.out)


def wrapped():
    return bool(sys.modules["__main__"].WRAP)


class lab_mode:
    """lab/lab up with OPTIONS for the duration of a with block; the plain lab
    again afterwards."""

    def __init__(self, *options, status):
        self.options, self.status = options, status

    def __enter__(self):
        r = lab("up", *self.options, timeout=300)
        assert r.rc == 0, r
        st = lab("status")
        assert st.out == self.status, st
        return self

    def __exit__(self, *exc):
        r = lab("up", timeout=300)
        assert r.rc == 0, r
        assert lab("status").out == PLAIN, "the plain lab is not back"


def answered(t):
    """(ttl, rtt_us) of every answered probe of a trace."""
    return [(h["ttl"], p["reply"]["rtt_us"]) for h in t["hops"] for p in h["probes"] if p["reply"]]


@test
def test_internet_delays_rtt_per_target_network():
    rtt = COND["delays"]["rtt_us"]
    addrs = [target(n, f, h) for f in (4, 6) for n in ("h1", "h2", "h3") for h in range(300, 306)]
    with lab_mode("--delays", "on", status="up icmp-limits=off delays=on\n"):
        doc = rg_json("-p", "80", *addrs)
    # Never early: a relay sends a frame no sooner than its delay. Not much
    # later either: the fastest of the traces through a hop shows the
    # delays, not the scheduling of a busy machine.
    early = 300
    late = 20000 if wrapped() else 3000
    best = {}
    for t in doc["traces"]:
        net = net_of(t["address"])
        want = rtt[net["name"]]["hops"] + [rtt[net["name"]]["destination"]]
        assert t["reached"] and t["reached_ttl"] == net["distance"], t
        for ttl, us in answered(t):
            assert us >= want[ttl - 1] - early, (t["address"], ttl, us, want[ttl - 1])
            key = (net["name"], t["family"], ttl)
            best[key] = min(best.get(key, us), us)
    for (name, fam, ttl), us in sorted(best.items()):
        want = (rtt[name]["hops"] + [rtt[name]["destination"]])[ttl - 1]
        assert us <= want + late + want // 10, (name, fam, ttl, us, want)
    # Every answering hop of every network traced in both families was seen,
    # and the farthest network is about 40 ms away.
    for name, net in ((n, NETS[n]) for n in ("h1", "h2", "h3")):
        for fam in (4, 6):
            hops = [i + 1 for i, x in enumerate(net["branches"][str(fam)][0]) if x is not None]
            assert all((name, fam, ttl) in best for ttl in hops + [net["distance"]]), (name, fam)
    assert max(r["destination"] for r in rtt.values()) >= 40000


# A burst straight from the prober's sockets, not through routegraph, whose
# scheduler may itself pace probes to a router that limits its answers:
# this checks the lab. UDP with TTL 1 to distinct ports of one h1 address,
# all expiring at r1; the time-exceeded quoting them are counted for 1 s.
BURST = r"""
import socket, struct, sys, time
fam, dst, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
af = socket.AF_INET if fam == 4 else socket.AF_INET6
rx = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_ICMP if fam == 4 else socket.IPPROTO_ICMPV6)
tx = socket.socket(af, socket.SOCK_DGRAM)
if fam == 4:
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
else:
    tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
tx.bind(("", 0))
sport = tx.getsockname()[1]
start = time.monotonic()
for i in range(n):
    tx.sendto(b"rg", (dst, 33434 + i))
span = time.monotonic() - start
got = set()
rx.settimeout(0.1)
while time.monotonic() < start + 1:
    try:
        pkt = rx.recv(2048)
    except socket.timeout:
        continue
    icmp = pkt[(pkt[0] & 15) * 4:] if fam == 4 else pkt
    if icmp[0] != (11 if fam == 4 else 3):
        continue
    quote = icmp[8:]
    udp = quote[(quote[0] & 15) * 4:] if fam == 4 else quote[40:]
    sp, dp = struct.unpack("!HH", udp[:4])
    if sp == sport and 33434 <= dp < 33434 + n:
        got.add(dp)
print(len(got), span)
"""


def hop1_burst(n=40):
    """n probes per family, all at TTL 1 (r1), as fast as a socket sends:
    returns {family: (answers, seconds the sends took)}."""
    out = {}
    for fam in (4, 6):
        r = run(["ip", "netns", "exec", PROBER["netns"], "python3", "-c", BURST, str(fam),
                 target("h1", fam, 350), str(n)], timeout=30)
        assert r.rc == 0, r
        got, span = r.out.split()
        out[fam] = (int(got), float(span))
    return out


@test
def test_internet_icmp_limits_default_caps_a_burst():
    m = COND["icmp_limits"]["measured"]
    with lab_mode("--icmp-limits", "default", status="up icmp-limits=default delays=off\n"):
        limited = hop1_burst()
        st = lab("impair", "status")
        assert st.out == "none\n", st  # the kernel's limits are the mode, not an impairment
    # The same burst with the limits off: every probe answered, so what was
    # missing above is the limit's doing.
    plain = hop1_burst()
    for fam in (4, 6):
        n, span = limited[fam]
        # A burst, then per_second more for as long as the sends took.
        cap = m["burst"] + int(span * m["per_second"][str(fam)])
        assert 1 <= n <= cap, (fam, n, cap, span)
        assert plain[fam][0] == 40, (fam, plain[fam])
