"""ICMP echo through load balancers that spread it (lab/topology.json's
hic: a 3-way diamond ic0 -> ic1a-c -> ic2, then a 2-way one ic2 -> ic3a/b
-> ic4, whose entry routers hash the addresses and the transport header's
first four bytes, an echo request's type, code and checksum among them):
-P icmp --multipath finds every branch in both families and invents none,
with no port probe (the trace's own echo reply says what it would); an
ordinary -P icmp trace keeps its checksum, so each stays on one branch.
The binary is run.py's BIN."""
from harness import NETS, PROBER, run, target, test
from test_multipath import check, complete, rg_json

NET = "hic"


def counters(router):
    """{next hop: packets} of a flow-hashing router's nft counters."""
    r = run(["ip", "netns", "exec", f"rg-{router}", "nft", "list", "counters", "table",
             "inet", "rg_lab"])
    assert r.rc == 0, r
    out, name = {}, None
    for line in r.out.splitlines():
        w = line.split()
        if w[:1] == ["counter"]:
            name = w[1]
        elif w[:1] == ["packets"] and name and name.startswith("flow_to_"):
            out[name[len("flow_to_"):]] = int(w[1])
    return out


def icmp_multipath(fam, conf, host):
    doc = rg_json(f"--multipath={conf}", "-P", "icmp", target(NET, fam, host))
    (t,) = doc["traces"]
    assert t["protocol"] == "icmp" and t["state"] == "open" and t["reached"] is True, t
    assert t["reached_ttl"] == NETS[NET]["distance"], t["reached_ttl"]
    s = doc["stats"]
    assert s["unmatched"] == 0 and s["malformed"] == 0, s
    # The port probe goes only when the hops fall short: here they do not.
    assert s["port_probes_sent"] == 0 and t["port_probes"] is None, (s, t["port_probes"])
    # The hops' probes (one per TTL up to the destination, and any retry),
    # then MDA's: nothing else.
    hop_probes = sum(len(h["probes"]) for h in t["hops"])
    assert hop_probes >= NETS[NET]["distance"], hop_probes
    assert s["probes_sent"] == hop_probes + t["multipath"]["probes"], \
        (s["probes_sent"], hop_probes, t["multipath"]["probes"])
    return t


@test
def test_multipath_icmp_spread_every_branch_both_families():
    """Both confidences, both families: 1, 1, 1, 3, 3, 2, 2 responders and
    the echo reply through both of ic4's links, each flow on one branch per
    TTL, every edge one the routes allow."""
    before = {r: counters(r) for r in ("ic0", "ic2")}
    for fam in (4, 6):
        for conf in (95, 99):
            def one(i):
                t = icmp_multipath(fam, conf, 9 + 16 * i + (conf - 95))
                return check(t, NET, fam, conf, method="icmp")
            complete(one)
    # The load balancers' own count: every next hop took echo requests.
    for r, was in before.items():
        now = counters(r)
        assert sorted(now) == sorted(was) and all(now[h] > was[h] for h in now), (r, was, now)


@test
def test_icmp_trace_stays_on_one_branch():
    """Ordinary -P icmp traces (no --multipath): every probe of a trace has
    the same checksum, so its hops are exactly one of the 6 branches (a
    checksum that changed per TTL would pair hop 4 of one branch with hop 5
    of another two times in three); over 12 addresses per family, more than
    one branch in all. The port probe goes first here, as for every
    method without --multipath."""
    for fam in (4, 6):
        branches = NETS[NET]["branches"][str(fam)]
        doc = rg_json("-P", "icmp", *[target(NET, fam, h) for h in range(40, 52)])
        seen = set()
        for t in doc["traces"]:
            hops = {h["ttl"]: h["responder"] for h in t["hops"]}
            got = [hops.get(ttl) for ttl in range(1, NETS[NET]["distance"])]
            assert got in branches, (t["address"], got)
            assert t["reached_ttl"] == NETS[NET]["distance"] and t["state"] == "open", t
            seen.add(branches.index(got))
        assert all(t["port_probes"] for t in doc["traces"]), "a trace without its port probe"
        assert len(seen) > 1, f"IPv{fam}: every trace on branch {seen}"


@test
def test_multipath_flow_hash_tcp_and_udp():
    """The same load balancers spread TCP and UDP by their ports: every
    branch with those flows too (the lab's hash is one for every protocol)."""
    for fam in (4, 6):
        for method, port, host in (("tcp", "80", 70), ("udp", "33434", 80)):
            def one(i):
                doc = rg_json("--multipath", "-P", method, "-p", port,
                              target(NET, fam, host + 16 * i))
                (t,) = doc["traces"]
                assert doc["stats"]["unmatched"] == 0, doc["stats"]
                return check(t, NET, fam, 95, method=method)
            complete(one)
