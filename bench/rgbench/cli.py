"""The command line: options, the run over sizes, repeats and tools, and
the files a run leaves (runs.json, results.json, report.md)."""
import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import tempfile

from .common import GNU_TIME, HOST_BASE, LAB, ROOT, ROUTERS, TOOLS, TOPO, die, log, sh
from .counters import counters_install, counters_remove, counters_set_targets
from .labctl import LAB_MODE, ensure_lab, throttle_off, throttle_on
from .peers import check_tools, tool_versions
from .report import goals, machine, rate_goal, report, summarize
from .runner import Runner
from .truth import Truth, floor_for
from .worker import scapy_main, worker_main


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench/run.py", description="routegraph speed benchmark against peer tracers, "
        "in the lab (needs root and lab/lab).")
    ap.add_argument("--sizes", default="1,64,1024", help="target counts (default 1,64,1024)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and size (default 3)")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma list from {','.join(TOOLS)} (default all)")
    ap.add_argument("--routegraph", help="routegraph binary (default: build/routegraph, "
                    "then routegraph on PATH)")
    ap.add_argument("--rate", type=int, default=20000,
                    help="routegraph --rate, scamper -p (capped at 10000); default 20000")
    ap.add_argument("--timeout", type=float, default=1.0,
                    help="per-probe timeout for every tool, seconds (default 1)")
    ap.add_argument("--retries", type=int, default=1,
                    help="retries for silent hops where a tool has them (default 1)")
    ap.add_argument("--max-ttl", type=int, default=30)
    ap.add_argument("--gap", type=int, default=5,
                    help="scamper -g (routegraph's --gap default is also 5)")
    ap.add_argument("--parallel", type=int, default=16,
                    help="concurrent runs for the per-target tools (default 16)")
    ap.add_argument("--budget", type=int, default=300,
                    help="hard limit in seconds for one tool run; a tool that hits it is not "
                    "run again at that size or larger ones (default 300)")
    ap.add_argument("--call-timeout", type=int, default=120,
                    help="hard limit for one per-target invocation (default 120)")
    ap.add_argument("--throttle", nargs="?", const="r4", metavar="ROUTER",
                    help="switch ROUTER (default r4; a comma list; 'all' = every router) to "
                    "Linux's default ICMP rate limit for the whole run; restored afterwards")
    ap.add_argument("--delays", action="store_true",
                    help="measure in the lab with link delays (lab/lab up --delays on: RTTs up "
                    "to 40 ms); the plain lab is brought back afterwards")
    ap.add_argument("--rg-default", action="store_true",
                    help="run routegraph with its default options (no --rate, -w, -r); the "
                    "peers still get --rate/--timeout/--retries")
    ap.add_argument("--rg-extra", default="",
                    help="extra routegraph options, appended to its command line "
                    "(e.g. '--rate 20000' with --rg-default)")
    ap.add_argument("--workdir", help="where raw outputs go (default /tmp/routegraph-bench-TIME)")
    ap.add_argument("--report", help="also write the markdown report to this file")
    ap.add_argument("--resume", action="store_true",
                    help="keep the measurements already in WORKDIR/runs.json (from an "
                    "interrupted run with the same settings) and run only the missing ones")
    cfg = ap.parse_args(argv)
    cfg.command = shlex.join(["bench/run.py", *argv])
    try:
        cfg.sizes = [int(x) for x in cfg.sizes.split(",") if x]
    except ValueError:
        ap.error("--sizes: comma list of numbers")
    if not cfg.sizes or any(s < 1 or s > 3 * (1024 - HOST_BASE) for s in cfg.sizes):
        ap.error(f"--sizes: each 1..{3 * (1024 - HOST_BASE)}")
    cfg.tools = [t for t in cfg.tools.split(",") if t]
    bad = [t for t in cfg.tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown tools: {','.join(bad)} (known: {','.join(TOOLS)})")
    if cfg.repeat < 1 or cfg.repeat > 20:
        ap.error("--repeat: 1..20")
    cfg.throttled = []
    if cfg.throttle:
        cfg.throttled = list(ROUTERS) if cfg.throttle == "all" else \
            [r for r in cfg.throttle.split(",") if r]
        if not cfg.throttled or any(r not in ROUTERS for r in cfg.throttled):
            ap.error(f"--throttle: 'all' or router names from {','.join(ROUTERS)}")
    if cfg.resume and not cfg.workdir:
        ap.error("--resume needs --workdir")
    if not cfg.routegraph:
        cand = os.path.join(ROOT, "build", "routegraph")
        cfg.routegraph = cand if os.access(cand, os.X_OK) else shutil.which("routegraph")
    if cfg.routegraph:
        cfg.routegraph = os.path.abspath(cfg.routegraph)
    return cfg


def main(argv):
    if argv[:1] == ["worker"] and len(argv) == 2:
        return worker_main(argv[1])
    if argv[:1] == ["scapy-trace"] and len(argv) == 3:
        return scapy_main(argv[1], argv[2])
    cfg = parse_args(argv)
    if os.geteuid() != 0:
        die("needs root (network namespaces, nft): sudo bench/run.py ...")
    for exe, pkg in ((GNU_TIME, "time"), ("/usr/sbin/nft", "nftables")):
        if not os.path.exists(exe):
            die(f"missing {exe}: apt-get install {pkg}")
    tools, missing = check_tools(cfg.tools, cfg.routegraph)
    for t, how in missing.items():
        log(f"skipping {t}: {how}")
    if not tools:
        die("no tool to run")
    truth = Truth(TOPO)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    workdir = cfg.workdir or tempfile.mkdtemp(prefix="routegraph-bench-")
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o755)  # routegraph drops to the sudo user and must read targets.txt
    runner = Runner(cfg, truth, workdir)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    throttle_off()  # an interrupted earlier run may have left one
    if cfg.delays:
        LAB_MODE.update(want="icmp-limits=off delays=on", up=["--delays", "on"])
    ensure_lab()
    versions = tool_versions(cfg.routegraph)  # before the tree moves on during a long run
    runs, skipped, floors = {}, {}, {}
    blown = {}
    saved = os.path.join(workdir, "runs.json")
    if cfg.resume and os.path.exists(saved):
        for key, v in json.load(open(saved)).items():
            size, tool = key.split("/")
            runs[(int(size), tool)] = v
            if any(m.get("timed_out") for m in v):
                blown[tool] = min(blown.get(tool, int(size)), int(size))
        log(f"resuming: {sum(len(v) for v in runs.values())} measurements from {saved}")
    try:
        counters_install()
        if cfg.throttled:
            throttle_on(cfg.throttled)
        for size in cfg.sizes:
            tv4, tv6 = truth.targets(size, 4), truth.targets(size, 6)
            floors[size] = floor_for(truth, tv4, cfg.retries, cfg.timeout, cfg.rate)
            counters_set_targets(tv4, tv6)
            for rep in range(cfg.repeat):
                order = tools[rep % len(tools):] + tools[:rep % len(tools)]
                for tool in order:
                    if len(runs.get((size, tool), [])) > rep:
                        continue  # measured before the resume
                    if tool in blown and blown[tool] <= size:
                        skipped[(size, tool)] = (f"not run: hit the {cfg.budget} s budget at "
                                                 f"{blown[tool]} targets")
                        continue
                    log(f"size {size} run {rep + 1}/{cfg.repeat}: {tool}")
                    m = runner.measure(tool, size, rep, tv4, tv6)
                    runs.setdefault((size, tool), []).append(m)
                    with open(saved + ".tmp", "w") as f:
                        json.dump({f"{s}/{t}": v for (s, t), v in runs.items()}, f)
                    os.replace(saved + ".tmp", saved)
                    if "error" in m:
                        log(f"  {tool}: {m['error']}")
                        continue
                    a = m["accuracy"]
                    log(f"  {tool}: {m['wall']:.3f} s, {m['probes']} probes, "
                        f"{m['received']} received, {m['rss_kb'] / 1024:.1f} MB"
                        + (f", hops {a['hops_right']}/{a['hops']}, ports "
                           f"{a['ports_right']}/{a['ports']}, ecmp "
                           f"{a['ecmp_one_branch']}/{a['ecmp']}" if "error" not in a else
                           f", {a['error']}")
                        + (" TIMED OUT" if m["timed_out"] else ""))
                    if m["timed_out"]:
                        blown[tool] = min(blown.get(tool, size), size)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        runner.kill_worker()
        raise
    finally:
        throttle_off()
        counters_remove()
        if cfg.delays:
            log("lab/lab up: the plain lab again")
            sh([LAB, "up"], check=False, timeout=180)
    summary = {k: s for k, v in runs.items() if (s := summarize(v))}
    env = machine()
    examples = {t: m["example"] for (_s, t), v in runs.items() for m in v if "example" in m}
    text = report(cfg, env, versions, floors, summary, missing, skipped,
                  started, workdir, examples)
    g = "" if cfg.throttled or cfg.rg_default or cfg.delays else goals(cfg, floors, summary)
    if cfg.throttled:
        text += (f"\nThrottled run ({' '.join(cfg.throttled)} at Linux's default ICMP rate "
                 "limit): the speed issue's goals do not apply.\n")
    elif cfg.rg_default:
        text += ("\nroutegraph ran with its default options: the speed issue's goals (set "
                 f"for --rate {cfg.rate} -w {cfg.timeout:g} -r {cfg.retries}) are not checked.\n")
        g = rate_goal(cfg, summary)
    if g:
        text += "\nGoals (routegraph):\n\n" + g
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump({"settings": {k: v for k, v in vars(cfg).items()}, "machine": env,
                   "floors": floors, "missing": missing,
                   "runs": {f"{s}/{t}": v for (s, t), v in runs.items()},
                   "summary": {f"{s}/{t}": v for (s, t), v in summary.items()}}, f, indent=1)
    with open(os.path.join(workdir, "report.md"), "w") as f:
        f.write(text)
    if cfg.report:
        with open(cfg.report, "w") as f:
            f.write(text)
    print(text)
    return 0
