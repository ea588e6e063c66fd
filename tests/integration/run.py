#!/usr/bin/env python3
"""Integration tests: the real routegraph binary sends real packets through
the lab (lab/lab) and every result is checked against the lab's ground truth
(lab/topology.json). Prints TAP lines; tests/run-all.sh counts them."""
import argparse
import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NETS, PROBER, ROOT, TOPO, lab, net_of, run, run_all, target, test  # noqa: E402

BIN = None  # set in main()
WRAP = []   # e.g. valgrind and its options, put before the binary (main())
_cache = {}


def rg(*args, stdin=None, timeout=90, env=None):
    """routegraph inside the prober namespace, lab-only safety on."""
    e = {"ROUTEGRAPH_LAB_ONLY": "1"}
    e.update(env or {})
    return run(["ip", "netns", "exec", PROBER["netns"], *WRAP, BIN, *args],
               stdin=stdin, timeout=timeout * (10 if WRAP else 1), env=e)


def rg_json(*args, **kw):
    """Runs routegraph with JSON on stdout; returns (result, document)."""
    r = rg("-q", "--format", "json", *args, **kw)
    assert r.rc == 0, r
    assert r.err == "", r
    return r, json.loads(r.out)


def matrix():
    """One shared run: 2 addresses in each target network, both families,
    ports 80 and 443 (24 traces)."""
    if "matrix" not in _cache:
        targets = [target(n, f, h) for f in (4, 6) for n in ("h1", "h2", "h3") for h in (5, 6)]
        _cache["matrix"] = rg_json("-p", "80,443", *targets)
    return _cache["matrix"][1]


def hop_list(trace, upto):
    """Responder per TTL 1..upto, measured or inferred from other traces
    (None = silent): ground-truth checks hold inferred hops to the lab's
    topology just as measured ones."""
    by_ttl = {h["ttl"]: h["responder"] or h.get("inferred_responder") for h in trace["hops"]}
    return [by_ttl.get(ttl) for ttl in range(1, upto + 1)]


def port_probes(trace):
    return (trace.get("port_probes") or {"probes": []})["probes"]


def max_probed_ttl(trace):
    return max(h["ttl"] for h in trace["hops"])


@test
def test_matrix_hops_match_ground_truth():
    doc = matrix()
    assert len(doc["traces"]) == 24, len(doc["traces"])
    for t in doc["traces"]:
        net = net_of(t["address"])
        branches = net["branches"][str(t["family"])]
        got = hop_list(t, net["distance"] - 1)
        assert got in branches, f"{t['address']}:{t['port']} hops {got} not in {branches}"


@test
def test_matrix_port_states_and_distance():
    for t in matrix()["traces"]:
        net = net_of(t["address"])
        want = net["ports"][str(t["port"])]
        assert t["state"] == want, (t["address"], t["port"], t["state"], want)
        if want == "filtered":
            assert t["reached"] is False and t["reached_ttl"] is None, t
        else:
            assert t["reached"] is True, t
            assert t["reached_ttl"] == net["distance"], (t["address"], t["reached_ttl"])
            last = next(h for h in t["hops"] if h["ttl"] == t["reached_ttl"])
            kinds = [p["reply"]["kind"] for p in last["probes"] if p["reply"]]
            assert kinds and kinds[0] == ("syn-ack" if want == "open" else "rst"), last
            assert last["responder"] == t["address"]
            assert isinstance(t["rtt_us"], int) and t["rtt_us"] > 0


@test
def test_silent_router_is_labelled_silent():
    for t in matrix()["traces"]:
        if net_of(t["address"])["name"] != "h2":
            continue
        hop5 = next(h for h in t["hops"] if h["ttl"] == 5)
        assert hop5["responder"] is None and "inferred_responder" not in hop5, hop5
        # Never answered anyone: silent, not rate-limited. Once hops above
        # it answered and it stayed silent, its retry is not worth sending.
        assert hop5["silence"] == "silent", hop5
        assert 1 <= len(hop5["probes"]) <= 2, hop5
        assert all(p["reply"] is None for p in hop5["probes"]), hop5


@test
def test_no_probe_past_destination():
    for t in matrix()["traces"]:
        net = net_of(t["address"])
        # Filtered ports stop at the distance the open port of the same
        # address showed; reached ones at their own destination.
        assert max_probed_ttl(t) == net["distance"], (t["address"], t["port"], max_probed_ttl(t))
        for h in t["hops"]:
            answered = any(p["reply"] for p in h["probes"])
            if answered:
                assert len(h["probes"]) == 1, f"retry sent to an answered hop: {h}"


@test
def test_probe_count_is_within_the_floor():
    doc = matrix()
    sent = sum(len(h["probes"]) for t in doc["traces"] for h in t["hops"])
    pp = sum(len(port_probes(t)) for t in doc["traces"])
    assert doc["stats"]["probes_sent"] == sent + pp, (doc["stats"], sent, pp)
    assert doc["stats"]["port_probes_sent"] == pp, (doc["stats"], pp)
    # At most one probe per hop up to the destination, plus one retry per
    # silent hop; and one port probe per trace (two when nothing answers
    # it: a filtered port). Hops other traces showed may go unprobed.
    floor = 0
    for t in doc["traces"]:
        net = net_of(t["address"])
        silent = sum(1 for x in net["branches"][str(t["family"])][0] if x is None)
        floor += net["distance"] + silent
        if t["state"] == "filtered":
            floor += 1  # the destination TTL stays silent too
        assert len(port_probes(t)) == (2 if t["state"] == "filtered" else 1), t
        # Every hop up to the destination was measured, inferred, or is the
        # silent router.
        assert None not in [x for x, y in zip(hop_list(t, net["distance"] - 1),
                                              net["branches"][str(t["family"])][0]) if y], t
    assert sent <= floor, f"sent {sent} probes, floor {floor}"
    assert doc["stats"]["unmatched"] == 0 and doc["stats"]["malformed"] == 0, doc["stats"]


@test
def test_both_families_side_by_side():
    names = {n["name"]: n for n in TOPO["names"]}
    web = names["web1.h3.lab"]
    for flag in (["-46"], ["--both-families"], ["-4", "-6"]):
        _, doc = rg_json(*flag, "-p", "80", "web1.h3.lab")
        got = sorted((t["family"], t["address"], t["state"]) for t in doc["traces"])
        assert got == [(4, web["v4"], "open"), (6, web["v6"], "open")], (flag, got)
        assert doc["options"]["family"] == "both", doc["options"]
    # A literal is traced as given; a name without IPv6 is traced over IPv4
    # and listed as not traced over IPv6 (partial).
    _, doc = rg_json("-46", "-p", "80", target("h3", 4, 44))
    assert [t["family"] for t in doc["traces"]] == [4], doc["traces"]
    r = rg("-46", "-q", "--format", "json", "-p", "80", "v4only.h1.lab")
    doc = json.loads(r.out)
    assert r.rc == 3 and [t["family"] for t in doc["traces"]] == [4], r
    assert doc["unresolved"] == [{"name": "v4only.h1.lab",
                                  "error": "has no IPv6 address (-46 given)"}], doc["unresolved"]


@test
def test_ecmp_each_trace_on_one_branch_both_branches_used():
    addrs = [target("h1", 4, h) for h in range(10, 26)] + [target("h1", 6, h) for h in range(10, 26)]
    _, doc = rg_json("-p", "80", *addrs)
    seen = {4: set(), 6: set()}
    for t in doc["traces"]:
        branches = NETS["h1"]["branches"][str(t["family"])]
        got = hop_list(t, 5)
        assert got in branches, (t["address"], got)
        seen[t["family"]].add(branches.index(got))
    assert seen[4] == {0, 1} and seen[6] == {0, 1}, f"branches seen: {seen}"


@test
def test_fixed_source_port_keeps_its_branch():
    runs = []
    for _ in range(3):
        _, doc = rg_json("-p", "80", "--sport", "41234", target("h1", 4, 40))
        t = doc["traces"][0]
        assert t["source_port"] == 41234
        runs.append(hop_list(t, 5))
    assert runs[0] == runs[1] == runs[2], runs


@test
def test_stop_set_goes_under_the_floor_without_wrong_hops():
    addrs = [target(n, 4, h) for n in ("h1", "h2", "h3") for h in range(100, 110)]
    _, doc = rg_json("-p", "80", "--stop-set", *addrs)
    assert doc["options"]["stop_set"] == 3
    floor = 0
    for t in doc["traces"]:
        net = net_of(t["address"])
        assert t["state"] == "open" and t["reached_ttl"] == net["distance"], t
        branch = net["branches"]["4"]
        got = hop_list(t, net["distance"] - 1)
        probed = {ttl: who for ttl, who in enumerate(got, 1) if who}
        assert any(all(b[ttl - 1] == who for ttl, who in probed.items()) for b in branch), \
            (t["address"], probed)
        floor += net["distance"] + sum(1 for x in branch[0] if x is None)
    # The floor counts hop probes: the port probes (one a trace) come on top.
    sent = doc["stats"]["probes_sent"] - doc["stats"]["port_probes_sent"]
    assert sent < floor * 0.8, f"stop set sent {sent} hop probes, floor {floor}"
    first = min(min(h["ttl"] for h in t["hops"]) for t in doc["traces"])
    assert first == 1, "some trace must still have probed the first hop"


@test
def test_table_exact_text():
    r = rg("-n", "--asn-source", "none", "-p", "80,443", target("h3", 4, 7))
    assert r.rc == 0 and r.err == "", r
    lines = r.out.splitlines()
    want = [
        "  198.19.32.7:80     198.19.32.7:443",
        "1 198.18.0.1      11 198.18.0.1      11",
        "2 198.18.1.2      11 198.18.1.2      11",
        "3 198.19.32.7     SA 198.19.32.7     RA",
        "",
    ]
    assert lines[:5] == want, "\n".join(lines)
    assert re.fullmatch(r"198\.19\.32\.7:80 +reached at hop 3, port open \(SA\), rtt \d+\.\d{3} ms",
                        lines[5]), lines[5]
    assert re.fullmatch(r"198\.19\.32\.7:443 +reached at hop 3, port closed \(RA\), rtt \d+\.\d{3} ms",
                        lines[6]), lines[6]
    assert len(lines) == 7, lines


@test
def test_table_silent_hop_and_filtered_port():
    addr = target("h2", 4, 9)
    r = rg("-p", "443,80", addr)
    assert r.rc == 0, r
    rows = {ln.split()[0]: ln for ln in r.out.splitlines()[1:8]}
    assert re.fullmatch(r"5 +- +-", rows["5"]), rows["5"]
    assert re.fullmatch(rf"7 +- +{re.escape(addr)} +SA", rows["7"]), rows["7"]
    # Filtered says how many probes met silence where they must have arrived:
    # the two port probes and TTL 7's probe and retry (and TTL 8's when it
    # went out before TTL 7's silence was known).
    m = re.search(rf"^{re.escape(addr)}:443 +not reached, port filtered, last answer at hop 6 "
                  r"from 198\.18\.48\.2, no answer to the (\d+) probes past it$", r.out, re.M)
    assert m and int(m.group(1)) in (4, 5), r.out
    _, doc = rg_json("-p", "443,80", addr)
    t = next(x for x in doc["traces"] if x["port"] == 443)
    silent = len(t["port_probes"]["probes"]) + sum(len(h["probes"]) for h in t["hops"] if h["ttl"] > 6)
    assert t["state"] == "filtered" and t["unanswered_probes"] == silent and silent in (4, 5), t
    assert "unknown_reason" not in t and "unreachable" not in t, t


@test
def test_json_fields():
    doc = matrix()
    assert doc["schema"] == "routegraph/2"
    assert re.fullmatch(r"\d+\.\d+\.\d+", doc["version"])
    iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
    assert re.fullmatch(iso, doc["start_time"]) and re.fullmatch(iso, doc["end_time"])
    assert doc["start_time"] <= doc["end_time"]
    o = doc["options"]
    assert o["ports"] == [80, 443] and o["min_ttl"] == 1 and o["max_ttl"] == 30
    assert o["retries"] == 1 and o["timeout"] == 2 and o["sport"] is None and o["family"] == "any"
    assert doc["unresolved"] == []
    t = next(x for x in doc["traces"] if x["address"] == target("h3", 6, 5) and x["port"] == 80)
    assert t["target"] == t["address"] and t["family"] == 6 and t["protocol"] == "tcp"
    assert t["source_address"] == PROBER["v6"]
    assert 1 <= t["source_port"] <= 65535
    assert t["state"] == "open" and t["reached_ttl"] == 3 and t["stopped_by"] == "destination"
    assert [h["ttl"] for h in t["hops"]] == [1, 2, 3]
    for h in t["hops"]:
        p = h["probes"][0]
        assert p["attempt"] == 0 and re.fullmatch(iso, p["sent"])
        rep = p["reply"]
        assert rep["from"] == h["responder"] and isinstance(rep["rtt_us"], int)
        assert re.fullmatch(iso, rep["received"]) and rep["received"] >= p["sent"]
    r1, r3 = t["hops"][0]["probes"][0]["reply"], t["hops"][2]["probes"][0]["reply"]
    assert r1["kind"] == "time-exceeded" and r1["icmp_type"] == 3 and r1["icmp_code"] == 0
    assert r1["from"] == TOPO["prober"]["gateway_v6"]
    assert r3["kind"] == "syn-ack" and r3["tcp_flags"] == "SA" and "icmp_type" not in r3
    assert r3["reply_ttl"] == 62  # the target's 64 less two routers
    c = next(x for x in doc["traces"] if x["address"] == target("h3", 4, 5) and x["port"] == 443)
    assert c["hops"][2]["probes"][0]["reply"]["tcp_flags"] == "RA"
    assert c["hops"][0]["probes"][0]["reply"]["icmp_type"] == 11


@test
def test_several_ports_at_once():
    addr = target("h1", 4, 77)
    _, doc = rg_json("-p", "80,443,8080,22", addr)
    states = {t["port"]: t["state"] for t in doc["traces"]}
    assert states == {80: "open", 443: "closed", 8080: "closed", 22: "closed"}, states
    paths = {tuple(hop_list(t, 5)) for t in doc["traces"]}
    for p in paths:
        assert list(p) in NETS["h1"]["branches"]["4"], p


@test
def test_unreachable_network_answer():
    un = TOPO["unrouted"]
    for fam, addr in ((4, un["v4"]), (6, un["v6"])):
        r = rg("-p", "80", addr)
        assert r.rc == 0, r
        who = un['responder'][str(fam)]
        # traceroute's mark in the cell, the ICMP type and code in the verdict.
        assert re.match(rf"1 +{re.escape(who)} +!N$", r.out.splitlines()[1]), r.out
        icmp = "ICMPv6 1/0 no route to destination" if fam == 6 else "ICMP 3/0 network unreachable"
        assert f"not reached, port unreachable (!N, {icmp}) from {who} at hop 1\n" in r.out, r.out
        _, doc = rg_json("-p", "80", addr)
        t = doc["traces"][0]
        assert t["stopped_by"] == "unreachable" and t["state"] == "unreachable" and not t["reached"]
        assert t["unreachable"] == {"from": who, "icmp_type": 1 if fam == 6 else 3, "icmp_code": 0,
                                    "mark": "!N", "meaning": icmp.split(" ", 2)[2]}, t
        assert [h["ttl"] for h in t["hops"]] == [1], t["hops"]  # nothing sent past it
        assert t["hops"][0]["probes"][0]["reply"]["kind"] == "unreachable"


MAN_PAGE = os.path.join(ROOT, "docs", "routegraph.1")
MAN_BEGIN = ".\\\" BEGIN generated example"
MAN_END = ".\\\" END generated example\n"
MAN_ARGS = ["-n", "--asn-source", "none", "198.19.16.9:80", "198.19.32.7:80", "198.19.32.7:443"]


def man_normal(text):
    """What may differ between two runs: RTTs, and the ECMP branch (the lab
    draws its hash key anew each time it comes up)."""
    text = re.sub(r"rtt \d+\.\d{3} ms", "rtt N ms", text)
    return text.replace("198.18.17.2", "198.18.16.2").replace("198.18.19.2", "198.18.18.2")


@test
def test_man_page_example_is_a_real_run():
    r = rg(*MAN_ARGS, env={"COLUMNS": "50"})
    assert r.rc == 0 and r.err == "", r
    src = open(MAN_PAGE).read()
    head, rest = src.split(MAN_BEGIN)
    marker, rest = rest.split("\n", 1)
    body, tail = rest.split(MAN_END)
    roff = r.out.replace("\\", "\\e").replace("-", "\\-")
    if os.environ.get("RG_UPDATE_MAN"):
        with open(MAN_PAGE, "w") as f:
            f.write(f"{head}{MAN_BEGIN}{marker}\n.EX\n{roff}.EE\n{MAN_END}{tail}")
        return
    shown = body.split(".EX\n", 1)[1].rsplit(".EE\n", 1)[0]
    text = shown.replace("\\-", "-").replace("\\e", "\\")
    assert man_normal(text) == man_normal(r.out), f"docs/routegraph.1 example:\n{text}\nrun:\n{r.out}"
    # What the example is there to show.
    for want in ("port open (SA)", "port closed (RA)", "\n5 -"):
        assert want in r.out, (want, r.out)


@test
def test_bad_command_lines():
    cases = [
        (["--max-ttl", "99", "198.19.0.1"], "--max-ttl: '99' is out of range (1-64)"),
        (["-p", "0", "198.19.0.1"], "-p: '0' is not a port (1-65535)"),
        (["-p", "90-80", "198.19.0.1"], "-p: range '90-80' is reversed"),
        (["--min-ttl", "9", "--max-ttl", "3", "198.19.0.1"], "--min-ttl"),
        (["-w", "0", "198.19.0.1"], "-w: '0' is out of range"),
        (["-w", "abc", "198.19.0.1"], "-w: 'abc'"),
        (["-r", "9", "198.19.0.1"], "-r: '9' is out of range (0-5)"),
        (["--rate", "0", "198.19.0.1"], "--rate: '0' is out of range"),
        (["--po", "80", "198.19.0.1"], "unknown option '--po' (did you mean --ports? long "
                                       "options are not abbreviated)"),
        (["--format", "xml", "198.19.0.1"], "--format"),
        (["--bogus"], "unknown option '--bogus'"),
        (["bad target!"], "bad target!"),
        ([], "no target given"),
    ]
    for args, want in cases:
        r = rg(*args, stdin="")
        assert r.rc == 2, (args, r)
        assert r.out == "", (args, r)
        lines = r.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("routegraph: ") and want in lines[0], (args, r.err)


@test
def test_unresolvable_name_is_partial():
    good = target("h3", 4, 11)
    r = rg("-p", "80", "no-such-host.lab", good)
    assert r.rc == 3, r
    err = r.err.splitlines()
    assert len(err) == 1 and "no-such-host.lab" in err[0], r.err
    assert f"{good}:80 " in r.out and "reached at hop 3, port open" in r.out, r.out


@test
def test_names_files_and_family():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("# lab targets\nweb1.h1.lab   web1.h3.lab # two names\n\n\n")
        path = f.name
    os.chmod(path, 0o644)  # started as root, routegraph runs as nobody
    try:
        _, doc = rg_json("-4", "-p", "80", "-f", path)
        got = {t["target"]: t["address"] for t in doc["traces"]}
        names = {n["name"]: n for n in TOPO["names"]}
        assert got == {"web1.h1.lab": names["web1.h1.lab"]["v4"],
                       "web1.h3.lab": names["web1.h3.lab"]["v4"]}, got
        _, doc = rg_json("-6", "-p", "80", "-f", "-", stdin="web1.h3.lab\n")
        assert [t["address"] for t in doc["traces"]] == [names["web1.h3.lab"]["v6"]], doc["traces"]
        assert doc["traces"][0]["reached_ttl"] == 3
        r = rg("-6", "-p", "80", "v4only.h1.lab")
        assert r.rc == 2 and "v4only.h1.lab" in r.err, r  # nothing traced
        # Two names for one address, and the address itself: traced once.
        _, doc = rg_json("-4", "-p", "80", "web1.h1.lab", names["web1.h1.lab"]["v4"], "web1.h1.lab")
        assert [t["target"] for t in doc["traces"]] == ["web1.h1.lab"], doc["traces"]
    finally:
        os.unlink(path)


@test
def test_hostile_target_lists():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # started as root, routegraph runs as nobody
        big = os.path.join(d, "big.txt")
        with open(big, "w") as f:  # 100,000 distinct lab addresses
            for i in range(100000):
                f.write(f"198.{18 + i // 65536}.{i // 256 % 256}.{i % 256}\n")
        r = rg("-p", "80", "-f", big)
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1, r
        assert "65536" in r.err, r.err
        cases = [
            (b"web1.h3.lab\n\xff\xfe.lab\n", "\\xff"),          # invalid UTF-8
            (b"a" * 300 + b"\n", "long"),                       # over-long name
            (b"ok.lab bad\x01name\n", "\\x01"),                # control byte
        ]
        for content, want in cases:
            path = os.path.join(d, "t.txt")
            with open(path, "wb") as f:
                f.write(content)
            r = rg("--strict", "-p", "80", "-f", path)
            assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1, (content[:20], r)
            assert want in r.err and "t.txt:" in r.err, (want, r.err)
        # Empty lines and comments only: nothing to trace is a usage error.
        with open(os.path.join(d, "empty.txt"), "w") as f:
            f.write("\n\n# nothing\n   \n")
        r = rg("-p", "80", "-f", os.path.join(d, "empty.txt"))
        assert r.rc == 2 and "no target" in r.err, r


@test
def test_nothing_traced_exits_2():
    for args, why in ((["-n", "nosuch.invalid"], "nosuch.invalid: cannot resolve: "),
                      (["-6", "198.19.0.5"], "198.19.0.5: is an IPv4 address but -6 was given")):
        r = rg("-p", "80", *args)
        assert r.rc == 2 and r.err.startswith("routegraph: " + why), (args, r)
        assert len(r.err.splitlines()) == 1 and ": not traced: " in r.out, (args, r)


@test
def test_target_file_bad_entries_reported_good_ones_traced():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        path = os.path.join(d, "junk.txt")
        a, b = target("h3", 4, 40), target("h3", 4, 41)
        with open(path, "w") as f:
            f.write(f"{a}\nhttps://web1.h3.lab/\n{b}:443\nfoo/bar\n[{target('h3', 6, 40)}]:80\n")
        os.chmod(path, 0o644)
        r = rg("-q", "-n", "--format", "json", "-p", "80", "-f", path)
        assert r.rc == 3, r
        assert r.err.splitlines() == [
            f"routegraph: {path}:2: 'https://web1.h3.lab/' looks like a URL: give the host alone "
            "(and its port as host:port or -p)",
            f"routegraph: {path}:4: 'foo/bar' is not a host name or address: '/' cannot be in one "
            "(allowed: A-Z a-z 0-9 . : _ -)",
            "routegraph: 2 bad entries skipped, the others traced (--strict stops at the first)",
        ], r.err
        doc = json.loads(r.out)
        # b's own port joins -p; the bracketed IPv6 literal carries its port.
        got = sorted((t["address"], t["port"], t["state"]) for t in doc["traces"])
        assert got == sorted([(a, 80, "open"), (b, 80, "open"), (b, 443, "closed"),
                              (target("h3", 6, 40), 80, "open")]), got
        r = rg("--strict", "-p", "80", "-f", path)
        assert r.rc == 2 and r.out == "" and r.err.splitlines() == [
            f"routegraph: {path}:2: 'https://web1.h3.lab/' looks like a URL: give the host alone "
            "(and its port as host:port or -p)"], r


@test
def test_one_warning_for_missing_as_data_and_a_silent_dns_server():
    addr = target("h3", 4, 43)
    r = rg("-n", "-p", "80", addr, env={"RG_DATA_DIR": "/nonexistent-routegraph-data"})
    assert r.rc == 0 and r.err == (
        "routegraph: no AS data installed: hops will show AS??? (run scripts/fetch-asn-data.sh, "
        "or give --asn-db FILE, or --asn-source none)\n"), r
    # A resolver address where nothing listens: every lookup fails, said once.
    r = rg("--asn-source", "none", "--dns-server", "192.0.2.53", "--dns-timeout", "1",
           "-p", "80", addr)
    assert r.rc == 0 and f"{addr}:80 " in r.out, r
    m = re.fullmatch(r"routegraph: the DNS server did not answer: (\d+) name lookups failed, "
                     r"hops are shown without names \(-n skips them\)\n", r.err)
    assert m and int(m.group(1)) == 3, r  # PTR of the three responders


@test
def test_outputs_checked_before_probing():
    r = rg("-p", "80", "-o", "/nonexistent-dir/run", target("h3", 4, 42))
    assert r.rc == 2 and r.out == "", r
    assert r.err == "routegraph: /nonexistent-dir/run.txt: cannot write: No such file or directory\n", r


@test
def test_output_files_written_whole():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # started as root, routegraph runs as nobody
        prefix = os.path.join(d, "run")
        r = rg("-q", "-p", "80", "-o", prefix, target("h3", 4, 12))
        assert r.rc == 0 and r.out == "" and r.err == "", r
        assert sorted(os.listdir(d)) == ["run.json", "run.txt"], os.listdir(d)
        doc = json.load(open(prefix + ".json"))
        assert doc["traces"][0]["state"] == "open"
        assert open(prefix + ".txt").read().startswith("  198.19.32.12:80")
        # Checked before the first probe: one line, usage status, no probe.
        r = rg("-q", "-p", "80", "-o", os.path.join(d, "missing", "run"), target("h3", 4, 12))
        assert r.rc == 2 and len(r.err.splitlines()) == 1 and "missing/run.txt" in r.err, r
        assert sorted(os.listdir(d)) == ["run.json", "run.txt"], os.listdir(d)


@test
def test_without_cap_net_raw():
    r = run(["ip", "netns", "exec", PROBER["netns"], "setpriv", "--reuid=65534", "--regid=65534",
             "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", BIN, "198.19.0.1"])
    assert r.rc == 1, r
    lines = r.err.splitlines()
    assert len(lines) == 1 and "CAP_NET_RAW" in lines[0] and "setcap cap_net_raw+ep" in lines[0], r.err


LAB_ASN_CSV = os.path.join(ROOT, "lab", "asn.csv")
DNS = TOPO["dns"]

# The hostile string the outputs must show literally and escaped. c-ares
# refuses the lab's hostile PTR name whole (it takes only host name
# characters), so the hostile text comes from AS data instead: the lab's
# file plus one more specific range (the smaller range wins) putting h3's
# .66 addresses in an AS of their own, HOSTILE_ASN, named so (its name then
# labels a cluster of the graph, not only a tooltip).
HOSTILE_ORG = 'evil"];<script>alert(1)</script>\'\\x.h3'
HOSTILE_ASN = 64510


def hostile_asn_csv(d):
    """The lab's AS data with HOSTILE_ORG for 198.19.32.66 and 2001:db8:110::66,
    written into directory d (readable by the unprivileged routegraph)."""
    org = '"' + HOSTILE_ORG.replace('"', '""') + '"'
    with open(LAB_ASN_CSV) as f:
        text = f.read()
    path = os.path.join(d, "asn-hostile.csv")
    with open(path, "w") as f:
        f.write(text + "".join(f"{a},{a},{HOSTILE_ASN},{org}\n"
                               for a in DNS["hostile_ptr"]["addresses"]))
    os.chmod(path, 0o644)
    return path


def router_asn(address):
    for r in TOPO["routers"]:
        for i in r["interfaces"]:
            if address in (i["v4"], i["v6"]):
                return i["asn"]
    return net_of(address)["asn"]


def csv_orgs():
    import csv
    orgs = {}
    with open(LAB_ASN_CSV) as f:
        for row in csv.reader(line for line in f if not line.startswith("#")):
            orgs[int(row[2])] = row[3]
    return orgs


def annotated_run(*extra):
    addrs = [target("h1", 4, 50), target("h2", 4, 50), target("h3", 6, 50),
             target("h3", 4, 66)]  # .66 has the lab's hostile PTR name, which is refused
    return rg_json("-p", "80", *extra, *addrs)


@test
def test_annotation_offline_as_and_ptr_from_lab_dns():
    _, doc = annotated_run("--asn-db", LAB_ASN_CSV)
    orgs = csv_orgs()
    hops = 0
    for t in doc["traces"]:
        path = []
        for h in t["hops"]:
            if h["responder"] is None:
                assert "asn" not in h and "ptr" not in h, h
                continue
            hops += 1
            want = router_asn(h["responder"])
            assert h["asn"] == want and h["as_org"] == orgs[want], h
            assert h["as_source"] == "offline", h
            if h["responder"] in DNS["hostile_ptr"]["addresses"]:
                assert "ptr" not in h, h  # refused whole, as malformed
            elif h["responder"] in DNS["ptr"]:
                assert h.get("ptr") == DNS["ptr"][h["responder"]], h
            else:
                assert "ptr" not in h, h
            if not path or path[-1] != want:
                path.append(want)
        assert t["as_path"] == path, (t["as_path"], path)
    assert hops >= 15, hops
    assert doc["credits"] == [], doc["credits"]  # the lab's own data asks for none


@test
def test_annotation_text_view_and_escaping():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # started as root, routegraph runs as nobody
        r = rg("-p", "80", "--asn-db", hostile_asn_csv(d), target("h3", 4, 66))
    assert r.rc == 0 and r.err == "", r
    out = r.out.split("\n\n")
    # The AS path on one line, the organisations once, then the hops in
    # aligned columns under a header (like mtr -z --report).
    paths = next(b for b in out if b.startswith("AS paths\n")).splitlines()
    # (lab/asn.csv puts the h3 network in AS64500, as the routers before it;
    # the hostile file gives .66 an AS of its own.)
    assert paths[1] == f"{target('h3', 4, 66)}:80  AS64500 -> AS{HOSTILE_ASN}", paths
    assert "  AS64500  RG-LAB-ACCESS Lab Access Networks" in paths, paths
    view = [b for b in out if b.startswith(target("h3", 4, 66) + ":80\n")]
    assert view, r.out
    lines = view[0].splitlines()
    assert re.fullmatch(r"  Hop  Address +Name +AS +Country  RTT", lines[1]), lines[1]
    assert re.fullmatch(r" +1  198\.18\.0\.1 +r1-to-prober\.lab +AS64500 +\S* +\d+\.\d{3} ms",
                        lines[2]), lines[2]
    # The hostile organisation, listed once with the AS paths: printable as
    # is, its backslash doubled.
    assert f'  AS{HOSTILE_ASN}  evil"];<script>alert(1)</script>\'\\\\x.h3' in paths, paths
    # The hostile PTR name (quotes, markup, a newline) is refused whole.
    assert re.fullmatch(rf" +3  {re.escape(target('h3', 4, 66))} +AS{HOSTILE_ASN} +\S* +"
                        r"\d+\.\d{3} ms", lines[4]), repr(lines[4])
    assert "\x1b" not in r.out and "\\x0a" not in r.out and "x.h3.lab" not in r.out, r.out


@test
def test_annotation_cymru_from_lab_dns():
    _, doc = annotated_run("--asn-source", "cymru")
    n = 0
    for t in doc["traces"]:
        for h in t["hops"]:
            if h["responder"]:
                n += 1
                assert h["asn"] == router_asn(h["responder"]) and h["as_source"] == "cymru", h
                assert h["country"] == "ZZ", h
                assert h["as_org"] == next(a["name"] for a in DNS["cymru"]["as"]
                                           if a["asn"] == h["asn"]), h
    assert n >= 15, n


@test
def test_no_dns_with_dash_n():
    before = lab("counters").out
    _, doc = annotated_run("-n", "--asn-db", LAB_ASN_CSV)
    after = lab("counters").out
    count = lambda text: int(re.search(r"^dns_out (\d+)$", text, re.M).group(1))
    assert count(after) == count(before), (before, after)
    assert all("ptr" not in h for t in doc["traces"] for h in t["hops"])
    assert all("asn" in h for t in doc["traces"] for h in t["hops"] if h["responder"])


@test
def test_silent_dns_server_ends_on_time_with_offline_data():
    stop = lab("dns", "stop")
    assert stop.rc == 0, stop
    try:
        start = time.monotonic()
        r = rg("-q", "--format", "json", "-p", "80", "--asn-db", LAB_ASN_CSV,
               "--asn-source", "offline,cymru", "--dns-timeout", "1.5",
               target("h1", 4, 51), target("h3", 4, 51))
        elapsed = time.monotonic() - start
    finally:
        lab("dns", "start")
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert elapsed < 4.0, f"took {elapsed:.1f}s"
    for t in doc["traces"]:
        for h in t["hops"]:
            if h["responder"]:
                assert h["asn"] == router_asn(h["responder"]) and "ptr" not in h, h


@test
def test_bad_databases():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # started as root, routegraph runs as nobody
        bad_csv = os.path.join(d, "bad.csv")
        with open(bad_csv, "w") as f:
            f.write("198.18.0.0,198.18.15.255,64500,Access\nnot a range\n"
                    "198.18.16.9,198.18.16.0,64501,Reversed\n")
        bad_mmdb = os.path.join(d, "bad.mmdb")
        with open(bad_mmdb, "wb") as f:
            f.write(bytes(range(256)) * 4)
        addr = target("h3", 4, 14)
        r = rg("-n", "-p", "80", "--asn-db", os.path.join(d, "missing.csv"), addr)
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1 \
            and "missing.csv" in r.err, r
        r = rg("-n", "-p", "80", "--mmdb", bad_mmdb, addr)
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1 \
            and "bad.mmdb" in r.err, r
        r = rg("-n", "-p", "80", "--asn-db", bad_csv, addr)
        assert r.rc == 0 and len(r.err.splitlines()) == 1, r
        assert "2 malformed or reversed lines skipped" in r.err and "bad.csv:2" in r.err, r.err
        # The hop columns: address, no name (-n), the AS from the good line.
        assert re.search(r"^ +1  198\.18\.0\.1 +AS64500 +\S* +\d+\.\d{3} ms$", r.out, re.M), r.out
        assert "  AS64500  Access\n" in r.out, r.out


@test
def test_graph_outputs_and_render_of_saved_json():
    import struct
    import xml.etree.ElementTree as ET
    addrs = [target("h1", 4, 60), target("h2", 4, 60), target("h3", 4, 66),
             target("h1", 6, 60)]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # started as root, routegraph runs as nobody
        live = os.path.join(d, "live")
        r = rg("-q", "-p", "80,443", "--asn-db", hostile_asn_csv(d), "-o", live,
               "--format", "json,dot,svg,png", *addrs)
        assert r.rc == 0 and r.err == "", r
        doc = json.load(open(live + ".json"))
        svg = ET.parse(live + ".svg").getroot()  # well-formed despite the hostile name
        ns = {"s": "http://www.w3.org/2000/svg"}
        titles = {t.text for t in svg.iterfind(".//s:g[@class='node']/s:title", ns)}
        responders = {h["responder"] for t in doc["traces"] for h in t["hops"] if h["responder"]}
        assert responders <= titles, responders - titles
        assert "prober" in titles and any(t.startswith("unk") for t in titles), titles
        text = "".join(svg.itertext())
        assert HOSTILE_ORG in text, "hostile name not shown literally"
        assert "x.h3.lab" not in open(live + ".svg").read()  # the refused PTR name
        assert svg.find(".//s:script", ns) is None
        clusters = {t.text for t in svg.iterfind(".//s:g[@class='cluster']/s:title", ns)}
        assert len(clusters) == 5, clusters  # the four lab ASes on these paths, and HOSTILE_ASN
        png = open(live + ".png", "rb").read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", png[:16]
        w, h = struct.unpack(">II", png[16:24])
        assert 400 < w < 20000 and 200 < h < 20000, (w, h)
        # Re-rendering the saved JSON gives the very same graph source.
        again = os.path.join(d, "again")
        r = run([*WRAP, BIN, "render", live + ".json", "-o", again, "--format", "dot,svg"])
        assert r.rc == 0 and r.err == "", r
        assert open(again + ".dot").read() == open(live + ".dot").read()
        ET.parse(again + ".svg")
        r = run([*WRAP, BIN, "render", os.path.join(d, "missing.json")])
        assert r.rc == 2 and len(r.err.splitlines()) == 1 and "missing.json" in r.err, r


def on_terminal(args, answer=None, timeout=30):
    """Runs routegraph with stdin and stderr on a pseudo-terminal (stdout a
    pipe); types `answer` once the prompt appears. Returns (rc, stdout, tty)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(["ip", "netns", "exec", PROBER["netns"], *WRAP, BIN, *args],
                         stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                         env=dict(os.environ, ROUTEGRAPH_LAB_ONLY="1"))
    os.close(slave)
    tty, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                tty += chunk
                if answer and b"IP/domain" in tty:
                    os.write(master, answer.encode() + b"\n")
                    answer = None
            elif p.poll() is not None:
                break
        out = p.stdout.read().decode()
        p.wait(timeout=5)
        return p.returncode, out, tty.decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


@test
def test_progress_line_only_on_a_terminal():
    # Probing only the silent router: no RTT is ever seen, so the probe waits
    # the whole --timeout and the run lasts over a second.
    args = ["-p", "443", "--min-ttl", "5", "--max-ttl", "5", "-r", "0", "-w", "2",
            target("h2", 4, 30)]
    rc, out, tty = on_terminal(args)
    # The port probes expire at the silent router: nothing shows they got anywhere.
    assert rc == 0 and re.search(r"port unknown: no answer at all to \d+ probes?\n", out), (rc, out, tty)
    # Elapsed time, and no estimate while no trace has finished.
    assert re.search(r"\r\x1b\[Ktraces 0/1 done, \d+ probes sent, \d+ replies, \d+\.\d s, "
                     r"time left not known yet", tty), repr(tty)
    assert tty.endswith("\r\x1b[K"), repr(tty[-40:])  # the line is erased at the end
    rc, out, tty = on_terminal(["-q", *args])
    assert rc == 0 and tty == "", repr(tty)


@test
def test_prompts_for_targets_on_a_terminal():
    addr = target("h3", 4, 13)
    rc, out, tty = on_terminal(["-p", "80"], answer=addr)
    assert "Enter one or more IP/domain, separated by spaces" in tty, repr(tty)
    assert rc == 0, (rc, out, tty)
    assert f"{addr}:80 " in out and "reached at hop 3, port open" in out, out


@test
def test_installed_with_setcap_runs_as_a_plain_user():
    if WRAP:
        return  # valgrind would run instead of the file-capable binary
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        r = run(["meson", "install", "-C", os.path.dirname(BIN), "--destdir", d, "--quiet"],
                env={"RG_SETCAP_IN_DESTDIR": "1"})
        assert r.rc == 0, r
        # The binary (the bash completion is a file of the same name).
        found = [os.path.join(p, f) for p, _, fs in os.walk(d) for f in fs
                 if f == "routegraph" and os.path.basename(p) == "bin"]
        assert len(found) == 1, found
        installed = found[0]
        p = os.path.dirname(installed)
        while p.startswith(d):
            os.chmod(p, 0o755)
            p = os.path.dirname(p)
        caps = run(["getcap", installed])
        assert "cap_net_raw=ep" in caps.out, caps
        # No sudo, no root: the file capability alone opens the raw sockets.
        r = run(["ip", "netns", "exec", PROBER["netns"], "setpriv", "--reuid=65534",
                 "--regid=65534", "--clear-groups", installed, "-n", "--asn-source", "none",
                 "-p", "80", target("h3", 4, 15)], env={"ROUTEGRAPH_LAB_ONLY": "1"})
        assert r.rc == 0 and "reached at hop 3, port open" in r.out, r


@test
def test_html_report_in_a_real_browser():
    addrs = [target("h1", 4, 61), target("h2", 4, 61), target("h3", 4, 66),
             target("h1", 6, 61)]
    outdir = os.path.join(ROOT, "out")
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # started as root, routegraph runs as nobody
        prefix = os.path.join(d, "report")
        r = rg("-q", "-p", "80,443", "--asn-db", hostile_asn_csv(d), "-o", prefix,
               "--format", "html,json", *addrs)
        assert r.rc == 0 and r.err == "", r
        html = open(prefix + ".html", encoding="utf-8").read()
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") \
            .replace('xmlns:xlink="http://www.w3.org/1999/xlink"', ""), "external reference"
        shot = os.path.join(outdir, "browser-report.png")
        b = run([os.path.join(ROOT, "tests", "browser", "run.sh"), prefix + ".html", shot,
                 "--literal", "<script>alert(1)</script>"], timeout=300)
        assert b.rc == 0 and "not ok" not in b.out and b.out.count("\nok ") >= 10, b
        assert os.path.getsize(shot) > 10000, shot


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


@test
def test_privileges_dropped_while_running():
    # Probing only the silent router keeps the process waiting its --timeout.
    env = dict(os.environ, ROUTEGRAPH_LAB_ONLY="1", SUDO_UID="65534", SUDO_GID="65534")
    slow = 3 if WRAP else 1  # valgrind starts slowly
    p = subprocess.Popen(["ip", "netns", "exec", PROBER["netns"], *WRAP, BIN, "-q", "-p", "443",
                          "--min-ttl", "5", "--max-ttl", "5", "-w", str(3 * slow), "-r", "0",
                          target("h2", 4, 20)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        time.sleep(1.0 * slow)
        st = proc_status(p.pid)  # ip netns exec execs, so the PID is routegraph's
        with open(f"/proc/{p.pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        # Under valgrind the process is valgrind's tool running routegraph.
        assert st["Name"] == ["routegraph"] or (WRAP and BIN.encode() in argv), (st["Name"], argv)
        for k in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            assert int(st[k][0], 16) == 0, (k, st[k])
        assert int(st["CapBnd"][0], 16) == 0, st["CapBnd"]
        assert st["NoNewPrivs"] == ["1"], st["NoNewPrivs"]
        assert st["Uid"] == ["65534"] * 4 and st["Gid"] == ["65534"] * 4, (st["Uid"], st["Gid"])
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0 and "port unknown: no answer at all" in out, (p.returncode, out, err)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# A setcap'd binary run by an ordinary user: privileges in every mode.
import test_privs  # noqa: E402,F401
import test_render  # noqa: E402,F401
import test_stream  # noqa: E402,F401
import test_graphlevel  # noqa: E402,F401
# Whole-run outputs from compact traces, against render of the saved JSON.
import test_compact  # noqa: E402,F401
# Signals and watching over time.
import test_watch  # noqa: E402,F401
import test_proto  # noqa: E402,F401
import test_country  # noqa: E402,F401
import test_multipath  # noqa: E402,F401
import test_multipath_icmp  # noqa: E402,F401
# ICMP extensions: a forged path of routers (rg-lab-forge -x), stopped when done.
import test_icmpext  # noqa: E402,F401

# The hostile-network tests register last, so that whatever they leave in
# flight (forged or retransmitted packets) cannot reach the tests above.
import test_hostile  # noqa: E402,F401
import test_middlebox  # noqa: E402,F401
import test_rewrite  # noqa: E402,F401
# The internet's conditions rebuild the lab in other modes (and back): last.
import test_internet  # noqa: E402,F401


def main():
    global BIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", help="run only tests whose name contains one of these (comma list)")
    ap.add_argument("--use-running-lab", action="store_true",
                    help="neither bring the lab up nor down (development)")
    ap.add_argument("--wrap", default="", help="command put before routegraph, e.g. valgrind")
    a = ap.parse_args()
    BIN = os.path.abspath(os.path.join(ROOT, a.build, "routegraph"))
    WRAP[:] = a.wrap.split()
    if not a.use_running_lab:
        up = lab("up")
        if up.rc != 0:
            print("not ok 1 - lab up")
            print("# " + "\n# ".join(str(up).splitlines()))
            return 1
    try:
        failed = run_all(a.only)
    finally:
        if not a.use_running_lab:
            down = lab("down")
            if down.rc != 0:
                print("not ok - lab down\n# " + "\n# ".join(str(down).splitlines()))
                failed = 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
