"""Files derived from lab/topology.json: lab/asn.csv, lab/country.csv (when
the ASes have a country) and the topology tables
of lab/README.md (between "<!-- topology.json: NAME -->" and
"<!-- end -->" markers).

Pure text; `lab/lab generate` writes them, `lab/lab generate --check` and
tests/lab/test_topology.py check that they agree.
"""
import csv
import io
import ipaddress
import os
import re
import sys

from . import topology

ASN_CSV = os.path.join(topology.LAB_DIR, "asn.csv")
COUNTRY_CSV = os.path.join(topology.LAB_DIR, "country.csv")
README = os.path.join(topology.LAB_DIR, "README.md")

ASN_CSV_HEAD = """\
# routegraph lab AS data, in the ip-location-db CSV format:
# range_start,range_end,asn,organisation (inclusive ranges; organisations
# holding a comma are quoted). Load with: routegraph --asn-db lab/asn.csv
# Generated from lab/topology.json by lab/lab generate: edit that file.
"""


def asn_csv(topo):
    """One inclusive range per AS prefix, IPv4 before IPv6, by address."""
    rows = []
    for a in topo.doc["ases"]:
        for p in a["v4"] + a["v6"]:
            net = ipaddress.ip_network(p)
            rows.append((net.version, int(net.network_address), net, a))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for _, _, net, a in rows:
        w.writerow([net.network_address.compressed, net.broadcast_address.compressed,
                    a["asn"], a.get("csv_org", a["name"])])
    return ASN_CSV_HEAD + out.getvalue()


COUNTRY_CSV_HEAD = """\
# routegraph lab country data, in the ip-location-db country CSV format:
# range_start,range_end,country_code (inclusive ranges; ISO 3166-1 alpha-2).
# One country per lab AS (lab/topology.json ases[].country), for the same
# blocks as lab/asn.csv. Load with: routegraph --country-db lab/country.csv
# Generated from lab/topology.json by lab/lab generate: edit that file.
"""


def has_countries(topo):
    return any("country" in a for a in topo.doc["ases"])


def country_csv(topo):
    """One inclusive range per AS prefix with the AS's country: IPv4 AS by
    AS, then IPv6."""
    rows = []
    for fam in ("v4", "v6"):
        for a in topo.doc["ases"]:
            if "country" not in a:
                raise ValueError(f"AS{a['asn']} has no country (the others have one)")
            for p in a[fam]:
                net = ipaddress.ip_network(p)
                rows.append(f"{net.network_address.compressed},{net.broadcast_address.compressed},"
                            f"{a['country']}\n")
    return COUNTRY_CSV_HEAD + "".join(rows)


# --- Markdown tables ---------------------------------------------------------------

def table(head, rows):
    """A Markdown table, columns padded to their widest cell."""
    cells = [head] + rows
    width = [max(len(str(r[i])) for r in cells) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(width[i]) for i, c in enumerate(r)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in width) + "|"]
                     + [line(r) for r in rows]) + "\n"


def links_table(topo):
    rows = [[l.name, f"{l.a} – {l.b}", l.v4_prefix, l.v6_prefix, l.asn] for l in topo.links]
    return table(["link", "ends (.1 – .2)", "IPv4", "IPv6", "AS"], rows)


def ases_table(topo):
    ases = topo.doc["ases"]
    country = any("country" in a for a in ases)
    head = ["AS", "name", "IPv4", "IPv6"] + (["country"] if country else [])
    rows = [[a["asn"], a["name"], ", ".join(a["v4"]), ", ".join(a["v6"])]
            + ([a.get("country", "")] if country else []) for a in ases]
    return table(head, rows)


PORT_TEXT = {"open": "open", "closed": "closed (RST)", "filtered": "filtered (nft drop)"}


def targets_table(topo):
    ports = sorted({int(p) for t in topo.targets for p in t["ports"]})
    rows = [[t["name"], t["v4_prefix"], t["v6_prefix"]]
            + [PORT_TEXT[t["ports"][str(p)]] for p in ports] + [t["distance"]]
            for t in topo.targets]
    return table(["host", "IPv4", "IPv6", *map(str, ports), "distance"], rows)


def special_answer(sp):
    if sp["kind"] == "all-open":
        return "SYN-ACK on every port, from that port"
    if sp["kind"] == "rst-elsewhere":
        return (f"every SYN a RST-ACK (ack = seq + 1), but from {sp['rst_from']['4']} / "
                f"{sp['rst_from']['6']}")
    raise ValueError(f"special_targets: unknown kind {sp['kind']}")


def special_table(topo):
    rows = [[sp["kind"], sp["host"], sp["v4"], sp["v6"], special_answer(sp)]
            for sp in topo.special_targets]
    return table(["kind", "host", "IPv4", "IPv6", "answers"], rows)


def _hop_cell(t, i):
    addrs = [b[i] for b in t["branches"]["4"]]
    if addrs[0] is None:
        return f"* ({t['branch_routers'][0][i]} is silent)"
    uniq = list(dict.fromkeys(addrs))
    return " / ".join(uniq)


def trace_table(topo):
    """IPv4 hops per target network (IPv6: the same with the matching
    address)."""
    ts = [t for t in topo.targets if not topo.wide(t)]
    head = ["hop"] + [f"{t['name']} (branch a / b)" if len(t["branches"]["4"]) > 1 else t["name"]
                      for t in ts]
    rows = []
    for i in range(max(t["distance"] for t in ts)):
        rows.append([i + 1] + [_hop_cell(t, i) if i < t["distance"] - 1 else
                               "target" if i == t["distance"] - 1 else "" for t in ts])
    return table(head, rows)


def delays_table(topo):
    """One column per group of equally delayed links of one stem (L2a, L2b)."""
    d = topo.doc["conditions"]["delays"]["one_way_us"]
    groups = []
    for l in topo.links:
        stem = re.sub(r"[a-z]$", "", l.name)
        if groups and groups[-1][0] == stem and d[groups[-1][1][0]] == d[l.name]:
            groups[-1][1].append(l.name)
        else:
            groups.append((stem, [l.name]))
    head, row = ["link"], ["one-way delay (ms)"]
    for _, names in groups:
        head.append(", ".join(names))
        us = d.get(names[0], 0)
        l = topo.link_by_name[names[0]]
        why = " (DNS server)" if topo.dns_node in (l.a, l.b) else ""
        row.append(f"{us / 1000:g}" if us else f"none{why}")
    return table(head, [row])


TABLES = {"links": links_table, "ases": ases_table, "targets": targets_table,
          "special-targets": special_table, "trace": trace_table, "delays": delays_table}

MARK = re.compile(r"(<!-- topology\.json: ([a-z-]+) -->\n)(.*?)(<!-- end -->)", re.S)


def readme(topo, text):
    """text with every marked table regenerated; a marker naming no table is
    an error."""
    def sub(m):
        if m.group(2) not in TABLES:
            raise ValueError(f"README marker names no table: {m.group(2)}")
        return m.group(1) + TABLES[m.group(2)](topo) + m.group(4)
    return MARK.sub(sub, text)


def expected(topo):
    """{path: the text it should have}."""
    with open(README, encoding="utf-8") as f:
        out = {ASN_CSV: asn_csv(topo), README: readme(topo, f.read())}
    if has_countries(topo):
        out[COUNTRY_CSV] = country_csv(topo)
    return out


def main(topo, check):
    stale = []
    for path, text in expected(topo).items():
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        stale.append(os.path.relpath(path, os.path.dirname(topology.LAB_DIR)))
        if not check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if check and stale:
        print(f"lab: out of date with lab/topology.json: {', '.join(stale)} "
              "(lab/lab generate rewrites them)", file=sys.stderr)
        return 1
    for s in stale:
        print(f"lab: wrote {s}", file=sys.stderr)
    return 0
