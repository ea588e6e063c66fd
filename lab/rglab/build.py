"""lab up, lab down and lab status: building the namespaces, links,
addresses, routes, firewalls, listeners, delay relays and the DNS server
from the topology, and removing all of it again.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

from . import dnszone, icmp, rules, switch, system
from .system import LabError, log, state

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
NSD_CHECKZONE = shutil.which("nsd-checkzone") or "/usr/sbin/nsd-checkzone"
READY_WAIT_S = 5.0


class Lab:
    """The lab of one topology: knows its namespaces, its relays and where
    its programs live."""

    def __init__(self, topo, code_files, repo_root):
        self.topo = topo
        self.code_files = code_files
        self.repo_root = repo_root
        self.table = topo.nft_table(topo.prober["counters"]["nft_table"])
        self.silence_table = topo.nft_table(topo.doc["dns"]["silence"]["nft_table"])

    # --- names ----------------------------------------------------------------

    def relays(self, delays):
        """Relay namespaces a lab with these delays has: rg-delay-LINK."""
        return [f"rg-delay-{l}" for l in self.topo.delays()] if delays == "on" else []

    def node_ns(self):
        return [self.topo.ns(n) for n in self.topo.nodes]

    def stamp(self):
        return system.version_stamp(self.code_files)

    # --- state -----------------------------------------------------------------

    def lab_state(self):
        """'up', 'down', or what is wrong: 'partial (...)' / 'outdated (...)'."""
        icmp_mode, delays = icmp.read_mode()
        stale = [r for r in self.relays("on") if delays == "off" and system.ns_exists(r)]
        want = self.node_ns() + self.relays(delays)
        missing = [n for n in want if not system.ns_exists(n)]
        if stale:
            return f"partial (left over: {' '.join(stale)})"
        if len(missing) == len(want) and not os.path.exists(system.STATE_DIR) \
                and not os.path.exists(system.NETNS_ETC):
            return "down"
        if missing:
            return f"partial (missing {' '.join(missing)})"
        if not os.path.isfile(state("up")):
            return "partial (not finished)"
        if system.read_first(state("up")) != self.stamp():
            return "outdated (lab/lab or lab/topology.json changed since up)"
        for h in self.topo.hosts:
            if not system.is_listener(system.pid_from(state(f"listen-{h}.pid"))):
                return f"partial (listener in {self.topo.ns(h)} gone)"
        for r in self.relays(delays):
            if not system.is_relay(system.pid_from(state(f"{r[3:]}.pid"))):
                return f"partial (relay in {r} gone)"
        if not system.is_nsd(system.pid_from(state("dns.pid"))):
            return f"partial (DNS server in {self.topo.ns(self.topo.dns_node)} gone)"
        return "up"

    # --- up ---------------------------------------------------------------------

    def up(self, want_icmp, want_delays, impair_clear):
        need_nsd()
        st = self.lab_state()
        if st == "up" and not self._switch_mode(want_icmp, want_delays):
            log(f"lab is up with delays {icmp.read_mode()[1]}; rebuilding it with delays {want_delays}")
            self.teardown()
            st = "down"
        if st == "up":
            self._already_up(impair_clear)
            return
        if st != "down":
            log(f"found a lab that is {st}; tearing it down first")
            self.teardown()
        try:
            self._build(want_icmp, want_delays)
        except BaseException:
            log("up failed; tearing down")
            self.teardown()
            raise
        n = len(self.node_ns()) + len(self.relays(want_delays))
        log(f"up ({n} namespaces, {icmp.mode_text(want_icmp, want_delays)}); probe with: lab/lab exec CMD...")

    def _switch_mode(self, want_icmp, want_delays):
        """A lab that is up gets the ICMP limits asked for in place; other
        delays need a new lab (False)."""
        have_icmp, have_delays = icmp.read_mode()
        if have_delays != want_delays:
            return False
        if have_icmp != want_icmp:
            icmp.write_mode(want_icmp, want_delays)
            icmp.apply_base(self.topo)
            log(f"ICMP limits now {want_icmp}")
        return True

    def _already_up(self, impair_clear):
        """`up` is the documented state: DNS server answering, no impairment."""
        removed = impair_clear()
        if removed:
            log(f"impairments removed: {', '.join(removed)}")
        moved = switch.reset(self.topo)
        if moved:
            log(f"switched back to the default: {', '.join(moved)}")
        if self.dns_silent():
            self.dns_unsilence()
            log("already up; DNS server answering again")
        else:
            log("already up")

    def _build(self, want_icmp, want_delays):
        os.makedirs(system.STATE_DIR, exist_ok=True)
        icmp.write_mode(want_icmp, want_delays)
        relays = self.relays(want_delays)
        self._binaries(relays)
        batch = system.Batch()
        order = self.node_ns() + relays
        system.run(["ip", "-batch", "-"], input_text="".join(f"netns add {n}\n" for n in order))
        for n in self.node_ns():
            batch.q(n, "link set lo up")
        icmp.record_defaults(self.topo, self.topo.ns(self.topo.prober["name"]))
        self._sysctls(relays)
        self._create_links(batch, relays)
        batch.flush(order)
        self._address_links(batch)
        self._routes(batch)
        self._target_prefixes(batch)
        batch.flush(order)
        self._start_relays(relays)
        self._wait_addresses()
        self._warm_neighbours()
        self._firewalls()
        self._prober_etc()
        self._start_listeners()
        self._start_dns()
        system.write(state("up"), self.stamp() + "\n")

    def _binaries(self, relays):
        find_binary(self.repo_root, "rg-lab-listen", "listen.c", "RG_LISTEN")
        if relays:
            find_binary(self.repo_root, "rg-lab-delay", "delay.c", "RG_DELAY")

    def _sysctls(self, relays):
        """Before the links exist, so the "default" values reach every
        interface."""
        t = self.topo
        common = {
            # ECMP may send an answer back over the other branch.
            "net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0,
            # Addresses carry nodad; this also covers the link-local ones.
            "net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
        }
        answering = {**icmp.base(t), "net.ipv4.icmp_errors_use_inbound_ifaddr": 1}
        router = {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1}
        ecmp = {"net.ipv4.fib_multipath_hash_policy": 1, "net.ipv6.fib_multipath_hash_policy": 1}
        system.sysctl(t.ns(t.prober["name"]), common)
        system.sysctl(t.ns(t.dns_node), common)
        for h in t.hosts:
            system.sysctl(t.ns(h), {**common, **answering})
        for r in t.routers:
            system.sysctl(t.ns(r), {**common, **answering, **router,
                                    **(ecmp if r in t.ecmp_routers else {})})
        # A relay is a wire: no address, no IPv6 of its own (no link-local,
        # no MLD or DAD frames of its own on the link).
        for r in relays:
            system.sysctl(r, {"net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1})

    def _create_links(self, batch, relays):
        """The upstream end creates the pair. A delayed link is two pairs
        meeting in its relay namespace, where the interface towards X is
        to-X as everywhere."""
        t = self.topo
        for l in t.links:
            a, b, r = t.ns(l.a), t.ns(l.b), f"rg-delay-{l.name}"
            if r in relays:
                batch.q(a, f"link add to-{l.b} type veth peer name to-{l.a} netns {r}")
                batch.q(b, f"link add to-{l.a} type veth peer name to-{l.b} netns {r}")
                batch.q(r, f"link set to-{l.a} up")
                batch.q(r, f"link set to-{l.b} up")
            else:
                batch.q(a, f"link add to-{l.b} type veth peer name to-{l.a} netns {b}")

    def _address_links(self, batch):
        t = self.topo
        for l in t.links:
            for node in (l.a, l.b):
                dev = f"to-{l.peer(node)}"
                batch.q(t.ns(node), f"addr add {l.cidr(node, 4)} dev {dev}")
                batch.q(t.ns(node), f"addr add {l.cidr(node, 6)} dev {dev} nodad")
            for node in (l.a, l.b):
                batch.q(t.ns(node), f"link set to-{l.peer(node)} up")

    def _route(self, batch, node, family, prefix, hops, table=None):
        t = self.topo
        via = [(t.link_between(node, h).addr(h, family), f"to-{h}") for h in hops]
        if len(via) == 1:
            args = f"via {via[0][0]} dev {via[0][1]}"
        else:
            args = " ".join(f"nexthop via {a} dev {d}" for a, d in via)
        batch.q(t.ns(node), f"route add {prefix} {args}" + (f" table {table}" if table else ""))

    def _routes(self, batch):
        t = self.topo
        for node in t.nodes:
            for name, hops in t.routes(node):
                for fam in (4, 6):
                    self._route(batch, node, fam, t.prefix(name, fam), hops)
        gw = t.prober_gateway()
        for fam in (4, 6):
            for p in t.prober_routes(fam):
                self._route(batch, t.prober["name"], fam, p, [gw])
        for r in t.flow_hash:
            self._flow_hash_routes(batch, r)

    def _flow_hash_routes(self, batch, router):
        """A flow-hashing router (flow_hash, rules.flow_hash marks the
        packets): table base + k holds each of its multipath routes through
        the k-th next hop alone, and an ip rule per family sends mark k
        there. The main table keeps the multipath routes (what the router
        would do unmarked). ip -batch takes no family per line, so the
        IPv6 rules go in a batch of their own."""
        t = self.topo
        hops, base = t.ecmp_via[router], t.flow_hash[router]["table_base"]
        rules6 = []
        for k, hop in enumerate(hops, 1):
            for name, via in t.routes(router):
                if via == hops:
                    for fam in (4, 6):
                        self._route(batch, router, fam, t.prefix(name, fam), [hop], base + k)
            rule = f"rule add fwmark {k} lookup {base + k} pref {1000 + k}"
            batch.q(t.ns(router), rule)
            rules6.append(rule + "\n")
        system.run(["ip", "-n", t.ns(router), "-6", "-batch", "-"], input_text="".join(rules6))

    def _target_prefixes(self, batch):
        """Each host answers for its whole target networks: one local route
        per network and family, however many addresses (AnyIP)."""
        for tg in self.topo.targets:
            batch.q(self.topo.ns(tg["host"]), f"route add local {tg['v4_prefix']} dev lo")
            batch.q(self.topo.ns(tg["host"]), f"route add local {tg['v6_prefix']} dev lo")

    def _start_relays(self, relays):
        """One relay per delayed link, at the lowest real-time priority (as
        ordinary processes on a busy machine they woke milliseconds late);
        returns when every relay reads its interfaces (at most 5 s)."""
        delays = self.topo.delays()
        for r in relays:
            l = self.topo.link_by_name[r[len("rg-delay-"):]]
            with open(state(f"{r[3:]}.log"), "w", encoding="utf-8") as logf:
                subprocess.Popen(["ip", "netns", "exec", r, state("rg-lab-delay"), "-r",
                                  "-t", str(delays[l.name]), "-p", state(f"{r[3:]}.pid"),
                                  f"to-{l.a}", f"to-{l.b}"],
                                 stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                 start_new_session=True)
        deadline = time.monotonic() + READY_WAIT_S
        while True:
            pending = [r for r in relays if "ready" not in _lines(state(f"{r[3:]}.log"))]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise LabError(f"delay relays not ready: {' '.join(pending)} "
                               f"(see {system.STATE_DIR}/delay-*.log)")
            time.sleep(0.05)

    def _wait_addresses(self):
        """Addresses carry nodad and accept_dad is 0, so none should be
        tentative; still, up returns only when none is (at most 5 s)."""
        deadline = time.monotonic() + READY_WAIT_S
        while True:
            busy = [n for n in self.node_ns()
                    if system.run(["ip", "-n", n, "-6", "addr", "show", "tentative"]).stdout.strip()]
            if not busy:
                return
            if time.monotonic() > deadline:
                raise LabError(f"IPv6 addresses still tentative in {' '.join(busy)}")
            time.sleep(0.05)

    def _warm_neighbours(self):
        """Resolving a neighbour costs a round trip of its link, which on a
        delayed link a fresh lab would add to the first probes' RTTs (the
        internet's neighbour caches are warm). Each end of every link
        connects to its peer's port 9 in both families (an ND exchange may
        name a link-local address, so one direction is not enough); the
        answer is a RST, so no ICMP rate-limit token is spent. Runs before
        any firewall, so no counter sees it; at most 2 s."""
        peers = {}
        for l in self.topo.links:
            for node in (l.a, l.b):
                p = l.peer(node)
                peers.setdefault(node, []).extend([l.addr(p, 4), l.addr(p, 6)])
        procs = [subprocess.Popen(["ip", "netns", "exec", self.topo.ns(n), "timeout", "2",
                                   sys.executable, "-c", WARM_CODE, *addrs],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
                 for n, addrs in peers.items()]
        for p in procs:
            p.wait(timeout=10)

    def _firewalls(self):
        t = self.topo
        system.nft_load(t.ns(t.prober["name"]), rules.prober(t, self.table))
        for r in t.silent_routers:
            system.nft_load(t.ns(r), rules.silent(self.table))
        for r in t.doc["routers"]:
            if r.get("rewrites"):
                system.nft_load(t.ns(r["name"]), rules.rewrite(self.table, r["rewrites"]))
        for r, fh in t.flow_hash.items():
            system.nft_load(t.ns(r), rules.flow_hash(self.table, t.upstream_peers(r),
                                                     t.ecmp_via[r], fh["seed"]))
        for tg in t.host_targets():
            ports = t.filtered_ports(tg)
            if ports:
                system.nft_load(t.ns(tg["host"]), rules.filtered(self.table, ports))
        for sp in t.special_targets:
            system.nft_load(t.ns(sp["host"]), rules.special(self.table, sp, t.listen_port()))

    def _prober_etc(self):
        os.makedirs(system.NETNS_ETC, exist_ok=True)
        head = "# routegraph lab (lab/lab); removed by lab down\n"
        hosts = [head, "127.0.0.1 localhost\n", "::1 localhost ip6-localhost ip6-loopback\n"]
        for name, v4, v6 in self.topo.hosts_names():
            hosts += [f"{a} {name}\n" for a in (v4, v6) if a]
        system.write(os.path.join(system.NETNS_ETC, "hosts"), "".join(hosts))
        rc = self.topo.prober["resolv_conf"]
        # The lab's DNS server: names outside its zones are refused at once.
        system.write(os.path.join(system.NETNS_ETC, "resolv.conf"),
                     f"{head}nameserver {rc['nameserver']}\noptions {rc['options']}\n")

    def _start_listeners(self):
        """rg-lab-listen -d returns once its sockets listen, so the open port
        is open when up returns."""
        port = self.topo.listen_port()
        udp = self.topo.udp_echo_port()
        echo = ["-u", str(udp)] if udp else []
        for tg in self.topo.host_targets():
            h = tg["host"]
            system.nsrun(self.topo.ns(h), [state("rg-lab-listen"), "-d", "-p",
                                          state(f"listen-{h}.pid"), *echo, str(port)])

    # --- DNS ----------------------------------------------------------------------

    def _start_dns(self):
        """nsd forks and returns; up returns only once it answers (at most 5 s)."""
        d = state("dns")
        os.makedirs(d, exist_ok=True)
        zones = dnszone.build(self.topo)
        for z in self.topo.dns["zones"]:
            f = os.path.join(d, f"{z}.zone")
            system.write(f, zones.text(z))
            if system.run([NSD_CHECKZONE, z, f], check=False).returncode != 0:
                raise LabError(f"DNS zone {z} does not load ({f})")
        system.write(os.path.join(d, "nsd.conf"), dnszone.nsd_conf(self.topo, d, state("dns.pid")))
        ns = self.topo.ns(self.topo.dns_node)
        r = system.nsrun(ns, [NSD, "-c", os.path.join(d, "nsd.conf")], check=False)
        if r.returncode != 0:
            raise LabError(f"nsd did not start: {r.stderr.strip()} (see {d}/nsd.log)")
        prober = self.topo.ns(self.topo.prober["name"])
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            if system.is_nsd(system.pid_from(state("dns.pid"))) and self.dns_answers():
                # The check is not lookups of a test: counters start at zero.
                for c in ("dns_out", "dns_in"):
                    system.nsrun(prober, ["nft", "reset", "counter", "inet", self.table, c])
                return
            time.sleep(0.05)
        raise LabError(f"the DNS server in {ns} does not answer (see {d}/nsd.log)")

    def dns_answers(self):
        """An SOA query for the 198.18 reverse zone, from the prober, must
        come back NOERROR with an answer."""
        prober = self.topo.ns(self.topo.prober["name"])
        r = system.run(["ip", "netns", "exec", prober, "timeout", "1", sys.executable, "-c",
                        DNS_CHECK_CODE, self.topo.dns["v4"], str(self.topo.dns["port"])], check=False)
        return r.returncode == 0

    def dns_silent(self):
        ns = self.topo.ns(self.topo.dns_node)
        return system.nsrun(ns, ["nft", "list", "table", "inet", self.silence_table],
                            check=False).returncode == 0

    def dns_silence(self):
        if not self.dns_silent():
            system.nft_load(self.topo.ns(self.topo.dns_node),
                            rules.dns_silence(self.silence_table, self.topo.dns["port"]))

    def dns_unsilence(self):
        if self.dns_silent():
            system.nsrun(self.topo.ns(self.topo.dns_node),
                         ["nft", "delete", "table", "inet", self.silence_table])

    # --- down -----------------------------------------------------------------------

    def stop_daemons(self):
        """Listeners, relays and the DNS server from the state dir, plus any
        of them left in a host, relay or DNS namespace (only they run there)
        in case the state dir was lost."""
        pids = []
        files = glob.glob(state("listen-*.pid")) + [state("dns.pid")] + glob.glob(state("delay-*.pid"))
        for f in files:
            p = system.pid_from(f)
            if system.is_ours(p):
                pids.append(p)
        t = self.topo
        for ns in [t.ns(h) for h in t.hosts] + [t.ns(t.dns_node)] + self.relays("on"):
            if system.ns_exists(ns):
                pids += [p for p in system.ns_pids(ns) if system.is_ours(p)]
        pids = sorted(set(pids))
        if pids:
            alive = system.kill_and_reap(pids)
            if alive:
                log(f"warning: lab processes not yet reaped: {' '.join(alive)}")

    def report_relay_losses(self):
        """A relay that lost frames says so before its log goes with the
        state dir."""
        for f in sorted(glob.glob(state("delay-*.log"))):
            lines = _lines(f)
            if any(re.search(r"(full|failed|oversize|kernel_dropped) [1-9]", l) for l in lines):
                got = "; ".join(l for l in lines if ">" in l or "kernel_dropped" in l)
                log(f"{os.path.basename(f)[:-4]} lost frames: {got}")

    def teardown(self):
        self.stop_daemons()
        self.report_relay_losses()
        # Whatever the mode was: every relay namespace that exists.
        gone = [n for n in self.node_ns() + self.relays("on") if system.ns_exists(n)]
        if gone:
            r = system.run(["ip", "-force", "-batch", "-"],
                           input_text="".join(f"netns del {n}\n" for n in gone), check=False)
            if r.returncode != 0:
                log("warning: could not delete every namespace")
        for f in ("hosts", "resolv.conf"):
            try:
                os.remove(os.path.join(system.NETNS_ETC, f))
            except FileNotFoundError:
                pass
        for d in (system.NETNS_ETC, os.path.dirname(system.NETNS_ETC)):
            try:
                os.rmdir(d)
            except OSError:
                pass  # absent, or holds what is not ours
        shutil.rmtree(system.STATE_DIR, ignore_errors=True)


def _lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def need_nsd():
    if not (os.access(NSD, os.X_OK) and os.access(NSD_CHECKZONE, os.X_OK)):
        raise LabError("the lab's DNS server needs nsd and nsd-checkzone "
                       "(Debian package nsd: apt-get install nsd)")


def find_binary(repo_root, name, source, env):
    """$ENV, else the build's NAME, else lab/SOURCE compiled with cc; a
    private copy in the state dir, so rebuilding the original never hits
    "text file busy"."""
    dest = state(name)
    given = os.environ.get(env)
    if given:
        if not os.access(given, os.X_OK):
            raise LabError(f"{env}={given} is not executable")
        shutil.copy(given, dest)
        return
    cand = os.environ.get("RG_BUILD_DIR") or "build"
    cand = os.path.join(cand if os.path.isabs(cand) else os.path.join(repo_root, cand), name)
    if os.access(cand, os.X_OK):
        shutil.copy(cand, dest)
        return
    log(f"no {cand}; compiling lab/{source}")
    system.run(["cc", "-std=c11", "-O2", "-D_GNU_SOURCE", "-o", dest,
                os.path.join(repo_root, "lab", source)], capture=False, timeout=120)


# Run inside a namespace by the system's python3: connect to port 9 of every
# address given, in parallel; the RST (or nothing) is the point.
WARM_CODE = """
import socket, sys, threading
def hit(a):
    try:
        socket.create_connection((a, 9), timeout=1.5).close()
    except OSError:
        pass
ts = [threading.Thread(target=hit, args=(a,)) for a in sys.argv[1:]]
for t in ts: t.start()
for t in ts: t.join()
"""

# Run in the prober: one SOA query for 18.198.in-addr.arpa; exit 0 when the
# answer has our id, NOERROR and at least one answer record.
DNS_CHECK_CODE = """
import socket, sys
q = (b"RG\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00"
     b"\\x0218\\x03198\\x07in-addr\\x04arpa\\x00\\x00\\x06\\x00\\x01")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
try:
    s.sendto(q, (sys.argv[1], int(sys.argv[2])))
    d = s.recv(512)
except OSError:
    sys.exit(1)
ok = len(d) >= 12 and d[:2] == b"RG" and d[3] & 0x0f == 0 and int.from_bytes(d[6:8], "big") >= 1
sys.exit(0 if ok else 1)
"""
