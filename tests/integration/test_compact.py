"""Compact traces in a live run: a run that writes the whole-run outputs
keeps each finished trace in its compact form (the probe slots it used), so
every output it writes must be the one the same results give as full
traces, read back from its saved JSON (`routegraph render` keeps them
full), byte for byte, and the results must still be the lab's ground
truth. The binary is run.py's BIN,
read at test time; started as root, routegraph runs as nobody, so output
directories are made writable for it."""
import json
import os
import re
import sys
import tempfile

from harness import PROBER, ROOT, net_of, run, target, test

FORMATS = "table,json,dot,svg,html"
FILES = (".txt", ".json", ".dot", ".svg", ".html")


def main():
    return sys.modules["__main__"]


def rg(*args, timeout=120):
    m = main()
    slow = 10 if m.WRAP else 1
    return run(["ip", "netns", "exec", PROBER["netns"], *m.WRAP, m.BIN, *args],
               timeout=timeout * slow, env={"ROUTEGRAPH_LAB_ONLY": "1"})


def without_nonce(text):
    """The HTML report's script nonce is new on every write."""
    return re.sub(r"nonce-[0-9a-f]+|nonce=\"[0-9a-f]+\"", "nonce", text)


def read(path):
    with open(path, errors="replace") as f:
        text = f.read()
    return without_nonce(text) if path.endswith(".html") else text


def live_and_rendered(addrs, *extra):
    """Writes every whole-run output of one live run, then renders its
    JSON again; returns {ext: (live text, rendered text)} and the JSON."""
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        live, again = os.path.join(d, "live"), os.path.join(d, "again")
        r = rg("-q", "-p", "80,443", *extra, "--format", FORMATS, "-o", live, *addrs)
        assert r.rc == 0 and r.err == "", r
        m = main()
        r = run([*m.WRAP, m.BIN, "render", live + ".json", "-q", "--format", FORMATS,
                 "-o", again], timeout=120 * (10 if m.WRAP else 1))
        assert r.rc == 0 and r.err == "", r
        out = {ext: (read(live + ext), read(again + ext)) for ext in FILES}
        return out, json.loads(out[".json"][0])


def assert_same(out):
    for ext, (live, again) in out.items():
        assert live, f"{ext}: empty"
        if live != again:
            at = next(i for i, (a, b) in enumerate(zip(live, again)) if a != b) \
                if any(a != b for a, b in zip(live, again)) else min(len(live), len(again))
            raise AssertionError(f"{ext} differs from render at {at}: "
                                 f"{live[max(0, at - 80):at + 80]!r} / "
                                 f"{again[max(0, at - 80):at + 80]!r}")


def check_truth(doc):
    """Each trace's port state and hops as lab/topology.json has them."""
    for t in doc["traces"]:
        net = net_of(t["address"])
        assert t["state"] == net["ports"][str(t["port"])], (t["address"], t["port"], t["state"])
        by_ttl = {h["ttl"]: h["responder"] or h.get("inferred_responder") for h in t["hops"]}
        got = [by_ttl.get(ttl) for ttl in range(1, net["distance"])]
        assert got in net["branches"][str(t["family"])], (t["address"], t["port"], got)


@test
def test_compact_run_outputs_equal_render_of_its_json():
    # The matrix run: 2 hosts in each target network, both families.
    addrs = [target(n, f, h) for f in (4, 6) for n in ("h1", "h2", "h3") for h in (5, 6)]
    out, doc = live_and_rendered(addrs)
    assert len(doc["traces"]) == 24, len(doc["traces"])
    check_truth(doc)
    assert_same(out)
    # Every attempt is still there: the silent router's hop lists its probes.
    h2 = [t for t in doc["traces"] if net_of(t["address"])["name"] == "h2"]
    assert h2 and all(len(next(h for h in t["hops"] if h["ttl"] == 5)["probes"]) >= 1
                      for t in h2)


@test
def test_compact_run_of_many_traces_equals_render():
    # 300 addresses x 2 ports, past the AS-level graph's threshold (200
    # traces): the AS-level DOT and SVG, from compact traces.
    addrs = [target(net, 4, h) for h in range(100, 200) for net in ("h1", "h2", "h3")]
    out, doc = live_and_rendered(addrs, "--asn-db", os.path.join(ROOT, "lab", "asn.csv"),
                                 "--rate", "5000")
    assert len(doc["traces"]) == 600, len(doc["traces"])
    check_truth(doc)
    dot = out[".dot"][0]
    assert "\"AS64500\"" in dot and "\"prober\"" in dot, dot[:400]  # the AS level
    assert_same(out)
