#!/usr/bin/env python3
"""routegraph at scale: 1k to 64k targets x ports 80,443 in the lab's wide
target networks (lab/topology.json: h1-wide, h2-wide, h3-wide).

    sudo bench/scale.py [--sizes 1024,4096,16384,65536] [--rate 50000]
                        [--formats jsonl,json] [--tools routegraph,scamper]
                        [--report FILE.md] [--plot FILE.png] [--lock FILE]

Per size and tool: wall, peak RSS (GNU time), probes and answers (nft
counters in r1), answers dropped on a full socket queue (/proc/net/raw in the
prober) and every hop and port state against the topology. The code is
bench/rgbench/scale.py; see bench/README.md.

Internal sub-command:
    scale.py drops OUT STOP   samples the raw sockets' drops inside rg-prober
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rgbench.scale import main  # noqa: E402 - after the path is set

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
