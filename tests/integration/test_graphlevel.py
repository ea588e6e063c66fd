"""The AS-level graph (--graph-level) in the lab: a run of more traces than
the automatic threshold, annotated with the lab's AS data, draws one node
per AS with edges weighted by the traces crossing them, exactly as the
lab's topology predicts; the same saved run rendered at router level draws
addresses instead. The binary is run.py's BIN, read at test time; started
as root, routegraph runs as nobody, so output directories are made
writable for it."""
import os
import re
import subprocess
import sys
import tempfile

from harness import PROBER, ROOT, TOPO, target, test

LAB_ASN_CSV = os.path.join(ROOT, "lab", "asn.csv")
# 70 addresses of each target network x 2 ports: 420 traces, past the
# automatic threshold (RG_GRAPH_AS_TRACES, 200).
PER_NET = 70
PORTS = ("80", "443")


def argv(*args):
    main = sys.modules["__main__"]
    return ["ip", "netns", "exec", PROBER["netns"], *main.WRAP, main.BIN, *args]


def slow():
    return 10 if sys.modules["__main__"].WRAP else 1


def router_asn(address):
    for r in TOPO["routers"]:
        for i in r["interfaces"]:
            if address in (i["v4"], i["v6"]):
                return i["asn"]
    raise AssertionError(f"{address} is no lab router")


def expected(nets):
    """Nodes and weighted edges the lab's ground truth gives: each
    network's first branch (both branches cross the same ASes), its silent
    hops as an unk node between the ASes around them."""
    edges, services = {}, {}
    n = PER_NET * len(PORTS)
    for name in nets:
        net = next(t for t in TOPO["targets"] if t["name"] == name)
        path, gap = ["prober"], False
        for hop in net["branches"]["4"][0]:
            if hop is None:
                gap = True
                continue
            node = f"AS{router_asn(hop)}"
            if gap and node != path[-1]:
                path.append(f"unk:{path[-1]}:{node}")
            gap = False
            if node != path[-1]:
                path.append(node)
        if path[-1] != f"AS{net['asn']}":
            path.append(f"AS{net['asn']}")
        for a, b in zip(path, path[1:]):
            edges[(a, b)] = edges.get((a, b), 0) + n
        for port in PORTS:
            services[(f"AS{net['asn']}", port, net["ports"][port])] = PER_NET
    return edges, services


def parse_dot(text):
    """The AS graph's nodes (name -> label) and edges ((from, to) -> label)."""
    nodes = dict(re.findall(r'^  "([^"]+)" \[label=<(.*)>, ', text, re.M))
    edges = {(a, b): lab for a, b, lab in
             re.findall(r'^  "([^"]+)" -> "([^"]+)" \[.*label="([^"]+)"\];$', text, re.M)}
    return nodes, edges


@test
def test_graph_level_auto_draws_ases_for_a_big_run():
    nets = ("h1", "h2", "h3")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        tf = os.path.join(d, "targets.txt")
        with open(tf, "w") as f:
            f.write("".join(target(n, 4, h) + "\n" for n in nets for h in range(1, PER_NET + 1)))
        os.chmod(tf, 0o644)
        prefix = os.path.join(d, "run")
        r = subprocess.run(argv("-q", "-n", "--asn-db", LAB_ASN_CSV, "--rate", "20000",
                                "-p", ",".join(PORTS), "-f", tf, "-o", prefix,
                                "--format", "json,dot,svg"),
                           capture_output=True, text=True, timeout=180 * slow(),
                           env=dict(os.environ, ROUTEGRAPH_LAB_ONLY="1"))
        assert r.returncode == 0 and r.stderr == "", r
        dot = open(prefix + ".dot").read()
        svg = open(prefix + ".svg").read()
        main = sys.modules["__main__"]
        router = subprocess.run([*main.WRAP, main.BIN, "render", prefix + ".json", "-q",
                                 "--graph-level", "router", "--format", "dot"],
                                capture_output=True, text=True, timeout=120 * slow())
    assert router.returncode == 0 and router.stderr == "", router
    nodes, edges = parse_dot(dot)
    want_edges, want_services = expected(nets)
    # unk nodes are named by number: map ours to their (before, after).
    unk = {}
    for (a, b), _ in want_edges.items():
        for x in (a, b):
            if x.startswith("unk:"):
                unk[x] = None
    got_unks = [name for name in nodes if name.startswith("asunk")]
    assert len(got_unks) == len(unk), (got_unks, unk)
    for name in got_unks:
        before = next(a for a, b in edges if b == name)
        after = next(b for a, b in edges if a == name)
        unk[f"unk:{before}:{after}"] = name
    named = {(unk.get(a, a), unk.get(b, b)): str(n) for (a, b), n in want_edges.items()}
    assert edges == named, (edges, named)
    want_nodes = {"prober"} | {x for e in named for x in e}
    assert set(nodes) == want_nodes, (sorted(nodes), sorted(want_nodes))
    assert "420 traces" in nodes["prober"], nodes["prober"]
    for (asn, port, state), count in want_services.items():
        cell = f"<td align=\"right\">{port}</td><td bgcolor=\"#[0-9a-f]{{6}}\">{state} &#215;{count}</td>"
        assert re.search(cell, nodes[asn]), (asn, port, state, nodes[asn])
    assert "RG-LAB-TRANSIT Lab Transit Backbone" in nodes["AS64501"], nodes["AS64501"]
    for name in want_nodes:  # the SVG drew the same nodes, named alike
        assert f"<title>{name}</title>" in svg, name
    # The router level of the same saved run: addresses, no AS nodes.
    assert '"AS64500"' not in router.stdout and '"198.18.0.1"' in router.stdout, router.stdout[:500]
