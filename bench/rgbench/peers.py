"""The tools: which are installed, their versions, and the command lines
one measurement runs."""
import os
import shlex
import shutil
import subprocess

from .common import DEBIAN_PY, PORTS, ROOT, RUN_PY, SCAMPER_MAX_PPS, SCAMPER_WINDOW, TOOLS, sh


# ---------------------------------------------------------------------------
# Tools: availability and invocations
# ---------------------------------------------------------------------------

def check_tools(wanted, rg_bin):
    ok, missing = [], {}
    for t in wanted:
        pkg = TOOLS[t][0]
        if t.startswith("routegraph"):
            if not (rg_bin and os.access(rg_bin, os.X_OK)):
                missing[t] = ("no routegraph binary: build it (meson setup build && ninja -C build)"
                              " or pass --routegraph PATH")
                continue
        elif t == "scapy":
            r = sh([DEBIAN_PY, "-c", "import scapy.all"], check=False) \
                if os.path.exists(DEBIAN_PY) else None
            if r is None or r.returncode != 0:
                missing[t] = f"apt-get install {pkg}   (or scripts/install-bench-deps.sh)"
                continue
        else:
            exe = {"traceroute": "traceroute", "traceroute16": "traceroute",
                   "tcptraceroute16": "tcptraceroute", "mtr16": "mtr",
                   "scamper": "scamper"}[t]
            path = shutil.which(exe) or shutil.which(exe, path="/usr/sbin:/usr/bin:/sbin:/bin")
            if not path:
                missing[t] = f"apt-get install {pkg}   (or scripts/install-bench-deps.sh)"
                continue
            if t.startswith("traceroute"):
                v = sh([path, "--version"], check=False)
                if "Modern traceroute" not in v.stdout + v.stderr:
                    missing[t] = (f"{path} is not Linux traceroute (-T needs Debian's "
                                  "'traceroute' package): apt-get install traceroute")
                    continue
        ok.append(t)
    return ok, missing


def tool_versions(rg_bin):
    def first(argv):
        try:
            r = sh(argv, check=False, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        txt = (r.stdout + r.stderr).strip().splitlines()
        return txt[0] if txt and not txt[0].startswith("Traceback") else None

    head = first(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = first(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "src"])
    rg = first([rg_bin, "--version"]) if rg_bin else None
    if rg and head:
        rg += f" ({rg_bin}, built from {head}" + (" + uncommitted changes in src/)" if dirty
                                                  else ")")
    return {
        "routegraph": rg,
        "scapy": first([DEBIAN_PY, "-c", "import scapy; print('scapy', scapy.VERSION)"]),
        "traceroute": first(["traceroute", "--version"]),
        "tcptraceroute": dpkg_version("tcptraceroute"),
        "mtr": first(["mtr", "--version"]),
        "scamper": first(["scamper", "-v"]),
        "GNU time": dpkg_version("time"),
    }


def dpkg_version(pkg):
    r = sh(["dpkg-query", "-W", "-f=${Version}", pkg], check=False)
    return f"{pkg} {r.stdout.strip()}" if r.returncode == 0 else None


def invocations(tool, cfg, targets_v4, targets_v6, rundir):
    """The commands one measurement of `tool` runs, and how many at once."""
    w, r = cfg.timeout, cfg.retries
    ws = f"{w:g}"
    invs = []

    def inv(name, argv, **meta):
        base = os.path.join(rundir, name)
        invs.append({"argv": argv, "out": base + ".out", "err": base + ".err",
                     "time": base + ".time", "meta": meta})

    if tool.startswith("routegraph"):
        tl = targets_v6 if tool == "routegraph6" else targets_v4
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(tl) + "\n")
        extra = ["--asn-source", "none"] if tool == "routegraph-noas" else []
        extra += shlex.split(cfg.rg_extra)
        if cfg.rg_default:
            # Its default probing options: only output, ports and -n (no DNS, as
            # every peer runs with -n) are given.
            if tool == "routegraph-rate":
                extra += ["--rate", str(cfg.rate)]
            inv(tool, [cfg.routegraph, "-n", "-q", "--format", "json", "-p", "80,443",
                       *extra, "-f", tf])
        else:
            inv(tool, [cfg.routegraph, "-n", "-q", "--format", "json", "-p", "80,443",
                       "-w", ws, "-r", str(r), "--rate", str(cfg.rate), *extra, "-f", tf])
        return invs, 1
    if tool == "scapy":
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(targets_v4) + "\n")
        inv("scapy", [DEBIAN_PY, RUN_PY, "scapy-trace", tf, ws])
        return invs, 1
    if tool == "scamper":
        tf = os.path.join(rundir, "targets.txt")
        with open(tf, "w") as f:
            f.write("\n".join(targets_v4) + "\n")
        pps = min(cfg.rate, SCAMPER_MAX_PPS)
        for port in PORTS:
            inv(f"scamper-{port}", ["scamper", "-O", "json", "-p", str(pps),
                                    "-w", str(SCAMPER_WINDOW), "-c",
                                    f"trace -P tcp -d {port} -q {1 + r} -w {max(1, round(w))} "
                                    f"-g {cfg.gap} -m {cfg.max_ttl}", "-f", tf])
        return invs, 1
    for a in targets_v4:
        for port in PORTS:
            name = f"{tool}-{a}-{port}"
            if tool.startswith("traceroute"):
                argv = ["traceroute", "-T", "-p", str(port), "-n", "-q", "1", "-w", ws,
                        "-m", str(cfg.max_ttl), "-O", "info", a]
            elif tool.startswith("tcptraceroute"):
                argv = ["tcptraceroute", "-n", "-q", "1", "-w", ws, "-m", str(cfg.max_ttl),
                        a, str(port)]
            else:
                argv = ["mtr", "-T", "-P", str(port), "--report", "-c", "1", "-n", "--json",
                        "-i", "0.1", "--timeout", ws, "--gracetime", ws,
                        "-m", str(cfg.max_ttl), a]
            inv(name, argv, target=a, port=port)
    return invs, (1 if tool == "traceroute" else cfg.parallel)
