"""The two sub-commands the benchmark runs again as child processes: the
worker (inside the prober's namespace: runs and times one tool's
invocations, collects peak RSS) and scapy's traceroute under Debian's
python3."""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import threading
import time

from .common import GNU_TIME, PORTS


# ---------------------------------------------------------------------------
# Worker: runs inside rg-prober, times the tool, collects peak RSS
# ---------------------------------------------------------------------------

def gnu_time_rss(path):
    try:
        for line in open(path, errors="replace"):
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def worker_main(spec_path):
    spec = json.load(open(spec_path))
    invs = spec["invocations"]
    deadline = time.monotonic() + spec["budget"]
    env = dict(os.environ, **spec.get("env", {}))
    stop = threading.Event()

    def run_one(i):
        inv = invs[i]
        left = deadline - time.monotonic()
        if left <= 0.5 or stop.is_set():
            stop.set()
            return {"skipped": True}
        cap = min(left, spec["per_call_timeout"])
        argv = [GNU_TIME, "-v", "-o", inv["time"], "timeout", "-k", "2", f"{cap:.1f}",
                *inv["argv"]]
        with open(inv["out"], "wb") as o, open(inv["err"], "wb") as e:
            t0, rt0 = time.monotonic(), time.time()
            p = subprocess.Popen(argv, stdout=o, stderr=e, env=env, start_new_session=True)
            try:
                rc = p.wait(timeout=cap + 10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # our own session, by its id
                rc = p.wait()
            t1 = time.monotonic()
        timed_out = rc in (124, 137, -9)
        if timed_out:
            stop.set()
        return {"rc": rc, "wall": t1 - t0, "start_realtime": rt0,
                "rss_kb": gnu_time_rss(inv["time"]), "timed_out": timed_out}

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=spec["parallel"]) as ex:
        results = list(ex.map(run_one, range(len(invs))))
    wall = time.monotonic() - t0
    done = [r for r in results if not r.get("skipped")]
    json.dump({"wall": wall, "results": results,
               "completed": sum(1 for r in done if not r["timed_out"]),
               "timed_out": stop.is_set() or any(r["timed_out"] for r in done),
               "rss_kb": max((r["rss_kb"] or 0 for r in done), default=0)}, sys.stdout)


def scapy_main(targets_path, timeout):
    t0 = time.monotonic()
    from scapy.all import ICMP, IP, TCP, conf, traceroute  # noqa: E402  (Debian's python3)
    conf.verb = 0
    targets = [x.strip() for x in open(targets_path) if x.strip()]
    t1 = time.monotonic()
    ans, unans = traceroute(targets, dport=list(PORTS), retry=-2, timeout=float(timeout),
                            verbose=0)
    t2 = time.monotonic()
    rows = []
    for snd, rcv in ans:
        flags = str(rcv[TCP].flags) if rcv.haslayer(TCP) else None
        icmp = [rcv[ICMP].type, rcv[ICMP].code] if rcv.haslayer(ICMP) else None
        rows.append([snd[IP].dst, snd[TCP].dport, snd[IP].ttl, rcv[IP].src, flags, icmp])
    json.dump({"import_s": t1 - t0, "call_s": t2 - t1, "answered": rows,
               "unanswered": len(unans)}, sys.stdout)
