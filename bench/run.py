#!/usr/bin/env python3
"""routegraph speed benchmark: routegraph and peer tracers side by side in the lab.

    sudo bench/run.py [--sizes 1,64,1024] [--repeat 3] [--tools LIST] [--throttle [ROUTER|all]]
                      [--rg-default [--rg-extra ARGS]]

Every tool traces the same targets on ports 80 and 443 from inside rg-prober.
Per tool and size it reports wall time, probes sent and packets received
(counted by nft counters in router r1, not by the tool), peak memory (GNU time)
and accuracy against lab/topology.json, plus each figure's ratio to the floor.
Nothing is installed here: missing tools are skipped with the command that
installs them (scripts/install-bench-deps.sh installs all). See bench/README.md.
The code is the package bench/rgbench/ (one module per job; see its __init__).

Internal sub-commands (run by the benchmark itself):
    run.py worker SPEC.json        runs one tool's invocations inside rg-prober
    run.py scapy-trace TARGETS W   scapy's traceroute(), under Debian's python3
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rgbench.cli import main  # noqa: E402 - after the path is set

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
