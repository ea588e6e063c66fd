"""bench/rgbench's pure parts against lab/topology.json: the lab names the
benchmark uses come from the topology, targets fall in the target networks,
and scoring gives a trace of the ground truth full marks and a trace off it
none. No lab, no root."""
import ipaddress
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from rgbench import common, scoring, truth  # noqa: E402 - after the path is set

TRUTH = truth.Truth(common.TOPO)


def perfect(addr, port, family, branch=0):
    """A trace that saw exactly the ground truth's branch."""
    t = TRUTH.net_of(addr)
    tr = scoring.new_trace()
    branches = t["branches"][str(family)]
    for i, hop in enumerate(branches[branch % len(branches)]):
        scoring.add_hop(tr, i + 1, hop)
    state = t["ports"][str(port)]
    if state != "filtered":
        scoring.add_hop(tr, t["distance"], addr)
    tr["state"] = state
    return tr


class Names(unittest.TestCase):
    def test_lab_names_come_from_topology(self):
        self.assertEqual(common.PROBER_NS, "rg-prober")
        self.assertEqual((common.COUNT_NS, common.COUNT_IF), ("rg-r1", "to-prober"))
        self.assertEqual(common.ROUTERS[:9],
                         ("r1", "r2", "r3a", "r3b", "r4", "r5", "r6", "r7", "r5b"))
        self.assertIn("mp0", common.ROUTERS)  # the multipath lab's routers follow
        self.assertEqual((common.ICMP_BURST, common.ICMP_PER_S), (6, 1.0))


class Targets(unittest.TestCase):
    def test_targets_are_in_their_networks_and_distinct(self):
        for fam in (4, 6):
            got = TRUTH.targets(64, fam)
            self.assertEqual(len(set(got)), 64)
            for i, a in enumerate(got):
                net = TRUTH.nets[common.NET_ORDER[i % 3]][f"v{fam}_prefix"]
                self.assertIn(ipaddress.ip_address(a), ipaddress.ip_network(net))

    def test_floor_of_one_target(self):
        # h2: 7 hops, r6 silent, 443 filtered: 7 probes on 80 + 1 retry for
        # r6; 7 on 443 + 1 retry for r6 + 1 for the silent destination TTL.
        a = TRUTH.targets(1, 4)[0]
        f = truth.floor_for(TRUTH, [a], retries=1, timeout=1.0, rate=1000)
        self.assertEqual(f["probes"], 8 + 9)
        self.assertEqual(f["timeout_chain"], 2.0)


class Score(unittest.TestCase):
    def test_ground_truth_traces_score_full(self):
        for fam in (4, 6):
            ts = TRUTH.targets(6, fam)
            traces = {(scoring.norm(a), p): perfect(a, p, fam, branch=i % 2)
                      for i, a in enumerate(ts) for p in common.PORTS}
            r = scoring.score(TRUTH, traces, ts, fam)
            self.assertEqual((r["hops_right"], r["ports_right"], r["traces_right"]),
                             (r["hops"], r["ports"], r["traces"]))
            self.assertEqual(r["hops_wrong"], 0)

    def test_a_wrong_hop_is_counted_wrong(self):
        a = TRUTH.targets(1, 4)[0]
        traces = {(a, p): perfect(a, p, 4) for p in common.PORTS}
        traces[(a, 80)]["hops"][2] = ["198.18.49.2"]  # h2's last hop where r2 answers
        r = scoring.score(TRUTH, traces, [a], 4)
        self.assertEqual(r["hops_wrong"], 1)
        self.assertEqual(r["traces_right"], 1)
        self.assertEqual(r["wrong_hops"][0]["ttl"], 2)


if __name__ == "__main__":
    unittest.main()
