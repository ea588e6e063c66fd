"""bench/rgbench/scale.py's pure parts: the targets it deals over the lab's
wide networks, parsing a routegraph stream, and the report's table. No lab,
no root."""
import ipaddress
import json
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from rgbench import common, scale, scoring, truth  # noqa: E402 - after the path is set

TRUTH = truth.Truth(common.TOPO)
WIDE = {t["name"]: ipaddress.ip_network(t["v4_prefix"]) for t in common.TOPO["targets"]
        if "wide" in t}


class Targets(unittest.TestCase):
    def test_65536_targets_use_every_wide_address_once(self):
        got = scale.wide_targets(65536)
        self.assertEqual(len(set(got)), 65536)
        per = {n: sum(1 for a in got if ipaddress.ip_address(a) in net)
               for n, net in WIDE.items()}
        self.assertEqual(per, {n: net.num_addresses for n, net in WIDE.items()})

    def test_every_size_keeps_the_shares(self):
        got = scale.wide_targets(1024)
        per = {n: sum(1 for a in got if ipaddress.ip_address(a) in net)
               for n, net in WIDE.items()}
        self.assertEqual(per, {"h1-wide": 512, "h2-wide": 256, "h3-wide": 256})
        self.assertEqual(got[:4], ["198.19.128.0", "198.19.64.0", "198.19.128.1", "198.18.192.0"])

    def test_targets_have_the_ground_truth_of_their_host(self):
        for a in scale.wide_targets(8):
            t = TRUTH.net_of(a)
            self.assertIn(t["name"], WIDE)
            self.assertEqual(t["branches"], TRUTH.nets[t["host"]]["branches"])

    def test_wide_routes_are_one_per_network_and_family(self):
        self.assertEqual(len(scale.wide_routes()), 2 * len(WIDE))


class Parse(unittest.TestCase):
    def test_a_stream_scores_like_the_ground_truth(self):
        a = "198.19.64.9"  # h2-wide: ECMP, silent r6, filtered 443
        t = TRUTH.net_of(a)
        lines = [{"schema": "routegraph-jsonl/1", "type": "run"}]
        for port in common.PORTS:
            hops = [{"ttl": i + 1, "probes": [{"reply": {"from": h} if h else None}]}
                    for i, h in enumerate(t["branches"]["4"][0])]
            state = t["ports"][str(port)]
            hops.append({"ttl": t["distance"],
                         "probes": [{"reply": {"from": a} if state != "filtered" else None}]})
            lines.append({"type": "trace", "address": a, "port": port, "state": state,
                          "hops": hops})
        lines.append({"type": "end", "stats": {"probes_sent": 16}})
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("".join(json.dumps(x) + "\n" for x in lines))
        try:
            traces, stats = scale.parse_rg(f.name, "jsonl")
        finally:
            os.unlink(f.name)
        self.assertEqual(stats, {"probes_sent": 16})
        acc = scoring.score(TRUTH, traces, [a], 4)
        self.assertEqual((acc["hops_right"], acc["hops"]), (14, 14))
        self.assertEqual((acc["ports_right"], acc["ports"]), (2, 2))


class Report(unittest.TestCase):
    def test_table_row(self):
        m = {"size": 1024, "tool": "routegraph", "format": "jsonl", "wall": 3.0,
             "timed_out": False, "rss_kb": 20480, "probes": 9000, "answers_to_prober": 8000,
             "raw_drops": 0, "accuracy": {"hops_right": 10, "hops": 10, "ports_right": 2,
                                          "ports": 2, "missing": 0}}
        text = scale.table(None, [m], {1024: {"wall": 2.0}})
        self.assertIn("| 1024 | 2048 | routegraph | jsonl | 3.00 | 1.50 | 20.0 | 9000 | 8000 "
                      "| 0 | 10/10 hops, 2/2 ports |", text)


if __name__ == "__main__":
    unittest.main()
