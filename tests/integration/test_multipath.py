"""Multipath discovery (--multipath, MDA) in the lab: every branch of every
diamond the lab builds is found, none is invented, each flow took exactly
one branch per TTL, and every TTL met the stopping rule (the first one
settled by the prober's routing table, which has one gateway per family);
checked against lab/topology.json's ground truth (responders per TTL, and
the branches that give the edges between them), both families, with TCP
and UDP flows (the source port varied) and ICMP flows (the echo identifier
and checksum varied: the lab's Linux routers hash ICMP echo on its
addresses only, so there every diamond shows one branch and none may be
invented; test_multipath_icmp.py has the diamonds that spread it). The
binary is run.py's BIN.

MDA's promise is statistical: at 95% a 2-way hop is left with one branch
found in 2/64 of the runs (all six flows on one side). An invented branch
fails a test at once; a missing one is looked for again on a fresh address
(flows hash anew), and only a second miss fails: about 1 run in 1000 for a
2-way hop at 95%."""
import json
import sys

from harness import NETS, PROBER, TOPO, run, target, test

FLOW_FIELD = {"tcp": "tcp-source-port", "udp": "udp-source-port", "icmp": "icmp-identifier"}


def rg_json(*args, timeout=120):
    main = sys.modules["__main__"]
    r = run(["ip", "netns", "exec", PROBER["netns"], *main.WRAP, main.BIN, "-q",
             "--format", "json", *args], timeout=timeout * (10 if main.WRAP else 1),
            env={"ROUTEGRAPH_LAB_ONLY": "1"})
    assert r.rc == 0 and r.err == "", r
    return json.loads(r.out)


def truth(net, family):
    """Per TTL the set of responders, and the set of (TTL, from, to) edges."""
    t = NETS[net]
    want = {i + 1: set(r) for i, r in enumerate(t["responders"][str(family)])}
    edges = set()
    for b in t["branches"][str(family)]:
        for i in range(1, len(b)):
            edges.add((i + 1, b[i - 1], b[i]))
    return want, edges


def host_addresses(net, family):
    """What the target's host answers from besides the address probed: its
    interface's (a UDP port unreachable for a prefix routed to the host)."""
    host = next(h for h in TOPO["hosts"] if h["name"] == NETS[net]["host"])
    return set(host["addresses"][str(family)])


def check(trace, net, family, confidence, rules=("met",), method="tcp", first="routing-table",
          one_branch=False):
    """Asserts the trace's multipath member against the lab's ground truth;
    returns the (TTL, address) branches it did not find. one_branch: the
    lab's routers keep every flow of the method on one branch (ICMP echo
    where they hash on addresses only), so the destination is reached
    through one of the last hops, not all."""
    mp = trace["multipath"]
    assert mp["confidence"] == confidence and mp["flow_field"] == FLOW_FIELD[method], mp
    want, edges = truth(net, family)
    dist = NETS[net]["distance"]
    hops = {h["ttl"]: h for h in mp["hops"]}
    assert sorted(hops) == list(range(1, dist + 1)), sorted(hops)
    last = {b[-1] for b in NETS[net]["branches"][str(family)]}
    missing = []
    for ttl, h in hops.items():
        assert h["stopping_rule"] in (rules if ttl > 1 else (first,)), h
        got = {b["address"] for b in h["branches"]}
        if ttl == dist:
            assert len(got) == 1 and got <= {trace["address"]} | host_addresses(net, family), \
                (ttl, got)
            assert h["branches"][0]["destination"] is True
            frm = set(h["branches"][0]["from"])
            assert frm == last if not one_branch else len(frm) == 1 and frm <= last, h
            continue
        assert got <= want[ttl], f"TTL {ttl}: found {sorted(got)}, lab has {sorted(want[ttl])}"
        missing += [(ttl, a) for a in sorted(want[ttl] - got)]
        flows = [f for b in h["branches"] for f in b["flows"]]
        assert len(flows) == len(set(flows)), f"TTL {ttl}: a flow on two branches"
        for b in h["branches"]:
            assert b["flows"], b
            for f in b["from"]:
                assert ttl == 1 or (ttl, f, b["address"]) in edges, (ttl, f, b["address"])
            if ttl > 1:
                assert b["from"], b
    return missing


def complete(run_one, tries=2):
    """run_one(i) -> list of missing branches, for the i-th fresh address."""
    missed = []
    for i in range(tries):
        missed = run_one(i)
        if not missed:
            return
    raise AssertionError(f"branches missing {tries} times in a row: {missed}")


@test
def test_multipath_ecmp_pair_both_families():
    for fam in (4, 6):
        def one(i):
            doc = rg_json("--multipath", "-p", "80", target("h1", fam, 7 + i))
            assert doc["options"]["multipath"] == 95, doc["options"]
            (t,) = doc["traces"]
            assert t["multipath"]["probes"] > 0
            assert doc["stats"]["unmatched"] == 0, doc["stats"]
            return check(t, "h1", fam, 95)
        complete(one)


@test
def test_multipath_refuses_other_confidences():
    main = sys.modules["__main__"]
    r = run(["ip", "netns", "exec", PROBER["netns"], main.BIN, "--multipath=90",
             target("h1", 4, 7)])
    assert r.rc == 2 and r.err.count("\n") == 1, r
    assert "--multipath: confidence must be 95 or 99, not '90'" in r.err, r


@test
def test_multipath_diamonds_in_series_both_families():
    """hmp: a 4-way diamond (mp0 -> mp1a-d -> mp2) then a 2-way one (mp2 ->
    mp3a/b -> mp4): all 4 + 4 + 2 + 2 branches found at both confidences."""
    for fam in (4, 6):
        for conf in (95, 99):
            def one(i):
                doc = rg_json(f"--multipath={conf}", "-p", "80", target("hmp", fam, 9 + 16 * i))
                (t,) = doc["traces"]
                assert doc["stats"]["unmatched"] == 0, doc["stats"]
                return check(t, "hmp", fam, conf)
            complete(one)


@test
def test_multipath_shared_by_the_ports_of_an_address():
    """The traces to one address share one discovery: the same branches,
    the probes counted once."""
    def one(i):
        doc = rg_json("--multipath", "-p", "80,443", target("hmp", 4, 10 + 16 * i))
        a, b = doc["traces"]
        assert a["multipath"] == b["multipath"], (a["multipath"], b["multipath"])
        assert a["multipath"]["port"] == 80, a["multipath"]
        return check(a, "hmp", 4, 95)
    complete(one)


@test
def test_multipath_shared_within_a_prefix():
    """Two addresses of hmp's prefix in one run: both get every branch; the
    second takes the single next hops the first proved (rule "shared") and
    sends fewer probes."""
    for fam in (4, 6):
        def one(i):
            a, b = target("hmp", fam, 21 + 16 * i), target("hmp", fam, 22 + 16 * i)
            doc = rg_json("--multipath", "-p", "80", a, b)
            first, second = doc["traces"]
            rules = [h["stopping_rule"] for h in second["multipath"]["hops"]]
            # hop 1 from the routing table; r2, mp0: one next hop each, proved by the first
            assert rules[:3] == ["routing-table", "shared", "shared"], rules
            assert second["multipath"]["probes"] < first["multipath"]["probes"], \
                (first["multipath"]["probes"], second["multipath"]["probes"])
            return (check(first, "hmp", fam, 95) +
                    check(second, "hmp", fam, 95, rules=("met", "shared")))
        complete(one)


@test
def test_multipath_udp_both_families():
    """UDP flows (the source port varied, the checksum carrying the probe's
    identity): every branch of h1's pair and of hmp's two diamonds, the
    destination's port unreachable ending each path."""
    for net, host in (("h1", 30), ("hmp", 40)):
        for fam in (4, 6):
            def one(i):
                doc = rg_json("--multipath", "-P", "udp", "-p", "33434",
                              target(net, fam, host + 16 * i))
                (t,) = doc["traces"]
                assert t["protocol"] == "udp" and t["state"] == "closed", t["state"]
                assert doc["stats"]["unmatched"] == 0, doc["stats"]
                return check(t, net, fam, 95, method="udp")
            complete(one)


@test
def test_multipath_icmp_both_families():
    """ICMP echo flows (the identifier, and with it the checksum, varied):
    the lab's routers do not spread ICMP echo (their hash takes ports, which
    echo has not), so each diamond shows exactly one of its branches, every
    flow on it; none invented, the edges the lab's, the echo reply last."""
    for net in ("h1", "hmp"):
        for fam in (4, 6):
            doc = rg_json("--multipath", "-P", "icmp", target(net, fam, 50))
            (t,) = doc["traces"]
            assert t["protocol"] == "icmp" and t["reached"] is True, t
            assert doc["stats"]["unmatched"] == 0, doc["stats"]
            # the trace's echo reply says what a port probe would: none sent
            assert doc["stats"]["port_probes_sent"] == 0 and t["state"] == "open", doc["stats"]
            check(t, net, fam, 95, method="icmp", one_branch=True)
            for h in t["multipath"]["hops"]:
                assert len(h["branches"]) == 1, h
                assert len(h["branches"][0]["flows"]) >= (6 if h["ttl"] not in (1, NETS[net]["distance"]) else 1), h
