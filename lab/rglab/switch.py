"""lab/lab switch: a target network whose next hop at one router can be
changed while the lab is up (targets[].switch in topology.json), so route
and AS-path changes can be made between the rounds of a watch.

A state names the router's next hop for the network; switching replaces
the route with `ip route replace` (one atomic change per family: a packet
takes the old route or the new one, never none). The state in place is
read back from the route itself, so no file can disagree with it.
"""
from . import system
from .system import LabError


def switchable(topo):
    """{target name: target} of the targets that have a switch."""
    return {t["name"]: t for t in topo.targets if "switch" in t}


def _target(topo, name):
    sw = switchable(topo)
    if name not in sw:
        raise LabError(f"no switchable target {name!r} (there are: {', '.join(sorted(sw)) or 'none'})")
    return sw[name]


def check(topo):
    """Every state's next hop is a neighbour of the switch's router."""
    for t in switchable(topo).values():
        sw = t["switch"]
        if sw["default"] not in sw["states"]:
            raise LabError(f"targets.{t['name']}.switch: default {sw['default']} is no state")
        for state, s in sw["states"].items():
            topo.link_between(sw["router"], s["next_hop"])


def apply(topo, name, state):
    """Puts the network's route at the switch's router on state's next hop."""
    t = _target(topo, name)
    sw = t["switch"]
    if state not in sw["states"]:
        raise LabError(f"switch {name}: no state {state!r} (states: {', '.join(sw['states'])})")
    router, hop = sw["router"], sw["states"][state]["next_hop"]
    ns = topo.ns(router)
    if not system.ns_exists(ns):
        raise LabError(f"lab is not up (no {ns})")
    link = topo.link_between(router, hop)
    for fam in (4, 6):
        system.run(["ip", "-n", ns, f"-{fam}", "route", "replace", t[f"v{fam}_prefix"],
                    "via", link.addr(hop, fam), "dev", f"to-{hop}"])


def current(topo, name):
    """The state in place: the state whose next hop both families' routes
    use, or 'mixed' / 'none' when they do not agree with one."""
    t = _target(topo, name)
    sw = t["switch"]
    ns = topo.ns(sw["router"])
    if not system.ns_exists(ns):
        raise LabError(f"lab is not up (no {ns})")
    devs = set()
    for fam in (4, 6):
        out = system.run(["ip", "-n", ns, f"-{fam}", "route", "show", "exact",
                          t[f"v{fam}_prefix"]]).stdout.split()
        devs.add(out[out.index("dev") + 1] if "dev" in out else None)
    if None in devs:
        return "none"
    if len(devs) != 1:
        return "mixed"
    hop = devs.pop()[len("to-"):]
    return next((s for s, v in sw["states"].items() if v["next_hop"] == hop), "mixed")


def reset(topo):
    """Every switch back to its default; the names of those that were not."""
    moved = []
    for name, t in switchable(topo).items():
        if current(topo, name) != t["switch"]["default"]:
            apply(topo, name, t["switch"]["default"])
            moved.append(name)
    return moved
