"""Streamed output (--format jsonl) and the in-flight window, in the lab:
lines read from a pipe as they come, the stream against the JSON document
of the same run, an interrupted run, and --max-inflight. The binary is
run.py's BIN, read at test time; started as root, routegraph runs as
nobody, so output directories are made writable for it."""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from harness import PROBER, TOPO, net_of, target, test

# As many targets as the lab hosts, up to 4096: addresses 1-1000 of each
# target network (the special addresses sit above), IPv4 first. Under
# valgrind (tens of times slower) 256 of them.
PER_NET = 1000
INFERENCE = {"inferred_responder", "silence", "provisional"}


def size():
    return 256 if sys.modules["__main__"].WRAP else 4096


def targets(n):
    every = [target(net, fam, h) for fam in (4, 6) for h in range(1, PER_NET + 1)
             for net in ("h1", "h2", "h3")]
    return every[:n]


def argv(*args):
    main = sys.modules["__main__"]
    return ["ip", "netns", "exec", PROBER["netns"], *main.WRAP, main.BIN, *args]


def slow():
    return 10 if sys.modules["__main__"].WRAP else 1


def target_file(d, n=None):
    os.chmod(d, 0o777)  # routegraph reads it, and writes there, as nobody
    path = os.path.join(d, "targets.txt")
    with open(path, "w") as f:
        f.write("\n".join(targets(n or size())) + "\n")
    os.chmod(path, 0o644)
    return path


def env():
    return dict(os.environ, ROUTEGRAPH_LAB_ONLY="1")


def hops_by_ttl(trace):
    return {h["ttl"]: h for h in trace["hops"]}


def check_against_lab(t):
    """Port state and every hop below the destination, measured or
    inferred, against the lab's ground truth."""
    net = net_of(t["address"])
    assert t["state"] == net["ports"][str(t["port"])], (t["address"], t["port"], t["state"])
    by = hops_by_ttl(t)
    got = []
    for ttl in range(1, net["distance"]):
        h = by.get(ttl, {})
        got.append(h.get("responder") or h.get("inferred_responder"))
    branches = net["branches"][str(t["family"])]
    assert got in branches, (t["address"], t["port"], got, branches)


def read_lines(p, deadline):
    """Yields (time, line) from p's stdout as each line arrives."""
    buf = b""
    fd = p.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield time.monotonic(), p.poll() is None, line
    assert buf == b"", f"unterminated line: {buf[:200]!r}"


@test
def test_jsonl_pipe_shows_traces_as_they_end():
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d)
        p = subprocess.Popen(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl",
                                  "--rate", "20000", "-p", "80,443", "-f", tf),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
        try:
            kinds, traces, first_trace_while_running, ended = [], [], None, None
            for when, running, raw in read_lines(p, time.monotonic() + 180 * slow()):
                line = json.loads(raw)  # each line parses on its own, as it comes
                kinds.append(line["type"])
                if line["type"] == "run":
                    assert len(kinds) == 1 and line["schema"] == "routegraph-jsonl/1", line
                    # Targets are read as the run goes: counted at the end.
                    assert line["traces_planned"] is None, line["traces_planned"]
                elif line["type"] == "trace":
                    assert kinds[0] == "run" and "end" not in kinds[:-1], kinds[-3:]
                    if first_trace_while_running is None:
                        first_trace_while_running = running
                    traces.append(line)
                else:
                    assert line["type"] == "end", line
                    ended = line
            err = p.stderr.read().decode(errors="replace")
            assert p.wait(timeout=30) == 0, err
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # The first trace came while the program was still probing.
        assert first_trace_while_running is True
        assert kinds[-1] == "end" and ended["complete"] is True, ended
        assert ended["traces_written"] == ended["traces_planned"] == len(traces) == 2 * size(), \
            (ended, len(traces))
        assert ended["unresolved"] == [], ended
        assert len({(t["address"], t["port"]) for t in traces}) == 2 * size()
        for t in traces:
            assert "as_path" not in t, t["address"]
            check_against_lab(t)


def comparable_hop(h):
    return {k: v for k, v in h.items() if k not in INFERENCE}


@test
def test_jsonl_equals_the_document_of_the_same_run():
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d)
        prefix = os.path.join(d, "run")
        r = subprocess.run(argv("-q", "-n", "--asn-source", "none", "--format", "json,jsonl",
                                "--rate", "20000", "-p", "80,443", "-f", tf, "-o", prefix),
                           capture_output=True, text=True, timeout=180 * slow(), env=env())
        assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
        assert sorted(os.listdir(d)) == ["run.json", "run.jsonl", "targets.txt"], os.listdir(d)
        doc = json.load(open(prefix + ".json"))
        lines = [json.loads(x) for x in open(prefix + ".jsonl")]
    head, end, streamed = lines[0], lines[-1], lines[1:-1]
    assert head["type"] == "run" and end["type"] == "end", (head, end)
    assert head["options"] == doc["options"] and head["unresolved"] is None
    assert end["unresolved"] == doc["unresolved"] and end["traces_planned"] == len(doc["traces"])
    assert end["stats"] == doc["stats"] and end["complete"] is True
    assert end["traces_written"] == len(streamed) == len(doc["traces"]) == 2 * size()
    by_key = {(t["address"], t["port"]): t for t in streamed}
    provisional = 0
    for t in doc["traces"]:
        s = by_key[(t["address"], t["port"])]
        assert s["type"] == "trace"
        # Every trace-level key the document has, but the annotated AS path.
        want = {k: v for k, v in t.items() if k not in ("hops", "as_path")}
        got = {k: v for k, v in s.items() if k not in ("hops", "type")}
        assert want == got, (t["address"], t["port"],
                             {k: (want.get(k), got.get(k)) for k in want.keys() | got.keys()
                              if want.get(k) != got.get(k)})
        # Every hop with probes, exactly, but what inference says of it.
        probed_doc = {h["ttl"]: comparable_hop(h) for h in t["hops"] if h["probes"]}
        probed_str = {h["ttl"]: comparable_hop(h) for h in s["hops"] if h["probes"]}
        assert probed_doc == probed_str, (t["address"], t["port"])
        for h in s["hops"]:
            marked = "inferred_responder" in h or "silence" in h
            assert h.get("provisional", False) is marked, h
            provisional += marked
        check_against_lab(s)
    print(f"# {provisional} streamed hops provisional", flush=True)


def temp_lines(d):
    """The lines of the stream's temporary file so far (run.jsonl.XXXXXX)."""
    tmp = [n for n in os.listdir(d) if n.startswith("run.jsonl.")]
    if len(tmp) != 1:
        return 0
    with open(os.path.join(d, tmp[0]), "rb") as f:
        return f.read().count(b"\n")


@test
def test_sigint_leaves_a_valid_jsonl_of_the_finished_traces():
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d)
        prefix = os.path.join(d, "run")
        # Slow enough (about 40 s) to be interrupted in the middle.
        p = subprocess.Popen(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl",
                                  "--rate", "1000", "-p", "80,443", "-f", tf, "-o", prefix),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
        try:
            deadline = time.monotonic() + 30 * slow()
            while temp_lines(d) < 50 and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.2)
            assert p.poll() is None and temp_lines(d) >= 50, "no traces streamed in time"
            assert not os.path.exists(prefix + ".jsonl")  # not before the end
            p.send_signal(signal.SIGINT)  # ip netns exec execs: the PID is routegraph's
            p.wait(timeout=30 * slow())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert os.path.exists(prefix + ".jsonl"), (p.returncode, p.stderr.read())
        lines = [json.loads(x) for x in open(prefix + ".jsonl")]
        assert not [n for n in os.listdir(d) if n.startswith("run.jsonl.")]
    head, end, streamed = lines[0], lines[-1], lines[1:-1]
    assert head["type"] == "run" and end["type"] == "end", (head, end)
    assert all(t["type"] == "trace" for t in streamed)
    assert end["complete"] is False and end["traces_written"] == len(streamed), end
    assert 50 <= len(streamed) < 2 * size(), len(streamed)
    for t in streamed:
        check_against_lab(t)


@test
def test_max_inflight_bounds_the_traces_probed_at_once():
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d, 64)
        r = subprocess.run(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl",
                                "--max-inflight", "4", "-p", "80,443", "-f", tf),
                           capture_output=True, text=True, timeout=120 * slow(), env=env())
    assert r.returncode == 0 and r.stderr == "", r
    traces = [json.loads(x) for x in r.stdout.splitlines()][1:-1]
    assert len(traces) == 128
    # A trace is in flight from its first probe to its last (it started
    # before the one and ended after the other): at most 4 at any time.
    events = []
    for t in traces:
        sent = [p["sent"] for p in (t["port_probes"] or {"probes": []})["probes"]]
        sent += [p["sent"] for h in t["hops"] for p in h["probes"]]
        events += [(min(sent), 1), (max(sent), -1)]
        check_against_lab(t)
    events.sort()  # ISO times sort as text; at a tie an end comes first
    now = most = 0
    for _, step in events:
        now += step
        most = max(most, now)
    assert 2 <= most <= 4, most


@test
def test_render_refuses_the_stream_and_the_window():
    main = sys.modules["__main__"]
    saved = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "data", "graph-lab.json")
    for extra, says in ((["--format", "jsonl"], "render: jsonl is written while probing"),
                        (["--format", "json", "--max-inflight", "5"], "--max-inflight")):
        r = subprocess.run([*main.WRAP, main.BIN, "render", saved, *extra], capture_output=True,
                           text=True, timeout=60 * slow())
        lines = r.stderr.splitlines()
        assert r.returncode == 2 and r.stdout == "" and len(lines) == 1, (extra, r)
        assert lines[0].startswith("routegraph: render: ") and says in lines[0], (extra, r)


LAB_ASN_CSV = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "lab", "asn.csv")


def router_asn(address):
    for r in TOPO["routers"]:
        for i in r["interfaces"]:
            if address in (i["v4"], i["v6"]):
                return i["asn"]
    return net_of(address)["asn"]


@test
def test_jsonl_lines_carry_the_local_annotation():
    """--asn-db: each streamed line has its hops' AS and its AS path, from
    the lab's AS data, as it is written; no PTR (-n, and never streamed)."""
    n = 300 if not sys.modules["__main__"].WRAP else 60
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d, n)
        r = subprocess.run(argv("-q", "-n", "--asn-db", LAB_ASN_CSV, "--format", "jsonl",
                                "--rate", "20000", "-p", "80,443", "-f", tf),
                           capture_output=True, text=True, timeout=180 * slow(), env=env())
    assert r.returncode == 0 and r.stderr == "", r
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    traces = [t for t in lines if t["type"] == "trace"]
    assert len(traces) == 2 * n and lines[-1]["complete"] is True, lines[-1]
    for t in traces:
        check_against_lab(t)
        net = net_of(t["address"])
        want_path = []
        for h in t["hops"]:
            if h["responder"] is None:  # an inferred hop may carry its AS
                inferred = h.get("inferred_responder")
                assert h.get("asn") in ((None, router_asn(inferred)) if inferred else (None,)), h
                continue
            asn = router_asn(h["responder"])
            assert h["asn"] == asn and h["as_source"] == "offline" and "ptr" not in h, h
            if not want_path or want_path[-1] != asn:
                want_path.append(asn)
        assert t["as_path"] == want_path, (t["address"], t["as_path"], want_path)
        # The destination's AS ends every path that reached it.
        if t["reached"]:
            assert want_path[-1] == net["asn"], (t["address"], want_path)


@test
def test_jsonl_targets_from_stdin():
    """-f - : 4096 targets written into the program's standard input, the
    stream read line by line as the run goes, every trace right."""
    every = targets(size())
    p = subprocess.Popen(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl",
                              "--rate", "20000", "-p", "80,443", "-f", "-"),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env())
    try:
        p.stdin.write(("\n".join(every) + "\n").encode())
        p.stdin.close()
        traces, first_while_running = [], None
        for _, running, raw in read_lines(p, time.monotonic() + 180 * slow()):
            line = json.loads(raw)
            if line["type"] == "trace":
                if first_while_running is None:
                    first_while_running = running
                traces.append(line)
            elif line["type"] == "run":
                assert line["traces_planned"] is None, line
            elif line["type"] == "end":
                assert line["traces_planned"] == 2 * size(), line
        err = p.stderr.read().decode(errors="replace")
        assert p.wait(timeout=30) == 0, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert first_while_running is True
    assert len(traces) == 2 * size()
    assert {(t["address"], t["port"]) for t in traces} == \
        {(a, port) for a in every for port in (80, 443)}
    for t in traces:
        check_against_lab(t)


def lab_view(t):
    """What a trace says of the lab, not of the moment or of the flow: state,
    reach, and per TTL whether a router is known there (measured or
    inferred; which branch of an ECMP pair a flow takes depends on its
    random source port, check_against_lab checks the branch)."""
    return (t["state"], t["reached"],
            tuple((h["ttl"], bool(h["responder"] or h.get("inferred_responder")))
                  for h in t["hops"]))


@test
def test_jsonl_stdin_streams_before_the_input_ends():
    """Targets piped on stdin, read as they come: the first half written,
    a trace line must come out while stdin is still open (nothing more
    written, no EOF), then the rest; the traces equal those of the same run
    from a file; a bad line and an unresolvable name, met mid-run, are named
    on one line each with their stdin line and the run goes on (exit 3)."""
    n = 512 if not sys.modules["__main__"].WRAP else 64
    every = targets(n)
    first, rest = every[:n // 2], every[n // 2:]
    common = ("-q", "-n", "--asn-source", "none", "--format", "jsonl", "--rate", "20000",
              "-p", "80,443")
    p = subprocess.Popen(argv(*common, "-f", "-"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    streamed, before_eof = [], 0
    try:
        p.stdin.write(("\n".join(first) + "\n").encode())
        p.stdin.flush()
        lines = read_lines(p, time.monotonic() + 60 * slow())
        for _, running, raw in lines:
            line = json.loads(raw)
            if line["type"] == "trace":
                streamed.append(line)
                break
        before_eof = len(streamed)
        assert before_eof == 1 and p.poll() is None, "no trace before the input ended"
        # Line n//2 + 1 is bad, n//2 + 2 names no host; the rest are good.
        p.stdin.write(("bad$entry\nno-such-host.lab\n" + "\n".join(rest) + "\n").encode())
        p.stdin.close()
        end = None
        for _, running, raw in lines:
            line = json.loads(raw)
            if line["type"] == "trace":
                streamed.append(line)
            elif line["type"] == "end":
                end = line
        err = p.stderr.read().decode(errors="replace")
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rc == 3, (rc, err)
    bad_at, unres_at = n // 2 + 1, n // 2 + 2
    said = err.splitlines()
    assert len(said) == 3, err
    assert said[0] == f"routegraph: stdin:{bad_at}: 'bad$entry' is not a host name or " \
        "address: '$' cannot be in one (allowed: A-Z a-z 0-9 . : _ -)", err
    assert said[1].startswith(f"routegraph: stdin:{unres_at}: no-such-host.lab: cannot "
                              "resolve: "), err
    assert said[2] == "routegraph: 1 bad entry skipped, the others traced (--strict stops " \
        "at the first)", err
    assert end["complete"] is True and end["traces_written"] == len(streamed) == 2 * n, end
    assert [u["name"] for u in end["unresolved"]] == ["no-such-host.lab"], end["unresolved"]
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d, n)
        r = subprocess.run(argv(*common, "-f", tf), capture_output=True, text=True,
                           timeout=120 * slow(), env=env())
    assert r.returncode == 0 and r.stderr == "", r
    from_file = {(t["address"], t["port"]): lab_view(t)
                 for t in map(json.loads, r.stdout.splitlines()) if t["type"] == "trace"}
    from_stdin = {(t["address"], t["port"]): lab_view(t) for t in streamed}
    assert from_stdin == from_file
    for t in streamed:
        check_against_lab(t)


@test
def test_jsonl_ptr_names_in_batches():
    """Without -n the streamed lines carry the reverse names of their hops,
    looked up in batches from the lab's DNS server while the run goes on:
    every hop's ptr is the lab's name for its address, and the same as the
    whole-run document of the same run has (its names looked up after the
    run)."""
    n = 300 if not sys.modules["__main__"].WRAP else 40
    ptr = TOPO["dns"]["ptr"]
    with tempfile.TemporaryDirectory() as d:
        tf = target_file(d, n)
        prefix = os.path.join(d, "run")
        r = subprocess.run(argv("-q", "--asn-source", "none", "--format", "json,jsonl",
                                "--rate", "20000", "-p", "80,443", "-f", tf, "-o", prefix),
                           capture_output=True, text=True, timeout=180 * slow(), env=env())
        assert r.returncode == 0 and r.stderr == "", r
        doc = json.load(open(prefix + ".json"))
        streamed = [json.loads(x) for x in open(prefix + ".jsonl")][1:-1]
    assert len(streamed) == len(doc["traces"]) == 2 * n
    names = lambda t: {h["ttl"]: h.get("ptr") for h in t["hops"]}  # noqa: E731
    by_key = {(t["address"], t["port"]): t for t in doc["traces"]}
    named = 0
    for t in streamed:
        assert names(t) == names(by_key[(t["address"], t["port"])]), (t["address"], t["port"])
        for h in t["hops"]:
            addr = h["responder"] or h.get("inferred_responder")
            hostile = addr in TOPO["dns"]["hostile_ptr"]["addresses"]
            assert h.get("ptr") == (None if hostile else ptr.get(addr)), h
            named += "ptr" in h
        check_against_lab(t)
    assert named >= 2 * n, named  # the routers on every path have names


@test
def test_jsonl_stdin_strict_stops_reading_at_a_bad_line():
    """--strict on a pipe: the targets before the bad line are traced and
    written, nothing after it is read; one line names it; exit status 2."""
    good = targets(6)
    text = "\n".join(good[:3]) + "\n# a comment\nhttp://x.example/\n" + "\n".join(good[3:]) + "\n"
    p = subprocess.run(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl", "--strict",
                            "-p", "80", "-f", "-"), input=text, capture_output=True,
                       text=True, timeout=60 * slow(), env=env())
    assert p.returncode == 2, p
    assert p.stderr.splitlines() == [
        "routegraph: stdin:5: 'http://x.example/' looks like a URL: give the host alone (and "
        "its port as host:port or -p) (--strict: no more targets read)"], p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    traces = [t for t in lines if t["type"] == "trace"]
    assert sorted(t["address"] for t in traces) == sorted(good[:3]), traces
    assert lines[-1]["type"] == "end" and lines[-1]["complete"] is True, lines[-1]
    assert lines[-1]["traces_planned"] == 3, lines[-1]
    for t in traces:
        check_against_lab(t)


@test
def test_jsonl_stdin_with_nothing_to_trace():
    """An empty pipe, or one of comments and bad lines only: one line says
    there was nothing to trace, exit status 2, the stream still whole."""
    for text, said in (("", ["routegraph: nothing to trace: no target given"]),
                       ("# only this\nbad$\n",
                        ["routegraph: stdin:2: 'bad$' is not a host name or address: '$' cannot "
                         "be in one (allowed: A-Z a-z 0-9 . : _ -)",
                         "routegraph: 1 bad entry skipped, the others traced (--strict stops at "
                         "the first)",
                         "routegraph: nothing to trace: every target given was bad"])):
        p = subprocess.run(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl",
                                "-p", "80", "-f", "-"), input=text, capture_output=True,
                           text=True, timeout=60 * slow(), env=env())
        assert p.returncode == 2 and p.stderr.splitlines() == said, (text, p)
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        assert [x["type"] for x in lines] == ["run", "end"], lines
        assert lines[-1]["traces_planned"] == 0, lines[-1]


@test
def test_jsonl_duplicate_of_a_written_trace_is_traced_once():
    """A second name for an address whose traces were written (and dropped
    from memory) long before is still a duplicate: an IPv6 target first,
    64 others through a window of 4, then the same address spelt out in
    full. Each (address, port) is traced once, under the first name."""
    import ipaddress
    first = target("h1", 6, 7)
    again = ipaddress.ip_address(first).exploded
    assert again != first
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        tf = os.path.join(d, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join([first] + targets(64) + [again]) + "\n")
        os.chmod(tf, 0o644)
        r = subprocess.run(argv("-q", "-n", "--asn-source", "none", "--format", "jsonl",
                                "--max-inflight", "4", "-p", "80,443", "-f", tf),
                           capture_output=True, text=True, timeout=120 * slow(), env=env())
    assert r.returncode == 0 and r.stderr == "", r
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    traces, end = lines[1:-1], lines[-1]
    keys = [(t["address"], t["port"]) for t in traces]
    assert len(keys) == len(set(keys)) == 2 * 65, len(keys)
    assert sorted(t["target"] for t in traces if t["address"] == first) == [first, first]
    assert end["traces_planned"] == end["traces_written"] == 130 and end["complete"], end
    for t in traces:
        check_against_lab(t)
