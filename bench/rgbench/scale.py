"""The scale benchmark (bench/scale.py): routegraph at 1k to 64k targets x
ports 80,443 in the lab's wide target networks, with and without
--format jsonl, against scamper at the same sizes; peak RSS and wall per
size as a table and a plot (PNG, gnuplot).

Each measurement runs through the worker (inside the prober, under GNU
time) and is scored hop by hop against lab/topology.json like the speed
benchmark. The lab's own counters in r1 give the probes that left and the
answers that came back to the prober; /proc/net/raw gives the answers the
prober's kernel dropped on a full socket queue."""
import argparse
import fcntl
import ipaddress
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from .common import LAB, PORTS, PROBER_NS, ROOT, ROUTER_NS, RUN_PY, SCAMPER_MAX_PPS, \
    SCAMPER_WINDOW, TOPO, die, log, norm, sh
from .counters import counters_install, counters_read, counters_remove, counters_reset, \
    counters_set_targets
from .labctl import PLAIN_MODE, lab_status, throttle_off
from .parsers import parse_scamper
from .report import machine
from .scoring import add_hop, new_trace, score
from .truth import Truth, floor_for

DEFAULT_SIZES = "1024,4096,16384,65536"
# The wide networks in the order targets are dealt: h1-wide holds half the
# addresses, h2-wide and h3-wide a quarter each, so 65,536 targets use every
# address and every size keeps those shares (ECMP + the silent hop + the
# filtered port; ECMP; the short path).
DEAL = ("h1-wide", "h2-wide", "h1-wide", "h3-wide")
MAX_SIZE = 65536
FORMATS = ("jsonl", "json")
# Whole-run outputs measured for their memory (peak RSS); not scored, as
# only the JSON forms carry every hop in a parseable form.
UNSCORED = ("table", "svg", "html")


# ---------------------------------------------------------------------------
# Targets and the lab
# ---------------------------------------------------------------------------

def wide_targets(size, topo=TOPO):
    """size IPv4 addresses dealt over the wide networks (DEAL order), each
    network's addresses taken from its start."""
    nets = {t["name"]: ipaddress.ip_network(t["v4_prefix"]) for t in topo["targets"]}
    taken = {n: 0 for n in DEAL}
    out = []
    for i in range(size):
        name = DEAL[i % len(DEAL)]
        out.append(str(nets[name][taken[name]]))
        taken[name] += 1
    return out


def wide_routes():
    """[(netns, prefix)] of the local routes the wide networks need."""
    return [(t["netns"], t[k]) for t in TOPO["targets"] if "wide" in t
            for k in ("v4_prefix", "v6_prefix")]


def lab_has_wide():
    for ns, pfx in wide_routes():
        fam = "-6" if ":" in pfx else "-4"
        r = sh(["ip", "-n", ns, fam, "route", "show", "table", "local", pfx], check=False)
        if pfx.split("/")[0] not in r.stdout:
            return False
    return True


def icmp_limited():
    """Routers whose ICMP rate limit is on: a throttle someone's benchmark or
    test left behind changes what every tracer sees (lab/lab status does not
    tell)."""
    out = []
    for r, ns in ROUTER_NS.items():
        v = sh(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.icmp_ratelimit",
                "net.ipv6.icmp.ratelimit"], check=False).stdout.split()
        if any(x != "0" for x in v):
            out.append(r)
    return out


def ensure_wide_lab():
    """The plain lab with the wide networks and no ICMP limit: rebuilt from
    this checkout when it is down, in another mode, built from a topology
    without them, or left throttled."""
    throttle_off()  # the speed benchmark's, if an interrupted run left one
    if lab_status().endswith(PLAIN_MODE) and lab_has_wide() and not icmp_limited():
        return
    log("lab/lab up (the plain lab with the wide target networks)")
    sh([LAB, "up"], timeout=300)
    if not lab_has_wide():
        die("lab/lab up did not give the wide target networks their routes")
    if icmp_limited():
        die(f"routers still ICMP rate limited after lab/lab up: {' '.join(icmp_limited())}")


class LabLock:
    """An optional flock held around each measurement, for a lab shared by
    several users (--lock FILE)."""

    def __init__(self, path):
        self.path, self.fd = path, None

    def __enter__(self):
        if self.path:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

def trace_of(t):
    tr = new_trace()
    for h in t["hops"]:
        for p in h["probes"]:
            add_hop(tr, h["ttl"], p["reply"]["from"] if p.get("reply") else None)
        if h.get("inferred_responder"):
            tr["inferred"][int(h["ttl"])] = h["inferred_responder"]
        if h.get("silence"):
            tr["silence"][int(h["ttl"])] = h["silence"]
    tr["state"] = t["state"]
    return tr


def parse_rg(path, fmt):
    """{(addr, port): trace} and the run's stats, from a JSON document or a
    JSON Lines stream (read line by line)."""
    out, stats = {}, None
    if fmt == "json":
        doc = json.load(open(path))
        for t in doc["traces"]:
            out[(norm(t["address"]), t["port"])] = trace_of(t)
        return out, doc.get("stats")
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            if d["type"] == "trace":
                out[(norm(d["address"]), d["port"])] = trace_of(d)
            elif d["type"] == "end":
                stats = d["stats"]
    return out, stats


# ---------------------------------------------------------------------------
# One measurement
# ---------------------------------------------------------------------------

def raw_drops():
    """Drops of every raw socket open in this namespace (/proc/net/raw{,6},
    last column): answers the kernel had no room for in a socket queue."""
    total = {}
    for f in ("/proc/net/raw", "/proc/net/raw6"):
        try:
            lines = open(f).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) >= 13:
                total[(f, cols[9])] = int(cols[-1])  # inode -> drops
    return total


def drops_main(out_path, stop_path):
    """Inside the prober: samples the raw sockets' drop counters every 50 ms
    until stop_path exists (or 30 min), keeping each socket's highest."""
    seen = {}
    deadline = time.monotonic() + 1800
    while not os.path.exists(stop_path) and time.monotonic() < deadline:
        for k, v in raw_drops().items():
            seen[k] = max(seen.get(k, 0), v)
        time.sleep(0.05)
    with open(out_path, "w") as f:
        json.dump({"drops": sum(seen.values()), "sockets": len(seen)}, f)
    return 0


class Scale:
    def __init__(self, cfg):
        self.cfg = cfg
        self.truth = Truth(TOPO)

    def invocation(self, tool, fmt, size, rundir, tf):
        c = self.cfg
        base = os.path.join(rundir, f"{tool}-{fmt}" if fmt else tool)
        invs = []
        if tool == "routegraph":
            # To standard output (a file the worker opens): routegraph run as
            # root drops to an unprivileged user, who may not write rundir.
            argv = [c.routegraph, "-n", "-q", "--asn-source", "none", "--format", fmt,
                    "-p", ",".join(map(str, PORTS)), "-w", f"{c.timeout:g}",
                    "-r", str(c.retries), "--rate", str(c.rate), *shlex.split(c.rg_extra),
                    "-f", tf]
            invs.append({"argv": argv, "out": f"{base}.{fmt}", "err": base + ".err",
                         "time": base + ".time"})
        else:
            pps = min(c.rate, SCAMPER_MAX_PPS)
            for port in PORTS:
                b = f"{base}-{port}"
                invs.append({"argv": ["scamper", "-O", "json", "-p", str(pps), "-w",
                                      str(c.scamper_window), "-c",
                                      f"trace -P tcp -d {port} -q {1 + c.retries} "
                                      f"-w {max(1, round(c.timeout))} -g 5 -m 30", "-f", tf],
                             "out": b + ".out", "err": b + ".err", "time": b + ".time"})
        return invs

    def run_worker(self, spec_path, rundir):
        """The worker in the prober, with the drop sampler beside it."""
        stop = os.path.join(rundir, "drops.stop")
        dout = os.path.join(rundir, "drops.json")
        sampler = subprocess.Popen(["ip", "netns", "exec", PROBER_NS, sys.executable,
                                    os.path.join(ROOT, "bench", "scale.py"), "drops", dout, stop],
                                   stdin=subprocess.DEVNULL)
        try:
            r = subprocess.run(["ip", "netns", "exec", PROBER_NS, sys.executable, RUN_PY,
                                "worker", spec_path], capture_output=True, text=True,
                               timeout=self.cfg.budget + 120)
        finally:
            open(stop, "w").close()
            sampler.wait(timeout=30)
        if r.returncode != 0:
            log(f"worker failed ({r.returncode}): {r.stderr.strip()[-400:]}")
            return None, None
        try:
            drops = json.load(open(dout))
        except (OSError, ValueError):
            drops = None
        return json.loads(r.stdout), drops

    def accuracy(self, tool, fmt, invs, targets, m):
        """Every hop and port state of the output against the topology."""
        try:
            if tool == "routegraph":
                traces, stats = parse_rg(invs[0]["out"], fmt)
                m["stats"] = stats
            else:
                traces = parse_scamper(invs)
            acc = score(self.truth, traces, targets, 4)
            return {k: v for k, v in acc.items()
                    if k in ("traces", "traces_right", "hops", "hops_right", "ports",
                             "ports_right", "missing", "hops_wrong", "wrong_hops",
                             "ecmp", "ecmp_one_branch")}
        except (OSError, ValueError, KeyError) as e:
            return {"error": f"could not parse the output: {e}"}

    def measure(self, tool, fmt, size, targets):
        rundir = os.path.join(self.cfg.workdir, str(size), f"{tool}-{fmt}" if fmt else tool)
        os.makedirs(rundir, exist_ok=True)
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(targets) + "\n")
        invs = self.invocation(tool, fmt, size, rundir, tf)
        spec = {"invocations": invs, "parallel": 1, "budget": self.cfg.budget,
                "per_call_timeout": self.cfg.budget, "env": {"ROUTEGRAPH_LAB_ONLY": "1"}}
        spec_path = os.path.join(rundir, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        with LabLock(self.cfg.lock):
            ensure_wide_lab()
            counters_install()
            counters_set_targets(targets, [])
            counters_reset()
            w, drops = self.run_worker(spec_path, rundir)
            limited = icmp_limited()  # someone throttled a router during the run
            cnt = counters_read()
            counters_remove()
        if w is None:
            return {"error": "the worker failed"}
        m = {"tool": tool, "format": fmt, "size": size, "wall": w["wall"],
             "rss_kb": w["rss_kb"], "timed_out": w["timed_out"],
             "rc": [r.get("rc") for r in w["results"]], "counters": cnt,
             "probes": cnt["syn_out"], "answers_to_prober": cnt["tcp_in"] + cnt["icmp_in"],
             "raw_drops": drops["drops"] if drops else None, "icmp_limited_after": limited,
             "command": shlex.join(invs[0]["argv"])}
        failed = [inv for inv, r in zip(invs, w["results"])
                  if not r.get("skipped") and r.get("rc") not in (0, None) and not r["timed_out"]]
        if failed:
            try:
                last = open(failed[0]["err"], errors="replace").read().strip().splitlines()[-1:]
            except OSError:
                last = []
            m["failed"] = f"exit {m['rc']}: {' '.join(last)[:200]}"
        if fmt in UNSCORED:
            m["accuracy"] = {"error": f"not scored ({fmt})"}
        else:
            m["accuracy"] = self.accuracy(tool, fmt, invs, targets, m)
        for inv in invs:  # the raw outputs of 64k traces are large: keep the figures only
            for k in ("out",):
                if k in inv and os.path.exists(inv[k]) and not self.cfg.keep:
                    os.unlink(inv[k])
        return m


# ---------------------------------------------------------------------------
# Report and plot
# ---------------------------------------------------------------------------

def fmt_acc(a):
    if "error" in a:
        return a["error"]
    return (f"{a['hops_right']}/{a['hops']} hops, {a['ports_right']}/{a['ports']} ports"
            + (f", {a['missing']} missing" if a["missing"] else ""))


def table(cfg, rows, floors):
    head = ("| targets | traces | tool | format | wall (s) | wall / floor | peak RSS (MB) "
            "| probes | answers to prober | socket drops | right |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    out = []
    for m in rows:
        if "error" in m:
            out.append(f"| {m.get('size')} | | {m.get('tool')} | {m.get('format') or ''} "
                       f"| {m['error']} | | | | | | |")
            continue
        fl = floors[m["size"]]["wall"]
        out.append(f"| {m['size']} | {2 * m['size']} | {m['tool']} | {m['format'] or '-'} "
                   f"| {m['wall']:.2f}{' (timed out)' if m['timed_out'] else ''} "
                   f"| {m['wall'] / fl:.2f} | {(m['rss_kb'] or 0) / 1024:.1f} | {m['probes']} "
                   f"| {m['answers_to_prober']} | {m['raw_drops']} | {fmt_acc(m['accuracy'])} |")
    return head + "\n".join(out) + "\n"


def plot(cfg, rows, png):
    """Peak RSS and wall against targets, one line per tool/format (gnuplot)."""
    gp = shutil.which("gnuplot")
    if not gp:
        log("no gnuplot (apt-get install gnuplot-nox): no plot")
        return False
    series = {}
    for m in rows:
        if "error" not in m and not m["timed_out"]:  # a budget is no measurement
            series.setdefault(m["tool"] + (f" {m['format']}" if m["format"] else ""),
                              []).append(m)
    d = tempfile.mkdtemp(prefix="rg-scale-plot-")
    files = []
    for name, ms in series.items():
        f = os.path.join(d, f"{len(files)}.dat")
        with open(f, "w") as o:
            for m in sorted(ms, key=lambda x: x["size"]):
                o.write(f"{m['size']} {(m['rss_kb'] or 0) / 1024:.1f} {m['wall']:.3f}\n")
        files.append((f, name))
    lines = lambda col: ", ".join(f"'{f}' using 1:{col} with linespoints title '{n}'"
                                  for f, n in files)
    script = f"""set terminal pngcairo size 1100,450 font ',10' noenhanced
set output '{png}'
set multiplot layout 1,2 title 'targets x ports {','.join(map(str, PORTS))} in the lab, --rate {cfg.rate} (scamper -p at most {SCAMPER_MAX_PPS}); runs over the budget left out'
set logscale x 2
set xlabel 'targets'
set key top left
set grid
set ylabel 'peak RSS (MB)'
set logscale y 10
plot {lines(2)}
set ylabel 'wall (s)'
plot {lines(3)}
unset multiplot
"""
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    shutil.rmtree(d, ignore_errors=True)
    if r.returncode != 0:
        log(f"gnuplot failed: {r.stderr.strip()[-300:]}")
        return False
    return True


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench/scale.py", description="routegraph at 1k-64k targets x ports 80,443 in "
        "the lab's wide networks: wall, peak RSS and accuracy, with and without --format "
        "jsonl, against scamper (needs root and lab/lab).")
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help=f"target counts (default {DEFAULT_SIZES}; "
                    f"at most {MAX_SIZE})")
    ap.add_argument("--formats", default=",".join(FORMATS),
                    help="routegraph --format per run: jsonl, json (default both); "
                    "table, svg, html are measured but not scored")
    ap.add_argument("--tools", default="routegraph,scamper", help="routegraph,scamper")
    ap.add_argument("--routegraph", help="the binary (default build/routegraph)")
    ap.add_argument("--rate", type=int, default=50000,
                    help="routegraph --rate; scamper -p, which stops at 10000 (default 50000)")
    ap.add_argument("--timeout", type=float, default=1.0, help="-w of both tools (default 1)")
    ap.add_argument("--retries", type=int, default=1, help="-r / -q - 1 (default 1)")
    ap.add_argument("--rg-extra", default="", help="more routegraph options")
    ap.add_argument("--scamper-window", type=int, default=SCAMPER_WINDOW,
                    help=f"scamper -w: traces at once (default {SCAMPER_WINDOW}, as bench/run.py)")
    ap.add_argument("--budget", type=int, default=600,
                    help="hard limit in seconds for one tool run (default 600); a tool that "
                    "hits it is not run at larger sizes")
    ap.add_argument("--lock", help="flock FILE around each measurement (a shared lab)")
    ap.add_argument("--workdir", help="where outputs go (default a new /tmp/rg-scale-*)")
    ap.add_argument("--keep", action="store_true", help="keep the tools' raw outputs")
    ap.add_argument("--report", help="also write the Markdown table to this file")
    ap.add_argument("--plot", help="draw peak RSS and wall per size into this PNG")
    ap.add_argument("--replot", metavar="SCALE.json,...",
                    help="measure nothing: the table and --plot from the scale.json of "
                    "earlier runs (rows of every file, floors at the first file's rate)")
    cfg = ap.parse_args(argv)
    cfg.command = shlex.join(["bench/scale.py", *argv])
    try:
        cfg.sizes = [int(x) for x in cfg.sizes.split(",") if x]
    except ValueError:
        ap.error("--sizes: comma list of numbers")
    if not cfg.sizes or any(s < 1 or s > MAX_SIZE for s in cfg.sizes):
        ap.error(f"--sizes: each 1..{MAX_SIZE}")
    cfg.formats = [f for f in cfg.formats.split(",") if f]
    if not cfg.formats or any(f not in FORMATS + UNSCORED for f in cfg.formats):
        ap.error(f"--formats: from {','.join(FORMATS + UNSCORED)}")
    cfg.tools = [t for t in cfg.tools.split(",") if t]
    if not cfg.tools or any(t not in ("routegraph", "scamper") for t in cfg.tools):
        ap.error("--tools: routegraph,scamper")
    if cfg.budget < 10 or cfg.budget > 3600:
        ap.error("--budget: 10..3600")
    cfg.routegraph = os.path.abspath(cfg.routegraph or os.path.join(ROOT, "build", "routegraph"))
    if "routegraph" in cfg.tools and not cfg.replot and not os.access(cfg.routegraph, os.X_OK):
        ap.error(f"no routegraph binary at {cfg.routegraph} (--routegraph PATH)")
    if "scamper" in cfg.tools and not cfg.replot and not shutil.which("scamper"):
        ap.error("no scamper: apt-get install scamper (scripts/install-bench-deps.sh)")
    return cfg


def replot(cfg):
    rows, floors, cmds = [], {}, []
    for path in cfg.replot.split(","):
        d = json.load(open(path))
        rows += d["rows"]
        cmds.append(d["command"])
        for k, v in d["floors"].items():
            floors.setdefault(int(k), v)
    text = "Commands: " + "; ".join(f"`{c}`" for c in cmds) + "\n\n" + table(cfg, rows, floors)
    if cfg.report:
        with open(cfg.report, "w") as f:
            f.write(text)
    if cfg.plot and plot(cfg, rows, os.path.abspath(cfg.plot)):
        log(f"plot: {cfg.plot}")
    print(text)
    return 0


def main(argv):
    if argv[:1] == ["drops"] and len(argv) == 3:
        return drops_main(argv[1], argv[2])
    cfg = parse_args(argv)
    if cfg.replot:
        return replot(cfg)
    if os.geteuid() != 0:
        die("needs root (network namespaces, nft): sudo bench/scale.py ...")
    cfg.workdir = cfg.workdir or tempfile.mkdtemp(prefix="rg-scale-")
    os.makedirs(cfg.workdir, exist_ok=True)
    os.chmod(cfg.workdir, 0o755)  # routegraph drops to the sudo user and reads targets.txt
    sc = Scale(cfg)
    rows, floors, blown = [], {}, set()
    runs = [(t, f) for t in cfg.tools for f in (cfg.formats if t == "routegraph" else [None])]
    for size in cfg.sizes:
        targets = wide_targets(size)
        floors[size] = floor_for(sc.truth, targets, cfg.retries, cfg.timeout, cfg.rate)
        for tool, fmt in runs:
            if (tool, fmt) in blown:
                rows.append({"size": size, "tool": tool, "format": fmt,
                             "error": f"not run: hit the {cfg.budget} s budget below"})
                continue
            log(f"{size} targets: {tool} {fmt or ''}")
            m = sc.measure(tool, fmt, size, targets)
            m.setdefault("size", size)
            m.setdefault("tool", tool)
            m.setdefault("format", fmt)
            rows.append(m)
            if "error" not in m:
                if m.get("icmp_limited_after"):
                    log(f"  routers ICMP limited after the run: {m['icmp_limited_after']}")
                if m.get("failed"):
                    log(f"  failed: {m['failed']}")
                log(f"  {m['wall']:.2f} s (floor {floors[size]['wall']:.2f}), "
                    f"{(m['rss_kb'] or 0) / 1024:.1f} MB, {fmt_acc(m['accuracy'])}, "
                    f"drops {m['raw_drops']}")
                if m["timed_out"]:
                    blown.add((tool, fmt))
            with open(os.path.join(cfg.workdir, "scale.json"), "w") as f:
                json.dump({"command": cfg.command, "machine": machine(), "floors": floors,
                           "rows": rows}, f, indent=1)
    text = (f"Command: `{cfg.command}`\n\nFloor (probes / rate, or the timeout chain): "
            + ", ".join(f"{s}: {floors[s]['probes']} probes, {floors[s]['wall']:.2f} s"
                        for s in cfg.sizes) + "\n\n" + table(cfg, rows, floors))
    with open(os.path.join(cfg.workdir, "report.md"), "w") as f:
        f.write(text)
    if cfg.report:
        with open(cfg.report, "w") as f:
            f.write(text)
    if cfg.plot and plot(cfg, rows, os.path.abspath(cfg.plot)):
        log(f"plot: {cfg.plot}")
    print(text)
    return 0
