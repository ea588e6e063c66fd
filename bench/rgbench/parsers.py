"""One parser per tool's output; each returns {(addr, port): trace} in
scoring's trace shape."""
import json
import re

from .common import norm
from .scoring import add_hop, new_trace


# --- parsers: each returns {(addr, port): trace} ----------------------------

def parse_routegraph(path):
    doc = json.load(open(path))
    out = {}
    for t in doc["traces"]:
        tr = new_trace()
        for h in t["hops"]:
            for p in h["probes"]:
                add_hop(tr, h["ttl"], p["reply"]["from"] if p.get("reply") else None)
            if h.get("inferred_responder"):
                tr["inferred"][int(h["ttl"])] = h["inferred_responder"]
            if h.get("silence"):
                tr["silence"][int(h["ttl"])] = h["silence"]
        tr["state"] = t["state"]
        tr["port_probes"] = t.get("port_probes")
        out[(norm(t["address"]), t["port"])] = tr
    return out, doc


def parse_scapy(path):
    doc = json.load(open(path))
    out = {}
    for dst, dport, ttl, src, flags, _icmp in doc["answered"]:
        tr = out.setdefault((norm(dst), dport), new_trace())
        add_hop(tr, ttl, src)
    for (dst, _port), tr in out.items():
        # scapy probes every TTL: the destination answers all TTLs from its
        # distance on; the trace is what comes before and at the first of them.
        at = [ttl for ttl, a in tr["hops"].items() if dst in a]
        if at:
            d = min(at)
            tr["hops"] = {k: v for k, v in tr["hops"].items() if k <= d}
    for dst, dport, ttl, src, flags, _icmp in doc["answered"]:
        tr = out[(norm(dst), dport)]
        if norm(src) == norm(dst) and ttl == max(tr["hops"]):
            tr["state"] = "open" if flags and "S" in flags else (
                "closed" if flags and "R" in flags else "filtered")
    for tr in out.values():
        if tr["state"] is None:
            tr["state"] = "filtered"
    return out, doc


HOP_LINE = re.compile(r"^\s*(\d+)\s+(.*)$")


def parse_hop_text(text, dst, open_re, closed_re):
    """Linux traceroute and tcptraceroute text: one line per TTL."""
    tr = new_trace()
    reached = None
    for line in text.splitlines():
        m = HOP_LINE.match(line)
        if not m:
            continue
        ttl, rest = int(m.group(1)), m.group(2)
        addrs = [w for w in rest.split() if re.fullmatch(r"[0-9a-fA-F:.]+", w) and
                 (":" in w or w.count(".") == 3)]
        add_hop(tr, ttl, None)
        for a in addrs:
            try:
                add_hop(tr, ttl, a)
            except ValueError:
                continue
        if norm(dst) in tr["hops"][ttl] and reached is None:
            reached = ttl
            if re.search(open_re, rest):
                tr["state"] = "open"
            elif re.search(closed_re, rest):
                tr["state"] = "closed"
            else:
                tr["state"] = "filtered"
    if reached is None:
        tr["state"] = "filtered"
    return tr


def parse_per_target(invs, kind):
    out = {}
    for inv in invs:
        dst, port = inv["meta"]["target"], inv["meta"]["port"]
        try:
            text = open(inv["out"], errors="replace").read()
        except OSError:
            continue
        if not text.strip():
            continue
        if kind == "traceroute":
            tr = parse_hop_text(text, dst, r"<syn", r"<rst")
        elif kind == "tcptraceroute":
            tr = parse_hop_text(text, dst, r"\[open\]", r"\[closed\]")
        else:
            tr = parse_mtr(text)
            if tr is None:
                continue
        out[(norm(dst), port)] = tr
    return out


def parse_mtr(text):
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    tr = new_trace()
    for h in doc["report"]["hubs"]:
        host = h.get("host")
        add_hop(tr, h["count"], None if host in (None, "???") else host)
    return tr  # mtr reports no port state


def parse_scamper(invs):
    out = {}
    for inv in invs:
        try:
            lines = open(inv["out"], errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("type") != "trace":
                continue
            tr = new_trace()
            dst = norm(d["dst"])
            for h in d.get("hops", []):
                add_hop(tr, h["probe_ttl"], h.get("addr"))
                if norm(h.get("addr")) == dst and "tcp_flags" in h and tr["state"] is None:
                    f = h["tcp_flags"]
                    tr["state"] = "open" if f & 0x12 == 0x12 else (
                        "closed" if f & 0x04 else "filtered")
            if tr["state"] is None:
                tr["state"] = "filtered"
            out[(dst, d["dport"])] = tr
    return out
