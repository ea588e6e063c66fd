"""lab/lab's command line and its pure rule builders: every command line the
tests, the benchmark and the docs use parses; bad ones are refused; an
impairment scoped to addresses matches exactly them. No lab, no root."""
import contextlib
import io
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from rglab import cli, impair, rules, switch, topology  # noqa: E402 - after the path is set
from rglab.system import LabError  # noqa: E402

TOPO = topology.load()


def parse(*argv):
    return cli.parser().parse_args(list(argv))


def refused(*argv):
    with contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            cli.parser().parse_args(list(argv))
        except SystemExit as e:
            return e.code, err.getvalue()
    return None, ""


class CommandLine(unittest.TestCase):
    def test_up_options(self):
        a = parse("up")
        self.assertEqual((a.icmp_limits, a.delays), ("off", "off"))
        a = parse("up", "--icmp-limits", "default", "--delays", "on")
        self.assertEqual((a.icmp_limits, a.delays), ("default", "on"))
        a = parse("up", "--delays=on")
        self.assertEqual(a.delays, "on")

    def test_commands_the_tests_and_bench_use(self):
        for argv in (["down"], ["status"], ["counters"], ["counters", "reset"],
                     ["dns", "stop"], ["dns", "start"], ["dns", "status"],
                     ["impair", "loss", "30", "L1", "198.19.0.5", "2001:db8:310::5"],
                     ["impair", "loss", "100", "r4"], ["impair", "nat", "r2", "198.19.32.4"],
                     ["impair", "snat", "r2"], ["impair", "ratelimit", "r6"],
                     ["impair", "synack-once", "r1", "198.19.0.9"],
                     ["impair", "remove", "ratelimit", "r4"], ["impair", "clear"],
                     ["impair", "status"], ["generate", "--check"], ["switch", "hsw"],
                     ["switch", "hsw", "r6"], ["impair", "portmap", "mb1", "198.18.15.5"],
                     ["impair", "sportmap", "r2", "198.18.15.6", "2001:db8:1d0::6"],
                     ["impair", "seqshift", "mb1", "198.18.15.7"],
                     ["impair", "dnat", "mb1", "198.18.15.8", "198.18.15.9"],
                     ["impair", "remove", "seqshift", "mb1"]):
            self.assertEqual(parse(*argv).cmd, argv[0], argv)

    def test_bad_command_lines_are_refused_with_one_line(self):
        for argv in (["up", "--delays", "maybe"], ["up", "--icmp-limits", "some"],
                     ["dns", "pause"], ["impair", "synack-once", "r1"],
                     ["impair", "remove", "delay", "L1"], ["frobnicate"], [],
                     ["switch"], ["switch", "hsw", "r6", "r5"], ["impair", "portmap", "mb1"],
                     ["impair", "dnat", "mb1", "198.18.15.8"]):
            code, err = refused(*argv)
            self.assertEqual(code, 2, argv)
            self.assertIn("error:", err, argv)

    def test_help_names_every_command(self):
        text = cli.parser().format_help()
        for c in ("up", "down", "status", "exec", "counters", "dns", "impair", "switch",
                  "generate"):
            self.assertIn(f"    {c} ", text)


class Switch(unittest.TestCase):
    def test_unknown_target_or_state_is_one_clear_error(self):
        with self.assertRaisesRegex(LabError, r"^no switchable target 'h1' \(there are: hsw\)$"):
            switch.apply(TOPO, "h1", "r5")
        with self.assertRaisesRegex(LabError, r"^switch hsw: no state 'r7' \(states: r5, r5b, r6\)$"):
            switch.apply(TOPO, "hsw", "r7")

    def test_states_are_next_hops_of_the_router(self):
        switch.check(TOPO)
        sw = TOPO.doc["targets"][[t["name"] for t in TOPO.targets].index("hsw")]["switch"]
        self.assertEqual((sw["router"], sw["default"]), ("r4", "r5"))
        self.assertEqual({k: v["next_hop"] for k, v in sw["states"].items()},
                         {"r5": "r5", "r5b": "r5b", "r6": "r6"})


class ImpairRules(unittest.TestCase):
    def test_targets_must_be_lab_addresses(self):
        for bad in ("192.0.2.1", "10.0.0.1", "2001:db9::1", "198.19.0.x"):
            with self.assertRaises(LabError):
                impair.Targets([bad])

    def test_scoped_sets_hold_the_addresses_and_their_raw_numbers(self):
        t = impair.Targets(["198.19.0.5", "2001:db8:310::5"])
        sets = t.sets()
        self.assertIn("set t4 { type ipv4_addr; elements = { 198.19.0.5 }; }", sets)
        self.assertIn("elements = { 0xc6130005 }", sets)
        self.assertIn("elements = { 0x20010db8031000000000000000000005 }", sets)
        self.assertIn("ip daddr @t4 goto lose", t.pick("lose"))
        self.assertEqual(impair.Targets([]).pick("lose"), "        goto lose")

    def test_loss_of_100_drops_everything_it_picks(self):
        r = impair._loss_ruleset("t", 100, "prerouting", "x", impair.Targets([]), "c")
        self.assertIn('        counter name "dropped" drop', r)
        self.assertNotIn("numgen", r)
        r = impair._loss_ruleset("t", 30, "prerouting", "x", impair.Targets([]), "c")
        self.assertIn("numgen random mod 100 < 30 counter", r)


    def test_rewrites_change_the_way_out_and_undo_it_on_the_way_back(self):
        both = impair.Targets(["198.18.15.5", "2001:db8:1d0::5"])
        out, back = impair._rewrite_rules("portmap", both, None)
        self.assertIn('ip daddr @t4 tcp dport 8080 counter name "rewritten" tcp dport set 80', out)
        self.assertIn('ip6 saddr @t6 tcp sport 80 counter name "rewritten" tcp sport set 8080',
                      back)
        out, back = impair._rewrite_rules("seqshift", both, None)
        self.assertIn("tcp sequence set tcp sequence ^ 0x80000000", out)
        self.assertIn("tcp ackseq set tcp ackseq ^ 0x80000000", back)
        out, back = impair._rewrite_rules("sportmap", both, None)
        self.assertIn("tcp sport set tcp sport ^ 0x4000", out)
        self.assertIn("tcp dport set tcp dport ^ 0x4000", back)
        out, back = impair._rewrite_rules("dnat", impair.Targets(["198.18.15.8"]), "198.18.15.9")
        self.assertEqual(out.split(), 'ip daddr 198.18.15.8 meta l4proto tcp counter name '
                         '"rewritten" ip daddr set 198.18.15.9'.split())
        self.assertEqual(back.split(), 'ip saddr 198.18.15.9 meta l4proto tcp counter name '
                         '"rewritten" ip saddr set 198.18.15.8'.split())
        # ICMP errors are never touched: the quotes stay rewritten.
        for kind in ("portmap", "sportmap", "seqshift"):
            self.assertNotIn("icmp", "".join(impair._rewrite_rules(kind, both, None)))


class PlainRules(unittest.TestCase):
    def test_prober_lets_out_only_the_safe_ranges(self):
        r = rules.prober(TOPO, "rg_lab")
        self.assertIn("ip daddr { 198.18.0.0/15, 203.0.113.0/24, 192.0.2.0/24, 198.51.100.0/24 } "
                      'counter name "probes_out" accept', r)
        self.assertIn('counter name "blocked_out" drop', r)
        self.assertIn("policy drop;", r)

    def test_special_targets_from_topology(self):
        by_kind = {sp["kind"]: rules.special("rg_lab", sp, TOPO.listen_port())
                   for sp in TOPO.special_targets}
        self.assertIn("dnat ip to 198.19.3.250:80", by_kind["all-open"])
        self.assertIn("ip saddr set 198.19.35.252", by_kind["rst-elsewhere"])

    def test_flow_hash_marks_each_next_hop_from_the_transport_header(self):
        """ic0 and ic2 hash the addresses and the transport header's first
        four bytes (an ICMP echo's checksum among them) into marks 1..n,
        one per next hop of ecmp_via, only on what comes from upstream."""
        self.assertEqual(sorted(TOPO.flow_hash), ["ic0", "ic2"])
        self.assertEqual(TOPO.upstream_peers("ic2"), ["ic1a", "ic1b", "ic1c"])
        r = rules.flow_hash("rg_lab", ["ic1a", "ic1b", "ic1c"], ["ic3a", "ic3b"], "0x5eed0c02")
        for fam, addrs in (("ipv4", "ip saddr . ip daddr"), ("ipv6", "ip6 saddr . ip6 daddr")):
            self.assertIn(f'iifname {{ "to-ic1a", "to-ic1b", "to-ic1c" }} meta nfproto {fam} '
                          f"meta mark set jhash {addrs} . @th,0,32 mod 2 seed 0x5eed0c02 offset 1",
                          r)
        self.assertIn('meta mark 1 counter name "flow_to_ic3a"', r)
        self.assertIn('meta mark 2 counter name "flow_to_ic3b"', r)
        self.assertIn("hook prerouting priority mangle;", r)

    def test_flow_hash_needs_its_multipath_default(self):
        doc = dict(TOPO.doc, routers=[dict(r, ecmp_via=r["ecmp_via"][:1]) if r["name"] == "ic2"
                                      else r for r in TOPO.doc["routers"]])
        with self.assertRaisesRegex(topology.TopologyError, "router ic2: flow_hash needs"):
            topology.Topology(doc)


if __name__ == "__main__":
    unittest.main()
