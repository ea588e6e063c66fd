"""Probe methods (-P udp, -P icmp) in the lab, both families: every hop
against lab/topology.json's branches (one branch per trace: a trace's flow
stays on one path), the destination reached at its distance with the
method's own answer, the method recorded in the JSON. The binary is
run.py's BIN, read at test time."""
import json
import sys

from harness import PROBER, TOPO, net_of, run, target, test

_cache = {}


def rg_json(*args):
    main = sys.modules["__main__"]
    r = run(["ip", "netns", "exec", PROBER["netns"], *main.WRAP, main.BIN, "-q",
             "--format", "json", *args], timeout=90 * (10 if main.WRAP else 1),
            env={"ROUTEGRAPH_LAB_ONLY": "1"})
    assert r.rc == 0, r
    assert r.err == "", r
    return json.loads(r.out)


def targets():
    """Two addresses in each target network, both families."""
    return [target(n, f, h) for f in (4, 6) for n in ("h1", "h2", "h3") for h in (7, 8)]


def doc(method):
    if method not in _cache:
        ports = [] if method == "icmp" else ["-p", "80,443"]
        _cache[method] = rg_json("-P", method, *ports, *targets())
    return _cache[method]


def hop_list(trace, upto):
    by_ttl = {h["ttl"]: h["responder"] or h.get("inferred_responder") for h in trace["hops"]}
    return [by_ttl.get(ttl) for ttl in range(1, upto + 1)]


def last_kinds(trace):
    last = next(h for h in trace["hops"] if h["ttl"] == trace["reached_ttl"])
    return last, [p["reply"]["kind"] for p in last["probes"] if p["reply"]]


def host_addresses(t):
    """The addresses the target's host answers from: the one probed, and its
    interface's (IPv6 errors for an address of a prefix routed to the host
    come from there)."""
    net = net_of(t["address"])
    host = next(h for h in TOPO["hosts"] if h["name"] == net["host"])
    return [t["address"], *host["addresses"][str(t["family"])]]


def check_hops(t):
    net = net_of(t["address"])
    branches = net["branches"][str(t["family"])]
    got = hop_list(t, net["distance"] - 1)
    assert got in branches, f"{t['address']}:{t['port']} hops {got} not in {branches}"


@test
def test_udp_hops_and_closed_ports():
    d = doc("udp")
    assert d["options"]["protocol"] == "udp", d["options"]
    assert len(d["traces"]) == 24, len(d["traces"])
    for t in d["traces"]:
        net = net_of(t["address"])
        assert t["protocol"] == "udp" and t["port"] in (80, 443), t
        check_hops(t)
        # Nothing listens on UDP there: the destination's port unreachable.
        assert t["state"] == "closed", (t["address"], t["port"], t["state"])
        assert t["reached"] is True and t["reached_ttl"] == net["distance"], t
        last, kinds = last_kinds(t)
        assert kinds and kinds[0] == "port-unreachable", last
        assert last["responder"] in host_addresses(t), (last, host_addresses(t))
        assert t["stopped_by"] == "destination", t["stopped_by"]


@test
def test_icmp_hops_and_echo_replies():
    d = doc("icmp")
    assert d["options"]["protocol"] == "icmp", d["options"]
    # No port: one trace per address.
    assert len(d["traces"]) == 12, len(d["traces"])
    assert len({t["address"] for t in d["traces"]}) == 12
    for t in d["traces"]:
        net = net_of(t["address"])
        assert t["protocol"] == "icmp" and t["port"] is None, t
        check_hops(t)
        assert t["state"] == "open", (t["address"], t["state"])
        assert t["reached"] is True and t["reached_ttl"] == net["distance"], t
        last, kinds = last_kinds(t)
        assert kinds and kinds[0] == "echo-reply", last
        assert last["responder"] == t["address"], last


@test
def test_methods_match_every_reply():
    """Every reply read names its probe: nothing unmatched, nothing
    malformed, and one probe per answered hop (none wasted)."""
    for method in ("udp", "icmp"):
        d = doc(method)
        s = d["stats"]
        assert s["unmatched"] == 0 and s["malformed"] == 0, (method, s)
        for t in d["traces"]:
            for h in t["hops"]:
                if any(p["reply"] for p in h["probes"]):
                    assert len(h["probes"]) == 1, (method, t["address"], h)
            assert max(h["ttl"] for h in t["hops"]) == net_of(t["address"])["distance"], \
                (method, t["address"], t["port"])


@test
def test_udp_open_port_echo():
    """The lab's targets echo UDP on their open UDP port (lab/listen.c -u):
    the answer carries the probe's secret back, so the port is open."""
    d = rg_json("-P", "udp", "-p", ",".join(_udp_open_ports()), *targets())
    assert len(d["traces"]) == 12, len(d["traces"])
    for t in d["traces"]:
        net = net_of(t["address"])
        assert net["udp_ports"][str(t["port"])] == "open"
        check_hops(t)
        assert t["state"] == "open", (t["address"], t["port"], t["state"])
        assert t["reached"] is True and t["reached_ttl"] == net["distance"], t
        last, kinds = last_kinds(t)
        assert kinds and kinds[0] == "udp", last
        assert last["responder"] == t["address"], last
    assert d["stats"]["unmatched"] == 0 and d["stats"]["malformed"] == 0, d["stats"]


def _udp_open_ports():
    return sorted({p for t in TOPO["targets"] for p, s in t.get("udp_ports", {}).items()
                   if s == "open"})
