"""ICMP extensions (RFC 4884) in the lab. The kernel sends none, so
rg-lab-forge -x plays a path of routers that do (MPLS label stacks, RFC 5837
interface information, one hop in the pre-RFC 4884 layout) in front of a
target prefix that the prober's first hop drops (lab/topology.json,
forger.extension_path). What those routers sent must come out of routegraph
exactly: in the JSON (every label, TC, S, TTL, ifIndex, address, name, MTU
per hop, also after routegraph render), as marks in the table, under the
hops of the AS-path view, and on the graph's nodes and the HTML report,
escaped. Both families in one run."""
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile

from harness import PROBER, ROOT, TOPO, run, test

FORGER = TOPO["forger"]
PATH = FORGER["extension_path"]
DROP = PATH["drop"]
DEPTH = PATH["depth"]


def binary(name="routegraph"):
    """A program of the build under test (run.py's --build)."""
    return os.path.join(os.path.dirname(sys.modules["__main__"].BIN), name)


def router(family, ttl):
    """Hop ttl's address: the routers' base with ttl as its last byte."""
    base = PATH["routers"][str(family)]
    return f"{base.rsplit('.', 1)[0]}.{ttl}" if family == 4 else f"{base}{ttl:x}"


def expected(family, ttl):
    """The hop's extensions as routegraph's JSON writes them."""
    hop = next(h for h in PATH["hops"] if h["ttl"] == ttl)
    ext = json.loads(json.dumps(hop["extensions"]))
    for i in (ext or {}).get("interfaces", []):
        if i.get("address") == "ROUTER":
            i["address"] = router(family, ttl)
    return ext


class extension_path:
    """The drop in the first hop and the forger, for a with block; both
    removed by name and PID when it ends, pass or fail."""

    def __init__(self, seconds=60):
        prefixes = PATH["target_prefixes"]
        self.ruleset = (
            f"table {DROP['nft_table']} {{\n"
            "  chain pre {\n"
            "    type filter hook prerouting priority -300; policy accept;\n"
            f"    ip daddr {prefixes['4']} drop\n"
            f"    ip6 daddr {prefixes['6']} drop\n"
            "  }\n"
            "}\n")
        self.argv = ["ip", "netns", "exec", FORGER["netns"], binary("rg-lab-forge"), "-x",
                     "-i", FORGER["interface"], "-t", str(seconds), "-n", "100000",
                     "-r", PATH["routers"]["4"], "-R", PATH["routers"]["6"],
                     prefixes["4"], prefixes["6"]]
        self.p = None
        self.counts = {}

    def nft(self, *args, stdin=None):
        return run(["ip", "netns", "exec", DROP["netns"], "nft", *args], stdin=stdin)

    def __enter__(self):
        r = self.nft("-f", "-", stdin=self.ruleset)
        assert r.rc == 0, r
        # ip netns exec execs: the PID is the forger's.
        self.p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        line = self.p.stdout.readline() if ready else ""
        if line != "ready\n":
            self.__exit__()
            raise AssertionError(f"rg-lab-forge -x did not start: {line!r}")
        return self

    def __exit__(self, *exc):
        if self.p and self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
        if self.p:
            try:
                out, _ = self.p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                out, _ = self.p.communicate()
            for line in out.splitlines():
                k, _, v = line.partition(" ")
                if v.isdigit():
                    self.counts[k] = int(v)
        family, name = DROP["nft_table"].split()
        r = self.nft("delete", "table", family, name)
        assert r.rc == 0, r


def rg(*args, timeout=90):
    wrap = sys.modules["__main__"].WRAP  # run.py's --wrap (valgrind)
    return run(["ip", "netns", "exec", PROBER["netns"], *wrap, binary(), *args],
               timeout=timeout * (10 if wrap else 1), env={"ROUTEGRAPH_LAB_ONLY": "1"})


def outputs(d):
    """One run over both targets writing every format; the files' text."""
    os.chmod(d, 0o777)  # routegraph may run as the sudo user
    prefix = os.path.join(d, "run")
    targets = [PATH["targets"]["4"], PATH["targets"]["6"]]
    r = rg("-q", "-n", "--asn-source", "none", "-p", "80", "-o", prefix,
           "--format", "table,json,dot,html", *targets)
    assert r.rc == 0 and r.err == "", r
    got = {}
    for ext in ("txt", "json", "dot", "html"):
        with open(f"{prefix}.{ext}", encoding="utf-8") as f:
            got[ext] = f.read()
    return got


def hop_replies(t, ttl):
    hop = next(h for h in t["hops"] if h["ttl"] == ttl)
    return [p["reply"] for p in hop["probes"] if p["reply"]]


def check_json(doc):
    assert len(doc["traces"]) == 2, doc["traces"]
    for t in doc["traces"]:
        fam = t["family"]
        assert t["state"] == "open" and t["reached"], t
        assert [h["ttl"] for h in t["hops"] if h["ttl"] < DEPTH] == list(range(1, DEPTH)), t
        for ttl in range(1, DEPTH):
            replies = hop_replies(t, ttl)
            assert replies, (fam, ttl)
            for rep in replies:
                assert rep["from"] == router(fam, ttl) and rep["kind"] == "time-exceeded", rep
                # Every answer carries its hop's extensions, exactly.
                assert rep.get("extensions") == expected(fam, ttl), (fam, ttl, rep)
        at_depth = hop_replies(t, DEPTH)
        assert at_depth and all(r["kind"] == "syn-ack" and "extensions" not in r
                                for r in at_depth), at_depth


def table_rows(text):
    """TTL -> the table's row for it (the grid before the verdict lines)."""
    rows = {}
    for line in text.split("\n\n")[0].splitlines():
        m = re.match(r"\s*(\d+)\s", line)
        if m:
            rows[int(m.group(1))] = line
    return rows


def check_table(text, doc):
    rows = table_rows(text)
    for t in doc["traces"]:
        for ttl in range(1, DEPTH):
            mark = PATH["table_marks"][str(ttl)]
            want = rf"{re.escape(router(t['family'], ttl))}\s+{mark}(?![MI])"
            assert re.search(want, rows[ttl]), (ttl, want, rows[ttl])
    # Per run: 3 hops with labels, 2 with interfaces, in each family.
    assert "6 hops answered with an MPLS label stack (RFC 4950, marked M;" in text, text
    assert "4 hops named their interface (RFC 5837, marked I)" in text, text


def check_paths_view(text):
    for fam in (4, 6):
        for line in (
                "       MPLS label 24005 TC 0 S 0 TTL 1, label 16 TC 5 S 1 TTL 1",
                "       MPLS label 299776 TC 0 S 1 TTL 254",
                f"       incoming interface: ifIndex 7, {router(fam, 4)}, name ge-0/0/1.0, "
                "MTU 1500",
                "       outgoing interface: ifIndex 12",
                "       MPLS label 17 TC 2 S 1 TTL 64",
                '       incoming interface: name ae1.0 "core" <&>, MTU 9000'):
            assert text.count(line + "\n") >= 1, (line, text)
    assert text.count("       outgoing interface: ifIndex 12\n") == 2, text
    assert "\x1b" not in text and "xe-1/2/0" not in text, text


def check_graph(dot, html):
    for fam in (4, 6):
        assert re.search(re.escape(f'"{router(fam, 2)}\\nMPLS 24005, 16\\n'), dot), dot
        assert re.search(re.escape(f'"{router(fam, 4)}\\nin ge-0/0/1.0\\nout ifIndex 12\\n'),
                         dot), dot
        assert re.search(re.escape(f'"{router(fam, 5)}\\nMPLS 17\\nin ae1.0 \\"core\\" <&amp;>'
                                   '\\n'), dot), dot
    # The report: the hop tables name the interface escaped, the SVG too.
    assert 'incoming interface <span class="mono">ae1.0 &quot;core&quot; &lt;&amp;&gt;</span>' \
        in html, html
    assert "MPLS 24005 (TC 0, S 0, TTL 1), 16 (TC 5, S 1, TTL 1)" in html
    assert "ae1.0 &quot;core&quot; &lt;&amp;&gt;" in html.split("<svg", 1)[1]
    for text in (dot, html):
        assert "\x1b" not in text and "xe-1/2/0" not in text and "<&>" not in text.replace(
            "<&amp;>", ""), "an unescaped or unfiltered name"


def check_in_browser(html_path, d):
    """The report in headless Chromium (tests/browser): the hovered hop's
    details list its extensions, the hostile name shown as text."""
    shot = os.path.join(d, "report.png")
    name = expected(4, 5)["interfaces"][0]["name"]
    b = run([os.path.join(ROOT, "tests", "browser", "run.sh"), html_path, shot,
             "--literal", name], timeout=300)
    assert b.rc == 0 and "not ok" not in b.out, b
    assert re.search(r"^ok \d+ - hover: details list the ICMP extensions of " +
                     re.escape(router(4, 5)) + "$", b.out, re.M), b


@test
def test_icmpext_forged_path_round_trips():
    with tempfile.TemporaryDirectory() as d:
        with extension_path() as path:
            got = outputs(d)
        check_in_browser(os.path.join(d, "run.html"), d)
    doc = json.loads(got["json"])
    check_json(doc)
    check_table(got["txt"], doc)
    check_paths_view(got["txt"])
    check_graph(got["dot"], got["html"])
    # The forger answered what it saw, and nothing else answered: every
    # probe of the run got exactly one reply (no duplicates, none lost).
    assert path.counts.get("ext-te", 0) > 0 and path.counts.get("ext-sa", 0) > 0, path.counts
    for t in doc["traces"]:
        for h in t["hops"]:
            assert all("duplicates" not in p for p in h["probes"]), h


@test
def test_icmpext_render_keeps_extensions():
    """A saved document drawn again: the same extensions, the same marks."""
    with tempfile.TemporaryDirectory() as d, extension_path() as _:
        got = outputs(d)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # render drops to nobody when started as root
        src = os.path.join(d, "in.json")
        with open(src, "w") as f:
            f.write(got["json"])
        prefix = os.path.join(d, "again")
        wrap = sys.modules["__main__"].WRAP
        r = run([*wrap, binary(), "render", src, "-q", "-o", prefix, "--format", "table,json"],
                timeout=600 if wrap else 60)
        assert r.rc == 0 and r.err == "", r
        with open(prefix + ".json") as f:
            again = json.load(f)
        with open(prefix + ".txt") as f:
            text = f.read()
    check_json(again)
    check_table(text, again)


def unreach_expected(family):
    """The refusing router's extensions as routegraph's JSON writes them."""
    u = PATH["unreachable"]
    ext = json.loads(json.dumps(u["extensions"]))
    for i in ext.get("interfaces", []):
        if i.get("address") == "ROUTER":
            i["address"] = router(family, u["ttl"])
    return ext


def check_unreachable(doc):
    """Hops 1 .. depth - 1 as on the path; at the depth the router's
    destination unreachable with its extensions, exactly, ending the trace."""
    u = PATH["unreachable"]
    assert sorted(t["address"] for t in doc["traces"]) == sorted(u["targets"].values())
    for t in doc["traces"]:
        fam = t["family"]
        for ttl in range(1, DEPTH):
            replies = hop_replies(t, ttl)
            assert replies and all(r.get("extensions") == expected(fam, ttl) for r in replies), \
                (fam, ttl, replies)
        at = hop_replies(t, u["ttl"])
        icmp = u["icmp"][str(fam)]
        assert at, t["hops"]
        for rep in at:
            assert (rep["kind"], rep["from"], rep["icmp_type"], rep["icmp_code"]) == \
                ("unreachable", router(fam, u["ttl"]), icmp["type"], icmp["code"]), rep
            assert rep.get("extensions") == unreach_expected(fam), (fam, rep)
        assert not t["reached"] and t["state"] == "unreachable", t
        assert (t["unreachable"]["from"], t["unreachable"]["icmp_code"]) == \
            (router(fam, u["ttl"]), icmp["code"]), t["unreachable"]


@test
def test_icmpext_forged_unreachable_round_trips():
    """rg-lab-forge -x refuses the 'unreachable' targets at the depth with
    a destination unreachable carrying extensions (RFC 4884 for both error
    types): into the JSON exactly, the graph's node escaped, and the same
    after routegraph render."""
    targets = list(PATH["unreachable"]["targets"].values())
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # routegraph may run as the sudo user
        prefix = os.path.join(d, "run")
        with extension_path() as path:
            r = rg("-q", "-n", "--asn-source", "none", "-p", "80", "-o", prefix,
                   "--format", "json,dot", *targets)
        assert r.rc == 0 and r.err == "", r
        assert path.counts.get("ext-unreach", 0) > 0, path.counts
        with open(prefix + ".json") as f:
            saved = f.read()
        with open(prefix + ".dot") as f:
            dot = f.read()
        again = os.path.join(d, "again")
        wrap = sys.modules["__main__"].WRAP
        r = run([*wrap, binary(), "render", prefix + ".json", "-q", "-o", again,
                 "--format", "json"], timeout=600 if wrap else 60)
        assert r.rc == 0 and r.err == "", r
        with open(again + ".json") as f:
            rendered = json.load(f)
    check_unreachable(json.loads(saved))
    check_unreachable(rendered)
    for fam in (4, 6):
        want = f'"{router(fam, DEPTH)}\\nMPLS 4242\\nin fw-in<0>\\n'
        assert want in dot, (want, dot)
