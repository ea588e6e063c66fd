"""The lab DNS server's data: zone files and nsd's configuration.

Pure text from the topology: PTR names of every link end (NODE-to-PEER.lab,
with A/AAAA back), the prober's /etc/hosts names and the DNS-only names, the
hostile PTR name (dns.hostile_ptr in topology.json, bytes escaped for the
zone file here) and Team Cymru style TXT records per AS prefix.
"""
import ipaddress

HEADER = "; routegraph lab (lab/lab); removed by lab down"


def rev_name(addr):
    """The absolute reverse-DNS name of an address."""
    return ipaddress.ip_address(addr).reverse_pointer + "."


# Characters a zone file reads as syntax (or not at all) inside a label.
_SPECIAL = set(b'"();\\.@$')


def zone_label(label):
    """One label's bytes in zone-file form: \\DDD for every byte that is not
    plain printable ASCII or that the zone file would read as syntax."""
    out = []
    for b in label.encode("utf-8"):
        out.append(f"\\{b:03d}" if b <= 0x20 or b >= 0x7f or b in _SPECIAL else chr(b))
    return "".join(out)


def zone_name(name):
    """An absolute name with every label escaped (labels split on '.')."""
    return ".".join(zone_label(l) for l in name.split(".")) + "."


def unescape_zone_name(text):
    """The bytes a zone-file name stands for (inverse of zone_name, for the
    checks); \\DDD and \\X escapes."""
    out, i = bytearray(), 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and raw[i + 1:i + 4].isdigit() and len(raw[i + 1:i + 4]) == 3:
            out.append(int(raw[i + 1:i + 4]))
            i += 4
        elif c == 0x5C:
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8").rstrip(".")


class Zones:
    """Records filed under the zone that holds their owner."""

    def __init__(self, zones, ttl):
        self.zones, self.ttl = zones, ttl
        self.rr = {z: [] for z in zones}

    def add(self, owner, rtype, data):
        for z in self.zones:
            if owner == f"{z}." or owner.endswith(f".{z}."):
                self.rr[z].append(f"{owner} {self.ttl} IN {rtype} {data}")
                return
        raise ValueError(f"no lab zone holds {owner}")

    def ptr_pair(self, name, v4s, v6s):
        """PTR records to name and A/AAAA back."""
        for a in v4s:
            self.add(rev_name(a), "PTR", name)
            self.add(name, "A", a)
        for a in v6s:
            self.add(rev_name(a), "PTR", name)
            self.add(name, "AAAA", a)

    def text(self, zone):
        head = [HEADER, f"$ORIGIN {zone}.", f"$TTL {self.ttl}",
                "@ IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 60", "@ IN NS ns.lab."]
        return "\n".join(head + self.rr[zone]) + "\n"


def cymru_tail(topo, asn):
    """'CC | REGISTRY | DATE' of an AS's Cymru answers: the lab-wide values
    of dns.cymru (the lab's Cymru data says ZZ; a country per AS, ases[].country,
    goes to lab/country.csv, the country database the tests load)."""
    c = topo.doc["dns"]["cymru"]
    return f"{c['country']} | {c['registry']} | {c['date']}"


def cymru_origin_txt(topo, asn, prefix):
    return f"{asn} | {prefix} | {cymru_tail(topo, asn)}"


def cymru_as_txt(topo, a):
    tail = cymru_tail(topo, a["asn"])
    return f"{a['asn']} | {tail} | {a['name']}, {tail.split(' | ')[0]}"


def cymru_owners(prefix):
    """The wildcard owners that answer for every address of a prefix: one
    per /24 (IPv4, /16../24 only) or one at the prefix's last nibble."""
    net = ipaddress.ip_network(prefix)
    if net.version == 4:
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"Cymru data: {prefix} is not a /16../24 network")
        return [f"*.{'.'.join(str(s.network_address).split('.')[2::-1])}.origin.asn.cymru.com."
                for s in net.subnets(new_prefix=24)]
    if net.prefixlen % 4:
        raise ValueError(f"Cymru data: {prefix} does not end on a nibble")
    nibbles = net.network_address.exploded.replace(":", "")[:net.prefixlen // 4]
    return [f"*.{'.'.join(reversed(nibbles))}.origin6.asn.cymru.com."]


def build(topo):
    """Every zone's records, from the topology."""
    srv = topo.dns
    z = Zones(srv["zones"], srv["ttl"])
    for l in topo.links:
        z.ptr_pair(f"{l.a}-to-{l.b}.lab.", [l.addr(l.a, 4)], [l.addr(l.a, 6)])
        z.ptr_pair(f"{l.b}-to-{l.a}.lab.", [l.addr(l.b, 4)], [l.addr(l.b, 6)])
    for name, v4, v6 in topo.hosts_names():
        z.ptr_pair(f"{name}.", [v4] if v4 else [], [v6] if v6 else [])
    for name, v4s, v6s in topo.dns_names():
        z.ptr_pair(f"{name}.", v4s, v6s)
    z.add("ns.lab.", "A", srv["v4"])
    z.add("ns.lab.", "AAAA", srv["v6"])
    hostile = topo.doc["dns"]["hostile_ptr"]
    for a in hostile["addresses"]:
        z.add(rev_name(a), "PTR", zone_name(hostile["name"]))
    for a in topo.doc["ases"]:
        z.add(f"AS{a['asn']}.asn.cymru.com.", "TXT", f'"{cymru_as_txt(topo, a)}"')
        for p in a["v4"] + a["v6"]:
            for owner in cymru_owners(p):
                z.add(owner, "TXT", f'"{cymru_origin_txt(topo, a["asn"], p)}"')
    return z


def nsd_conf(topo, dns_dir, pidfile):
    srv = topo.dns
    lines = [
        "# routegraph lab (lab/lab); removed by lab down", "server:",
        f"    ip-address: {srv['v4']}", f"    ip-address: {srv['v6']}",
        f"    port: {srv['port']}", "    server-count: 1", '    username: ""', '    chroot: ""',
        f'    zonesdir: "{dns_dir}"', '    database: ""',
        f'    zonelistfile: "{dns_dir}/zone.list"', f'    xfrdfile: "{dns_dir}/xfrd.state"',
        f'    xfrdir: "{dns_dir}"', f'    pidfile: "{pidfile}"', f'    logfile: "{dns_dir}/nsd.log"',
        "    hide-version: yes", "    hide-identity: yes", "    refuse-any: yes", "    verbosity: 1",
        "    # Debian builds nsd with response rate limiting (200 answers/s per /24),",
        "    # which would drop most of a run's parallel lookups.",
        "    rrl-ratelimit: 0", "    rrl-whitelist-ratelimit: 0",
        "remote-control:", "    control-enable: no",
    ]
    for zone in srv["zones"]:
        lines += ["zone:", f'    name: "{zone}"', f'    zonefile: "{zone}.zone"']
    return "\n".join(lines) + "\n"
