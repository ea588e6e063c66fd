"""lab/topology.json is the lab's one source: every file derived from it
agrees with it, and what lab/lab builds from it (routes, zones) gives the
ground truth it states (branches, responders, PTR names, Cymru answers).
Pure: no lab, no root."""
import ipaddress
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from rglab import derived, dnszone, topology  # noqa: E402 - after the path is set

TOPO = topology.load()
DOC = TOPO.doc


def lookup(routes, addr):
    """Longest-prefix match over [(network, value)]."""
    best = None
    for net, val in routes:
        if addr.version == net.version and addr in net and (best is None or
                                                            net.prefixlen > best[0].prefixlen):
            best = (net, val)
    return best[1] if best else None


def fib(node, family, switched=None):
    """node's forwarding table as lab/lab builds it: connected links,
    its own target networks (local) and the routes of topology.json;
    switched (router, target name, next hop): what lab/lab switch makes of
    it."""
    key = "v4_prefix" if family == 4 else "v6_prefix"
    out = [(ipaddress.ip_network(getattr(l, key)), ("connected", l.peer(node)))
           for l in TOPO.links_of(node)]
    out += [(ipaddress.ip_network(t[key]), ("local", None)) for t in TOPO.targets if t["host"] == node]
    routes = TOPO.routes(node)
    if switched and switched[0] == node:
        routes = [(n, h) for n, h in routes if n != switched[1]] + [(switched[1], [switched[2]])]
    out += [(ipaddress.ip_network(TOPO.prefix(name, family)), ("via", hops))
            for name, hops in routes]
    return out


def holds(node, addr, family):
    key = "v4_prefix" if family == 4 else "v6_prefix"
    return any(addr in ipaddress.ip_network(t[key]) for t in TOPO.targets if t["host"] == node) \
        or any(ipaddress.ip_address(l.addr(node, family)) == addr for l in TOPO.links_of(node))


def paths(dst, family, switched=None):
    """Every path a packet from the prober to dst can take (one per ECMP
    branch): ([(router, address it answers from)], the node holding dst)."""
    addr = ipaddress.ip_address(dst)
    done = []

    def walk(prev, node, path):
        if len(path) > 16:
            raise AssertionError(f"routing loop towards {dst}: {path}")
        if holds(node, addr, family):
            done.append((path, node))
            return
        path = path + [(node, TOPO.link_between(node, prev).addr(node, family))]
        kind, val = lookup(fib(node, family, switched), addr) or (None, None)
        if kind is None:
            raise AssertionError(f"{node} has no route to {dst}")
        for h in ([val] if kind == "connected" else val):
            walk(node, h, path)

    walk(TOPO.prober["name"], TOPO.prober_gateway(), [])
    return done


class Derived(unittest.TestCase):
    def test_asn_csv_is_generated_from_topology(self):
        with open(derived.ASN_CSV, encoding="utf-8") as f:
            self.assertEqual(f.read(), derived.asn_csv(TOPO), "lab/lab generate rewrites lab/asn.csv")

    def test_country_csv_is_generated_from_topology(self):
        if not derived.has_countries(TOPO):
            self.assertFalse(os.path.exists(derived.COUNTRY_CSV), "country.csv without ases[].country")
            return
        with open(derived.COUNTRY_CSV, encoding="utf-8") as f:
            self.assertEqual(f.read(), derived.country_csv(TOPO),
                             "lab/lab generate rewrites lab/country.csv")

    def test_readme_tables_agree_with_topology(self):
        with open(derived.README, encoding="utf-8") as f:
            text = f.read()
        for name in derived.TABLES:
            self.assertIn(f"<!-- topology.json: {name} -->", text, f"README has no {name} table")
        self.assertEqual(text, derived.readme(TOPO, text), "lab/lab generate rewrites lab/README.md")

    def test_asn_csv_covers_every_as_prefix_once(self):
        rows = [l.split(",") for l in derived.asn_csv(TOPO).splitlines() if not l.startswith("#")]
        want = sum(len(a["v4"]) + len(a["v6"]) for a in DOC["ases"])
        self.assertEqual(len(rows), want)
        self.assertIn('"RG-LAB-CLOUD, Lab Cloud"', derived.asn_csv(TOPO))


class Routing(unittest.TestCase):
    def test_every_target_path_is_a_ground_truth_branch(self):
        for t in TOPO.targets:
            for fam in (4, 6):
                dst = str(ipaddress.ip_network(t[f"v{fam}_prefix"])[5])
                got = paths(dst, fam)
                self.assertTrue(all(h == t["host"] for _, h in got), (dst, got))
                routers = sorted([r for r, _ in p] for p, _ in got)
                self.assertEqual(routers, sorted(t["branch_routers"]), dst)
                for p, _ in got:
                    self.assertEqual(len(p) + 1, t["distance"], (dst, p))
                    answers = [None if r in TOPO.silent_routers else a for r, a in p]
                    self.assertIn(answers, t["branches"][str(fam)], (dst, p))

    def check_paths(self, t, fam, truth, switched=None):
        dst = str(ipaddress.ip_network(t[f"v{fam}_prefix"])[5])
        got = paths(dst, fam, switched)
        self.assertTrue(all(h == t["host"] for _, h in got), (dst, got))
        self.assertEqual(sorted([r for r, _ in p] for p, _ in got),
                         sorted(truth["branch_routers"]), (dst, switched))
        for p, _ in got:
            self.assertEqual(len(p) + 1, truth["distance"], (dst, p))
            answers = [None if r in TOPO.silent_routers else a for r, a in p]
            self.assertIn(answers, truth["branches"][str(fam)], (dst, p))
        self.assertEqual(len(got), len(truth["branches"][str(fam)]), dst)

    def test_every_switch_state_is_its_ground_truth(self):
        """lab/lab switch: each state's branches are where its route leads;
        the default state is the target's own ground truth; every other
        target keeps its paths in every state."""
        sws = [t for t in TOPO.targets if "switch" in t]
        self.assertEqual([t["name"] for t in sws], ["hsw"])
        for t in sws:
            sw = t["switch"]
            d = sw["states"][sw["default"]]
            for k in ("distance", "branches", "branch_routers", "responders"):
                self.assertEqual(d[k], t[k], k)
            for name, st in sw["states"].items():
                switched = (sw["router"], t["name"], st["next_hop"])
                for fam in (4, 6):
                    self.check_paths(t, fam, st, switched)
                    for other in TOPO.targets:
                        if other is not t:
                            self.check_paths(other, fam, other, switched)
        # The three kinds of change the states stand for, by AS.
        st = sws[0]["switch"]["states"]
        asn = {r["name"]: r["asn"] for r in DOC["routers"]}
        ases = {k: [asn[r] for r in v["branch_routers"][0]] for k, v in st.items()}
        self.assertEqual(ases["r5"], ases["r5b"])
        self.assertNotEqual(st["r5"]["branches"]["4"][0][4], st["r5b"]["branches"]["4"][0][4])
        self.assertEqual(ases["r6"][-1], 64503)
        self.assertNotIn(64503, ases["r5"])

    def test_unrouted_address_has_no_route_at_the_gateway(self):
        u = DOC["unrouted"]
        for fam in (4, 6):
            gw = TOPO.prober_gateway()
            self.assertIsNone(lookup(fib(gw, fam), ipaddress.ip_address(u[f"v{fam}"])))
            self.assertEqual(TOPO.link_between(gw, TOPO.prober["name"]).addr(gw, fam),
                             u["responder"][str(fam)])

    def test_prober_addresses_and_gateway(self):
        l = TOPO.link_between(TOPO.prober["name"], TOPO.prober_gateway())
        for fam in (4, 6):
            self.assertEqual(l.addr(TOPO.prober["name"], fam), TOPO.prober[f"v{fam}"])
            self.assertEqual(l.addr(TOPO.prober_gateway(), fam), TOPO.prober[f"gateway_v{fam}"])

    def test_router_interfaces_match_links(self):
        for r in DOC["routers"] + DOC["hosts"]:
            for i in r["interfaces"]:
                l = TOPO.link_by_name[i["link"]]
                self.assertEqual((i["ifname"], i["v4"], i["v6"]),
                                 (f"to-{i['peer']}", l.addr(r["name"], 4), l.addr(r["name"], 6)))


class Scale(unittest.TestCase):
    """Issue 14: the lab hosts at least 65,536 target addresses, spread over
    hosts behind different routers and over the ECMP pair."""

    def test_at_least_65536_target_addresses_per_family(self):
        for fam in (4, 6):
            n = sum(ipaddress.ip_network(t[f"v{fam}_prefix"]).num_addresses for t in TOPO.targets)
            self.assertGreaterEqual(n, 65536, fam)

    def test_target_networks_do_not_overlap(self):
        for fam in (4, 6):
            nets = [ipaddress.ip_network(t[f"v{fam}_prefix"]) for t in TOPO.targets]
            nets += [ipaddress.ip_network(l.v4_prefix if fam == 4 else l.v6_prefix)
                     for l in TOPO.links]
            for i, a in enumerate(nets):
                for b in nets[i + 1:]:
                    self.assertFalse(a.overlaps(b), (a, b))

    def test_wide_networks_take_different_paths(self):
        wide = [t for t in TOPO.targets if TOPO.wide(t)]
        self.assertGreaterEqual(len({t["host"] for t in wide}), 2)
        self.assertGreaterEqual(len({t["branch_routers"][0][-1] for t in wide}), 2)
        self.assertTrue(any(len(t["branches"]["4"]) > 1 for t in wide))
        for t in wide:
            first = next(f for f in TOPO.targets if f["host"] == t["host"])
            self.assertFalse(TOPO.wide(first), t["name"])
            for k in ("ports", "distance", "branches", "branch_routers", "responders"):
                self.assertEqual(t[k], first[k], (t["name"], k))

    def test_a_host_gets_one_listener_and_firewall(self):
        hosts = [t["host"] for t in TOPO.host_targets()]
        self.assertEqual(sorted(hosts), sorted(set(t["host"] for t in TOPO.targets)))


class Dns(unittest.TestCase):
    zones = dnszone.build(TOPO)

    def records(self, rtype):
        return [r.split(" ", 4) for z in self.zones.rr.values() for r in z if f" IN {rtype} " in r]

    def test_ptr_records_are_the_ptr_table(self):
        hostile = DOC["dns"]["hostile_ptr"]
        got = {}
        for owner, _, _, _, name in self.records("PTR"):
            got[owner] = dnszone.unescape_zone_name(name)
        want = {dnszone.rev_name(a): n for a, n in DOC["dns"]["ptr"].items()}
        self.assertEqual(got, want)
        for a in hostile["addresses"]:
            self.assertEqual(DOC["dns"]["ptr"][a], hostile["name"])

    def test_hostile_ptr_zone_form_and_length(self):
        h = DOC["dns"]["hostile_ptr"]
        self.assertEqual(dnszone.unescape_zone_name(h["zone_file"]), h["name"])
        self.assertEqual(dnszone.unescape_zone_name(dnszone.zone_name(h["name"])), h["name"])
        self.assertEqual(len(h["name"].split(".")[0].encode()), h["first_label_bytes"])

    def test_cymru_texts(self):
        c = DOC["dns"]["cymru"]
        self.assertEqual([a["txt"] for a in c["as"]],
                         [dnszone.cymru_as_txt(TOPO, a) for a in DOC["ases"]])
        self.assertEqual(sorted((o["prefix"], o["txt"]) for o in c["origin"]),
                         sorted((p, dnszone.cymru_origin_txt(TOPO, a["asn"], p))
                                for a in DOC["ases"] for p in a["v4"] + a["v6"]))
        txt = {r[0]: r[4] for r in self.records("TXT")}
        for name, text in c["examples"].items():
            owner = f"{name}."
            if owner not in txt:  # a wildcard answers
                labels = owner.split(".")
                owner = next(w for w in (".".join(["*"] + labels[i:]) for i in range(1, len(labels)))
                             if w in txt)
            self.assertEqual(txt[owner], f'"{text}"', name)

    def test_resolv_conf_names_the_server(self):
        self.assertEqual(TOPO.prober["resolv_conf"]["nameserver"], TOPO.dns["v4"])
        self.assertEqual(TOPO.node_addr(TOPO.dns_node, 4), TOPO.dns["v4"])


class Conditions(unittest.TestCase):
    def test_rtt_is_twice_the_delays_along_the_path(self):
        d = DOC["conditions"]["delays"]
        for t in TOPO.targets:
            p, _ = paths(str(ipaddress.ip_network(t["v4_prefix"])[5]), 4)[0]
            nodes = [TOPO.prober["name"]] + [r for r, _ in p] + [t["host"]]
            one_way = [d["one_way_us"][TOPO.link_between(a, b).name] for a, b in zip(nodes, nodes[1:])]
            rtt = [2 * sum(one_way[:i + 1]) for i in range(len(one_way))]
            self.assertEqual(rtt[:-1], d["rtt_us"][t["name"]]["hops"], t["name"])
            self.assertEqual(rtt[-1], d["rtt_us"][t["name"]]["destination"], t["name"])

    def test_every_link_has_a_delay(self):
        self.assertEqual(sorted(DOC["conditions"]["delays"]["one_way_us"]),
                         sorted(l.name for l in TOPO.links))


if __name__ == "__main__":
    unittest.main()
