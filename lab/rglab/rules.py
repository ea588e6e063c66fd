"""nft rulesets of the plain lab: the prober's safety net and counters, the
silent router, the middleboxes' rewrites, the flow-hashing load balancers,
the filtered port, the special targets, the DNS silence.

Pure text from the topology; lab/lab loads them with nft -f.
"""


def prober(topo, table):
    srv = topo.dns
    safe4 = ", ".join(topo.safe_destinations(4))
    safe6 = ", ".join(topo.safe_destinations(6))
    counters = "\n".join(f"    counter {c} {{}}" for c in
                         ("probes_out", "replies_in", "blocked_out", "nd_out", "dns_out", "dns_in"))
    return f"""table inet {table} {{
{counters}

    chain output {{
        type filter hook output priority 0; policy drop;
        oif "lo" accept
        # IPv6 cannot work without neighbour discovery; these never leave the link.
        ip6 daddr {{ fe80::/10, ff02::/16, {safe6} }} icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report }} counter name "nd_out" accept
        # Lookups of the lab's DNS server are not probes.
        ip daddr {srv['v4']} meta l4proto {{ udp, tcp }} th dport {srv['port']} counter name "dns_out" accept
        ip6 daddr {srv['v6']} meta l4proto {{ udp, tcp }} th dport {srv['port']} counter name "dns_out" accept
        ip daddr {{ {safe4} }} counter name "probes_out" accept
        ip6 daddr {{ {safe6} }} counter name "probes_out" accept
        counter name "blocked_out" drop
    }}

    chain input {{
        type filter hook input priority 0; policy accept;
        iif "lo" accept
        ip saddr {srv['v4']} meta l4proto {{ udp, tcp }} th sport {srv['port']} counter name "dns_in" accept
        ip6 saddr {srv['v6']} meta l4proto {{ udp, tcp }} th sport {srv['port']} counter name "dns_in" accept
        icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-redirect, mld-listener-query }} accept
        ip saddr {{ {safe4} }} counter name "replies_in"
        ip6 saddr {{ {safe6} }} counter name "replies_in"
    }}
}}
"""


def silent(table):
    """A router that forwards but never says time exceeded."""
    return f"""table inet {table} {{
    chain output {{
        type filter hook output priority 0; policy accept;
        icmp type time-exceeded counter drop
        icmpv6 type time-exceeded counter drop
    }}
}}
"""


def rewrite(table, rewrites):
    """A middlebox: what arrives from one neighbour is rewritten before
    routing (prerouting), so a probe that expires here is quoted already
    changed. dscp: DSCP set (IPv4 and IPv6); mss: a SYN's MSS option
    clamped to at most the value."""
    rules = []
    for r in rewrites:
        peer = r["from"]
        iif = f'iifname "to-{peer}"'
        if r["what"] == "dscp":
            rules += [f"{iif} meta nfproto ipv4 counter ip dscp set {r['set']}",
                      f"{iif} meta nfproto ipv6 counter ip6 dscp set {r['set']}"]
        elif r["what"] == "mss":
            rules.append(f"{iif} tcp flags & (syn | ack) == syn tcp option maxseg size > {r['set']} "
                         f"counter tcp option maxseg size set {r['set']}")
        else:
            raise ValueError(f"unknown rewrite {r['what']}")
    body = "\n".join(f"        {x}" for x in rules)
    return f"""table inet {table} {{
    chain rewrite {{
        type filter hook prerouting priority -150; policy accept;
{body}
    }}
}}
"""


def flow_hash(table, upstream, next_hops, seed):
    """A per-flow load balancer as routers build them: a mark from a hash
    of the addresses and the first four bytes of the transport header
    (TCP/UDP: the ports; ICMP and ICMPv6: type, code and checksum) on what
    arrives from upstream, mark k (1..n) for the k-th of next_hops; the ip
    rules that pick a table per mark are lab/lab's. The kernel's own
    multipath hash takes no field of an ICMP echo but its addresses, so
    without this every echo request of a trace would take one branch.
    A counter per next hop counts the packets hashed to it."""
    n = len(next_hops)
    iifs = ", ".join(f'"to-{u}"' for u in upstream)
    fields = {"ip": "ip saddr . ip daddr", "ip6": "ip6 saddr . ip6 daddr"}
    rules = [f"iifname {{ {iifs} }} meta nfproto {fam} meta mark set jhash {f} . @th,0,32 "
             f"mod {n} seed {seed} offset 1"
             for fam, f in (("ipv4", fields["ip"]), ("ipv6", fields["ip6"]))]
    rules += [f'iifname {{ {iifs} }} meta mark {k} counter name "flow_to_{h}"'
              for k, h in enumerate(next_hops, 1)]
    counters = "\n".join(f"    counter flow_to_{h} {{}}" for h in next_hops)
    body = "\n".join(f"        {x}" for x in rules)
    return f"""table inet {table} {{
{counters}

    chain flow_hash {{
        type filter hook prerouting priority mangle; policy accept;
{body}
    }}
}}
"""


def filtered(table, ports):
    """A host that drops what arrives for ports: no answer at all."""
    plist = ", ".join(str(p) for p in ports)
    return f"""table inet {table} {{
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {{ {plist} }} counter drop
    }}
}}
"""


def special(table, sp, open_port):
    """One special target address.

    all-open needs conntrack (to give the answers their port back), which the
    nat chain turns on for the whole namespace; notrack keeps every other
    packet of the host out of it: no connection table filling up under a
    benchmark. (nft synproxy, tried first, answered IPv4 probes but dropped
    every IPv6 SYN sent from a raw socket, on kernel 6.18.)
    rst-elsewhere rejects each SYN with a RST and rewrites that RST's source
    on the way out (stateless)."""
    a4, a6 = sp["v4"], sp["v6"]
    if sp["kind"] == "all-open":
        return f"""table inet {table} {{
    chain special_raw {{
        type filter hook prerouting priority raw; policy accept;
        ip daddr {a4} accept
        ip6 daddr {a6} accept
        notrack
    }}
    chain special_raw_out {{
        type filter hook output priority raw; policy accept;
        ip saddr {a4} accept
        ip6 saddr {a6} accept
        notrack
    }}
    chain special_nat {{
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr {a4} tcp dport != {open_port} counter dnat ip to {a4}:{open_port}
        ip6 daddr {a6} tcp dport != {open_port} counter dnat ip6 to [{a6}]:{open_port}
    }}
}}
"""
    if sp["kind"] == "rst-elsewhere":
        r4, r6 = sp["rst_from"]["4"], sp["rst_from"]["6"]
        return f"""table inet {table} {{
    chain special_in {{
        type filter hook input priority filter; policy accept;
        ip daddr {a4} tcp flags syn counter reject with tcp reset
        ip6 daddr {a6} tcp flags syn counter reject with tcp reset
    }}
    # The reject's RST leaves through the output hook: a stateless rewrite.
    chain special_out {{
        type filter hook output priority filter; policy accept;
        ip saddr {a4} tcp flags rst counter ip saddr set {r4}
        ip6 saddr {a6} tcp flags rst counter ip6 saddr set {r6}
    }}
}}
"""
    raise ValueError(f"special_targets: unknown kind {sp['kind']}")


def dns_silence(table, port):
    """Queries dropped, not refused, so a client sees a silent server."""
    return f"""table inet {table} {{
    chain input {{
        type filter hook input priority 0; policy accept;
        meta l4proto {{ udp, tcp }} th dport {port} counter drop
    }}
}}
"""
