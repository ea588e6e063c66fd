#!/usr/bin/env python3
"""Start-up time of routegraph with its offline databases (the AS index and
the country index, both mapped), in the lab's prober namespace.

Two figures, each the median (and 90th percentile) of --runs runs:
  trace   from the routegraph execve to its first probe (the first sendto)
  lookup  from the routegraph execve to its exit (`routegraph lookup -n`)
measured with strace timestamps (strace --seccomp-bpf stops the process only
at those system calls, so the figures carry little of strace's cost), each
with the installed data and with no database (--asn-source none) for
comparison. A benchmark, not a test: the figures depend on the machine.

    sudo bench/startup.py [--routegraph build/routegraph] [--runs 30]

Needs the installed data (scripts/fetch-asn-data.sh) and root (the lab).
Brings the lab up only if it is down, and then takes it down again."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "lab", "lab")
NETNS = "rg-prober"
TARGET = "198.19.0.1"  # h1, lab/topology.json
STAMP = re.compile(r"^(\d+) +(\d+\.\d+) (\w+)\(")


def strace_times(argv):
    """(execve of argv[0], first sendto, exit_group) timestamps in seconds."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as log:
        cmd = ["ip", "netns", "exec", NETNS, "strace", "--seccomp-bpf", "-f", "-ttt",
               "-e", "trace=execve,sendto,exit_group", "-o", log.name, *argv]
        p = subprocess.run(cmd, capture_output=True, timeout=120,
                           env={**os.environ, "ROUTEGRAPH_LAB_ONLY": "1"})
        if p.returncode not in (0, 3):
            sys.exit(f"startup: {' '.join(argv)} failed ({p.returncode}): {p.stderr.decode()}")
        first = {}
        for line in log:
            m = STAMP.match(line)
            if m and m.group(3) not in first:
                first[m.group(3)] = float(m.group(2))
    return first.get("execve"), first.get("sendto"), first.get("exit_group")


def measure(argv, runs, what):
    ms = []
    for _ in range(runs):
        ex, send, end = strace_times(argv)
        stop = send if what == "probe" else end
        if ex is None or stop is None:
            sys.exit(f"startup: no execve/{what} in the trace of {' '.join(argv)}")
        ms.append((stop - ex) * 1000)
    ms.sort()
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.9))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routegraph", default=os.path.join(ROOT, "build", "routegraph"))
    ap.add_argument("--runs", type=int, default=30)
    a = ap.parse_args()
    rg = os.path.abspath(a.routegraph)
    started = False
    if not subprocess.run([LAB, "status"], capture_output=True, text=True).stdout.startswith("up"):
        if subprocess.run([LAB, "up"]).returncode != 0:
            sys.exit("startup: lab/lab up failed")
        started = True
    try:
        cases = [
            ("trace, AS + country data", [rg, "-n", "-q", "--format", "json", "-p", "80", TARGET],
             "probe"),
            ("trace, no database", [rg, "-n", "-q", "--format", "json", "-p", "80",
                                    "--asn-source", "none", TARGET], "probe"),
            ("lookup, AS + country data", [rg, "lookup", "-n", "8.8.8.8", TARGET], "exit"),
            ("lookup, no database", [rg, "lookup", "-n", "--asn-source", "none", "8.8.8.8",
                                     TARGET], "exit"),
        ]
        print(f"routegraph {rg}, {a.runs} runs each (median, 90th percentile)")
        for name, argv, what in cases:
            med, p90 = measure(argv, a.runs, what)
            print(f"  {name:28} exec to {'first probe' if what == 'probe' else 'exit':11} "
                  f"{med:6.1f} ms  (p90 {p90:.1f} ms)")
    finally:
        if started:
            subprocess.run([LAB, "down"])


if __name__ == "__main__":
    main()
