"""nft counters in the prober's gateway router, where every probe of every
tool passes (AF_PACKET ones too): probes and answers counted by the lab,
not by the tool."""
import ipaddress
import json

from .common import COUNT_IF, COUNT_NS, NFT_TABLE, sh


# ---------------------------------------------------------------------------
# nft counters in r1 (where every probe of every tool passes, AF_PACKET too)
# ---------------------------------------------------------------------------

COUNTERS = ("syn_out", "other_out", "foreign_syn", "tcp_in", "icmp_in")


def nft(script, ns=COUNT_NS):
    return sh(["ip", "netns", "exec", ns, "nft", "-f", "-"], input_text=script)


def counters_install():
    counters_remove()
    nft(f"""
table inet {NFT_TABLE} {{
    set t4 {{ type ipv4_addr; }}
    set t6 {{ type ipv6_addr; }}
    set q4 {{ typeof @th,192,32; }}
    set q6 {{ typeof @th,256,128; }}
{"".join(f"    counter {c} {{}}{chr(10)}" for c in COUNTERS)}
    # What the prober sends: SYNs to the benchmark's targets are the probes;
    # anything else to them is the prober kernel's RSTs and ACKs.
    chain pre {{
        type filter hook prerouting priority -300; policy accept;
        iifname != "{COUNT_IF}" accept
        ip daddr @t4 tcp flags & (syn | ack) == syn counter name syn_out accept
        ip6 daddr @t6 tcp flags & (syn | ack) == syn counter name syn_out accept
        ip daddr @t4 counter name other_out accept
        ip6 daddr @t6 counter name other_out accept
        tcp flags & (syn | ack) == syn counter name foreign_syn
    }}
    # What the prober gets: TCP from a target, ICMP errors quoting one.
    chain post {{
        type filter hook postrouting priority 300; policy accept;
        oifname != "{COUNT_IF}" accept
        ip saddr @t4 meta l4proto tcp counter name tcp_in accept
        ip6 saddr @t6 meta l4proto tcp counter name tcp_in accept
        icmp type {{ time-exceeded, destination-unreachable }} @th,192,32 @q4 counter name icmp_in accept
        icmpv6 type {{ time-exceeded, destination-unreachable }} @th,256,128 @q6 counter name icmp_in accept
    }}
}}
""")


def counters_remove():
    sh(["ip", "netns", "exec", COUNT_NS, "nft", "delete", "table", "inet", NFT_TABLE], check=False)


def counters_set_targets(v4, v6):
    def elems(xs, raw):
        if not xs:
            return ""
        vals = [hex(int(ipaddress.ip_address(x))) if raw else x for x in xs]
        return "{ " + ", ".join(vals) + " }"
    lines = [f"flush set inet {NFT_TABLE} {s}" for s in ("t4", "t6", "q4", "q6")]
    for s, xs, raw in (("t4", v4, False), ("q4", v4, True), ("t6", v6, False), ("q6", v6, True)):
        if xs:
            lines.append(f"add element inet {NFT_TABLE} {s} {elems(xs, raw)}")
    nft("\n".join(lines) + "\n")


def counters_reset():
    sh(["ip", "netns", "exec", COUNT_NS, "nft", "reset", "counters", "table", "inet", NFT_TABLE])


def counters_read():
    r = sh(["ip", "netns", "exec", COUNT_NS, "nft", "-j", "list", "counters", "table", "inet",
            NFT_TABLE])
    out = {}
    for item in json.loads(r.stdout)["nftables"]:
        c = item.get("counter")
        if c:
            out[c["name"]] = c["packets"]
    return out
