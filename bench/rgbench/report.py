"""Aggregation and the report: medians over repeats, the Markdown tables,
the goals of the speed issue, the machine's description."""
import json
import platform
import statistics

from .common import ICMP_BURST, ICMP_PER_S, PEERS, RG_GIVE_UP_MIN, ROUTERS, TOOLS, sh


# ---------------------------------------------------------------------------
# Aggregation and report
# ---------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


ACC_KEYS = (("hops_right", "hops"), ("ports_right", "ports"), ("ecmp_one_branch", "ecmp"),
            ("traces_right", "traces"))


def summarize(runs):
    """Median figures over repeats; accuracy as the worst repeat."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return None
    s = {"n": len(ok), "timed_out": any(r["timed_out"] for r in ok),
         "wall": med([r["wall"] for r in ok]), "wall_min": min(r["wall"] for r in ok),
         "wall_max": max(r["wall"] for r in ok),
         "probes": med([r["probes"] for r in ok]), "received": med([r["received"] for r in ok]),
         "other_out": med([r["other_out"] for r in ok]),
         "rss_kb": max(r["rss_kb"] or 0 for r in ok),
         "foreign_syn": sum(r["foreign_syn"] for r in ok),
         "completed": min(r["completed"] for r in ok), "invocations": ok[0]["invocations"],
         "failed": sum(r.get("failed", 0) for r in ok),
         "disturbed": sorted({e for r in ok for e in r.get("disturbed", [])})}
    if any("call_s" in r for r in ok):
        s["call_s"] = med([r.get("call_s") for r in ok])
    accs = [r["accuracy"] for r in ok if "error" not in r["accuracy"]]
    if accs:
        s["acc"] = {k: min(accs, key=lambda a, k=k, b=b: a[k] / a[b] if a[b] else 1.0)
                    for k, b in ACC_KEYS}
        s["wrong"] = next((a["wrong"] for a in accs if a["wrong"]), [])
    else:
        s["acc_error"] = ok[0]["accuracy"].get("error")
    bds = [r["breakdown"] for r in ok if r.get("breakdown")]
    if bds:
        s["breakdown"] = {k: med([b[k] for b in bds]) for k in bds[0]}
    stats = [r.get("tool_stats") for r in ok if r.get("tool_stats")]
    if stats:
        s["tool_probes"] = med([x["probes_sent"] for x in stats])
        s["tool_stats"] = stats[0]
    # Exactness (issue 11): the worst run (most wrong, then fewest found) with
    # its own wall time, counts and ICMP ceiling, never mixed across runs.
    full = [r for r in ok if "error" not in r["accuracy"] and "icmp" in r]
    if full:
        a_of = lambda r: r["accuracy"]  # noqa: E731
        worst = max(full, key=lambda r: (a_of(r)["hops_wrong"] + a_of(r)["ports_wrong"],
                                         -(a_of(r)["found_measured"] + a_of(r)["found_inferred"])))
        s["exact"] = {"acc": worst["accuracy"], "icmp": worst["icmp"], "wall": worst["wall"],
                      "counters": worst.get("counters") or {},
                      "probes": worst["probes"], "received": worst["received"],
                      "timed_out": worst["timed_out"], "tool_stats": worst.get("tool_stats")}
    return s


def found_of(a):
    return a["found_measured"] + a["found_inferred"]


def exact_table(cfg, size, summary):
    """Per tool: port states and hops wrong, hops found, wall, probes, replies,
    and the router hops measured against the ICMP ceiling (issue 11)."""
    L = ["| tool | port states wrong | hops wrong | hops found (measured + inferred) / "
         "findable | wall s | probes | replies (ICMP) | answered | router hops measured / ICMP "
         "ceiling (needed) |",
         "|---|---|---|---|---|---|---|---|---|"]
    for tool in cfg.tools:
        s = summary.get((size, tool))
        if not s or "exact" not in s:
            continue
        e = s["exact"]
        a, ic = e["acc"], e["icmp"]
        ports = f"{a['ports_wrong']}" + (f" ({a['ports_unknown']} unknown)" if a["ports_unknown"]
                                         else "") if a["ports"] else "n/a"
        fd = found_of(a)
        wall = fmt_s(e["wall"]) + (" (budget hit)" if e["timed_out"] else "")
        ans = f"{100 * e['received'] / e['probes']:.0f}%" if e["probes"] else "—"
        icmp_in = e.get("counters", {}).get("icmp_in")
        rep = f"{e['received']:g}" + (f" ({icmp_in})" if icmp_in is not None else "")
        over = " (more than the routers can send: answers credited to several traces)" \
            if ic["measured"] > ic["ceiling"] else ""
        L.append(f"| {tool} | {ports} | {a['hops_wrong']} | {a['found_measured']} + "
                 f"{a['found_inferred']} / {a['findable']} = "
                 f"{100 * fd / a['findable']:.1f}% | {wall} | {e['probes']:g} | "
                 f"{rep} | {ans} | {ic['measured']} / {ic['ceiling']} "
                 f"({ic['needed']}){over} |")
    return "\n".join(L) + "\n"


def exact_goals(cfg, size, summary):
    """Issue 11's target, checked for routegraph and routegraph6 when every
    router is throttled: every port state right, no hop wrong, >= 90% of hops
    found (measured, or inferred and marked), wall < 0.5 x the most complete
    peer's (most hops found; of equals, the fastest)."""
    peers = [(found_of(summary[(size, t)]["exact"]["acc"]), -summary[(size, t)]["exact"]["wall"],
              t) for t in PEERS if (size, t) in summary and "exact" in summary[(size, t)]]
    out = []
    # The most complete peer by hops found, and (when that one has wrong
    # hops) the most complete of those with none: both comparisons are shown.
    best = []
    if peers:
        best.append((max(peers)[2], "most complete peer"))
        clean = [x for x in peers if summary[(size, x[2])]["exact"]["acc"]["hops_wrong"] == 0]
        if clean and max(clean)[2] != best[0][0]:
            best.append((max(clean)[2], "most complete peer with no hop wrong"))
    for tool in ("routegraph", "routegraph6"):
        s = summary.get((size, tool))
        if not s or "exact" not in s:
            continue
        e = s["exact"]
        a = e["acc"]
        out.append((f"{tool}: every port state right", f"{a['ports_wrong']} wrong",
                    a["ports_wrong"] == 0))
        out.append((f"{tool}: no hop wrong", f"{a['hops_wrong']} wrong", a["hops_wrong"] == 0))
        fd = found_of(a)
        out.append((f"{tool}: >= 90% of hops found", f"{fd}/{a['findable']} = "
                    f"{100 * fd / a['findable']:.1f}%", fd >= 0.9 * a["findable"]))
        for pt, what in best:
            pe = summary[(size, pt)]["exact"]
            note = " (peer hit the budget: its wall is a lower bound)" if pe["timed_out"] else ""
            out.append((f"{tool}: wall < 0.5 x {what} ({pt}: {found_of(pe['acc'])} hops found, "
                        f"{pe['acc']['hops_wrong']} wrong, {fmt_s(pe['wall'])} s{note})",
                        f"{fmt_s(e['wall'])} s = {e['wall'] / pe['wall']:.3f}x",
                        e["wall"] < 0.5 * pe["wall"]))
    if not out:
        return ""
    L = ["| goal | measured | met |", "|---|---|---|"]
    L += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in out]
    return "\n".join(L) + "\n"


def frac(a, key, base):
    if a is None:
        return "—"
    n, d = a[key][key], a[key][base]
    if d == 0:
        return "n/a"
    return f"{n}/{d}" if n != d else f"all {d}"


def fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def report(cfg, env, versions, floors, summary, missing, skipped, started, workdir, examples):
    L = []
    p = L.append
    p(f"Run {started} UTC, `{cfg.command}`")
    p("")
    p("Machine: " + "; ".join(f"{k}: {v}" for k, v in env.items()))
    p("")
    p("Settings: " + ", ".join([
        f"timeout {cfg.timeout:g} s", f"retries {cfg.retries}", f"rate {cfg.rate}/s",
        f"max TTL {cfg.max_ttl}", f"gap {cfg.gap}", f"{cfg.parallel} in parallel where stated",
        f"budget {cfg.budget} s per tool run", f"{cfg.repeat} repeats",
        f"throttled routers: {' '.join(cfg.throttled) or 'none'}",
        "routegraph: " + (f"its default options{' plus ' + cfg.rg_extra if cfg.rg_extra else ''}"
                          if cfg.rg_default else "the flags above")]))
    p("")
    p("Versions: " + "; ".join(f"{v}" for v in versions.values() if v))
    p("")
    for size in cfg.sizes:
        fl = floors[size]
        p(f"### {size} target{'s' if size > 1 else ''} x 2 ports ({2 * size} traces)")
        p("")
        p(f"Floor: {fl['probes']} probes; wall {fl['wall']:.3f} s = max({fl['probes']} probes / "
          f"{cfg.rate}/s = {fl['rate_bound']:.3f} s, (1 + {cfg.retries} retries) x "
          f"{cfg.timeout:g} s timeout = {fl['timeout_chain']:.3f} s). With routegraph's "
          f"shortest give-up wait ({RG_GIVE_UP_MIN:g} s) instead of the timeout: "
          f"{fl['wall_adaptive']:.3f} s.")
        p("")
        p("| tool | wall s (median) | min–max | x floor | probes | x floor | other out | "
          "received | peak RSS MB | hops right | port states right | ECMP one branch | "
          "traces right |")
        p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for tool in cfg.tools:
            s = summary.get((size, tool))
            if s is None:
                why = skipped.get((size, tool)) or missing.get(tool, "not run")
                p(f"| {tool} | {why} | | | | | | | | | | | |")
                continue
            wall = fmt_s(s["wall"])
            if s["timed_out"]:
                wall = f"> {cfg.budget} (budget; {s['completed']}/{s['invocations']} done)"
            if "call_s" in s:
                wall += f" (call {fmt_s(s['call_s'])})"
            acc = s.get("acc")
            ecmp = frac(acc, "ecmp_one_branch", "ecmp")
            if acc and acc["ecmp_one_branch"].get("ecmp_undetermined"):
                ecmp += f" ({acc['ecmp_one_branch']['ecmp_undetermined']} undetermined)"
            ports = frac(acc, "ports_right", "ports") if acc and acc["ports_right"]["ports"] \
                else ("n/a" if acc else "—")
            p(f"| {tool} | {wall} | {fmt_s(s['wall_min'])}–{fmt_s(s['wall_max'])} | "
              f"{s['wall'] / fl['wall']:.2f} | {s['probes']:g} | {s['probes'] / fl['probes']:.2f} | "
              f"{s['other_out']:g} | {s['received']:g} | {s['rss_kb'] / 1024:.1f} | "
              f"{frac(acc, 'hops_right', 'hops')} | {ports} | "
              f"{ecmp} | {frac(acc, 'traces_right', 'traces')} |")
        p("")
        p("Exactness (the worst run of each tool; hops found: of the hops the ground truth has "
          "an answerer for; ICMP ceiling: per router min(hops needing it, "
          f"{ICMP_BURST} + {ICMP_PER_S:g}/s x the run's wall) when throttled):")
        p("")
        p(exact_table(cfg, size, summary))
        if cfg.throttled and set(cfg.throttled) == set(ROUTERS):
            g11 = exact_goals(cfg, size, summary)
            if g11:
                p("Issue 11's target (every router at Linux's default ICMP limit):")
                p("")
                p(g11)
        for tool in cfg.tools:
            s = summary.get((size, tool))
            g = s and s.get("exact") and s["exact"]["acc"].get("ecmp_guessed")
            if g:
                p(f"{tool}: {g} ECMP trace(s) with the branch only inferred, no hop of it "
                  "measured (counted as found: every branch is consistent with the trace)")
                p("")
        for tool in cfg.tools:
            s = summary.get((size, tool))
            if s and s.get("exact") and s["exact"]["acc"]["wrong_hops"]:
                p(f"{tool}: first wrong hops: `{json.dumps(s['exact']['acc']['wrong_hops'])[:1500]}`")
                p("")
        for tool in cfg.tools:
            s = summary.get((size, tool))
            st = s and s.get("exact") and s["exact"].get("tool_stats")
            if st:
                p(f"{tool}'s own counts (worst run): " + ", ".join(
                    f"{k} {v}" for k, v in st.items()))
                p("")
        peers = [(summary[(size, t)]["wall"], t) for t in PEERS
                 if (size, t) in summary and not summary[(size, t)]["timed_out"]]
        rg = summary.get((size, "routegraph"))
        if rg and peers:
            fw, ft = min(peers)
            p(f"routegraph / fastest peer ({ft}, {fmt_s(fw)} s): {rg['wall'] / fw:.3f} "
              f"(peer is {fw / rg['wall']:.1f}x slower)")
            p("")
        if rg and rg.get("breakdown"):
            b = rg["breakdown"]
            p("routegraph wall-time breakdown (median, s): " + ", ".join(
                f"{k} {fmt_s(v)}" for k, v in b.items() if v is not None))
            p("")
        if rg and "tool_probes" in rg:
            p(f"routegraph's own count of probes sent: {rg['tool_probes']:g} "
              f"(nft in r1: {rg['probes']:g})")
            p("")
        dist = [(t, summary[(size, t)]["disturbed"]) for t in cfg.tools
                if (size, t) in summary and summary[(size, t)]["disturbed"]]
        for t, d in dist:
            p(f"{t}: ICMP rate limits changed by someone else during a run even after "
              f"re-running: {'; '.join(d)}")
            p("")
        contaminated = [t for t in cfg.tools if (size, t) in summary
                        and summary[(size, t)]["foreign_syn"]]
        if contaminated:
            p("Other traffic in the lab during: " + ", ".join(
                f"{t} ({summary[(size, t)]['foreign_syn']} foreign SYNs)" for t in contaminated)
              + " (not counted in the figures, but it shares the CPU)")
            p("")
        wrong = [(t, summary[(size, t)]["wrong"]) for t in TOOLS
                 if t.startswith("routegraph") and (size, t) in summary and summary[(size, t)].get("wrong")]
        for t, w in wrong:
            p(f"{t}: first traces not right: `{json.dumps(w)[:1500]}`")
            p("")
    p("Commands (the first invocation of each tool's last run; per-target tools run one "
      "such command per target and port):")
    p("")
    for tool in cfg.tools:
        ex = examples.get(tool)
        if ex:
            p(f"- {tool}: {TOOLS[tool][1]}: `{ex}`")
    p("")
    p(f"Raw outputs and results.json: {workdir}")
    return "\n".join(L) + "\n"


def goals(cfg, floors, summary):
    """The issue's targets for routegraph, checked against this run."""
    out = []

    def acc_perfect(s):
        a = s.get("acc")
        return a and all(a[k][k] == a[k][b] for k, b in (
            ("hops_right", "hops"), ("ports_right", "ports"), ("ecmp_one_branch", "ecmp")))

    s = summary.get((64, "routegraph"))
    if s:
        peers = [(summary[(64, t)]["wall"], t) for t in PEERS
                 if (64, t) in summary and not summary[(64, t)]["timed_out"]]
        if peers:
            fw, ft = min(peers)
            out.append((f"64x2: wall < 0.5 x fastest peer ({ft} {fw:.3f} s)",
                        f"{s['wall']:.3f} s = {s['wall'] / fw:.3f}x", s["wall"] < 0.5 * fw))
        out.append(("64x2: probes <= 1.05 x floor",
                    f"{s['probes']:g} / {floors[64]['probes']} = "
                    f"{s['probes'] / floors[64]['probes']:.3f}",
                    s["probes"] <= 1.05 * floors[64]["probes"]))
        out.append(("64x2: every hop and port state right, every ECMP trace on one branch",
                    "yes" if acc_perfect(s) else "no", bool(acc_perfect(s))))
    s = summary.get((1024, "routegraph"))
    if s:
        out.append((f"1024x2: wall < 10 s at --rate {cfg.rate}", f"{s['wall']:.3f} s",
                    s["wall"] < 10))
        out.append(("1024x2: probes <= 1.1 x floor",
                    f"{s['probes']:g} / {floors[1024]['probes']} = "
                    f"{s['probes'] / floors[1024]['probes']:.3f}",
                    s["probes"] <= 1.1 * floors[1024]["probes"]))
        out.append(("1024x2: peak RSS < 64 MB", f"{s['rss_kb'] / 1024:.1f} MB",
                    s["rss_kb"] < 64 * 1024))
        out.append(("1024x2: every hop and port state right, every ECMP trace on one branch",
                    "yes" if acc_perfect(s) else "no", bool(acc_perfect(s))))
    if not out:
        return ""
    L = ["| goal | measured | met |", "|---|---|---|"]
    L += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in out]
    return "\n".join(L) + "\n"


def rate_goal(cfg, summary):
    """Issue 11: with default options, within 2x of the --rate RATE wall time."""
    out = []
    for size in cfg.sizes:
        a, b = summary.get((size, "routegraph")), summary.get((size, "routegraph-rate"))
        if a and b:
            out.append((f"{size}x2: default options within 2x of --rate {cfg.rate} "
                        f"({fmt_s(b['wall'])} s)", f"{fmt_s(a['wall'])} s = "
                        f"{a['wall'] / b['wall']:.2f}x", a["wall"] <= 2 * b["wall"]))
    if not out:
        return ""
    L = ["| goal | measured | met |", "|---|---|---|"]
    L += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in out]
    return "\n".join(L) + "\n"


def machine():
    def first(argv):
        try:
            return sh(argv, check=False).stdout.strip()
        except OSError:
            return "?"
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = first(["free", "-h"]).splitlines()
    osr = "?"
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osr = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"nproc": first(["nproc"]), "CPU": cpu,
            "memory": mem[1].split()[1] if len(mem) > 1 else "?",
            "kernel": platform.release(), "OS": osr}
