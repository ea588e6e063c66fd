"""The country of every hop (lab/country.csv: one country per lab AS, as
lab/topology.json's ases[].country says) in every output, and `routegraph
lookup` for lab addresses, with names from the lab's DNS server. Everything
runs in the prober namespace (run.py's rg); lookup sends no probe."""
import ipaddress
import json
import os
import re
import sys
import tempfile

from harness import PROBER, ROOT, TOPO, run, target, test

LAB_COUNTRY_CSV = os.path.join(ROOT, "lab", "country.csv")
LAB_ASN_CSV = os.path.join(ROOT, "lab", "asn.csv")
LAB_DBS = ("--asn-db", LAB_ASN_CSV, "--country-db", LAB_COUNTRY_CSV)
AS = {a["asn"]: a for a in TOPO["ases"]}
PTR = TOPO["dns"]["ptr"]
DEFAULT_DATA = os.path.join(os.environ.get("RG_DATA_DIR") or "/usr/local/share/routegraph",
                            "country")


def main():
    return sys.modules["__main__"]


def rg(*args, **kw):
    return main().rg(*args, **kw)


def country_of(address):
    return AS[main().router_asn(address)]["country"]


def lookup_line(address, name):
    """The text line lookup prints for a lab address (AS and country from the
    lab's files)."""
    asn = main().router_asn(address)
    return f"{address}  {name or '-'}  AS{asn} {main().csv_orgs()[asn]}; {AS[asn]['country']}"


@test
def test_country_of_every_hop_from_the_lab_data():
    addrs = [target("h1", 4, 70), target("h2", 6, 70), target("h3", 4, 70), target("h1", 6, 71)]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # started as root, routegraph runs as nobody
        prefix = os.path.join(d, "c")
        r = rg("-q", "-p", "80", *LAB_DBS, "-o", prefix, "--format", "table,json,dot,html", *addrs)
        assert r.rc == 0 and r.err == "", r
        doc = json.load(open(prefix + ".json"))
        dot = open(prefix + ".dot").read()
        html = open(prefix + ".html").read()
        table = open(prefix + ".txt").read()
    hops = 0
    for t in doc["traces"]:
        for h in t["hops"]:
            if not h["responder"]:
                assert "country" not in h, h
                continue
            hops += 1
            assert h["country"] == country_of(h["responder"]), h
            assert h["country_source"] == "offline", h
        # the destination too, in hosts[]
    for h in doc["hosts"]:
        assert h["country"] == country_of(h["address"]) and h["country_source"] == "offline", h
    assert hops >= 15, hops
    assert doc["credits"] == [], doc["credits"]  # the lab's own files ask for none
    # The AS-path view: "AS64501 RG-LAB-TRANSIT Lab Transit Backbone, DE".
    for a in AS.values():
        org = main().csv_orgs()[a["asn"]]
        if any(main().router_asn(h["responder"]) == a["asn"]
               for t in doc["traces"] for h in t["hops"] if h["responder"]):
            assert re.search(rf"  AS{a['asn']} {re.escape(org)}, {a['country']}  \d+\.\d{{3}} ms$",
                             table, re.M), (a, table)
            # Cluster label: every hop of the AS in one country, so it is named.
            assert re.search(rf'label="AS{a["asn"]} [^"]*\({a["country"]}\)"', dot), (a, dot)
    # Node tooltips carry the country; the HTML report shows it per hop.
    assert re.search(r'"198\.18\.16\.2" \[.*tooltip="AS64501 [^"]*; DE"', dot) or \
        re.search(r'"198\.18\.17\.2" \[.*tooltip="AS64501 [^"]*; DE"', dot), dot
    assert "Lab Transit Backbone <span class=\"muted\">(DE)</span>" in html


@test
def test_mmdb_country_wins_and_adds_the_city():
    # tests/data/test-city.mmdb: 198.18.0.0/20 DE, Berlin; 198.18.16.0/20
    # registered in NL (no city); nothing for the hosting AS.
    mmdb = os.path.join(ROOT, "tests", "data", "test-city.mmdb")
    r = rg("-q", "--format", "json", "-p", "80", *LAB_DBS, "--mmdb", mmdb, target("h1", 4, 72))
    assert r.rc == 0, r
    doc = json.loads(r.out)
    seen = set()
    for h in doc["hosts"]:
        a = ipaddress.ip_address(h["address"])
        if a in ipaddress.ip_network("198.18.0.0/20"):
            want = ("DE", "mmdb", "Berlin")
        elif a in ipaddress.ip_network("198.18.16.0/20"):
            want = ("NL", "mmdb", None)
        else:
            want = (country_of(h["address"]), "offline", None)
        assert (h["country"], h["country_source"], h.get("city")) == want, h
        seen.add(want[1])
    assert seen == {"mmdb", "offline"}, doc["hosts"]


@test
def test_default_data_gives_no_country_to_special_purpose_addresses():
    if not os.path.exists(DEFAULT_DATA):
        print(f"# skip: no country data in {DEFAULT_DATA}")
        return
    # The installed data places 2001:db8::/32 in a country; the lab uses it.
    r = rg("-q", "--format", "json", "-p", "80", "--asn-db", LAB_ASN_CSV, target("h2", 6, 73))
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert all("country" not in h for h in doc["hosts"]), doc["hosts"]
    assert doc["credits"] == [], doc["credits"]


@test
def test_lookup_lab_addresses_with_names_from_lab_dns():
    addrs = ["198.18.16.2", "2001:db8:200::2", "198.19.0.1", "2001:db8:400::2"]
    r = rg("lookup", *LAB_DBS, *addrs)
    assert r.rc == 0 and r.err == "", r
    want = [lookup_line(a, PTR.get(a)) for a in addrs]
    assert r.out.splitlines() == want, (r.out, want)
    r = rg("lookup", "--format", "json", *LAB_DBS, *addrs)
    assert r.rc == 0 and r.err == "", r
    doc = json.loads(r.out)
    assert doc["schema"] == "routegraph-lookup/1" and doc["errors"] == [], doc
    assert [a["address"] for a in doc["addresses"]] == addrs
    for a in doc["addresses"]:
        asn = main().router_asn(a["address"])
        assert a["asn"] == asn and a["as_source"] == "offline", a
        assert a["country"] == AS[asn]["country"] and a["country_source"] == "offline", a
        assert a["ptr"] == PTR[a["address"]], a


@test
def test_lookup_invalid_address_is_named_and_partial():
    r = rg("lookup", "-n", *LAB_DBS, "198.18.16.2", "198.18.300.1", "2001:db8:400::2")
    assert r.rc == 3, r
    assert r.err.splitlines() == ["routegraph: lookup: 198.18.300.1: not an IPv4 or IPv6 address"], r
    assert r.out.splitlines() == [lookup_line("198.18.16.2", None),
                                  lookup_line("2001:db8:400::2", None)], r.out
    r = rg("lookup", "-n", "--format", "json", *LAB_DBS, "nonsense", "198.18.16.2")
    assert r.rc == 3, r
    doc = json.loads(r.out)
    assert doc["errors"] == [{"input": "nonsense", "error": "not an IPv4 or IPv6 address"}], doc
    assert [a["address"] for a in doc["addresses"]] == ["198.18.16.2"], doc
    r = rg("lookup", "-n", *LAB_DBS, "nonsense")
    assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1, r
    # A byte no address or name has: named escaped, never raw; listed too.
    r = rg("lookup", "-n", "--format", "json", *LAB_DBS, "198.18.16.2\x1b[2J", "198.18.16.2")
    assert r.rc == 3 and "\x1b" not in r.err and "\\x1b[2J" in r.err, r
    assert len(r.err.splitlines()) == 1, r
    doc = json.loads(r.out)
    assert doc["errors"] == [{"input": "198.18.16.2\x1b[2J",
                              "error": "not an IPv4 or IPv6 address"}], doc
    assert [a["address"] for a in doc["addresses"]] == ["198.18.16.2"], doc
    r = rg("lookup", "-n")
    assert r.rc == 2 and r.out == "" and "no address given" in r.err, r
    for bad in (["-p", "443"], ["--rate", "10"], ["-o", "out"], ["--format", "dot"]):
        r = rg("lookup", "-n", *bad, "198.18.16.2")
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1, (bad, r)
        assert bad[0] in r.err, (bad, r)


@test
def test_lookup_file_of_addresses():
    addrs = ["198.18.0.1", "2001:db8:100::1", "198.19.16.1", "2001:db8:300::2"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # started as root, routegraph runs as nobody
        path = os.path.join(d, "addrs.txt")
        with open(path, "w") as f:
            f.write("# routers and a target\n" + "\n".join(addrs[:2]) + "\n"
                    + " ".join(addrs[2:]) + "  # the rest\nnot-an-address\n")
        os.chmod(path, 0o644)
        r = rg("lookup", "-f", path, *LAB_DBS)
    assert r.rc == 3, r
    assert r.err.splitlines() == ["routegraph: lookup: not-an-address: not an IPv4 or IPv6 address"], r
    assert r.out.splitlines() == [lookup_line(a, PTR.get(a)) for a in addrs], r.out


@test
def test_lookup_needs_no_privilege_and_sends_no_probe():
    before = main().lab("counters").out
    r = run(["ip", "netns", "exec", PROBER["netns"], "setpriv", "--reuid=65534", "--regid=65534",
             "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", main().BIN,
             "lookup", "-n", *LAB_DBS, "198.18.32.2"], env={"ROUTEGRAPH_LAB_ONLY": "1"})
    after = main().lab("counters").out
    assert r.rc == 0 and r.err == "", r
    assert r.out == lookup_line("198.18.32.2", None) + "\n", r.out
    count = lambda text: int(re.search(r"^probes_out (\d+)$", text, re.M).group(1))
    assert count(after) == count(before), (before, after)


@test
def test_lookup_long_stable_facts_of_the_installed_data():
    asn_dir = os.path.join(os.path.dirname(DEFAULT_DATA), "asn")
    if not (os.path.exists(DEFAULT_DATA) and os.path.exists(asn_dir)):
        print(f"# skip: no installed AS and country data beside {DEFAULT_DATA}")
        return
    # Registries' and root servers' own blocks: RIPE NCC (Amsterdam), WIDE
    # (M-root, Tokyo), Google's resolver.
    facts = {"193.0.6.139": (3333, "NL"), "2001:67c:2e8:22::c100:68b": (3333, "NL"),
             "202.12.27.33": (7500, "JP"), "8.8.8.8": (15169, "US")}
    r = rg("lookup", "-n", "--format", "json", *facts)
    assert r.rc == 0 and r.err == "", r
    doc = json.loads(r.out)
    got = {a["address"]: (a.get("asn"), a.get("country")) for a in doc["addresses"]}
    assert got == facts, got
    assert all(a["country_source"] == "offline" and a["as_source"] == "offline"
               for a in doc["addresses"]), doc
    assert len(doc["credits"]) == 2 and doc["credits"][1].startswith("Country data: "), doc
    r = rg("lookup", "-n", "8.8.8.8")
    assert r.rc == 0 and r.out.splitlines()[0].startswith("8.8.8.8  -  AS15169 ") and \
        r.out.splitlines()[0].endswith("; US"), r.out
    assert r.out.splitlines()[-1].startswith("Country data: ip-location-db"), r.out


@test
def test_bad_country_databases():
    addr = target("h3", 4, 74)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # started as root, routegraph runs as nobody
        missing = os.path.join(d, "missing.csv")
        r = rg("-n", "-p", "80", "--country-db", missing, addr)
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1 \
            and "missing.csv" in r.err, r
        bad = os.path.join(d, "bad.csv")
        with open(bad, "w") as f:
            f.write("198.18.0.0,198.18.15.255,NL\n198.18.16.0,198.18.31.255,Germany\n")
        os.chmod(bad, 0o644)
        r = rg("-n", "-p", "80", "--asn-db", LAB_ASN_CSV, "--country-db", bad, addr)
        assert r.rc == 0 and len(r.err.splitlines()) == 1, r
        assert "country data: 1 malformed or reversed lines skipped" in r.err \
            and "bad.csv:2: country code is not two letters" in r.err, r.err
        assert re.search(r"^ +1  198\.18\.0\.1  AS64500 RG-LAB-ACCESS Lab Access Networks, NL  ",
                         r.out, re.M), r.out
        r = rg("lookup", "-n", "--country-db", LAB_ASN_CSV, "198.18.0.1")  # an AS file
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1 \
            and "no valid address range" in r.err, r
