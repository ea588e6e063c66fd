"""Stopping cleanly and watching over time, in the lab: SIGINT/SIGTERM end a
run with what was measured, marked incomplete. The binary is run.py's BIN,
read at test time; routegraph runs in the prober namespace as run.py's rg()
does."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from harness import PROBER, target, test


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
