"""Middlebox detection from the quotes of ICMP errors, in the lab: the hmb
chain's rewrites (mb1 sets DSCP 46, mb2 clamps the MSS to 1300) found at
the hop topology.json names, once each, in JSON and in the text; nothing
reported anywhere else in the lab (both families, every existing target);
a NAT that leaves quotes rewritten found at its hop; a filtered port's last
hop that still saw the SYN."""
import json
import os
import re
import sys
import tempfile

from harness import NETS, PROBER, TOPO, run, target, test
from test_hostile import impaired, rg

MB = NETS["hmb"]
TRUTH = MB["middlebox"]
LINKS = {l["name"]: l for l in TOPO["links"]}


def run_files(*args, dot=None):
    """One run writing the table, JSON and DOT; returns (table text,
    document), and the DOT text into dot (a list) when given."""
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # routegraph may run as the sudo user
        r = rg("-q", "-n", "--asn-source", "none", "--format", "table,json,dot",
               "-o", os.path.join(d, "run"), *args)
        assert r.rc == 0 and r.err == "", r
        with open(os.path.join(d, "run.txt")) as f, open(os.path.join(d, "run.json")) as g, \
                open(os.path.join(d, "run.dot")) as h:
            if dot is not None:
                dot.append(h.read())
            return f.read(), json.load(g)


def changes(t):
    """[(ttl, field, from, to, after_ttl)] of a trace's hops, in TTL order."""
    return [(h["ttl"], c["field"], c["from"], c["to"], c["after_ttl"])
            for h in t["hops"] for c in h.get("middlebox", [])]


def quoted(t):
    """The TCP bytes each ICMP answer of the trace quoted."""
    return [p["reply"]["quoted_tcp_bytes"] for h in t["hops"] for p in h["probes"]
            if p["reply"] and p["reply"]["kind"] == "time-exceeded"]


def hop_addr(t, ttl):
    return next(h["responder"] for h in t["hops"] if h["ttl"] == ttl)


@test
def test_middlebox_rewrites_found_at_their_hop():
    addrs = [target("hmb", f, h) for f in (4, 6) for h in (5, 6)]
    dot = []
    text, doc = run_files("-p", "80,443", *addrs, dot=dot)
    want = [(c["ttl"], c["field"], c["from"], c["to"], c["ttl"] - 1) for c in TRUTH["changes"]]
    assert len(doc["traces"]) == 8, doc["traces"]
    for t in doc["traces"]:
        # Linux quotes the whole probe, so the options were compared.
        assert quoted(t) and min(quoted(t)) == 24, (t["address"], quoted(t))
        assert changes(t) == want, (t["address"], t["port"], changes(t))
        fam = str(t["family"])
        branch = MB["branches"][fam][0]
        for c in TRUTH["changes"]:
            # The answer quoting the change came from the router truth names.
            assert hop_addr(t, c["ttl"]) == branch[c["ttl"] - 1], t
        want_state = MB["ports"][str(t["port"])]
        assert t["state"] == want_state, t
        if want_state == "filtered":
            assert t["syn_last_seen_ttl"] == TRUTH["syn_last_seen_ttl"][str(t["port"])], t
        else:
            assert "syn_last_seen_ttl" not in t, t
    # One line per change in the text, naming the hop and where it happened.
    for a in addrs:
        fam = 6 if ":" in a else 4
        branch = MB["branches"][str(fam)][0]
        shown = f"[{a}]" if fam == 6 else a
        for port in (80, 443):
            lines = [l for l in text.splitlines() if l.startswith(f"{shown}:{port} ")
                     and "rewritten" in l]
            assert lines == [
                f"{shown}:{port} hop 3 {branch[2]}: DSCP 0 -> 46 (rewritten between TTL 2 and 3)",
                f"{shown}:{port} hop 4 {branch[3]}: MSS 1460 -> 1300 (rewritten between TTL 3 and 4)",
            ], (lines, text)
        assert f"{shown}:443 filtered: SYN last seen at hop 4 {branch[3]}\n" in text, text
    # The graph marks the hops where the changes first show, and no other.
    marked = re.findall(r'^  "([^"]+)" \[label="[^"]*\\nrewritten: ([a-z, -]+)"', dot[0], re.M)
    assert sorted(marked) == sorted(
        [(MB["branches"][f][0][2], "dscp") for f in ("4", "6")] +
        [(MB["branches"][f][0][3], "mss") for f in ("4", "6")]), (marked, dot[0])


@test
def test_middlebox_nothing_reported_on_the_existing_lab():
    """The whole lab as it was before the hmb chain: no change anywhere,
    both families, open, closed and filtered ports."""
    addrs = [target(n, f, h) for f in (4, 6) for n in ("h1", "h2", "h3") for h in (7, 8)]
    dot = []
    text, doc = run_files("-p", "80,443", *addrs, dot=dot)
    assert len(doc["traces"]) == 24
    for t in doc["traces"]:
        assert changes(t) == [], (t["address"], t["port"], changes(t))
        assert quoted(t) and set(quoted(t)) == {24}, (t["address"], quoted(t))
        net = NETS[next(n for n in ("h1", "h2", "h3") if t["address"] in
                        {target(n, 4, 7), target(n, 4, 8), target(n, 6, 7), target(n, 6, 8)})]
        if t["state"] == "filtered":
            # The last router before the destination quoted the SYN.
            assert t["syn_last_seen_ttl"] == net["distance"] - 1, t
    assert "rewritten" not in text and "rewritten" not in dot[0], text
    # The filtered ports are named with their last hop, nothing else is said.
    section = text.split("What the path changed in the probes")[1].splitlines()[1:]
    assert section and all(" filtered: SYN last seen at hop " in l for l in section if l), section


@test
def test_middlebox_nat_leaving_quotes_rewritten():
    """A stateless NAT at mb1 (lab/lab impair snat): the prober's address
    leaves mb1 as mb1's address on Lmb2, and mb2 quotes it. Such an error
    is never a hop's answer (a forger could send the same), but it names
    our probe by its secret: reported as the source rewritten between TTL
    3 and 4, by mb2, with the DSCP change mb1 made before it."""
    addrs = [target("hmb", f, 7) for f in (4, 6)]
    with impaired("snat", "mb1", *addrs, where="mb1"):
        text, doc = run_files("-p", "80", *addrs)
    assert len(doc["traces"]) == 2
    for t in doc["traces"]:
        fam = str(t["family"])
        key = "v4" if fam == "4" else "v6"
        nat = LINKS["Lmb2"]["addresses"]["mb1"][key]
        mb2 = LINKS["Lmb2"]["addresses"]["mb2"][key]
        prober = PROBER[key]
        dscp = TRUTH["changes"][0]
        assert changes(t) == [(dscp["ttl"], "dscp", 0, 46, dscp["ttl"] - 1)], changes(t)
        sr = t["source_rewritten"]
        assert (sr["ttl"], sr["after_ttl"], sr["by"], sr["quoted_source"]) == \
            (4, 3, mb2, nat) and sr["errors"] >= 1, sr
        # Never a hop's answer: hop 4 stays without responder.
        assert hop_addr(t, 4) is None, t["hops"]
        assert t["state"] == "open" and t["reached_ttl"] == MB["distance"], t
        shown = f"[{t['address']}]" if fam == "6" else t["address"]
        n = sr["errors"]
        assert f"{shown}:80 hop 4 {mb2}: source address {prober} -> {nat} (rewritten between " \
               f"TTL 3 and 4; {n} error{'' if n == 1 else 's'} quoting it, not used as hop " \
               f"answers)\n" in text, text
        assert doc["stats"]["unmatched"] >= n, doc["stats"]


@test
def test_middlebox_saved_run_renders_the_same():
    """routegraph render of the saved JSON (no socket, no lab needed) writes
    the same middlebox lines and graph marks as the live run."""
    addrs = [target("hmb", f, 8) for f in (4, 6)]
    main = sys.modules["__main__"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # routegraph may run as the sudo user
        live = os.path.join(d, "live")
        r = rg("-q", "-n", "--asn-source", "none", "--format", "table,json,dot", "-o", live,
               "-p", "80,443", *addrs)
        assert r.rc == 0 and r.err == "", r
        again = os.path.join(d, "again")
        r = run([*main.WRAP, main.BIN, "render", live + ".json", "-o", again,
                 "--format", "table,json,dot"])
        assert r.rc == 0, r
        texts = []
        for base in (live, again):
            with open(base + ".txt") as f:
                texts.append(f.read().split("What the path changed in the probes")[1])
        assert texts[0] == texts[1], texts
        assert texts[0].count("(rewritten between TTL") == 8, texts[0]
        marks = []
        for base in (live, again):
            with open(base + ".dot") as f:
                marks.append(re.findall(r'"([^"]+)" \[label="[^"]*\\nrewritten: ([a-z, -]+)"',
                                        f.read()))
        assert marks[0] == marks[1] and len(marks[0]) == 4, marks
        with open(live + ".json") as f, open(again + ".json") as g:
            a, b = json.load(f), json.load(g)
        for s, t in zip(a["traces"], b["traces"]):
            assert changes(s) == changes(t) and s.get("syn_last_seen_ttl") == \
                t.get("syn_last_seen_ttl"), (changes(s), changes(t))
