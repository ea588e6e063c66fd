"""routegraph render: what it accepts, how often it reads its input, and
whose options it reports. No packets; the binary is run.py's BIN, read at
test time. Started as root, routegraph runs as nobody: inputs are made
readable and output directories writable for it."""
import json
import os
import sys
import tempfile
import threading

from harness import ROOT, run, test

SAVED_RUN = os.path.join(ROOT, "tests", "data", "graph-lab.json")


def rg(*args, stdin=None, timeout=60):
    main = sys.modules["__main__"]
    wrap = main.WRAP
    return run([*wrap, main.BIN, "render", *args], stdin=stdin,
               timeout=timeout * (10 if wrap else 1))


@test
def test_render_refuses_trace_only_options():
    for extra in (["--asn-db", "/nonexistent"], ["-p", "443"], ["-n"], ["--max-ttl", "9"],
                  ["--dns-server", "198.18.3.2"]):
        r = rg(SAVED_RUN, "--format", "dot", *extra)
        lines = r.err.splitlines()
        assert r.rc == 2 and r.out == "" and len(lines) == 1, (extra, r)
        assert lines[0].startswith("routegraph: render: ") and extra[0] in lines[0], (extra, r)
    r = rg(SAVED_RUN, "--format", "dot", "-q")
    assert r.rc == 0 and r.out.startswith("digraph"), r


@test
def test_render_reports_the_saved_options_from_stdin_too():
    saved = json.load(open(SAVED_RUN))["options"]
    with open(SAVED_RUN) as f:
        text = f.read()
    for args, stdin in (([SAVED_RUN], None), (["-"], text)):
        r = rg(*args, "--format", "json", stdin=stdin)
        assert r.rc == 0 and r.err == "", (args, r)
        assert json.loads(r.out)["options"] == saved, (args, json.loads(r.out)["options"], saved)


@test
def test_render_reads_its_input_once():
    # A FIFO can be read once: a second open would wait for a writer forever.
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        fifo = os.path.join(d, "run.json")
        os.mkfifo(fifo, 0o644)
        with open(SAVED_RUN, "rb") as f:
            data = f.read()

        def writer():
            try:
                with open(fifo, "wb") as w:
                    w.write(data)
            except OSError:
                pass
        th = threading.Thread(target=writer, daemon=True)
        th.start()
        try:
            r = rg(fifo, "--format", "json", timeout=20)
        finally:
            if th.is_alive():  # unblock the writer if render never opened it
                try:
                    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
                except OSError:
                    pass
            th.join(5)
        assert r.rc == 0 and r.err == "", r
        assert json.loads(r.out)["options"] == json.loads(data)["options"]


@test
def test_error_lines_escape_what_they_quote():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        bad = os.path.join(d, "run\x1b]0;PWNED\x07\x1b[2J.json")
        r = rg(bad, "--format", "dot")
        lines = r.err.splitlines()
        assert r.rc == 2 and len(lines) == 1, r
        assert "\x1b" not in r.err and "\x07" not in r.err, repr(r.err)
        assert "run\\x1b]0;PWNED\\x07\\x1b[2J.json" in lines[0], repr(r.err)
        # An output path with a control character, in a directory that does not
        # exist: refused before the saved run is read (usage status).
        r = rg(SAVED_RUN, "-o", os.path.join(d, "no\x1bdir", "x"), "--format", "dot")
        assert r.rc == 2 and "\x1b" not in r.err and "no\\x1bdir" in r.err, repr(r.err)


@test
def test_run_too_many_traces_refused():
    # 129 targets x 1024 ports: 132,096 traces, over the 131,072 a run may hold.
    # Refused before any name is resolved or any probe sent.
    from harness import PROBER, target
    main = sys.modules["__main__"]
    addrs = [target("h1", 4, 600 + i) for i in range(129)]
    r = run(["ip", "netns", "exec", PROBER["netns"], *main.WRAP, main.BIN, "-p", "1-1024",
             *addrs], env={"ROUTEGRAPH_LAB_ONLY": "1"}, timeout=60 * (10 if main.WRAP else 1))
    lines = r.err.splitlines()
    assert r.rc == 2 and r.out == "" and len(lines) == 1, r
    assert "129 targets x 1024 ports make 132096 traces" in lines[0], r


def on_a_terminal(args, env):
    """render with standard output on a pseudo-terminal; its bytes."""
    import pty
    import select
    import subprocess
    import time
    main = sys.modules["__main__"]
    master, slave = pty.openpty()
    p = subprocess.Popen([*main.WRAP, main.BIN, "render", *args], stdout=slave,
                         stderr=subprocess.PIPE, env=dict(os.environ, **env))
    os.close(slave)
    out, deadline = b"", time.monotonic() + 60 * (10 if main.WRAP else 1)
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        p.wait(timeout=30)
        return p.returncode, out.decode().replace("\r\n", "\n")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


@test
def test_render_to_a_terminal_writes_the_table():
    # A terminal gets the table, wrapped to its width, not a screenful of SVG.
    rc, out = on_a_terminal([SAVED_RUN], {"COLUMNS": "80"})
    assert rc == 0 and "<svg" not in out, (rc, out[:200])
    lines = out.splitlines()
    assert lines[0] == "   198.19.0.5:80      198.19.0.5:443     198.19.0.5:8080    198.19.16.7:80", lines[0]
    assert all(len(ln) <= 80 for ln in lines[:lines.index("")]), out
    assert "\n198.19.16.7:443                not reached, port filtered" in out, out
    # Into a pipe, the SVG as before; --wide keeps the table whole.
    r = rg(SAVED_RUN)
    assert r.rc == 0 and "<svg" in r.out, r.err
    rc, out = on_a_terminal([SAVED_RUN, "--wide"], {"COLUMNS": "80"})
    assert rc == 0 and len(out.splitlines()[0]) > 80, out[:300]
    # render's own help.
    r = rg("--help")
    assert r.rc == 0 and r.out.startswith("Usage: routegraph render RESULTS.json"), r
