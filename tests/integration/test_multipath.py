"""Multipath discovery (--multipath, MDA) in the lab: every branch of every
diamond the lab builds is found, none is invented, each flow took exactly
one branch per TTL, and every TTL met the stopping rule; checked against
lab/topology.json's ground truth (responders per TTL, and the branches that
give the edges between them), both families. The binary is run.py's BIN."""
import json
import sys

from harness import NETS, PROBER, run, target, test


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


def check(trace, net, family, confidence, rules=("met",)):
    """Asserts the trace's multipath member against the lab's ground truth."""
    mp = trace["multipath"]
    assert mp["confidence"] == confidence and mp["flow_field"] == "tcp-source-port", mp
    want, edges = truth(net, family)
    dist = NETS[net]["distance"]
    hops = {h["ttl"]: h for h in mp["hops"]}
    assert sorted(hops) == list(range(1, dist + 1)), sorted(hops)
    last = {b[-1] for b in NETS[net]["branches"][str(family)]}
    for ttl, h in hops.items():
        assert h["stopping_rule"] in rules, h
        got = {b["address"] for b in h["branches"]}
        if ttl == dist:
            assert got == {trace["address"]}, (ttl, got)
            assert h["branches"][0]["destination"] is True
            assert set(h["branches"][0]["from"]) == last, h
            continue
        assert got == want[ttl], f"TTL {ttl}: found {sorted(got)}, lab has {sorted(want[ttl])}"
        flows = [f for b in h["branches"] for f in b["flows"]]
        assert len(flows) == len(set(flows)), f"TTL {ttl}: a flow on two branches"
        for b in h["branches"]:
            assert b["flows"], b
            for f in b["from"]:
                assert ttl == 1 or (ttl, f, b["address"]) in edges, (ttl, f, b["address"])
            if ttl > 1:
                assert b["from"], b


@test
def test_multipath_ecmp_pair_both_families():
    for fam in (4, 6):
        addr = target("h1", fam, 7)
        doc = rg_json("--multipath", "-p", "80", addr)
        assert doc["options"]["multipath"] == 95, doc["options"]
        (t,) = doc["traces"]
        check(t, "h1", fam, 95)
        assert t["multipath"]["probes"] > 0
        assert doc["stats"]["unmatched"] == 0, doc["stats"]


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
            addr = target("hmp", fam, 9)
            doc = rg_json(f"--multipath={conf}", "-p", "80", addr)
            (t,) = doc["traces"]
            check(t, "hmp", fam, conf)
            widths = [len(h["branches"]) for h in t["multipath"]["hops"]]
            assert widths == [1, 1, 1, 4, 4, 2, 2, 1], widths
            assert doc["stats"]["unmatched"] == 0, doc["stats"]


@test
def test_multipath_shared_by_the_ports_of_an_address():
    """The traces to one address share one discovery: the same branches,
    the probes counted once."""
    addr = target("hmp", 4, 10)
    doc = rg_json("--multipath", "-p", "80,443", addr)
    a, b = doc["traces"]
    assert a["multipath"] == b["multipath"], (a["multipath"], b["multipath"])
    check(a, "hmp", 4, 95)
    assert a["multipath"]["port"] == 80, a["multipath"]


@test
def test_multipath_shared_within_a_prefix():
    """Two addresses of hmp's prefix in one run: both get every branch; the
    second takes the single next hops the first proved (rule "shared") and
    sends fewer probes."""
    for fam in (4, 6):
        a, b = target("hmp", fam, 21), target("hmp", fam, 22)
        doc = rg_json("--multipath", "-p", "80", a, b)
        first, second = doc["traces"]
        check(first, "hmp", fam, 95)
        check(second, "hmp", fam, 95, rules=("met", "shared"))
        rules = [h["stopping_rule"] for h in second["multipath"]["hops"]]
        assert rules[:3] == ["shared"] * 3, rules  # r1, r2, mp0: one next hop each
        assert second["multipath"]["probes"] < first["multipath"]["probes"], \
            (first["multipath"]["probes"], second["multipath"]["probes"])
