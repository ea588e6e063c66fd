"""The lab's ground truth for the benchmark: target addresses per size, the
target network of an address, and the floor (the fewest probes and the
shortest wall time any tracer could need)."""
import ipaddress

from .common import HOST_BASE, NET_ORDER, PORTS, RG_GIVE_UP_MIN, norm


# ---------------------------------------------------------------------------
# Ground truth, targets and the floor
# ---------------------------------------------------------------------------

class Truth:
    def __init__(self, topo):
        self.nets = {t["name"]: t for t in topo["targets"]}
        self.router_of = {norm(a): r["name"] for r in topo["routers"]
                          for fam in ("4", "6") for a in r["addresses"][fam]}
        self._nets = [(ipaddress.ip_network(t["v4_prefix"]), t) for t in topo["targets"]]
        self._nets += [(ipaddress.ip_network(t["v6_prefix"]), t) for t in topo["targets"]]

    def net_of(self, addr):
        a = ipaddress.ip_address(addr)
        for net, t in self._nets:
            if a.version == net.version and a in net:
                return t
        raise ValueError(f"{addr} is in no lab target network")

    def targets(self, size, family):
        key = "v4_prefix" if family == 4 else "v6_prefix"
        out = []
        for i in range(size):
            net = ipaddress.ip_network(self.nets[NET_ORDER[i % 3]][key])
            out.append(str(net[HOST_BASE + i // 3]))
        return out

    def floor_probes(self, addr, port, retries):
        """One probe per hop up to the destination, plus `retries` for every
        silent TTL at or below it (a silent router, and the destination TTL of
        a filtered port, whose distance the other port of the same address
        gives away)."""
        t = self.net_of(addr)
        silent = sum(1 for h in t["branches"]["4"][0] if h is None)
        if t["ports"][str(port)] == "filtered":
            silent += 1
        return t["distance"] + retries * silent

    def needs_timeout(self, addr, port):
        t = self.net_of(addr)
        return (t["ports"][str(port)] == "filtered"
                or any(h is None for h in t["branches"]["4"][0]))


def floor_for(truth, targets, retries, timeout, rate):
    probes = sum(truth.floor_probes(a, p, retries) for a in targets for p in PORTS)
    # A silent TTL is known silent only once its last attempt timed out, and a
    # retry goes only after the attempt before it timed out: (1 + retries) x
    # timeout in a row, however fast the rest goes.
    chain = (1 + retries) * timeout if any(truth.needs_timeout(a, p)
                                           for a in targets for p in PORTS) else 0.0
    give_up = min(timeout, RG_GIVE_UP_MIN)
    return {"probes": probes, "wall": max(probes / rate, chain),
            "rate_bound": probes / rate, "timeout_chain": chain,
            "wall_adaptive": max(probes / rate, chain / timeout * give_up if timeout else 0)}
