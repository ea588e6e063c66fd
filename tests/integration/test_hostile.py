"""Hostile-network integration tests: forged replies, packet loss, NAT, ICMP
rate limits and odd targets, with real packets in the lab.

run.py imports this module so that its @test functions register with the
harness; the routegraph binary is run.py's BIN, read at test time. Each test
that changes the lab (lab/lab impair, rg-lab-forge) undoes it when it ends,
pass or fail. Loss, NAT and the forger touch only this file's own target
addresses (host numbers 200-299 of each target network: run.py uses lower
ones, the benchmark 512 and up), so other users of the lab are not
disturbed; the ICMP rate limit cannot be scoped and lasts one short run.

Where the lab cannot tell what should have come back, a capture of the
prober's link (wire) can: those tests check that routegraph shows exactly
the answers that arrived."""
import ctypes
import datetime
import ipaddress
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from harness import NETS, PROBER, TOPO, lab, net_of, run, target, test

SPECIAL = {s["kind"]: s for s in TOPO["special_targets"]}
PROBER_IF = "to-r1"  # the lab's naming: the interface towards PEER is to-PEER
FORGER = TOPO["forger"]
FORGED_KINDS = 12  # packets rg-lab-forge sends per probe; one has a short quote


def binary(name="routegraph"):
    """A program of the build under test (run.py's --build)."""
    return os.path.join(os.path.dirname(sys.modules["__main__"].BIN), name)


def rg(*args, timeout=90):
    wrap = sys.modules["__main__"].WRAP  # run.py's --wrap (valgrind)
    return run(["ip", "netns", "exec", PROBER["netns"], *wrap, binary(), *args],
               timeout=timeout * (10 if wrap else 1), env={"ROUTEGRAPH_LAB_ONLY": "1"})


def rg_json(*args):
    r = rg("-q", "-n", "--asn-source", "none", "--format", "json", *args)
    assert r.rc == 0 and r.err == "", r
    return json.loads(r.out)


def rg_files(*args):
    """One run writing table and JSON; returns (table text, document)."""
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # routegraph may run as the sudo user
        r = rg("-q", "-n", "--asn-source", "none", "-o", os.path.join(d, "run"), *args)
        assert r.rc == 0 and r.err == "", r
        with open(os.path.join(d, "run.txt")) as f, open(os.path.join(d, "run.json")) as g:
            return f.read(), json.load(g)


def label(t):
    return f"{t['address']}:{t['port']}"


def hop_list(t, upto):
    """Responder per TTL 1..upto, measured or inferred from other traces
    (None = silent); the ground-truth checks hold both to the lab's."""
    by_ttl = {h["ttl"]: h["responder"] or h.get("inferred_responder") for h in t["hops"]}
    return [by_ttl.get(ttl) for ttl in range(1, upto + 1)]


def replies(t):
    """(ttl, attempt, reply) of every answered probe of a trace, the port
    probes (sent at a high TTL) included."""
    pp = t.get("port_probes") or {"ttl": 0, "probes": []}
    return [(h["ttl"], p["attempt"], p["reply"]) for h in t["hops"] for p in h["probes"]
            if p["reply"]] + [(pp["ttl"], p["attempt"], p["reply"]) for p in pp["probes"]
                              if p["reply"]]


def assert_truthful(t, exact, state=None, half_open=False):
    """Every reply of the trace is one the lab's ground truth allows at its
    TTL, all on one ECMP branch: a router's time-exceeded below the
    distance, the destination's own answer (matching the port's state) at
    or past it. exact: besides, every hop that can answer did (the hop list
    is a ground-truth branch) and the verdict is the lab's. half_open: an
    open port may also have answered RST (see the loss test)."""
    net = net_of(t["address"])
    d = net["distance"]
    want = state or net["ports"][str(t["port"])]
    dest_kinds = {"open": {"syn-ack"}, "closed": {"rst"}}.get(want, set())
    if half_open and want == "open":
        dest_kinds = {"syn-ack", "rst"}
    branches = net["branches"][str(t["family"])]

    def fits(branch):
        for ttl, _, rep in replies(t):
            if ttl < d:
                if rep["kind"] != "time-exceeded" or rep["from"] != branch[ttl - 1]:
                    return False
            elif rep["kind"] not in dest_kinds or rep["from"] != t["address"]:
                return False
        return True

    assert any(fits(b) for b in branches), \
        f"{label(t)}: a reply the lab cannot have sent: {replies(t)}"
    if t["reached"]:
        assert t["reached_ttl"] >= d, (label(t), t["reached_ttl"])
        assert t["state"] == want or half_open, (label(t), t["state"], want)
    if exact:
        assert hop_list(t, d - 1) in branches, (label(t), hop_list(t, d - 1), branches)
        assert t["state"] == want, (label(t), t["state"], want)
        if want == "filtered":
            assert not t["reached"], label(t)
        else:
            assert t["reached"] and t["reached_ttl"] == d, (label(t), t["reached_ttl"])


def epoch(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def assert_as_on_the_wire(t, w, doc):
    """Each probe of the trace shows the first answer to it that reached the
    prober (by the probe it names on the wire), and shows none only if no
    answer came before the run ended (a SYN-ACK retransmitted a second later
    may come after)."""
    seen = w.all(t)
    end = epoch(doc["end_time"]) - 0.02
    for h in t["hops"]:
        got = [p["reply"]["from"] if p["reply"] else None for p in h["probes"]]
        wire_ = seen.get(h["ttl"], [])
        assert [p["attempt"] for p in h["probes"]] == list(range(len(got))), h
        assert len(got) == len(wire_), (label(t), h, wire_)
        for g, answers in zip(got, wire_):
            if g is not None:
                assert answers and g == answers[0][0], (label(t), h["ttl"], got, wire_)
            else:
                # A bare ACK (RFC 5961's challenge ACK from a connection a
                # lost packet left open) is no answer to the probe.
                assert not [a for a in answers if a[2] < end and a[3] != "ack"], \
                    (label(t), h["ttl"], got, wire_)


def matched_in_json(doc):
    return sum(len(replies(t)) for t in doc["traces"])


# ---------------------------------------------------------------------------
# Lab helpers: impairments, the forger, a capture of the prober's link
# ---------------------------------------------------------------------------

class impaired:
    """lab/lab impair KIND ... for the duration of a with block."""

    def __init__(self, kind, *args, where):
        self.kind, self.args, self.where = kind, args, where

    def __enter__(self):
        r = lab("impair", self.kind, *self.args)
        if r.rc != 0:
            self.__exit__()
            raise AssertionError(f"lab impair {self.kind}: {r}")
        return self

    def __exit__(self, *exc):
        r = lab("impair", "remove", self.kind, self.where)
        assert r.rc == 0, r
        status = lab("impair", "status").out
        assert f"_{self.kind}_{self.where}" not in status and \
            (self.kind != "ratelimit" or f"{self.where} ratelimit" not in status), status


def nft_counter(ns, table, name):
    r = run(["ip", "netns", "exec", ns, "nft", "list", "counter", "inet", table, name])
    assert r.rc == 0, r
    return int(re.search(r"packets (\d+)", r.out).group(1))


class forger:
    """rg-lab-forge in the prober's first hop for the given target addresses,
    killed by its PID when the with block ends; .counts has its report."""

    def __init__(self, addrs, seconds=60):
        self.argv = ["ip", "netns", "exec", FORGER["netns"], binary("rg-lab-forge"),
                     "-i", FORGER["interface"], "-t", str(seconds), "-n", "1000000", *addrs]
        self.counts = {}

    def __enter__(self):
        # ip netns exec execs: the PID is the forger's.
        self.p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        line = self.p.stdout.readline() if ready else ""
        if line != "ready\n":
            self.__exit__()
            raise AssertionError(f"rg-lab-forge did not start: {line!r}")
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
        try:
            out, err = self.p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(self.p.pid, signal.SIGKILL)
            out, err = self.p.communicate()
        self.err = err
        for line in out.splitlines():
            k, _, v = line.partition(" ")
            if v.isdigit():
                self.counts[k] = int(v)


CLONE_NEWNET = 0x40000000
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35  # also the SCM_ type of its control message
SOL_PACKET, PACKET_STATISTICS, PACKET_OUTGOING = 263, 6, 4
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in_netns(ns, *args):
    """A socket of network namespace ns. setns() moves only the calling
    thread, so a short-lived thread does it and the test process stays put."""
    out = {}

    def work():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            out["sock"] = socket.socket(*args)
        except OSError as e:
            out["err"] = e

    th = threading.Thread(target=work)
    th.start()
    th.join()
    if "err" in out:
        raise out["err"]
    return out["sock"]


class wire:
    """Every frame on the prober's link while the with block runs (AF_PACKET
    in rg-prober, read by a thread); .probes and .answers after it."""

    def __enter__(self):
        self.frames = []
        self.sock = socket_in_netns(PROBER["netns"], socket.AF_PACKET, socket.SOCK_RAW,
                                    socket.htons(0x0003))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind((PROBER_IF, 0))
        self.sock.settimeout(0.05)
        self.stop = threading.Event()
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()
        return self

    def _read(self):
        while not self.stop.is_set():
            try:
                fr, anc, _, a = self.sock.recvmsg(4096, 64)
            except socket.timeout:
                continue
            when = time.time()
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, ns = struct.unpack("qq", data[:16])
                    when = sec + ns / 1e9
            self.frames.append((a[2], fr, when))

    def __exit__(self, *exc):
        time.sleep(0.1)  # the last answers
        self.stop.set()
        self.th.join()
        st = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        self.drops = struct.unpack("II", st)[1]
        self.sock.close()
        self._parse()

    def _parse(self):
        """probes: (dst, dport, sport) -> [(seq, ttl)] in send order;
        answers: (dst, dport, sport, seq) -> [(responder, quoted source or
        None, arrival time, "icmp" / "syn-ack" / "rst" / "ack"), ...] in
        arrival order, for TCP answers (ack - 1) and ICMP errors quoting a
        probe."""
        self.probes, self.answers = {}, {}
        for kind, fr, when in self.frames:
            p = ip_packet(fr)
            if p is None:
                continue
            src, dst, proto, ttl, l4 = p
            if kind == PACKET_OUTGOING:
                if proto == 6 and len(l4) >= 14 and l4[13] & 0x17 == 0x02:
                    sport, dport, seq = struct.unpack("!HHI", l4[:8])
                    self.probes.setdefault((dst, dport, sport), []).append((seq, ttl))
                continue
            key, qsrc, what = None, None, "icmp"
            if proto == 6 and len(l4) >= 14 and l4[13] & 0x10:
                sport, dport, _, ack = struct.unpack("!HHII", l4[:12])
                key = (src, sport, dport, (ack - 1) & 0xffffffff)
                what = "rst" if l4[13] & 0x04 else "syn-ack" if l4[13] & 0x02 else "ack"
            elif proto in (1, 58) and len(l4) >= 8 and \
                    l4[0] in ((11, 3) if proto == 1 else (3, 1)):
                q = quoted_probe(l4[8:], 4 if proto == 1 else 6)
                if q:
                    key, qsrc = q[:4], q[4]
            if key:
                self.answers.setdefault(key, []).append((src, qsrc, when, what))

    def view(self, t, tcp_from=None):
        """{ttl: [first answer's source or None, per attempt]} for one trace;
        tcp_from: look for TCP answers from this address instead (ICMP errors
        are found by the destination they quote)."""
        return {ttl: [a[0][0] if a else None for a in per] for ttl, per in self.all(t, tcp_from).items()}

    def all(self, t, tcp_from=None):
        """{ttl: [[answer as in .answers, ...] per attempt]}."""
        k = (t["address"], t["port"], t["source_port"])
        kf = (tcp_from or t["address"], t["port"], t["source_port"])
        out = {}
        for seq, ttl in self.probes.get(k, []):
            got = list(self.answers.get(k + (seq,), []))
            if kf != k:
                got += self.answers.get(kf + (seq,), [])
            out.setdefault(ttl, []).append(got)
        return out


def ip_packet(fr):
    """(src, dst, proto, ttl, l4 bytes) of an Ethernet frame, or None."""
    et = struct.unpack("!H", fr[12:14])[0]
    ip = fr[14:]
    if et == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        return (str(ipaddress.ip_address(ip[12:16])), str(ipaddress.ip_address(ip[16:20])),
                ip[9], ip[8], ip[ihl:])
    if et == 0x86DD and len(ip) >= 40:
        return (str(ipaddress.ip_address(ip[8:24])), str(ipaddress.ip_address(ip[24:40])),
                ip[6], ip[7], ip[40:])
    return None


def quoted_probe(q, family):
    """(dst, dport, sport, seq, src) of the probe an ICMP error quotes, or None."""
    if family == 4 and len(q) >= 20 and q[9] == 6:
        ihl = (q[0] & 15) * 4
        src, dst, tcp = q[12:16], q[16:20], q[ihl:]
    elif family == 6 and len(q) >= 40 and q[6] == 6:
        src, dst, tcp = q[8:24], q[24:40], q[40:]
    else:
        return None
    if len(tcp) < 8:
        return None
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    return (str(ipaddress.ip_address(dst)), dport, sport, seq, str(ipaddress.ip_address(src)))


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------

@test
def test_hostile_forged_replies_never_attributed():
    addrs = [target(n, f, h) for f in (4, 6) for n, h in (("h1", 200), ("h1", 201),
                                                          ("h2", 200), ("h3", 200))]
    with forger(addrs) as fg:
        text, doc = rg_files("-p", "80,443", *addrs)
    assert fg.counts.get("probes", 0) > 0 and fg.counts["dropped"] == 0, (fg.counts, fg.err)
    for t in doc["traces"]:
        assert_truthful(t, exact=True)
        froms = {rep["from"] for _, _, rep in replies(t)}
        assert not froms & {FORGER["other"]["4"], FORGER["other"]["6"]}, (label(t), froms)
    s = doc["stats"]
    sent = s["probes_sent"]
    # The forger saw every probe and answered each with every kind.
    assert fg.counts["probes"] == sent, (fg.counts, s)
    assert all(fg.counts[k] == sent for k in FORGER["kinds"]), fg.counts
    assert fg.counts["total"] == FORGED_KINDS * sent, fg.counts
    # Nothing forged was matched: every match is a reply the JSON shows.
    assert s["duplicates"] == 0 and s["matched"] == matched_in_json(doc), s
    # Counted: the forgeries answering each trace's last probe may come after
    # the run; other users of the lab only add to the count.
    n = len(doc["traces"])
    assert s["unmatched"] >= (FORGED_KINDS - 1) * (sent - n), (s, fg.counts)
    assert s["malformed"] >= sent - n, s  # the quotes cut short
    assert f"\n{s['unmatched']} replies matched no probe and were ignored\n" in text, text
    assert f"\n{s['malformed']} malformed packets were ignored\n" in text, text


@test
def test_hostile_forger_is_bounded():
    addr = target("h3", 4, 210)
    start = time.monotonic()
    with forger([addr], seconds=1) as fg:
        fg.p.wait(timeout=5)
    assert time.monotonic() - start < 4 and fg.counts["total"] == 0, (fg.counts, fg.err)
    # -n: exits by itself after that many packets (here within one probe's burst).
    p = subprocess.Popen(["ip", "netns", "exec", FORGER["netns"], binary("rg-lab-forge"),
                          "-i", FORGER["interface"], "-t", "20", "-n", "5", addr],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        r = rg("-q", "-n", "--asn-source", "none", "--max-ttl", "1", "-r", "0", addr)
        assert r.rc == 0, r
        out, _ = p.communicate(timeout=5)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 0 and "total 5\n" in out, out


@test
def test_hostile_loss_retries_find_every_hop_that_answered():
    addrs = [target(n, f, h) for f in (4, 6) for n in ("h1", "h3") for h in (220, 221, 222)]
    with impaired("loss", "30", "L1", *addrs, where="L1"):
        with wire() as w:
            text, doc = rg_files("-p", "80,443", *addrs)
        dropped = sum(nft_counter(f"rg-{n}", "rg_impair_loss_L1", "dropped") for n in ("r1", "r2"))
    assert dropped > 0 and w.drops == 0, (dropped, w.drops)
    assert doc["options"]["retries"] == 1
    retried = recovered = retried_hops = 0
    for t in doc["traces"]:
        assert_truthful(t, exact=False, half_open=True)
        # What routegraph shows is exactly what came back: every hop whose
        # answer got through is found.
        assert_as_on_the_wire(t, w, doc)
        net = net_of(t["address"])
        d, want = net["distance"], net["ports"][str(t["port"])]
        # An RST that may reset a half-open connection of ours never makes an
        # open port closed: port checks settle it, or it stays unknown.
        if t["reached"]:
            assert t["state"] in (want, "unknown"), (label(t), t["state"], want)
        if t["state"] == "unknown":
            assert checks_used_up(t, doc["options"]["retries"]), (label(t), t["hops"])
        for h in t["hops"]:
            got = [p["reply"]["from"] if p["reply"] else None for p in h["probes"]]
            first = next((i for i, g in enumerate(got) if g), None)
            # answer_attempt names the first answered probe; above 0 the hop
            # needed a retry.
            assert h["answer_attempt"] == first, (label(t), h)
            retried_hops += bool(first)
            if h["ttl"] < d and got[0] is None and len(got) == 1:
                # A router hop whose first probe went unanswered got its
                # retry, unless other traces showed it (inferred).
                assert h.get("inferred_responder"), (label(t), h)
            elif h["ttl"] < d and got[0] is None:
                # Up to two more when its router is seen to lose answers.
                assert 2 <= len(got) <= 4, (label(t), h)
                retried += 1
                recovered += any(got[1:])
    # 30% each way: some hops answered only their retry (probes[0] silent,
    # probes[1] answered), which the JSON and the table both say.
    assert retried > 0 and recovered > 0, (retried, recovered)
    assert f"\n{retried_hops} hop{'s' if retried_hops > 1 else ''} answered only a retry (marked *)\n" \
        in text, text
    assert text.count("*\n") + text.count("* ") >= 1, text
    probes = [p for t in doc["traces"] for h in t["hops"] for p in h["probes"]]
    assert doc["stats"]["retries_sent"] == sum(1 for p in probes
                                               if p["attempt"] > 0 and not p.get("port_check"))
    assert doc["stats"]["port_checks_sent"] == sum(1 for p in probes if p.get("port_check"))
    port_probes = [p for t in doc["traces"] for p in t["port_probes"]["probes"]]
    assert doc["stats"]["port_probes_sent"] == len(port_probes)
    assert doc["stats"]["probes_sent"] == len(probes) + len(port_probes)


def checks_used_up(t, retries):
    """True when the trace sent all its port checks: 4 x (1 + retries)."""
    return sum(1 for h in t["hops"] for p in h["probes"] if p.get("port_check")) == \
        4 * (retries + 1)


@test
def test_hostile_half_open_connection_never_closes_an_open_port():
    """The first SYN-ACK of every connection is lost (r1 drops it): the
    destination keeps a half-open connection for the trace's 5-tuple and
    may reset the trace's next SYN whatever the port's state. The first SYN
    of a trace is its port probe, so the SYN-ACK lost is the port probe's;
    every port state still comes out exact, and an RST that may be such a
    reset is marked in doubt (?) and settled, never taken for closed."""
    addrs = [target(n, f, h) for f in (4, 6) for n, h in (("h1", 224), ("h3", 224))]
    with impaired("synack-once", "r1", *addrs, where="r1"):
        text, doc = rg_files("-p", "80,443", *addrs)
        dropped = nft_counter("rg-r1", "rg_impair_synack_once_r1", "dropped")
    opened = 0
    for t in doc["traces"]:
        assert_truthful(t, exact=True, half_open=True)
        want = net_of(t["address"])["ports"][str(t["port"])]
        first = t["port_probes"]["probes"][0]
        if want == "closed":
            # An RST is not dropped: the port probe answered at once.
            assert first["reply"] and first["reply"]["kind"] == "rst", (label(t), first)
            continue
        assert want == "open", label(t)
        opened += 1
        # Its SYN-ACK was the one lost on the way back (a retransmitted
        # SYN-ACK, if any, answers the same probe later).
        assert first["reply"] is None or first["reply"]["kind"] == "syn-ack", (label(t), first)
        doubtful = [p for h in t["hops"] for p in h["probes"]
                    if p["reply"] and p["reply"]["kind"] == "rst"]
        checks = [p for h in t["hops"] for p in h["probes"] if p.get("port_check")]
        # Any RST from the open port was a half-open reset, and was checked.
        assert not doubtful or checks, (label(t), doubtful, checks)
        assert re.search(re.escape(f"{t['address']}:tcp{t['port']}") +
                         rf" +reached at hop {t['reached_ttl']}, port open \(SA\)", text), text
    assert opened == dropped == 4, (opened, dropped)
    assert " closed" not in "".join(line for line in text.splitlines()
                                    if ":tcp80 " in line), text


@test
def test_hostile_nat_on_the_path():
    addrs = [target(n, f, h) for f in (4, 6) for n, h in (("h1", 230), ("h1", 231),
                                                          ("h2", 230), ("h3", 230))]
    with impaired("nat", "r2", *addrs, where="r2"):
        with wire() as w:
            doc = rg_json("-p", "80,443", *addrs)
        natted = nft_counter("rg-r2", "rg_impair_nat_r2", "nat")
    # Every trace leaves r2 masqueraded (one conntrack entry per trace).
    assert natted >= len(doc["traces"]) and w.drops == 0, (natted, len(doc["traces"]), w.drops)
    for t in doc["traces"]:
        # Linux NAT rewrites the quoted header back, so everything still
        # matches; a reply that did not would be unmatched, never misplaced.
        # The port probe opened the trace's 5-tuple first: behind the NAT
        # that connection may still be closing when a hop probe reaches the
        # destination, which then resets it (half_open); the port's state
        # stays exact.
        assert_truthful(t, exact=True, half_open=True)
        assert_as_on_the_wire(t, w, doc)
    assert doc["stats"]["duplicates"] == 0, doc["stats"]


@test
def test_hostile_nat_leaving_quotes_rewritten():
    addrs = [target(n, f, h) for f in (4, 6) for n, h in (("h1", 232), ("h2", 232))]
    with impaired("snat", "r2", *addrs, where="r2"):
        with wire() as w:
            text, doc = rg_files("-p", "80,443", *addrs)
        rewritten = nft_counter("rg-r2", "rg_impair_snat_r2", "rewritten")
    assert rewritten > 0 and w.drops == 0, (rewritten, w.drops)
    prober = {PROBER["v4"], PROBER["v6"]}
    rewritten_quotes = unanswered = 0
    for t in doc["traces"]:
        # The TCP answers come back with the prober's address: reached.
        # As behind the NAT above, the port probe's connection may still be
        # half-open when a hop probe of the same 5-tuple arrives (half_open).
        assert_truthful(t, exact=False, half_open=True)
        net = net_of(t["address"])
        want = net["ports"][str(t["port"])]
        assert t["state"] == want and \
            t["reached_ttl"] == (None if want == "filtered" else net["distance"]), t
        answers = w.all(t)
        for h in t["hops"]:
            for p, got in zip(h["probes"], answers[h["ttl"]]):
                quotes = {a[1] for a in got if a[1]}
                if quotes - prober:
                    # An ICMP error quoting the rewritten source: matched to
                    # this very probe, or left unmatched (and counted).
                    assert p["reply"] is None or p["reply"]["from"] == got[0][0], (label(t), h)
                    rewritten_quotes += 1
                    unanswered += p["reply"] is None
    # The NAT did leave quotes rewritten; those not matched were counted.
    assert rewritten_quotes > 0, doc["stats"]
    assert doc["stats"]["unmatched"] >= unanswered, (unanswered, doc["stats"])
    assert f"\n{doc['stats']['unmatched']} replies matched no probe and were ignored\n" in text


@test
def test_hostile_rate_limited_router():
    addrs = [target(n, f, h) for f in (4, 6) for n in ("h1", "h2") for h in range(240, 250)]
    with impaired("ratelimit", "r4", where="r4"):
        with wire() as w:
            doc = rg_json("-p", "80", *addrs)
    assert w.drops == 0, w.drops
    silent = answered = 0

    def prefix(t):
        return str(ipaddress.ip_network(t["address"] + ("/24" if t["family"] == 4 else "/48"),
                                        strict=False))
    hop4_seen = {prefix(t) for t in doc["traces"] for h in t["hops"]
                 if h["ttl"] == 4 and h["responder"]}
    for t in doc["traces"]:
        assert_truthful(t, exact=False)
        assert_as_on_the_wire(t, w, doc)  # silent exactly where r4 kept quiet
        net = net_of(t["address"])
        assert t["reached"] and t["reached_ttl"] == net["distance"], label(t)
        got = hop_list(t, net["distance"] - 1)
        truth = next(b for b in net["branches"][str(t["family"])]
                     if all(x is None or x == y for x, y in zip(got, b)))
        # Only r4 (hop 4) is limited: every other hop is exactly the lab's
        # (measured, or inferred from other traces and right).
        assert [g for i, g in enumerate(got) if i != 3] == \
            [x for i, x in enumerate(truth) if i != 3], (label(t), got)
        hop4 = next((h for h in t["hops"] if h["ttl"] == 4), {})
        if hop4.get("responder"):
            answered += 1
        else:
            silent += 1
            # r4 answered other probes: rate-limited, or silent only where
            # no trace towards this prefix got r4's answer (the label's rule).
            assert hop4.get("inferred_responder") or hop4.get("silence") == "rate-limited" or \
                (hop4.get("silence") == "silent" and prefix(t) not in hop4_seen), (label(t), hop4)
    # The limit did bite (else this proves nothing) and did not silence r4.
    assert silent > 0 and answered > 0, (silent, answered)


class every_router_rate_limited:
    """Every lab router (and host) at the kernel's own ICMP rate limits, as
    any Linux router has them (a burst of six, then one error a second
    towards the prober, ten for IPv6), for a with block: lab/lab up
    --icmp-limits default, then the plain lab again."""

    def __enter__(self):
        got = lab("up", "--icmp-limits", "default")
        if got.rc != 0:
            self.__exit__()
            raise AssertionError(f"lab up --icmp-limits default: {got}")
        assert lab("status").out.strip() == "up icmp-limits=default delays=off", lab("status")
        return self

    def __exit__(self, *exc):
        got = lab("up")
        assert got.rc == 0, got
        assert lab("status").out.strip() == "up icmp-limits=off delays=off", lab("status")


def ground_truth_check(t):
    """Every hop, measured or inferred, on one ground-truth branch that fits
    the measured ones; returns (branch, hops) for further checks."""
    net = net_of(t["address"])
    d = net["distance"]
    by_ttl = {h["ttl"]: h for h in t["hops"]}
    measured = [(by_ttl.get(k) or {}).get("responder") for k in range(1, d)]
    branches = [b for b in net["branches"][str(t["family"])]
                if all(m is None or m == x for m, x in zip(measured, b))]
    assert branches, (label(t), "a measured hop the lab does not have", measured)
    for k in range(1, d):
        h = by_ttl.get(k) or {}
        inf = h.get("inferred_responder")
        assert inf is None or any(b[k - 1] == inf for b in branches), \
            (label(t), "wrong inferred hop", k, inf, branches)
    return branches, by_ttl


@test
def test_hostile_every_router_rate_limited():
    """The internet's first routers ration their ICMP errors and every trace
    crosses them. Port states must still be exact (they come from TCP), no
    hop may be wrong, inferred hops must be right and marked, rate-limited
    hops labelled so, the router that never answers labelled silent."""
    addrs = [target(n, f, h) for f in (4, 6) for n in ("h1", "h2", "h3")
             for h in range(400, 406)]
    with every_router_rate_limited():
        text, doc = rg_files("-p", "80,443", *addrs)
    assert len(doc["traces"]) == 72

    def prefix(t):
        return str(ipaddress.ip_network(t["address"] + ("/24" if t["family"] == 4 else "/48"),
                                        strict=False))
    measured_at = {(prefix(t), h["ttl"]) for t in doc["traces"] for h in t["hops"]
                   if h["responder"]}
    found = total = inferred = limited = 0
    for t in doc["traces"]:
        net = net_of(t["address"])
        want = net["ports"][str(t["port"])]
        assert t["state"] == want, (label(t), t["state"], want)
        if want != "filtered":
            assert t["reached"] and t["reached_ttl"] == net["distance"], label(t)
        branches, by_ttl = ground_truth_check(t)
        for k in range(1, net["distance"]):
            h = by_ttl.get(k) or {}
            truth = branches[0][k - 1]
            if truth is None:  # r6: it never answers anyone
                assert not h.get("inferred_responder") and \
                    h.get("silence") in (None, "silent"), (label(t), h)
                continue
            total += 1
            if h.get("responder") or h.get("inferred_responder"):
                found += 1
                inferred += not h.get("responder")
            elif h.get("probes"):
                # The router is there: rate-limited, or silent only where no
                # trace towards this prefix got an answer at this TTL.
                assert h.get("silence") == "rate-limited" or \
                    (h.get("silence") == "silent" and (prefix(t), k) not in measured_at), \
                    (label(t), h)
                limited += h.get("silence") == "rate-limited"
    # The limits bit (else this proves nothing): some hops had to be
    # inferred or stayed rate-limited; most were found.
    assert inferred + limited > 0, (inferred, limited)
    assert found >= 0.8 * total, (found, total)
    if inferred:
        assert re.search(r"\n\d+ hops? inferred from other traces", text), text
        assert " (11)" in text, text
    assert doc["stats"]["hops_inferred"] <= inferred, doc["stats"]


@test
def test_hostile_target_answering_every_port():
    sp = SPECIAL["all-open"]
    ports = "1,22,80,443,8080,65535"
    # One source port for all: only the port each SYN-ACK comes from tells
    # the traces of an address apart.
    doc = rg_json("-p", ports, "--sport", "47001", sp["v4"], sp["v6"])
    assert len(doc["traces"]) == 12
    for t in doc["traces"]:
        assert t["source_port"] == 47001, t
        assert_truthful(t, exact=True, state="open")
        last = t["hops"][-1]
        assert last["ttl"] == sp["distance"] and last["probes"][0]["reply"]["tcp_flags"] == "SA", last
    # The same network's ordinary addresses keep their closed port 443.
    doc = rg_json("-p", "443", target("h1", 4, 250))
    assert doc["traces"][0]["state"] == "closed", doc["traces"][0]


@test
def test_hostile_rst_from_another_address():
    sp = SPECIAL["rst-elsewhere"]
    addrs = [sp["v4"], sp["v6"]]
    with wire() as w:
        text, doc = rg_files("-p", "80,443", *addrs)
    gap = doc["options"]["gap"]
    foreign = 0
    for t in doc["traces"]:
        fam = str(t["family"])
        assert not t["reached"] and t["state"] == "filtered", (label(t), t["state"])
        assert hop_list(t, 2) in net_of(t["address"])["branches"][fam], hop_list(t, 2)
        assert t["last_answer_ttl"] == 2 and t["stopped_by"] == "silence", t
        # Every probe from the distance on got a RST, from the other address.
        far = [h for h in t["hops"] if h["ttl"] >= sp["distance"]]
        assert [h["ttl"] for h in far] == list(range(3, 3 + gap)), far
        assert all(h["responder"] is None and len(h["probes"]) == 2 for h in far), far
        seen = w.view(t, tcp_from=sp["rst_from"][fam])
        for h in far:
            assert seen[h["ttl"]] == [sp["rst_from"][fam]] * 2, (label(t), h["ttl"], seen)
            foreign += 2
        assert re.search(rf"^{re.escape(t['address'])}:tcp{t['port']} +not reached, "
                         rf"port filtered, last answer at hop 2 from ", text, re.M), text
    assert doc["stats"]["unmatched"] >= foreign, (doc["stats"], foreign)
    assert f"\n{doc['stats']['unmatched']} replies matched no probe and were ignored\n" in text


@test
def test_hostile_lab_up_clears_impairments():
    addr = target("h3", 4, 260)
    added = (("loss", "100", "L9", addr), ("nat", "r2", addr), ("ratelimit", "r6"))
    try:
        for args in added:
            r = lab("impair", *args)
            assert r.rc == 0, r
        st = lab("impair", "status").out
        assert "rg_impair_loss_L9" in st and "rg_impair_nat_r2" in st and "r6 ratelimit" in st, st
        doc = rg_json("-p", "80", "-r", "0", "-w", "0.5", "--max-ttl", "3", addr)
        assert not doc["traces"][0]["reached"], doc["traces"][0]  # the loss bites
        up = lab("up", timeout=300)
        assert up.rc == 0, up
        assert lab("impair", "status").out == "none\n"
        doc = rg_json("-p", "80", "--max-ttl", "3", addr)
        assert doc["traces"][0]["reached_ttl"] == 3, doc["traces"][0]
        r = run(["ip", "netns", "exec", "rg-r6", "sysctl", "-n", "net.ipv4.icmp_ratelimit",
                 "net.ipv4.icmp_ratemask", "net.ipv6.icmp.ratelimit"])
        assert r.out.split() == ["0", "0", "0"], r
    finally:
        for args in added:
            lab("impair", "remove", args[0], args[2] if args[0] == "loss" else args[1])


# ---------------------------------------------------------------------------
# Names with many addresses, and -4 / -6 against a name of the other family.
# many.h1.lab is known only to the lab's DNS server (topology.json
# dns.names): 8 A and 8 AAAA records, h1 hosts 280-287.
# ---------------------------------------------------------------------------

MANY = next(n for n in TOPO["dns"]["names"] if n["name"] == "many.h1.lab")
# What glibc's EAI_NODATA would say ("No address associated with hostname")
# does not say why; under -4 / -6 routegraph names the missing family.
NO_FAMILY = {"-4": "has no IPv4 address (-4 given)", "-6": "has no IPv6 address (-6 given)"}


def rg_json_warned(*args):
    """rg_json for a run that may warn: returns (document, standard error)."""
    r = rg("-q", "-n", "--asn-source", "none", "--format", "json", *args)
    assert r.rc == 0, r
    return json.loads(r.out), r.err


def many_warning(name, count, addr, flag):
    """The one line a name with several addresses gets on standard error."""
    fam = 6 if ":" in addr else 4
    if flag is None:  # both families allowed: the name has 8 of each
        what = f"{count // 2} IPv{fam} and {count // 2} IPv{10 - fam} addresses"
    else:
        what = f"{count} IPv{fam} addresses"
    return f"routegraph: {name}: {what}, tracing {addr} (give addresses to trace others)\n"


def dns_queries_sent():
    r = lab("counters")
    assert r.rc == 0, r
    return int(re.search(r"^dns_out (\d+)$", r.out, re.M).group(1))


def getaddrinfo_order(db, name):
    """Addresses in the order the prober's getaddrinfo gives them
    (getent ahosts / ahostsv4 / ahostsv6)."""
    r = run(["ip", "netns", "exec", PROBER["netns"], "getent", db, name])
    assert r.rc == 0, r
    out = []
    for line in r.out.splitlines():
        if line.split()[0] not in out:
            out.append(line.split()[0])
    return out


@test
def test_hostile_many_addresses_name_traces_one_address_per_family():
    name = MANY["name"]
    # The lab's side: not in /etc/hosts, every record through getaddrinfo.
    with open(f"/etc/netns/{PROBER['netns']}/hosts") as f:
        assert name not in f.read().split(), "many.h1.lab must come from DNS only"
    order = {"-4": getaddrinfo_order("ahostsv4", name),
             "-6": getaddrinfo_order("ahostsv6", name),
             None: getaddrinfo_order("ahosts", name)}
    assert sorted(order["-4"]) == sorted(MANY["v4"]) and len(MANY["v4"]) == 8, order
    assert sorted(order["-6"]) == sorted(MANY["v6"]) and len(MANY["v6"]) == 8, order
    assert sorted(order[None]) == sorted(MANY["v4"] + MANY["v6"]), order
    for flag, fams, count in (("-4", (4,), 8), ("-6", (6,), 8), (None, (4, 6), 16)):
        before = dns_queries_sent()
        doc, err = rg_json_warned(*([flag] if flag else []), "-p", "80,443", name)
        # rg_json's -n: no reverse lookups, so these are the name's own.
        assert dns_queries_sent() > before, f"{flag}: no DNS query for {name}"
        assert doc["unresolved"] == [], doc["unresolved"]
        traces = doc["traces"]
        assert sorted(t["port"] for t in traces) == [80, 443], [label(t) for t in traces]
        addrs = {t["address"] for t in traces}
        # One address of the 16 (of the 8 with -4 / -6): getaddrinfo's first;
        # the others are not traced.
        assert len(addrs) == 1, (flag, addrs)
        addr = addrs.pop()
        assert addr in [a for f in fams for a in MANY[f"v{f}"]], (flag, addr)
        assert addr == order[flag][0], (flag, addr, order[flag])
        # Said once per name (not per port), even under -q, with the count
        # of the families allowed; the JSON carries the same count.
        assert err == many_warning(name, count, addr, flag), (flag, err)
        for t in traces:
            assert t["target"] == name and t["family"] in fams, (flag, t["target"], t["family"])
            assert t["addresses"] == count, (flag, label(t), t.get("addresses"))
            assert_truthful(t, exact=True)  # the lab's path to h1, port state, distance


@test
def test_hostile_family_flag_against_a_name_of_the_other_family():
    name = MANY["name"]
    for flag, only, fam in (("-4", "v6only.h1.lab", 4), ("-6", "v4only.h1.lab", 6)):
        why = NO_FAMILY[flag]
        want_err = f"routegraph: {only}: {why}\n"
        # Alone: nothing to trace, the name listed as unresolved, status 3.
        r = rg(flag, "-q", "-n", "--asn-source", "none", "--format", "json", "-p", "80", only)
        assert r.rc == 3 and r.err == want_err, (flag, r)
        doc = json.loads(r.out)
        assert doc["unresolved"] == [{"name": only, "error": why}], doc["unresolved"]
        assert doc["traces"] == [] and doc["stats"]["probes_sent"] == 0, doc
        # Beside a name that has that family: the run goes on, still status 3.
        r = rg(flag, "-n", "--asn-source", "none", "-p", "80", only, name)
        first = getaddrinfo_order(f"ahostsv{fam}", name)[0]
        assert r.rc == 3 and r.err == want_err + many_warning(name, 8, first, flag), (flag, r)
        lines = r.out.splitlines()
        assert f"{only}: not traced: {why}" in lines, r.out
        reached = [ln for ln in lines if ln.startswith(f"{name} (")]
        assert len(reached) == 1, r.out
        m = re.fullmatch(rf"{re.escape(name)} \(([0-9a-f.:]+)\):tcp80 +reached at hop "
                         rf"{NETS['h1']['distance']}, port open \(SA\), rtt \d+\.\d{{3}} ms",
                         reached[0])
        assert m and m.group(1) == first, (reached[0], first)
        # Without the flag the same name resolves to its one address.
        doc = rg_json("-p", "80", only)
        other = next(n for n in TOPO["names"] if n["name"] == only)
        assert [t["address"] for t in doc["traces"]] == [other["v6" if fam == 4 else "v4"]], \
            doc["traces"]
        assert "addresses" not in doc["traces"][0], doc["traces"][0]  # one address: no key
        assert_truthful(doc["traces"][0], exact=True)
    # Dual stack with one address of each family: nothing of the traced
    # family was dropped, so no warning (rg_json wants stderr empty); the
    # JSON still counts both.
    dual = next(n for n in TOPO["names"] if n["v4"] and n["v6"])
    doc = rg_json("-p", "80", dual["name"])
    assert doc["traces"][0]["addresses"] == 2, doc["traces"][0]
    assert doc["traces"][0]["address"] in (dual["v4"], dual["v6"]), doc["traces"][0]
