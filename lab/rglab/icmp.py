"""The lab's modes (--icmp-limits, --delays) and the ICMP rate-limit
settings each mode gives routers and hosts.

"--icmp-limits default" means what this kernel gives a new namespace, so it
is read from one (the prober's, before anything is set) at `up` rather than
written down: KEY=VALUE lines in the state dir.
"""
import os

from . import system

RATEMASK6 = "/proc/sys/net/ipv6/icmp/ratemask"


def mode_text(icmp, delays):
    return f"icmp-limits={icmp} delays={delays}"


def read_mode():
    """(icmp, delays) of the lab that is up; plain when unknown."""
    words = system.read_first(system.state("mode")).split()
    icmp = words[0].removeprefix("icmp-limits=") if words else ""
    delays = words[1].removeprefix("delays=") if len(words) > 1 else ""
    return ("default" if icmp == "default" else "off", "on" if delays == "on" else "off")


def write_mode(icmp, delays):
    system.write(system.state("mode"), mode_text(icmp, delays) + "\n")


def _have_ratemask6():
    # Older kernels lack it (their namespaces share the key with the host).
    return os.path.exists(RATEMASK6)


def _filtered(settings):
    if _have_ratemask6():
        return settings
    return {k: v for k, v in settings.items() if k != "net.ipv6.icmp.ratemask"}


def lab_off(topo):
    """No ICMP rate limit at all. The empty IPv6 mask makes ICMPv6 errors
    skip the per-namespace budget (icmp_msgs_per_sec) too, which IPv4 skips
    through icmp_ratemask=0."""
    return _filtered(topo.icmp_off())


def linux(topo):
    """A stock Linux router's limits (impair ratelimit)."""
    return _filtered(topo.icmp_linux())


def record_defaults(topo, ns):
    keys = [k for k in topo.icmp_default_keys() if k != "net.ipv6.icmp.ratemask" or _have_ratemask6()]
    vals = system.sysctl_read(ns, keys)
    if len(vals) != len(keys):
        raise system.LabError("could not read the ICMP defaults of a new namespace")
    system.write(system.state("icmp-defaults"), "".join(f"{k}={v}\n" for k, v in zip(keys, vals)))


def base(topo):
    """What every router and host has in the current mode."""
    if read_mode()[0] != "default":
        return lab_off(topo)
    path = system.state("icmp-defaults")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        raise system.LabError(f"no {path}: lab up again") from None
    return dict(l.split("=", 1) for l in lines if "=" in l)


def apply_base(topo):
    b = base(topo)
    for n in topo.routers + topo.hosts:
        system.sysctl(topo.ns(n), b)


def rate_limited(topo, node, b):
    """True when node's ICMP limits are not those of the mode (b): impair
    ratelimit changed them."""
    return system.sysctl_read(topo.ns(node), list(b)) != [v.strip() for v in b.values()]
