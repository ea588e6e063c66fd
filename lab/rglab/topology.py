"""The lab as lab/topology.json describes it, in the shapes lab/lab builds from.

Pure: reads one JSON file and answers questions about it (nodes, links,
addresses, routes, delays, names); runs nothing. Everything lab/lab builds
and every derived file (lab/asn.csv, lab/README.md's tables) comes from
here, so topology.json is the lab's one source.
"""
import ipaddress
import json
import os

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOPOLOGY_PATH = os.path.join(LAB_DIR, "topology.json")


class TopologyError(Exception):
    """topology.json says something lab/lab cannot build."""


def load(path=TOPOLOGY_PATH):
    with open(path, encoding="utf-8") as f:
        return Topology(json.load(f))


class Link:
    """One link: ends[0] is the upstream end (nearer the prober)."""

    def __init__(self, doc):
        self.name = doc["name"]
        self.a, self.b = doc["ends"]
        self.v4_prefix = doc["v4_prefix"]
        self.v6_prefix = doc["v6_prefix"]
        self.asn = doc["asn"]
        self.addresses = doc["addresses"]  # node -> {"v4": .., "v6": ..}

    def peer(self, node):
        return self.b if node == self.a else self.a

    def addr(self, node, family):
        return self.addresses[node]["v4" if family == 4 else "v6"]

    def cidr(self, node, family):
        """node's address on this link with the link's prefix length."""
        pfx = self.v4_prefix if family == 4 else self.v6_prefix
        return f"{self.addr(node, family)}/{pfx.split('/')[1]}"


class Topology:
    def __init__(self, doc):
        self.doc = doc
        self.prober = doc["prober"]
        self.routers = [r["name"] for r in doc["routers"]]
        self.hosts = [h["name"] for h in doc["hosts"]]
        self.dns = doc["dns"]["server"]
        self.dns_node = self.dns["name"]
        self.nodes = [self.prober["name"], *self.routers, *self.hosts, self.dns_node]
        self.netns = {self.prober["name"]: self.prober["netns"], self.dns_node: self.dns["netns"]}
        self.netns.update({r["name"]: r["netns"] for r in doc["routers"]})
        self.netns.update({h["name"]: h["netns"] for h in doc["hosts"]})
        self.links = [Link(l) for l in doc["links"]]
        self.link_by_name = {l.name: l for l in self.links}
        self.targets = doc["targets"]
        self.special_targets = doc["special_targets"]
        self.silent_routers = [r["name"] for r in doc["routers"] if r["silent"]]
        self.ecmp_routers = [r["name"] for r in doc["routers"] if r["ecmp_via"]]
        self.ecmp_via = {r["name"]: r["ecmp_via"] for r in doc["routers"]}
        self.flow_hash = {r["name"]: r["flow_hash"] for r in doc["routers"] if r.get("flow_hash")}
        self._check()

    # --- checks that keep a broken file from building half a lab ---------

    def _check(self):
        for l in self.links:
            for n in (l.a, l.b):
                if n not in self.netns:
                    raise TopologyError(f"link {l.name}: unknown node {n}")
        for name, route in self.doc["routing"]["nodes"].items():
            if name not in self.netns:
                raise TopologyError(f"routing: unknown node {name}")
            for hop in route["default"] + list(route.get("via", {})):
                self.link_between(name, hop)
            for pfxs in route.get("via", {}).values():
                for p in pfxs:
                    self.prefix(p, 4)
        for name, fh in self.flow_hash.items():
            # its multipath routes are the ones it hashes flows over
            if len(self.ecmp_via[name]) < 2 or \
                    self.doc["routing"]["nodes"].get(name, {}).get("default") != self.ecmp_via[name]:
                raise TopologyError(f"router {name}: flow_hash needs ecmp_via (two or more) "
                                    f"as its default route")
        for name in self.delays():
            if name not in self.link_by_name:
                raise TopologyError(f"conditions.delays: unknown link {name}")
        # Ports are the host's (one listener, one firewall), so every target
        # network of a host must state the same ones.
        first = {}
        for t in self.targets:
            f = first.setdefault(t["host"], t)
            if f["ports"] != t["ports"] or f["distance"] != t["distance"]:
                raise TopologyError(f"targets {f['name']} and {t['name']}: same host "
                                    f"{t['host']}, different ports or distance")

    # --- nodes and links -------------------------------------------------

    def ns(self, node):
        return self.netns[node]

    def link_between(self, node, peer):
        for l in self.links:
            if {l.a, l.b} == {node, peer}:
                return l
        raise TopologyError(f"{node} has no link to {peer}")

    def links_of(self, node):
        return [l for l in self.links if node in (l.a, l.b)]

    def downstream_links(self, node):
        """Links where node is the upstream end (away from the prober)."""
        return [l for l in self.links if l.a == node]

    def upstream_peers(self, node):
        """The neighbours on node's links towards the prober."""
        return [l.a for l in self.links if l.b == node]

    def is_router(self, name):
        return name in self.routers

    def node_addr(self, node, family):
        """node's address towards the prober side: on the DNS server and the
        prober, their one link; the address the lab's services listen on."""
        l = self.links_of(node)[0]
        return l.addr(node, family)

    # --- prefixes and routes ----------------------------------------------

    def prefix(self, name, family):
        """A link's or a target network's prefix by name."""
        key = "v4_prefix" if family == 4 else "v6_prefix"
        if name in self.link_by_name:
            return getattr(self.link_by_name[name], key)
        for t in self.targets:
            if t["name"] == name:
                return t[key]
        raise TopologyError(f"unknown prefix name {name} (neither a link nor a target network)")

    def prefix_names(self):
        return [l.name for l in self.links] + [t["name"] for t in self.targets]

    def routes(self, node):
        """[(prefix name, [next hop node, ...])] for node; the prober's are
        separate (prober_routes)."""
        route = self.doc["routing"]["nodes"].get(node)
        if route is None:
            return []
        done = {l.name for l in self.links_of(node)}
        done |= {t["name"] for t in self.targets if t["host"] == node}
        out = []
        for hop, pfxs in route.get("via", {}).items():
            for p in pfxs:
                out.append((p, [hop]))
                done.add(p)
        out += [(p, list(route["default"])) for p in self.prefix_names() if p not in done]
        return out

    def prober_routes(self, family):
        return self.prober["routes"][str(family)]

    def prober_gateway(self):
        return self.links_of(self.prober["name"])[0].peer(self.prober["name"])

    # --- targets, ports, names --------------------------------------------

    def host_targets(self):
        """The first target network of each host that has one: the host's
        listener and firewall are set up once, whatever number of networks
        it answers for."""
        out = {}
        for t in self.targets:
            out.setdefault(t["host"], t)
        return list(out.values())

    def wide(self, target):
        """A *-wide network: the scale benchmark's, left out of the tables
        that would only repeat its host's first network."""
        return "wide" in target

    def open_ports(self, target):
        return sorted(int(p) for p, s in target["ports"].items() if s == "open")

    def filtered_ports(self, target):
        return sorted(int(p) for p, s in target["ports"].items() if s == "filtered")

    def udp_echo_port(self):
        """The one UDP port every target's listener echoes on (routegraph
        -P udp's open port), or None when the targets list none."""
        ports = {int(p) for t in self.targets for p, s in t.get("udp_ports", {}).items()
                 if s == "open"}
        if len(ports) > 1:
            raise TopologyError(f"targets: one open UDP port expected, found {sorted(ports)}")
        return ports.pop() if ports else None

    def listen_port(self):
        """The one port every target's listener (lab/listen.c) accepts on."""
        ports = {p for t in self.targets for p in self.open_ports(t)}
        if len(ports) != 1:
            raise TopologyError(f"targets: one open port expected, found {sorted(ports)}")
        return ports.pop()

    def hosts_names(self):
        """[(name, v4 or None, v6 or None)] of the prober's /etc/hosts."""
        return [(n["name"], n["v4"], n["v6"]) for n in self.doc["names"]]

    def dns_names(self):
        """[(name, [v4...], [v6...])] known only to the DNS server."""
        return [(n["name"], n["v4"], n["v6"]) for n in self.doc["dns"]["names"]]

    # --- conditions ---------------------------------------------------------

    def delays(self):
        """{link: one-way delay in microseconds} of the delayed links (a
        delay of 0 means the link has no relay)."""
        d = self.doc["conditions"]["delays"]["one_way_us"]
        return {k: v for k, v in d.items() if v > 0}

    def icmp_off(self):
        return dict(self.doc["conditions"]["icmp_limits"]["off_sysctls"])

    def icmp_linux(self):
        return dict(self.doc["impairments"]["ratelimit"]["sysctls"])

    def icmp_default_keys(self):
        return list(self.doc["conditions"]["icmp_limits"]["default_keys"])

    def safe_destinations(self, family):
        return [p for p in self.prober["allowed_destinations"]
                if ipaddress.ip_network(p).version == family]

    def nft_table(self, where):
        """An nft table name from topology.json ("inet NAME" -> NAME)."""
        return where.split()[1]
