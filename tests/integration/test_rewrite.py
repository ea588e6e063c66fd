"""Middleboxes that rewrite what our probes are keyed on, in the lab
(lab/lab impair portmap|sportmap|seqshift|dnat, stateless, quotes left
alone): a port rewritten is found at the hop that first quotes it, from
that hop's own answer, and the port's state stays right; a destination
rewritten or a sequence number shifted is reported as evidence from the
errors quoting it, never as a hop's answer; the targets beside them, in
the same runs, show only the hmb chain's own changes."""
import json
import os
import re
import sys
import tempfile

from harness import NETS, TOPO, run, test, target
from test_hostile import impaired
from test_middlebox import changes, hop_addr, run_files

MB = NETS["hmb"]
TRUTH = MB["middlebox"]
LINKS = {l["name"]: l for l in TOPO["links"]}
DSCP = [(c["ttl"], c["field"], c["from"], c["to"], c["ttl"] - 1) for c in TRUTH["changes"]
        if c["field"] == "dscp"]
MSS = [(c["ttl"], c["field"], c["from"], c["to"], c["ttl"] - 1) for c in TRUTH["changes"]
       if c["field"] == "mss"]


def branch(t):
    return MB["branches"][str(t["family"])][0]


def shown(t):
    return f"[{t['address']}]" if t["family"] == 6 else t["address"]


def hop(t, ttl):
    return next(h for h in t["hops"] if h["ttl"] == ttl)


def label_of(dot, address):
    """The DOT label of the node named address."""
    m = re.search(r'^  "' + re.escape(address) + r'" \[label="((?:[^"\\]|\\.)*)"', dot, re.M)
    assert m, (address, dot)
    return m.group(1)


def rendered(doc):
    """routegraph render of a saved document (no socket, no lab): the
    table's text and the HTML report."""
    main = sys.modules["__main__"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # render drops to nobody when started as root
        src = os.path.join(d, "in.json")
        with open(src, "w") as f:
            json.dump(doc, f)
        out = os.path.join(d, "again")
        r = run([*main.WRAP, main.BIN, "render", src, "-q", "-o", out, "--format",
                 "table,html"], timeout=600 if main.WRAP else 60)
        assert r.rc == 0 and r.err == "", r
        with open(out + ".txt") as f, open(out + ".html") as g:
            return f.read(), g.read()


def check_untouched(t):
    """A target no impairment is scoped to: the hmb chain's changes only."""
    assert changes(t) == DSCP + MSS, (t["address"], t["port"], changes(t))
    for k in ("source_rewritten", "destination_rewritten", "sequence_shifted"):
        assert k not in t, (t["address"], k, t[k])
    assert t["state"] == MB["ports"][str(t["port"])], t


@test
def test_rewrite_destination_port_found_at_its_hop():
    """portmap at mb1: port 8080 leaves mb1 as 80, so mb2 (TTL 4) is the
    first to quote it; its answer is hop 4's, and the port is hmb's 80:
    open."""
    addrs = [target("hmb", f, 30) for f in (4, 6)]
    plain = [target("hmb", f, 31) for f in (4, 6)]
    dot = []
    with impaired("portmap", "mb1", *addrs, where="mb1"):
        text, doc = run_files("-p", "8080", *addrs, *plain, dot=dot)
    assert len(doc["traces"]) == 4
    for t in doc["traces"]:
        if t["address"] in plain:
            # hmb's port 8080 itself: nothing rewritten, closed.
            assert changes(t) == DSCP + MSS and t["state"] == "closed", (changes(t), t["state"])
            continue
        assert changes(t) == DSCP + [(4, "dport", 8080, 80, 3)] + MSS, changes(t)
        assert hop_addr(t, 4) == branch(t)[3], t["hops"]
        assert t["state"] == "open" and t["reached_ttl"] == MB["distance"], t
        assert f"{shown(t)}:8080 hop 4 {branch(t)[3]}: destination port 8080 -> 80 " \
               f"(rewritten between TTL 3 and 4)\n" in text, text
    assert text.count("destination port") == 2, text
    # The graph marks mb2 with what its quotes first showed.
    for f in ("4", "6"):
        assert label_of(dot[0], MB["branches"][f][0][3]).endswith("\\nrewritten: dport, mss"), \
            dot[0]


@test
def test_rewrite_source_port_found_at_its_hop():
    """sportmap at r2: the source port leaves r2 XOR 0x4000, so mb1 (TTL 3)
    quotes it, besides the DSCP mb1 sets; the state is unchanged."""
    addrs = [target("hmb", f, 32) for f in (4, 6)]
    plain = [target("hmb", f, 33) for f in (4, 6)]
    with impaired("sportmap", "r2", *addrs, where="r2"):
        text, doc = run_files("-p", "80,443", *addrs, *plain)
    assert len(doc["traces"]) == 8
    for t in doc["traces"]:
        if t["address"] in plain:
            check_untouched(t)
            continue
        ch = changes(t)
        assert len(ch) == 3 and ch[0] == DSCP[0] and ch[2] == MSS[0], ch
        ttl, field, before, after, after_ttl = ch[1]
        assert (ttl, field, after_ttl) == (3, "sport", 2) and after == before ^ 0x4000 and \
            32768 <= before < 61000, ch
        assert hop_addr(t, 3) == branch(t)[2], t["hops"]
        assert t["state"] == MB["ports"][str(t["port"])], t
        assert f"{shown(t)}:{t['port']} hop 3 {branch(t)[2]}: source port {before} -> {after} " \
               f"(rewritten between TTL 2 and 3)\n" in text, text
    assert text.count("source port") == 4, text


@test
def test_rewrite_sequence_shift_and_destination_are_evidence():
    """seqshift at mb1 (IPv4 and IPv6 targets) and dnat at mb1 (one target
    per family sent to its neighbour): mb2's errors quote the shifted
    sequence number or the other destination. They are reported with the
    hop that sent them and never used as hop 4's answer; the destination
    still answers (the rewrites are undone on the way back). An IPv6 quote
    with its sequence number shifted names no probe: nothing is said."""
    shifted = [target("hmb", f, 34) for f in (4, 6)]
    moved = {target("hmb", f, 35): target("hmb", f, 36) for f in (4, 6)}
    plain = [target("hmb", f, 37) for f in (4, 6)]
    a4, a6 = list(moved)
    dot = []
    with impaired("seqshift", "mb1", *shifted, where="mb1"), \
            impaired("dnat", "mb1", a4, moved[a4], where="mb1"):
        # (one dnat table per router: the IPv6 one is a second run below)
        text, doc = run_files("-p", "80", *shifted, a4, *plain, dot=dot)
    with impaired("dnat", "mb1", a6, moved[a6], where="mb1"):
        text6, doc6 = run_files("-p", "80", a6, dot=dot)
    # The graph marks mb1, the last hop that quoted the probes as sent.
    assert label_of(dot[0], MB["branches"]["4"][0][2]).endswith(
        "\\nrewritten: dscp\\nrewritten after it: dst, seq"), dot[0]
    assert label_of(dot[0], MB["branches"]["6"][0][2]).endswith("\\nrewritten: dscp"), dot[0]
    assert label_of(dot[1], MB["branches"]["6"][0][2]).endswith(
        "\\nrewritten: dscp\\nrewritten after it: dst"), dot[1]
    traces = doc["traces"] + doc6["traces"]
    assert len(traces) == 6
    for t in traces:
        a = t["address"]
        if a in plain:
            check_untouched(t)
            continue
        mb2 = branch(t)[3]
        # Hop 4's errors were not answers; the destination answered.
        assert all(p["reply"] is None for p in hop(t, 4)["probes"]), hop(t, 4)
        assert t["state"] == "open" and t["reached_ttl"] == MB["distance"], t
        assert changes(t) == DSCP, changes(t)
        out = text6 if a == a6 else text
        if a in moved:
            d = t["destination_rewritten"]
            assert (d["ttl"], d["after_ttl"], d["by"], d["quoted_destination"],
                    d["quoted_port"]) == (4, 3, mb2, moved[a], 80) and d["errors"] >= 1, d
            assert "sequence_shifted" not in t, t
            n = d["errors"]
            assert f"{shown(t)}:80 hop 4 {mb2}: destination address {a} -> {moved[a]} " \
                   f"(rewritten between TTL 3 and 4; {n} error{'' if n == 1 else 's'} quoting " \
                   f"it, not used as hop answers)\n" in out, out
        elif t["family"] == 4:
            s = t["sequence_shifted"]
            assert (s["ttl"], s["after_ttl"], s["by"], s["shift"]) == \
                (4, 3, mb2, -2**31) and s["errors"] >= 1, s
            assert "destination_rewritten" not in t, t
            n = s["errors"]
            assert f"{shown(t)}:80 hop 4 {mb2}: sequence number shifted by -2147483648 " \
                   f"(shifted between TTL 3 and 4; {n} error{'' if n == 1 else 's'} quoting " \
                   f"it, not used as hop answers)\n" in out, out
        else:
            assert "sequence_shifted" not in t and "destination_rewritten" not in t, t
        # The errors were counted as unmatched replies, not as answers.
        assert (doc6 if a == a6 else doc)["stats"]["unmatched"] >= 1
    # A saved run drawn again says the same, and the report's hop rows too.
    again, html = rendered(doc)
    section = text.split("What the path changed in the probes")[1]
    assert again.split("What the path changed in the probes")[1] == section, (again, text)
    mb2 = MB["branches"]["4"][0][3]
    assert "sequence number shifted by -2147483648 before this hop: " in html, html
    assert re.search(r"destination address " + re.escape(a4) + " -&gt; " +
                     re.escape(moved[a4]) + r" before this hop: \d+ errors? from " +
                     re.escape(mb2) + " quoting it, not used as answers", html), html
