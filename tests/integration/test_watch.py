"""Stopping cleanly and watching over time, in the lab: SIGINT/SIGTERM end a
run with what was measured, marked incomplete. The binary is run.py's BIN,
read at test time; routegraph runs in the prober namespace as run.py's rg()
does."""
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import NETS, PROBER, TOPO, lab, net_of, run, target, test


def popen(*args, **kw):
    """routegraph in the prober namespace; `ip netns exec` execs, so the PID
    is routegraph's own and a signal sent to it reaches routegraph."""
    main = sys.modules["__main__"]
    env = dict(os.environ, ROUTEGRAPH_LAB_ONLY="1")
    return subprocess.Popen(["ip", "netns", "exec", PROBER["netns"], *main.WRAP, main.BIN,
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **kw)


def finish(p, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def slow_targets():
    """48 addresses over the three target networks: at --rate 40 their
    2 x 48 traces need well over the seconds the tests give them."""
    return [target(n, 4, h) for n in ("h1", "h2", "h3") for h in range(100, 116)]


def interrupted(sig, fmt, extra=(), quiet=True):
    p = popen(*(["-q"] if quiet else []), "-n", "--asn-source", "none", "--rate", "40", "-p", "80,443",
              "--format", fmt, *extra, *slow_targets())
    try:
        time.sleep(3.0 * (3 if sys.modules["__main__"].WRAP else 1))
        assert p.poll() is None, "the run ended before the signal"
        sent = time.monotonic()
        p.send_signal(sig)
        rc, out, err = finish(p, 30)
        return rc, out, err, time.monotonic() - sent
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def check_marked(doc):
    assert doc["interrupted"] is True, doc["interrupted"]
    traces = doc["traces"]
    assert len(traces) == 96, len(traces)
    incomplete = [t for t in traces if t["incomplete"]]
    assert incomplete, "no trace marked incomplete"
    for t in incomplete:
        assert t["stopped_by"] in ("interrupted", None), t["stopped_by"]
    for t in traces:
        if not t["incomplete"]:
            assert t["stopped_by"] != "interrupted", t
    # What was measured is there: every probe the run counted is in a trace.
    probes = sum(len(h["probes"]) for t in traces for h in t["hops"]) + \
        sum(len((t["port_probes"] or {"probes": []})["probes"]) for t in traces)
    assert probes == doc["stats"]["probes_sent"] > 0, (probes, doc["stats"])


@test
def test_sigint_writes_json_marked_incomplete():
    rc, out, err, took = interrupted(signal.SIGINT, "json")
    assert rc == 130, (rc, err)
    assert err == "", err  # -q: no "stopped by" line
    assert took < 5, f"{took:.1f}s from SIGINT to exit"
    check_marked(json.loads(out))


@test
def test_sigterm_writes_every_output_marked():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # started as root, routegraph runs as nobody
        prefix = os.path.join(d, "cut")
        rc, out, err, took = interrupted(signal.SIGTERM, "table,json,dot,html",
                                         ["-o", prefix])
        assert rc == 143, (rc, err)
        assert took < 10, f"{took:.1f}s from SIGTERM to exit"
        doc = json.load(open(prefix + ".json"))
        check_marked(doc)
        table = open(prefix + ".txt").read()
        n = sum(t["incomplete"] for t in doc["traces"])
        assert table.count("[incomplete: run interrupted]") == n, table[-2000:]
        html = open(prefix + ".html").read()
        # The verdicts table and each trace's own section name the verdict.
        assert html.count("(incomplete: run interrupted)") == 2 * n, n
        assert open(prefix + ".dot").read().startswith("digraph")


@test
def test_sigint_without_q_says_why():
    rc, out, err, _ = interrupted(signal.SIGINT, "table", quiet=False)
    assert rc == 130, (rc, err)
    lines = [l for l in err.splitlines() if l]
    assert lines == ["routegraph: stopped by SIGINT: writing what was measured "
                     "(unfinished traces marked incomplete)"], (rc, err)
    assert "[incomplete: run interrupted]" in out, out[-2000:]


def rg_watch(*args, timeout=120):
    """routegraph watch in the prober namespace, lab-only safety on."""
    main = sys.modules["__main__"]
    return main.rg("watch", *args, timeout=timeout)


WATCHED = [target(n, 4, 40) for n in ("h1", "h2", "h3")]


@test
def test_watch_statistics_match_ground_truth():
    r = rg_watch("-q", "-n", "--asn-source", "none", "--interval", "0", "--rounds", "4",
                 "-p", "80,443", "--format", "json", *WATCHED)
    assert r.rc == 0 and r.err == "", r
    doc = json.loads(r.out)
    w = doc["watch"]
    assert w["schema"] == "routegraph-watch/1" and w["rounds"] == 4, w
    assert w["interrupted_rounds"] == 0 and w["interval"] == 0
    assert [(t["address"], t["port"]) for t in w["traces"]] == \
        [(a, p) for a in WATCHED for p in (80, 443)]
    for t in w["traces"]:
        net = net_of(t["address"])
        want = net["ports"][str(t["port"])]
        assert t["states"][want] == 4, (t["address"], t["port"], t["states"])
        assert t["reached"] == (0 if want == "filtered" else 4), t
        branches = net["branches"]["4"]
        for h in t["hops"]:
            if want == "filtered" and h["ttl"] >= net["distance"]:
                # The destination's firewall drops them: all lost, as mtr shows it.
                assert h["answered"] == 0 and h["loss_pct"] == 100, h
                continue
            # Otherwise the lab loses nothing: no hop shows packet loss.
            assert h["loss_pct"] == 0, (t["address"], t["port"], h)
            assert h["probed"] == h["answered"] + h["limited"] + h["silent"], h
            ttl = h["ttl"]
            if ttl < net["distance"]:
                allowed = {b[ttl - 1] for b in branches}
                got = {x["address"] for x in h["responders"]}
                assert got <= allowed, (t["address"], ttl, got, allowed)
                if None in allowed and h["probed"]:
                    # r6 answers no one: silent, not loss.
                    assert h["answered"] == 0 and h["silent"] == h["probed"], h
            elif want != "filtered":
                assert ttl == net["distance"], (t["address"], t["port"], h)
                assert [x["address"] for x in h["responders"]] == [t["address"]], h
                assert h["answered"] == h["probed"] == 4, h
                assert h["rtt"]["best_us"] <= h["rtt"]["mean_us"] <= h["rtt"]["worst_us"], h
        if want != "filtered":
            assert t["hops"][-1]["ttl"] == net["distance"], t["hops"][-1]
    # The rest of the document is the latest round, as a one-shot run writes it.
    assert len(doc["traces"]) == 6 and doc["interrupted"] is False


@test
def test_watch_text_report():
    r = rg_watch("-n", "--asn-source", "none", "--interval", "0", "--rounds", "2",
                 "-p", "80", *WATCHED)
    assert r.rc == 0, r
    rounds = [l for l in r.err.splitlines() if l.startswith("routegraph: round ")]
    assert len(rounds) == 2 and rounds[1].startswith(
        "routegraph: round 2: 3 of 3 traces reached the destination, "), r.err
    blocks = r.out.split("\n\n")
    assert len(blocks) == 3, r.out
    for addr, block in zip(WATCHED, blocks):
        lines = block.splitlines()
        assert lines[0] == f"{addr}:80  2 rounds, destination reached in 2, port open in 2", \
            lines[0]
        assert lines[1].split() == ["TTL", "Host", "Loss%", "Snt", "Rcv", "Lim", "Last", "Avg",
                                    "Best", "Wrst", "StDev"], lines[1]
        dist = net_of(addr)["distance"]
        last = lines[-1].split()
        assert last[:6] == [str(dist), addr, "0.0%", "2", "2", "0"], lines[-1]
    h2 = blocks[1]
    silent = [l for l in h2.splitlines() if l.split()[:2] == ["5", "???"]]
    assert len(silent) == 1 and silent[0].endswith("silent router (answers no one), not loss"), h2


@test
def test_watch_until_sigint():
    p = popen("watch", "-q", "-n", "--asn-source", "none", "--interval", "0.2", "-p", "80",
              "--format", "json", *WATCHED)
    try:
        time.sleep(3.0 * (3 if sys.modules["__main__"].WRAP else 1))
        assert p.poll() is None, "the watch ended by itself"
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        rc, out, err = finish(p, 30)
        took = time.monotonic() - sent
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rc == 0 and err == "", (rc, err)
    assert took < 5, f"{took:.1f}s from SIGINT to exit"
    w = json.loads(out)["watch"]
    # The round in progress at the signal was finished, not cut short.
    assert w["rounds"] >= 2 and w["interrupted_rounds"] == 0, w
    for t in w["traces"]:
        assert t["reached"] == w["rounds"], t


@test
def test_watch_options_only_for_watch():
    main = sys.modules["__main__"]
    for args, want in ((["--interval", "5"], "routegraph: --interval applies to routegraph watch"),
                       (["--rounds", "3"], "routegraph: --rounds applies to routegraph watch")):
        r = main.rg(*args, WATCHED[0])
        assert r.rc == 2 and r.err.splitlines() == [want], r
    r = rg_watch("--interval", "86401", WATCHED[0])
    assert r.rc == 2 and r.err.splitlines() == [
        "routegraph: --interval: '86401' is out of range (0-86400)"], r
    r = rg_watch("--rounds", "0", WATCHED[0])
    assert r.rc == 2 and "--rounds" in r.err, r


# ---- changes against a baseline ----

SPORT = "45000"  # one flow per trace in every run: each keeps its ECMP branch
BOTH = WATCHED + [target(n, 6, 40) for n in ("h1", "h2", "h3")] + \
    [target("hsw", f, 41) for f in (4, 6)]


def save_baseline(d, targets):
    main = sys.modules["__main__"]
    r = main.rg("-q", "-n", "--asn-db", main.LAB_ASN_CSV, "--sport", SPORT, "-p", "80,443",
                "--format", "json", *targets)
    assert r.rc == 0 and r.err == "", r
    path = os.path.join(d, "base.json")
    with open(path, "w") as f:
        f.write(r.out)
    os.chmod(path, 0o644)
    return path


def watch_changes(base, targets, rounds):
    main = sys.modules["__main__"]
    r = rg_watch("-q", "-n", "--asn-db", main.LAB_ASN_CSV, "--sport", SPORT, "-p", "80,443",
                 "--interval", "0", "--rounds", str(rounds), "--baseline", base,
                 "--format", "json", *targets, timeout=300)
    assert r.rc == 0 and r.err == "", r
    w = json.loads(r.out)["watch"]
    assert w["rounds"] == rounds, w["rounds"]
    return w["changes"]


@test
def test_diff_saved_runs():
    main = sys.modules["__main__"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        base = save_baseline(d, WATCHED)
        r = main.rg("diff", base, base)
        assert r.rc == 0 and r.err == "", r
        assert r.out.splitlines() == [f"{a}:{p}  unchanged" for a in WATCHED for p in (80, 443)]
        again = os.path.join(d, "again.json")
        r = main.rg("-q", "-n", "--sport", SPORT, "-p", "80,443", "--format", "json",
                    *WATCHED[:2])
        assert r.rc == 0, r
        with open(again, "w") as f:
            f.write(r.out)
        os.chmod(again, 0o644)
        r = main.rg("diff", "--format", "json", base, again)
        assert r.rc == 1 and r.err == "", r  # h3's two services are gone
        doc = json.loads(r.out)
        assert doc["schema"] == "routegraph-diff/1" and doc["changed"] == 2, doc
        got = sorted((s["address"], s["port"], s["change"]) for s in doc["services"])
        want = sorted([(a, p, "unchanged") for a in WATCHED[:2] for p in (80, 443)] +
                      [(WATCHED[2], p, "removed") for p in (80, 443)])
        assert got == want, got
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            f.write('{"schema": "routegraph/1", "version": 7}')
        os.chmod(bad, 0o644)
        r = main.rg("diff", base, bad)
        assert r.rc == 2 and r.out == "" and len(r.err.splitlines()) == 1, r


@test
def test_baseline_no_false_change_with_ecmp():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        base = save_baseline(d, BOTH)
        changes = watch_changes(base, BOTH, 100)
        assert changes == [], changes


@test
def test_baseline_port_closing_reported_once():
    h3 = NETS["h3"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        base = save_baseline(d, WATCHED)
        ns = ["ip", "netns", "exec", next(h["netns"] for h in TOPO["hosts"]
                                          if h["name"] == "h3")]
        rule = ["nft", "add", "rule", "inet", "rgwatch", "in", "tcp", "dport", "80",
                "ip", "daddr", WATCHED[2], "reject", "with", "tcp", "reset"]
        try:
            for cmd in (["nft", "add", "table", "inet", "rgwatch"],
                        ["nft", "add", "chain", "inet", "rgwatch", "in",
                         "{ type filter hook input priority -10 ; }"], rule):
                r = run([*ns, *cmd])
                assert r.rc == 0, r
            changes = watch_changes(base, WATCHED, 5)
        finally:
            run([*ns, "nft", "delete", "table", "inet", "rgwatch"])
        assert [(c["address"], c["port"], c["change"], c["round"]) for c in changes] == \
            [(WATCHED[2], 80, "port-state", 1)], changes
        assert changes[0]["old"]["state"] == "open" and changes[0]["new"]["state"] == "closed"
    assert h3["ports"]["80"] == "open"


class StderrLines:
    """A process's stderr read line by line in a thread, so the test can
    wait for a line with a time limit."""

    def __init__(self, p):
        self.q, self.lines = queue.Queue(), []
        threading.Thread(target=self._read, args=(p.stderr,), daemon=True).start()

    def _read(self, f):
        for line in f:
            self.q.put(line)
        self.q.put(None)

    def wait_for(self, prefix, timeout):
        """The first line starting with prefix, read within timeout s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line {prefix!r} within {timeout} s: {self.lines}")

    def rest(self, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
        return "".join(self.lines)


def round_secs(line):
    """The duration a 'routegraph: round N: ..., S s' line reports."""
    return float(line.rsplit(",", 1)[1].split()[0])


def h3_port_80_closed(addr):
    """nft in h3 answering SYNs to addr port 80 with a RST: the commands
    to add it and the one to remove it."""
    ns = ["ip", "netns", "exec", next(h["netns"] for h in TOPO["hosts"] if h["name"] == "h3")]
    add = [[*ns, "nft", "add", "table", "inet", "rgwatch"],
           [*ns, "nft", "add", "chain", "inet", "rgwatch", "in",
            "{ type filter hook input priority -10 ; }"],
           [*ns, "nft", "add", "rule", "inet", "rgwatch", "in", "tcp", "dport", "80",
            "ip", "daddr", addr, "reject", "with", "tcp", "reset"]]
    return add, [*ns, "nft", "delete", "table", "inet", "rgwatch"]


SW = NETS["hsw"]
SWITCHED = [target("hsw", 4, 40), target("hsw", 6, 40)]
R4 = next(r for r in TOPO["routers"] if r["name"] == "r4")


def check_parting(c, state_from, state_to, part_ttl):
    """A change event of an hsw trace from one switch state to another:
    where the paths part (the last common hop: r4, on the trace's own ECMP
    branch, in AS64501) and the hops on each side, against the ground truth."""
    fam = "6" if ":" in c["address"] else "4"
    states = SW["switch"]["states"]
    old, new = c["old"], c["new"]
    branch = [b for b in states[state_from]["branches"][fam] if b[:4] == old["hops"][:4]]
    assert len(branch) == 1 and old["hops"] == branch[0], (c, branch)
    assert new["hops"] in [b for b in states[state_to]["branches"][fam]
                           if b[:4] == old["hops"][:4]], c
    assert c["part_ttl"] == part_ttl, c
    assert c["part_after"] == old["hops"][3] and c["part_after"] in R4["addresses"][fam], c
    assert c["part_after_asn"] == 64501, c
    assert old["reached"] and new["reached"] and old["state"] == new["state"], c


@test
def test_baseline_route_as_path_and_port_changes_reported_once():
    """The lab changes between rounds of one watch: after round 3 r4's
    route to hsw moves to r5b (hops change, same AS path), after round 6 to
    r6 (AS-path change) while h3 closes port 80 of one address. Each is
    reported once, in the round after, for exactly the traces it touches;
    the rounds are 3 s apart and each ends well before the next, so every
    change falls between two rounds."""
    main = sys.modules["__main__"]
    targets = WATCHED + SWITCHED
    add, remove = h3_port_80_closed(WATCHED[2])
    assert lab("switch", "hsw").out == "r5\n"
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        base = save_baseline(d, targets)
        db, out = os.path.join(d, "h.db"), os.path.join(d, "w")
        p = popen("watch", "-n", "--asn-db", main.LAB_ASN_CSV, "--sport", SPORT, "-p", "80,443",
                  "--interval", "3", "--rounds", "9", "--baseline", base, "--history", db,
                  "-o", out, "--format", "json,html", *targets)
        try:
            err = StderrLines(p)
            line = err.wait_for("routegraph: round 3:", 60)
            t0 = time.monotonic()
            r = lab("switch", "hsw", "r5b")
            assert r.rc == 0, r
            # Done before the next round starts (3 s after this one did).
            assert round_secs(line) + time.monotonic() - t0 < 2.9, (line, r)
            line = err.wait_for("routegraph: round 6:", 60)
            t0 = time.monotonic()
            r = lab("switch", "hsw", "r6")
            assert r.rc == 0, r
            for cmd in add:
                r = run(cmd)
                assert r.rc == 0, r
            # Done before the next round starts (3 s after this one did).
            assert round_secs(line) + time.monotonic() - t0 < 2.9, (line, r)
            err.wait_for("routegraph: round 9:", 60)
            stdout, _ = p.communicate(timeout=60)
            rest = err.rest()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            run(remove)
            lab("switch", "hsw", "r5")
        assert p.returncode == 0, (p.returncode, rest)
        assert lab("switch", "hsw").out == "r5\n"
        with open(out + ".json") as f:
            w = json.load(f)["watch"]
        assert w["rounds"] == 9, w["rounds"]
        got = [(c["address"], c["port"], c["change"], c["round"]) for c in w["changes"]]
        want = [(a, port, "hops", 4) for a in SWITCHED for port in (80, 443)] + \
               [(WATCHED[2], 80, "port-state", 7)] + \
               [(a, port, "as-path", 7) for a in SWITCHED for port in (80, 443)]
        assert sorted(got) == sorted(want), got
        for c in w["changes"]:
            if c["change"] == "hops":
                check_parting(c, "r5", "r5b", 5)
                assert c["old"]["as_path"] == c["new"]["as_path"] == [64500, 64501, 64502], c
            elif c["change"] == "as-path":
                # r6 is silent: a silent hop matches any, so the paths are
                # seen to part at r7, the first hop that answers otherwise.
                check_parting(c, "r5b", "r6", 6)
                assert c["old"]["as_path"] == [64500, 64501, 64502], c
                assert c["new"]["as_path"] == [64500, 64501, 64503, 64502], c
            else:
                assert (c["old"]["state"], c["new"]["state"]) == ("open", "closed"), c
        # The text lines on stdout: one per change, in the round's order.
        lines = stdout.splitlines()
        assert len(lines) == 9, stdout
        assert sum("  hops changed: paths part at hop 5 after 198.18.1" in l or
                   "  hops changed: paths part at hop 5 after 2001:db8:20" in l
                   for l in lines) == 4, stdout
        assert sum("  AS path changed: paths part at hop 6 after " in l and "(AS64501)" in l
                   for l in lines) == 4, stdout
        assert [l for l in lines if l.startswith(f"{WATCHED[2]}:80  ")] == \
            [f"{WATCHED[2]}:80  port state changed: port open -> closed"], stdout
        # The history has the same changes, each service as the outputs
        # write it.
        r = main.rg("history", db)
        assert r.rc == 0 and r.err == "", r
        hist = r.out.split("changes:\n", 1)[1].splitlines()
        v6 = f"[{SWITCHED[1]}]"
        # The HTML report: the timeline, one entry per change, the old and
        # new path side by side; in a browser, hovering one marks both
        # paths in the graph.
        with open(out + ".html", encoding="utf-8") as f:
            html = f.read()
        assert html.count('<li class="change"') == 9, "timeline entries"
        assert html.count('<span class="verdict">hops changed</span>: paths part at hop 5 ') == 4
        assert html.count('<span class="verdict">AS path changed</span>: paths part at hop 6 ') == 4
        assert html.count("<td>AS64500 AS64501 AS64502</td><td>AS64500 AS64501 AS64503 "
                          "AS64502</td>") == 4, "AS paths side by side"
        assert f'<span class="mono">[{SWITCHED[1]}]:443</span>' in html
        tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        shots = os.path.join(os.path.dirname(tests), "out")  # kept, like the report test's
        os.makedirs(shots, exist_ok=True)
        b = run([os.path.join(tests, "browser", "run.sh"), out + ".html",
                 os.path.join(shots, "browser-watch-changes.png")], timeout=300)
        assert b.rc == 0 and "not ok" not in b.out, b
        assert "ok" in b.out.split("hovering a change marks its new path in the graph")[0] \
            .splitlines()[-1], b.out
        assert sorted(hist) == sorted(
            [f"round 4  {a}:{port}  hops" for a in (SWITCHED[0], v6) for port in (80, 443)] +
            [f"round 7  {WATCHED[2]}:80  port-state"] +
            [f"round 7  {a}:{port}  as-path" for a in (SWITCHED[0], v6) for port in (80, 443)]), r.out
        r = main.rg("history", db, f"{v6}:443")
        assert r.rc == 0 and r.err == "", r
        rows = r.out.split("changes:\n", 1)[0].splitlines()
        assert len(rows) == 9 and all(f"  {v6}:443  closed, reached at hop " in l for l in rows), r.out
        assert [l.split(", reached at hop ")[1].split(",")[0] for l in rows] == \
            ["6"] * 6 + ["7"] * 3, r.out


# ---- stopping a watch ----

def watch_stopped(d, signals):
    """A watch with --history whose rounds last over a second; `signals`
    SIGINTs sent 0.3 s into round 2 (0.1 s apart). Returns (exit status,
    the time from the last signal to the exit, stderr, the JSON output,
    the history's rounds as (id, interrupted, traces, reached, doc))."""
    import sqlite3
    db, out = os.path.join(d, "h.db"), os.path.join(d, "w")
    p = popen("watch", "-n", "--asn-source", "none", "--rate", "20", "--interval", "0",
              "--history", db, "-o", out, "--format", "json", "-p", "80,443", *WATCHED)
    try:
        err = StderrLines(p)
        line = err.wait_for("routegraph: round 1:", 60)
        assert round_secs(line) > 1.0, line  # so 0.3 s into round 2 is inside it
        time.sleep(0.3)
        for i in range(signals):
            if i:
                time.sleep(0.1)
            p.send_signal(signal.SIGINT)
        sent = time.monotonic()
        p.wait(timeout=30)
        took = time.monotonic() - sent
        text = err.rest()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    with open(out + ".json") as f:
        doc = json.load(f)
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT id, interrupted, traces, reached, doc FROM rounds"
                           " ORDER BY id").fetchall()
    finally:
        con.close()
    return p.returncode, took, text, doc, rows


@test
def test_watch_first_signal_finishes_the_round():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        rc, took, err, doc, rows = watch_stopped(d, 1)
    assert rc == 0, (rc, err)
    # Round 2 ran to its end: reported, counted, stored complete; no round 3.
    assert [l.split(":")[1] for l in err.splitlines()] == [" round 1", " round 2"], err
    w = doc["watch"]
    assert (w["rounds"], w["interrupted_rounds"]) == (2, 0), w
    assert doc["interrupted"] is False and not any(t["incomplete"] for t in doc["traces"])
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(1, 0, 6, 5), (2, 0, 6, 5)], rows
    stored = json.loads(rows[1][4])
    assert stored["interrupted"] is False and len(stored["traces"]) == 6
    assert not any(t["incomplete"] for t in stored["traces"])
    assert took < 10, f"{took:.1f} s from SIGINT to exit"


@test
def test_watch_second_signal_abandons_the_round():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        rc, took, err, doc, rows = watch_stopped(d, 2)
    assert rc == 130, (rc, err)
    assert took < 2, f"{took:.1f} s from the second SIGINT to exit"
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("routegraph: round 1: "), err
    assert lines[1] == "routegraph: stopped by SIGINT again: round 2 abandoned, not kept", err
    # Only the finished round is in the history; the abandoned one is
    # counted as interrupted and the JSON shows it marked.
    assert [(r[0], r[1]) for r in rows] == [(1, 0)], rows
    w = doc["watch"]
    assert (w["rounds"], w["interrupted_rounds"]) == (1, 1), w
    assert doc["interrupted"] is True and any(t["incomplete"] for t in doc["traces"])


# ---- history ----

def rounds_in(db):
    import sqlite3
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM rounds").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@test
def test_history_survives_sigkill():
    import sqlite3
    main = sys.modules["__main__"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # routegraph runs as nobody and creates the file
        db = os.path.join(d, "h.db")
        p = popen("watch", "-q", "-n", "--asn-source", "none", "--interval", "0",
                  "--history", db, "-p", "80,443", *WATCHED)
        try:
            deadline = time.monotonic() + 60
            while rounds_in(db) < 3 and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.05)
            time.sleep(0.13)  # somewhere inside a later round
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == 1
        rows = con.execute("SELECT id, traces, reached, doc FROM rounds ORDER BY id").fetchall()
        n = len(rows)
        assert n >= 3, n
        for rid, traces, reached, doc in rows:
            doc = json.loads(doc)
            assert traces == 6 and reached == 5 and len(doc["traces"]) == 6, (rid, traces, reached)
            assert doc["interrupted"] is False
        services = con.execute("SELECT count(*) FROM services").fetchone()[0]
        assert services == 6 * n, (services, n)
        con.close()

        r = main.rg("history", db)
        assert r.rc == 0 and r.err == "", r
        lines = r.out.splitlines()
        assert len(lines) == n and all(l.startswith(f"round {i + 1}  ") for i, l in
                                       enumerate(lines)), r.out
        assert lines[0].endswith("6 traces, 5 reached, " + lines[0].split()[-2] + " probes")
        r = main.rg("history", db, f"{WATCHED[2]}:80")
        assert r.rc == 0 and len(r.out.splitlines()) == n, r
        assert all(l.split("  ")[2:] == [f"{WATCHED[2]}:80", l.split("  ")[3]]
                   and "open, reached at hop 3" in l for l in r.out.splitlines()), r.out
        r = main.rg("history", db, "--round", "2", "--format", "json")
        assert r.rc == 0, r
        again = json.loads(r.out)
        assert [(t["address"], t["port"], t["state"]) for t in again["traces"]] == \
            [(t["address"], t["port"], t["state"]) for t in json.loads(rows[1][3])["traces"]]
        r = main.rg("history", db, "--round", str(n + 1))
        assert r.rc == 2 and r.err.splitlines() == [f"routegraph: history: no round {n + 1}"], r


@test
def test_history_refuses_bad_files():
    import sqlite3
    main = sys.modules["__main__"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        junk = os.path.join(d, "junk.db")
        with open(junk, "wb") as f:
            f.write(b"SQLite format 3\0" + b"\xff" * 4000)
        other = os.path.join(d, "other.db")
        con = sqlite3.connect(other)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
        newer = os.path.join(d, "newer.db")
        con = sqlite3.connect(newer)
        con.execute("PRAGMA application_id = 1380403249")
        con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied TEXT)")
        con.execute("INSERT INTO schema_migrations VALUES (99, 'x')")
        con.commit()
        con.close()
        for path in (junk, other, newer):
            os.chmod(path, 0o644)
            r = main.rg("history", path)
            lines = r.err.splitlines()
            assert r.rc == 2 and r.out == "" and len(lines) == 1, (path, r)
            assert lines[0].startswith(f"routegraph: {path}: "), lines
        assert "schema version 99" in r.err, r.err
        assert "not a routegraph history database" in main.rg("history", other).err


# ---- monitoring ----

FETCH = r"""
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers=dict(h.split(": ", 1) for h in sys.argv[2:]))
with urllib.request.urlopen(req, timeout=5) as r:
    sys.stdout.write(r.headers.get("Content-Type") + "\n" + r.read().decode())
"""


def fetch(url, *headers):
    """GET inside the prober namespace (where routegraph listens)."""
    r = run(["ip", "netns", "exec", PROBER["netns"], "python3", "-c", FETCH, url, *headers],
            timeout=20)
    assert r.rc == 0, r
    ctype, _, body = r.out.partition("\n")
    return ctype, body


def promql(query):
    import urllib.parse
    ctype, body = fetch("http://127.0.0.1:19090/api/v1/query?" +
                        urllib.parse.urlencode({"query": query}))
    doc = json.loads(body)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


@test
def test_metrics_scraped_by_prometheus():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        conf = os.path.join(d, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: routegraph\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:19464']\n")
        w = popen("watch", "-q", "-n", "--asn-source", "none", "--interval", "0.5",
                  "--metrics", "127.0.0.1:19464", "-p", "80,443", *WATCHED)
        prom = subprocess.Popen(["ip", "netns", "exec", PROBER["netns"], "prometheus",
                                 "--config.file=" + conf, "--storage.tsdb.path=" + d + "/tsdb",
                                 "--web.listen-address=127.0.0.1:19090"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            series = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(1)
                try:
                    series = promql("routegraph_destination_reached")
                except AssertionError:
                    continue  # Prometheus not up yet
                if len(series) == 6:
                    break
            got = sorted((s["metric"]["target"], s["metric"]["port"], s["value"][1])
                         for s in series)
            assert got == sorted((a, p, "0" if (a, p) == (WATCHED[1], "443") else "1")
                                 for a in WATCHED for p in ("80", "443")), got
            filtered = promql('routegraph_port_state{state="filtered"} == 1')
            assert [(s["metric"]["target"], s["metric"]["port"]) for s in filtered] == \
                [(WATCHED[1], "443")], filtered
            assert float(promql("routegraph_rounds_total")[0]["value"][1]) >= 1
            # The Prometheus text format passes promtool's lint; OpenMetrics
            # when asked for.
            ctype, text = fetch("http://127.0.0.1:19464/metrics")
            assert ctype.startswith("text/plain; version=0.0.4"), ctype
            lint = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                                  capture_output=True, timeout=30)
            assert lint.returncode == 0, (lint.stdout, lint.stderr)
            ctype, om = fetch("http://127.0.0.1:19464/metrics",
                              "Accept: application/openmetrics-text; version=1.0.0")
            assert ctype.startswith("application/openmetrics-text"), ctype
            assert om.endswith("# EOF\n") and "# TYPE routegraph_rounds counter" in om, om[-300:]
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            if w.poll() is None:
                w.send_signal(signal.SIGINT)
            rc, out, err = finish(w, 30)
        assert rc == 0 and err == "", (rc, err)


@test
def test_check_plugin_status():
    main = sys.modules["__main__"]
    common = ["-n", "--asn-source", "none"]
    r = main.rg("--check", *common, "-p", "80", *WATCHED)
    assert r.rc == 0 and r.err == "", r
    probes = r.out.split("probes=")[-1].strip()
    assert r.out == ("ROUTEGRAPH OK - 3 services: 0 not open, 0 not reached | services=3 "
                     f"open=3;;;0;3 reached=3;;;0;3 probes={probes}\n"), r.out
    r = main.rg("--check", *common, "-p", "443", WATCHED[1])
    assert r.rc == 2 and r.out.startswith(
        f"ROUTEGRAPH CRITICAL - 1 services: 1 not open ({WATCHED[1]}:443 filtered), "
        "1 not reached | "), r
    r = main.rg("--check=not-open:warn,unreached:warn", *common, "-p", "443", WATCHED[1])
    assert r.rc == 1 and r.out.startswith("ROUTEGRAPH WARNING - "), r
    r = main.rg("--check", *common, "--baseline", "/nonexistent.json", "-p", "80", WATCHED[0])
    assert r.rc == 3 and r.out == "ROUTEGRAPH UNKNOWN - the run failed (see standard error)\n", r
