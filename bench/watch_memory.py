#!/usr/bin/env python3
"""Resident memory of `routegraph watch` over many rounds, in the lab.

64 targets x 2 ports, rounds back to back (--interval 0); prints the RSS at
rounds 10, 100 and 1000 (as many as --max-seconds allows; it says which were
reached), the mean round time and the --history file's growth per round. Run as root with the lab up, under the
shared lab lock:

    flock -o /run/rg-lab-use.lock python3 bench/watch_memory.py --build build
"""
import argparse
import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOPO = json.load(open(os.path.join(ROOT, "lab", "topology.json")))


# The three original target networks, so a target added to the lab later
# does not change what this measures.
NETS = ("h1", "h2", "h3")


def targets(n):
    nets = [ipaddress.ip_network(t["v4_prefix"]) for t in TOPO["targets"] if t["name"] in NETS]
    return [str(nets[i % len(nets)][200 + i // len(nets)]) for i in range(n)]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--targets", type=int, default=64)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--marks", default="10,100,1000")
    a = ap.parse_args()
    marks = [int(m) for m in a.marks.split(",")]
    binary = os.path.abspath(os.path.join(ROOT, a.build, "routegraph"))
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)  # routegraph drops to nobody
        argv = ["ip", "netns", "exec", TOPO["prober"]["netns"], binary, "watch", "-n",
                "--asn-source", "none", "--interval", "0", "--rounds", str(marks[-1]),
                "-p", "80,443", "-o", os.path.join(d, "w"), "--format", "json",
                "--history", os.path.join(d, "h.db"),
                *targets(a.targets)]
        env = dict(os.environ, ROUTEGRAPH_LAB_ONLY="1")
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, env=env)
        start = time.monotonic()
        seen, rounds = {}, 0
        try:
            for line in p.stderr:
                if not line.startswith("routegraph: round "):
                    continue
                rounds = int(line.split()[2].rstrip(":"))
                if rounds in marks:
                    seen[rounds] = rss_kib(p.pid)
                    print(f"round {rounds}: RSS {seen[rounds]} KiB, "
                          f"{(time.monotonic() - start) / rounds:.2f} s per round", flush=True)
                if time.monotonic() - start > a.max_seconds:
                    print(f"round {rounds} (time is up): RSS {rss_kib(p.pid)} KiB", flush=True)
                    break
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        took = time.monotonic() - start
        size = os.path.getsize(os.path.join(d, "w.json")) if os.path.exists(
            os.path.join(d, "w.json")) else 0
        db = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
                 if f.startswith("h.db"))
    print(f"{a.targets} targets x 2 ports: {rounds} rounds in {took:.0f} s "
          f"({took / max(rounds, 1):.2f} s per round); exit {p.returncode}; JSON {size} bytes; "
          f"history {db} bytes ({db / max(rounds, 1) / 1024:.0f} KiB per round)")
    missing = [m for m in marks if m not in seen]
    if missing:
        print(f"not reached within {a.max_seconds:.0f} s: rounds {missing}")
    return 0 if p.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
