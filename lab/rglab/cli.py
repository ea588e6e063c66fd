"""lab/lab's command line: argparse defines every command once, so the
usage text (lab/lab --help, lab/lab COMMAND --help) is generated, not kept
by hand."""
import argparse
import glob
import os
import shutil
import sys

from . import build, derived, switch, system, topology
from .icmp import mode_text, read_mode
from .impair import Impair
from .system import LabError, log

DESCRIPTION = """\
routegraph lab: a small routed network of network namespaces to trace
through, built from lab/topology.json (see lab/README.md). Every command
but status, generate and --help needs root."""

EPILOG = """\
examples:
  lab/lab up
  lab/lab up --delays on --icmp-limits default
  lab/lab exec traceroute -n -T -p 80 -q 1 --sport=1001 198.19.0.5
  lab/lab impair loss 30 L1 198.19.0.5
  lab/lab switch hsw r6
  lab/lab down"""


def parser():
    p = argparse.ArgumentParser(prog="lab/lab", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", required=True)

    up = sub.add_parser("up", help="build the lab (idempotent; rebuilds a partial or outdated one)",
                        description="Build the lab. On a lab that is up: set the ICMP limits asked "
                        "for, remove every impairment, let a silenced DNS server answer; other "
                        "delays rebuild it. Both options are off unless given.")
    up.add_argument("--icmp-limits", choices=("default", "off"), default="off",
                    help="default: routers and hosts keep the kernel's own ICMP rate limits; "
                    "off: none, every probe answered (default: off)")
    up.add_argument("--delays", choices=("on", "off"), default="off",
                    help="on: every link but the DNS server's gets its fixed one-way delay "
                    "(rg-lab-delay relays), RTTs up to 40 ms (default: off)")
    sub.add_parser("down", help="remove everything lab up created (fine when nothing is up)")
    sub.add_parser("status", help='print up/down/partial/outdated, and when up the mode '
                   '("up icmp-limits=off delays=off"); exit 0 only when up')
    ex = sub.add_parser("exec", help="run CMD in the prober namespace; exits with CMD's status")
    ex.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD [ARGS...]")
    co = sub.add_parser("counters", help="print (or zero) the prober's nft packet counters")
    co.add_argument("action", nargs="?", choices=("reset",))
    dn = sub.add_parser("dns", help="silence the lab's DNS server (stop: queries dropped), let it "
                        "answer (start), or print serving|silent|stopped (status)")
    dn.add_argument("action", choices=("stop", "start", "status"))
    _impair_parser(sub)
    sw = sub.add_parser("switch", help="move a switchable target network's route to the next "
                        "hop of STATE (ip route replace), or print the state in place",
                        description="Targets with a 'switch' in lab/topology.json have a router "
                        "whose next hop for their network can be changed while the lab is up: "
                        "STATE names the next hop (for hsw at r4: r5 the default, r5b a route "
                        "change within the same AS path, r6 an AS-path change). Without STATE: "
                        "print the state in place. lab/lab up on a lab that is up puts every "
                        "switch back to its default.")
    sw.add_argument("name", metavar="NAME")
    sw.add_argument("state", nargs="?", metavar="STATE")
    ge = sub.add_parser("generate", help="rewrite lab/asn.csv and lab/README.md's tables from "
                        "lab/topology.json (--check: only say whether they agree)")
    ge.add_argument("--check", action="store_true")
    return p


def _impair_parser(sub):
    im = sub.add_parser("impair", help="packet loss, NAT, ICMP rate limits, a lost first SYN-ACK "
                        "(lab/lab impair --help)")
    isub = im.add_subparsers(dest="kind", metavar="KIND", required=True)
    lo = isub.add_parser("loss", help="drop PCT%% (nft numgen random) of the packets crossing LINK "
                         "(both directions) or arriving at ROUTER; with ADDRs only the traffic "
                         "of traces to those target addresses")
    lo.add_argument("pct", metavar="PCT")
    lo.add_argument("where", metavar="LINK|ROUTER")
    lo.add_argument("addrs", nargs="*", metavar="ADDR")
    na = isub.add_parser("nat", help="masquerade what ROUTER forwards away from the prober")
    na.add_argument("router", metavar="ROUTER")
    na.add_argument("addrs", nargs="*", metavar="ADDR")
    sn = isub.add_parser("snat", help="the same as a stateless rewrite that leaves the headers "
                         "quoted in ICMP errors as they were on the way out")
    sn.add_argument("router", metavar="ROUTER")
    sn.add_argument("addrs", nargs="*", metavar="ADDR")
    for kind, what in (("portmap", "destination port 8080 becomes 80"),
                       ("sportmap", "source port XOR 0x4000"),
                       ("seqshift", "sequence number + 2^31 (XOR 0x80000000)")):
        rw = isub.add_parser(kind, help=f"stateless: TCP to ADDR leaving ROUTER away from the "
                             f"prober gets its {what}, answers are given theirs back, ICMP "
                             f"errors still quote it")
        rw.add_argument("router", metavar="ROUTER")
        rw.add_argument("addrs", nargs="+", metavar="ADDR")
    dn = isub.add_parser("dnat", help="stateless: TCP to ADDR leaving ROUTER away from the prober "
                         "goes to NEWADDR, whose answers come back from ADDR; ICMP errors still "
                         "quote NEWADDR")
    dn.add_argument("router", metavar="ROUTER")
    dn.add_argument("addrs", nargs=1, metavar="ADDR")
    dn.add_argument("to", metavar="NEWADDR")
    ra = isub.add_parser("ratelimit", help="give ROUTER a stock Linux router's ICMP rate limits")
    ra.add_argument("router", metavar="ROUTER")
    sy = isub.add_parser("synack-once", help="ROUTER drops the first SYN-ACK each ADDR sends on "
                         "each connection")
    sy.add_argument("router", metavar="ROUTER")
    sy.add_argument("addrs", nargs="+", metavar="ADDR")
    rm = isub.add_parser("remove", help="undo one impairment")
    rm.add_argument("what", choices=("loss", "nat", "snat", "portmap", "sportmap", "seqshift",
                                      "dnat", "ratelimit", "synack-once"))
    rm.add_argument("where", metavar="LINK|ROUTER")
    isub.add_parser("clear", help="undo every impairment (lab up does too)")
    isub.add_parser("status", help='print the impairments in place, or "none"')


def code_files():
    """What a lab's version stamp covers: the program and the topology."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(topology.LAB_DIR, "lab"), topology.TOPOLOGY_PATH,
            *glob.glob(os.path.join(here, "*.py"))]


def require_root():
    if os.geteuid() != 0:
        raise LabError("must run as root")
    for tool in ("ip", "nft", "sysctl"):
        if not shutil.which(tool):
            raise LabError(f"missing tool: {tool} (Debian packages iproute2, nftables, procps)")


def main(argv):
    # exec hands everything after it to the command, options included.
    if argv[:1] == ["exec"]:
        return cmd_exec(argv[1:])
    if argv[:1] == ["help"]:
        argv = ["--help"]
    a = parser().parse_args(argv)
    topo = topology.load()
    lab = build.Lab(topo, code_files(), os.path.dirname(topology.LAB_DIR))
    try:
        switch.check(topo)
        if a.cmd == "status":
            return cmd_status(lab)
        if a.cmd == "generate":
            return derived.main(topo, a.check)
        require_root()
        return COMMANDS[a.cmd](lab, a)
    except LabError as e:
        log(str(e))
        return 1


def cmd_status(lab):
    st = lab.lab_state()
    if st == "up" or st.startswith("outdated"):
        print(f"{st} {mode_text(*read_mode())}")
    else:
        print(st)
    return 0 if st == "up" else 1


def cmd_exec(argv):
    if not argv:
        log("usage: lab exec CMD [ARGS...]")
        return 2
    prober = topology.load().prober["netns"]
    if not system.ns_exists(prober):
        log(f"lab is not up (no {prober})")
        return 1
    os.execvp("ip", ["ip", "netns", "exec", prober, *argv])
    return 1  # not reached


def cmd_up(lab, a):
    impair = Impair(lab.topo)
    with system.Lock(os.path.join(topology.LAB_DIR, "lab")):
        lab.up(a.icmp_limits, a.delays, impair.clear)
    return 0


def cmd_down(lab, a):
    with system.Lock(os.path.join(topology.LAB_DIR, "lab")):
        lab.teardown()
    log("down")
    return 0


def _prober_up(lab):
    ns = lab.topo.prober["netns"]
    if not system.ns_exists(ns):
        raise LabError(f"lab is not up (no {ns})")
    return ns


def cmd_counters(lab, a):
    ns = _prober_up(lab)
    if a.action == "reset":
        system.nsrun(ns, ["nft", "reset", "counters", "table", "inet", lab.table])
        return 0
    out = system.nsrun(ns, ["nft", "list", "counters", "table", "inet", lab.table]).stdout
    name = None
    for line in out.splitlines():
        w = line.split()
        if w[:1] == ["counter"] and len(w) > 1:
            name = w[1]
        elif w[:1] == ["packets"] and len(w) > 1 and name:
            print(f"{name} {w[1]}")
    return 0


def cmd_dns(lab, a):
    ns = lab.topo.ns(lab.topo.dns_node)
    if not system.ns_exists(ns):
        raise LabError(f"lab is not up (no {ns})")
    if a.action == "stop":
        lab.dns_silence()
        log("DNS server silenced: queries are dropped")
    elif a.action == "start":
        lab.dns_unsilence()
        log("DNS server answering")
    elif not system.is_nsd(system.pid_from(system.state("dns.pid"))):
        print("stopped")
    else:
        print("silent" if lab.dns_silent() else "serving")
    return 0


def cmd_impair(lab, a):
    _prober_up(lab)
    im = Impair(lab.topo)
    if a.kind == "status":
        print("\n".join(im.status()))
        return 0
    # Not while up or down rebuilds the namespaces.
    with system.Lock(os.path.join(topology.LAB_DIR, "lab")):
        if a.kind == "loss":
            im.loss(a.pct, a.where, a.addrs)
        elif a.kind == "nat":
            im.nat(a.router, a.addrs)
        elif a.kind == "snat":
            im.snat(a.router, a.addrs)
        elif a.kind in ("portmap", "sportmap", "seqshift", "dnat"):
            im.rewrite(a.kind, a.router, a.addrs, getattr(a, "to", None))
        elif a.kind == "ratelimit":
            im.ratelimit(a.router)
        elif a.kind == "synack-once":
            im.synack_once(a.router, a.addrs)
        elif a.kind == "remove":
            im.remove(a.what, a.where)
        else:
            removed = im.clear()
            log(f"impairments removed: {', '.join(removed) or 'none'}")
    return 0


def cmd_switch(lab, a):
    if a.state is None:
        print(switch.current(lab.topo, a.name))
        return 0
    with system.Lock(os.path.join(topology.LAB_DIR, "lab")):
        switch.apply(lab.topo, a.name, a.state)
    log(f"switch {a.name}: {a.state}")
    return 0


COMMANDS = {"up": cmd_up, "down": cmd_down, "counters": cmd_counters, "dns": cmd_dns,
            "impair": cmd_impair, "switch": cmd_switch}


def run():
    try:
        sys.exit(main(sys.argv[1:]))
    except (LabError, topology.TopologyError) as e:
        log(str(e))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)

