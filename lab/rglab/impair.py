"""lab impair: packet loss, NAT (two kinds), ICMP rate limits and a lost
first SYN-ACK, for the hostile-network tests.

Every impairment is one nft table "inet rg_impair_KIND_WHERE" in the
namespaces it touches, or (ratelimit) the ICMP sysctls of a router.
`impair clear` and `lab up` on a lab that is up remove them all.
"""
import ipaddress
import re

from . import icmp, system
from .system import LabError, log

LAB4 = ipaddress.ip_network("198.18.0.0/15")
LAB6 = ipaddress.ip_network("2001:db8::/32")


class Targets:
    """The target addresses an impairment is scoped to (lab addresses only);
    none: every packet."""

    def __init__(self, addrs):
        self.v4, self.v6 = [], []
        for a in addrs:
            try:
                ip = ipaddress.ip_address(a)
            except ValueError:
                raise LabError(f"bad target address: {a}") from None
            if ip.version == 4 and ip not in LAB4:
                raise LabError(f"{a} is not a lab address (198.18.0.0/15)")
            if ip.version == 6 and ip not in LAB6:
                raise LabError(f"{a} is not a lab address (2001:db8::/32)")
            (self.v4 if ip.version == 4 else self.v6).append(ip)

    @property
    def scoped(self):
        return bool(self.v4 or self.v6)

    def scope(self):
        """What an impairment applies to, short enough for an nft comment."""
        n = len(self.v4) + len(self.v6)
        return f"traffic of {n} target addresses" if n else "all traffic"

    def listed(self):
        return " ".join(str(a) for a in self.v4 + self.v6)

    def sets(self):
        """nft sets: t4/t6 the addresses, q4/q6 the same as raw numbers (nft
        matches the address an ICMP error quotes as raw payload)."""
        def one(name, key, elems):
            return f"    set {name} {{ {key}; elements = {{ {', '.join(elems)} }}; }}" if elems \
                else f"    set {name} {{ {key}; }}"
        return "\n".join([
            one("t4", "type ipv4_addr", [str(a) for a in self.v4]),
            one("t6", "type ipv6_addr", [str(a) for a in self.v6]),
            one("q4", "typeof @th,192,32", [f"0x{int(a):08x}" for a in self.v4]),
            one("q6", "typeof @th,256,128", [f"0x{int(a):032x}" for a in self.v6]),
        ])

    def pick(self, to):
        """Rules sending the targets' traffic to chain `to`: probes to them,
        their answers, ICMP errors quoting them (an IPv4 quote without IP
        options); every packet when no target was given."""
        if not self.scoped:
            return f"        goto {to}"
        return "\n".join(f"        {r} goto {to}" for r in (
            "ip daddr @t4", "ip saddr @t4",
            "icmp type { time-exceeded, destination-unreachable } @th,192,32 @q4",
            "ip6 daddr @t6", "ip6 saddr @t6",
            "icmpv6 type { time-exceeded, destination-unreachable } @th,256,128 @q6"))


class Impair:
    def __init__(self, topo):
        self.topo = topo
        self.prefix = topo.doc["impairments"]["nft_prefix"]

    # --- helpers ----------------------------------------------------------------

    def _ns(self, node):
        ns = self.topo.ns(node)
        if not system.ns_exists(ns):
            raise LabError(f"lab is not up (no {ns})")
        return ns

    def _table(self, node, name, ruleset):
        """Creates or replaces one table, atomically."""
        system.nft_load(self._ns(node), f"table inet {name}\ndelete table inet {name}\n{ruleset}")

    def _router(self, kind, name):
        if not self.topo.is_router(name):
            raise LabError(f"{kind}: '{name}' is not a router")

    def tables(self, node):
        """This node's impairment tables."""
        ns = self.topo.ns(node)
        if not system.ns_exists(ns):
            return []
        out = system.nsrun(ns, ["nft", "list", "tables"]).stdout.split("\n")
        return [w[2] for w in (l.split() for l in out)
                if len(w) == 3 and w[1] == "inet" and w[2].startswith(self.prefix)]

    def _drop(self, node, name):
        if name in self.tables(node):
            system.nsrun(self.topo.ns(node), ["nft", "delete", "table", "inet", name])

    # --- the impairments -----------------------------------------------------------

    def loss(self, pct, where, addrs):
        if not re.fullmatch(r"[0-9]{1,3}", pct) or not 1 <= int(pct) <= 100:
            raise LabError(f"loss: '{pct}' is not a percentage (1-100)")
        pct = int(pct)
        tg = Targets(addrs)
        name = f"{self.prefix}loss_{where}"
        link = self.topo.link_by_name.get(where)
        if link:
            # Each end loses what it sends into the link: both directions.
            for node in (link.a, link.b):
                peer = link.peer(node)
                self._table(node, name, _loss_ruleset(
                    name, pct, "postrouting", f'oifname "to-{peer}"', tg,
                    f"loss {pct}% on {where}: {node} drops what it sends to {peer} ({tg.scope()})"))
            log(f"loss {pct}% on link {where} ({link.a} - {link.b}), both directions, "
                f"{tg.scope()} {tg.listed()}")
        elif self.topo.is_router(where):
            self._table(where, name, _loss_ruleset(
                name, pct, "prerouting", 'iifname != "lo"', tg,
                f"loss {pct}% at {where}: drops what arrives ({tg.scope()})"))
            log(f"loss {pct}% of what arrives at {where}, {tg.scope()} {tg.listed()}")
        else:
            raise LabError(f"loss: '{where}' is neither a link "
                           f"({self.topo.links[0].name}..{self.topo.links[-1].name}) nor a router")

    def _downstream(self, kind, r):
        links = self.topo.downstream_links(r)
        if not links:
            raise LabError(f"{kind}: {r} has no downstream link")
        return links

    def nat(self, r, addrs):
        """The prober's traffic leaves r away from the prober (every link
        where r is the upstream end) masqueraded."""
        self._router("nat", r)
        tg = Targets(addrs)
        out = [f"to-{l.b}" for l in self._downstream("nat", r)]
        ifs = ", ".join(f'"{i}"' for i in out)
        if tg.scoped:
            body = (f'        oifname {{ {ifs} }} ip daddr @t4 counter name "nat" masquerade\n'
                    f'        oifname {{ {ifs} }} ip6 daddr @t6 counter name "nat" masquerade')
        else:
            body = f'        oifname {{ {ifs} }} counter name "nat" masquerade'
        name = f"{self.prefix}nat_{r}"
        self._table(r, name, f"""table inet {name} {{
    comment "nat at {r}: masquerade out of {' '.join(out)} ({tg.scope()})"
    counter nat {{}}
{tg.sets()}
    chain post {{
        type nat hook postrouting priority srcnat; policy accept;
{body}
    }}
}}
""")
        log(f"nat at {r}: masquerade out of {' '.join(out)}; {tg.listed()}")

    def snat(self, r, addrs):
        """A stateless NAT that does not restore quoted headers: the prober's
        address becomes r's address on the way out of each downstream
        interface; TCP answers and ICMP errors coming back to that address
        get the prober's address again, but an ICMP error still quotes the
        rewritten source."""
        self._router("snat", r)
        tg = Targets(addrs)
        t = self.topo
        p4, p6 = t.prober["v4"], t.prober["v6"]
        m4, m6 = (" ip daddr @t4", " ip6 daddr @t6") if tg.scoped else ("", "")
        links = self._downstream("snat", r)
        out = [f"to-{l.b}" for l in links]
        ifs = ", ".join(f'"{i}"' for i in out)
        back4 = ", ".join(l.addr(r, 4) for l in links)
        back6 = ", ".join(l.addr(r, 6) for l in links)
        rewrite = "".join(
            f'        oifname "to-{l.b}" ip saddr {p4}{m4} ip saddr set {l.addr(r, 4)}\n'
            f'        oifname "to-{l.b}" ip6 saddr {p6}{m6} ip6 saddr set {l.addr(r, 6)}\n'
            for l in links)
        if tg.scoped:
            b4, b6, q4, q6 = "ip saddr @t4", "ip6 saddr @t6", " @th,192,32 @q4", " @th,256,128 @q6"
        else:
            b4, b6, q4, q6 = "meta l4proto tcp", "meta l4proto tcp", "", ""
        name = f"{self.prefix}snat_{r}"
        self._table(r, name, f"""table inet {name} {{
    comment "snat at {r}: stateless, quotes not restored, out of {' '.join(out)} ({tg.scope()})"
    counter rewritten {{}}
{tg.sets()}
    chain out {{
        type filter hook postrouting priority srcnat; policy accept;
{rewrite}    }}
    chain in {{
        type filter hook prerouting priority -300; policy accept;
        iifname {{ {ifs} }} ip daddr {{ {back4} }} jump back4
        iifname {{ {ifs} }} ip6 daddr {{ {back6} }} jump back6
    }}
    chain back4 {{
        {b4} counter name "rewritten" ip daddr set {p4}
        icmp type {{ time-exceeded, destination-unreachable }}{q4} counter name "rewritten" ip daddr set {p4}
    }}
    chain back6 {{
        {b6} counter name "rewritten" ip6 daddr set {p6}
        icmpv6 type {{ time-exceeded, destination-unreachable }}{q6} counter name "rewritten" ip6 daddr set {p6}
    }}
}}
""")
        log(f"snat at {r}: stateless, out of {' '.join(out)}; {tg.listed()}")

    def rewrite(self, kind, r, addrs, to=None):
        """A stateless rewrite of the TCP traffic to the target addresses as
        it leaves r away from the prober (postrouting, on every downstream
        interface), undone on their TCP answers as they come back (prerouting,
        before conntrack); ICMP errors are left alone, so the routers further
        on quote the probe rewritten. kind: portmap (destination port 8080
        becomes 80; answers from port 80 become 8080 again), sportmap (source
        port XOR 0x4000, and the answers' destination port back), seqshift
        (sequence number XOR 0x80000000, which is adding 2^31; the answers'
        acknowledgment number back), dnat (the destination becomes `to`; its
        answers come back from the target address)."""
        self._router(kind, r)
        tg = Targets(addrs)
        if not tg.scoped:
            raise LabError(f"{kind}: give the target addresses it rewrites")
        if kind == "dnat":
            new = Targets([to])
            if len(tg.v4) + len(tg.v6) != 1 or len(tg.v4) != len(new.v4):
                raise LabError("dnat: one target address and one new address, same family")
        links = self._downstream(kind, r)
        ifs = ", ".join(f'"to-{l.b}"' for l in links)
        out, back = _rewrite_rules(kind, tg, to)
        name = f"{self.prefix}{kind}_{r}"
        self._table(r, name, f"""table inet {name} {{
    comment "{kind} at {r}: stateless, quotes not restored ({tg.scope()})"
    counter rewritten {{}}
{tg.sets()}
    chain out {{
        type filter hook postrouting priority mangle; policy accept;
        oifname {{ {ifs} }} jump rewrite
    }}
    chain rewrite {{
{out}
    }}
    chain in {{
        type filter hook prerouting priority -300; policy accept;
        iifname {{ {ifs} }} jump restore
    }}
    chain restore {{
{back}
    }}
}}
""")
        log(f"{kind} at {r}: stateless, out of {ifs}; {tg.listed()}{' -> ' + to if to else ''}")

    def ratelimit(self, r):
        self._router("ratelimit", r)
        ns = self._ns(r)
        lim = icmp.linux(self.topo)
        system.sysctl(ns, lim)
        log(f"ratelimit at {r}: {' '.join(f'{k}={v}' for k, v in lim.items())}")

    def synack_once(self, r, addrs):
        """r drops the first SYN-ACK each target sends on each connection
        (4-tuple); retransmitted ones pass. This is the loss that leaves a
        half-open connection at the target, made deterministic for the
        port-check test."""
        self._router("synack-once", r)
        tg = Targets(addrs)
        name = f"{self.prefix}synack_once_{r}"
        k4 = "ip saddr . tcp sport . ip daddr . tcp dport"
        k6 = "ip6 saddr . tcp sport . ip6 daddr . tcp dport"
        sa = "tcp flags & (syn | ack | rst) == syn | ack"
        self._table(r, name, f"""table inet {name} {{
    comment "first SYN-ACK per connection dropped at {r} ({tg.scope()})"
    counter dropped {{}}
{tg.sets()}
    set seen4 {{ type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic,timeout; timeout 10m; size 65536; }}
    set seen6 {{ type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic,timeout; timeout 10m; size 65536; }}
    chain impair {{
        type filter hook prerouting priority -300; policy accept;
        ip saddr @t4 {sa} {k4} != @seen4 add @seen4 {{ {k4} }} counter name "dropped" drop
        ip6 saddr @t6 {sa} {k6} != @seen6 add @seen6 {{ {k6} }} counter name "dropped" drop
    }}
}}
""")
        log(f"first SYN-ACK per connection dropped at {r}, {tg.scope()} {tg.listed()}")

    def remove(self, kind, where):
        """Undoes one impairment (fine when absent)."""
        if kind in ("loss", "nat", "snat", *REWRITES):
            link = self.topo.link_by_name.get(where)
            if link:
                nodes = [link.a, link.b]
            elif self.topo.is_router(where):
                nodes = [where]
            else:
                raise LabError(f"remove: no link or router '{where}'")
            for n in nodes:
                self._drop(n, f"{self.prefix}{kind}_{where}")
        elif kind == "synack-once":
            self._router("remove", where)
            self._drop(where, f"{self.prefix}synack_once_{where}")
        elif kind == "ratelimit":
            self._router("remove", where)
            system.sysctl(self.topo.ns(where), icmp.base(self.topo))
        else:
            raise LabError("usage: lab impair remove loss|nat|snat|portmap|sportmap|seqshift|dnat|"
                           "ratelimit|synack-once LINK|ROUTER")
        log(f"removed {kind} at {where}")

    def clear(self):
        """Removes every impairment; returns what it removed."""
        t = self.topo
        removed = []
        b = icmp.base(t)
        for n in t.nodes:
            for name in self.tables(n):
                system.nsrun(t.ns(n), ["nft", "delete", "table", "inet", name])
                removed.append(f"{n} {name}")
        for n in t.routers + t.hosts:
            if system.ns_exists(t.ns(n)) and icmp.rate_limited(t, n, b):
                system.sysctl(t.ns(n), b)
                removed.append(f"{n} ratelimit")
        return removed

    def status(self):
        """One line per impairment: NODE TABLE "COMMENT", or NODE ratelimit; "none"."""
        t = self.topo
        lines = []
        b = icmp.base(t)
        for n in t.nodes:
            for name in self.tables(n):
                text = system.nsrun(t.ns(n), ["nft", "list", "table", "inet", name]).stdout
                m = re.search(r'^\s*comment "(.*)"$', text, re.M)
                lines.append(f'{n} {name} "{m.group(1) if m else ""}"')
        for n in t.routers + t.hosts:
            if system.ns_exists(t.ns(n)) and icmp.rate_limited(t, n, b):
                lines.append(f"{n} ratelimit")
        return lines or ["none"]


REWRITES = ("portmap", "sportmap", "seqshift", "dnat")


def _rewrite_rules(kind, tg, to):
    """The rules of a stateless rewrite: (out, back), each counted."""
    c = 'counter name "rewritten"'
    fams = [("ip", "@t4"), ("ip6", "@t6")]
    if kind == "portmap":
        out = [f"{f} daddr {t} tcp dport 8080 {c} tcp dport set 80" for f, t in fams]
        back = [f"{f} saddr {t} tcp sport 80 {c} tcp sport set 8080" for f, t in fams]
    elif kind == "sportmap":
        out = [f"{f} daddr {t} meta l4proto tcp {c} tcp sport set tcp sport ^ 0x4000"
               for f, t in fams]
        back = [f"{f} saddr {t} meta l4proto tcp {c} tcp dport set tcp dport ^ 0x4000"
                for f, t in fams]
    elif kind == "seqshift":
        out = [f"{f} daddr {t} meta l4proto tcp {c} tcp sequence set tcp sequence ^ 0x80000000"
               for f, t in fams]
        back = [f"{f} saddr {t} meta l4proto tcp {c} tcp ackseq set tcp ackseq ^ 0x80000000"
                for f, t in fams]
    else:
        f = "ip" if tg.v4 else "ip6"
        old = (tg.v4 or tg.v6)[0]
        out = [f"{f} daddr {old} meta l4proto tcp {c} {f} daddr set {to}"]
        back = [f"{f} saddr {to} meta l4proto tcp {c} {f} saddr set {old}"]
    return ("\n".join("        " + r for r in out), "\n".join("        " + r for r in back))


def _loss_ruleset(name, pct, hook, match, tg, comment):
    pick = "" if pct == 100 else f"numgen random mod 100 < {pct} "
    return f"""table inet {name} {{
    comment "{comment}"
    counter dropped {{}}
{tg.sets()}
    chain lose {{
        {pick}counter name "dropped" drop
    }}
    chain pick {{
{tg.pick("lose")}
    }}
    chain impair {{
        type filter hook {hook} priority -300; policy accept;
        {match} jump pick
    }}
}}
"""
