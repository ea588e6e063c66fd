"""One measurement: runs a tool through the worker, reads the counters,
parses and scores its output."""
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import time

from .common import ICMP_BURST, ICMP_PER_S, ICMP_REFILL_S, PROBER_NS, RUN_PY, log
from .counters import counters_install, counters_read, counters_reset, counters_set_targets
from .labctl import IcmpWatch, ensure_lab, lab_usable, settle_icmp
from .parsers import parse_per_target, parse_routegraph, parse_scamper, parse_scapy
from .peers import invocations
from .scoring import score


# ---------------------------------------------------------------------------
# One measurement
# ---------------------------------------------------------------------------

class Runner:
    def __init__(self, cfg, truth, workdir):
        self.cfg, self.truth, self.workdir = cfg, truth, workdir
        self.worker = None
        self.last_end = time.monotonic()  # the throttle was just switched on

    def measure(self, tool, size, rep, tv4, tv6):
        rundir = os.path.join(self.workdir, f"{size}", f"r{rep}", tool)
        os.makedirs(rundir, exist_ok=True)
        invs, par = invocations(tool, self.cfg, tv4, tv6, rundir)
        single = len(invs) <= 2
        spec = {"invocations": invs, "parallel": par, "budget": self.cfg.budget,
                "per_call_timeout": self.cfg.budget if single else self.cfg.call_timeout,
                "env": {"ROUTEGRAPH_LAB_ONLY": "1"}}
        spec_path = os.path.join(rundir, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        expected = self.cfg.throttled
        for attempt in range(4):
            ensure_lab()
            calm = settle_icmp(expected)
            if expected:
                # Every tool starts with the routers' buckets full (6 answers),
                # not drained by the tool before it.
                left = ICMP_REFILL_S - (time.monotonic() - self.last_end)
                if left > 0:
                    time.sleep(left)
            try:
                counters_reset()
            except RuntimeError:
                counters_install()  # the lab was rebuilt under us
                counters_set_targets(tv4, tv6)
                counters_reset()
            watch = IcmpWatch(expected)
            watch.start()
            w = self.run_worker(spec_path)
            self.last_end = time.monotonic()
            disturbed = watch.stop() + ([] if calm else ["never calm"])
            try:
                cnt = counters_read()
            except RuntimeError:
                cnt = None
            if w is None or cnt is None or not lab_usable():
                log(f"{tool} {size}: the lab changed during the run; waiting and re-running")
                time.sleep(10)
                continue
            if disturbed and attempt < 3:
                log(f"{tool} {size}: ICMP rate limits changed during the run ({disturbed[0]}); "
                    "re-running")
                continue
            break
        else:
            return {"error": "lab kept disappearing"}
        m = {"wall": w["wall"], "rss_kb": w["rss_kb"], "timed_out": w["timed_out"],
             "completed": w["completed"], "invocations": len(invs), "counters": cnt,
             "probes": cnt["syn_out"], "received": cnt["tcp_in"] + cnt["icmp_in"],
             "other_out": cnt["other_out"], "foreign_syn": cnt["foreign_syn"],
             "example": shlex.join(invs[0]["argv"]), "disturbed": disturbed}
        ok_rc = {0, 1} if tool == "tcptraceroute16" else {0}  # 1: not reached
        m["failed"] = sum(1 for r in w["results"]
                          if not r.get("skipped") and not r["timed_out"] and r["rc"] not in ok_rc)
        m["accuracy"] = self.accuracy(tool, invs, tv4, tv6, m)
        if "error" not in m["accuracy"]:
            m["icmp"] = icmp_ceiling(m["accuracy"], self.cfg.throttled, w["wall"])
        if tool.startswith("routegraph"):
            m["breakdown"] = rg_breakdown(invs[0]["out"], w["results"][0], w["wall"])
        if tool == "scapy":
            try:
                d = json.load(open(invs[0]["out"]))
                m["call_s"], m["import_s"] = d["call_s"], d["import_s"]
            except (OSError, ValueError, KeyError):
                pass
        return m

    def run_worker(self, spec_path):
        argv = ["ip", "netns", "exec", PROBER_NS, sys.executable, RUN_PY,
                "worker", spec_path]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        self.worker = p
        try:
            out, err = p.communicate(timeout=self.cfg.budget + 60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the worker's own session, by its id
            out, err = p.communicate()
        finally:
            self.worker = None
        if p.returncode != 0:
            log(f"worker failed ({p.returncode}): {err.strip()[-500:]}")
            return None
        return json.loads(out)

    def accuracy(self, tool, invs, tv4, tv6, m):
        try:
            if tool.startswith("routegraph"):
                traces, doc = parse_routegraph(invs[0]["out"])
                m["tool_stats"] = doc.get("stats")
                fam, tl = (6, tv6) if tool == "routegraph6" else (4, tv4)
                return score(self.truth, traces, tl, fam)
            if tool == "scapy":
                traces, _ = parse_scapy(invs[0]["out"])
            elif tool == "scamper":
                traces = parse_scamper(invs)
            elif tool.startswith("traceroute"):
                traces = parse_per_target(invs, "traceroute")
            elif tool.startswith("tcptraceroute"):
                traces = parse_per_target(invs, "tcptraceroute")
            else:
                traces = parse_per_target(invs, "mtr")
                return score(self.truth, traces, tv4, 4, state_known=False)
            return score(self.truth, traces, tv4, 4)
        except (OSError, ValueError, KeyError) as e:
            return {"error": f"could not parse the output: {e}"}

    def kill_worker(self):
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)


def icmp_ceiling(acc, throttled, wall):
    """The most router hops any tracer can measure in a run of `wall` seconds:
    a throttled router sends at most ICMP_BURST + ICMP_PER_S x wall
    time-exceeded answers towards the prober, so per router (an ECMP pair
    counts as one group with twice the budget, since the flow's hash picks
    the branch) min(hops needing it, its budget); unthrottled routers: all
    hops needing them. r6 never answers and needs no budget."""
    per = {}
    for grp, need in acc["router_needed"].items():
        rs = grp.split("+")
        cap = need if not all(r in throttled for r in rs) else \
            min(need, int(len(rs) * (ICMP_BURST + ICMP_PER_S * wall)))
        per[grp] = {"needed": need, "ceiling": cap,
                    "measured": acc["router_measured"].get(grp, 0)}
    return {"wall": wall, "per_router": per,
            "needed": sum(v["needed"] for v in per.values()),
            "ceiling": sum(v["ceiling"] for v in per.values()),
            "measured": sum(v["measured"] for v in per.values())}


def rg_breakdown(json_path, res, wall):
    """Where routegraph's wall time went, from its own JSON timestamps."""
    try:
        doc = json.load(open(json_path))
    except (OSError, ValueError):
        return None

    def ts(s):
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()

    sent, recv = [], []
    for t in doc["traces"]:
        for h in t["hops"]:
            for p in h["probes"]:
                if p.get("sent"):
                    sent.append(ts(p["sent"]))
                if p.get("reply") and p["reply"].get("received"):
                    recv.append(ts(p["reply"]["received"]))
    if not sent or not doc.get("start_time"):
        return None
    start, end, spawn = ts(doc["start_time"]), ts(doc["end_time"]), res["start_realtime"]
    fresh = sorted(ts(p["sent"]) for t in doc["traces"] for h in t["hops"]
                   for p in h["probes"] if p["attempt"] == 0 and p.get("sent"))
    return {
        "process": res["wall"],
        "startup": start - spawn,                # exec, sockets, privilege drop, targets
        "engine": end - start,
        "fresh_sent": fresh[-1] - start,         # the last first-attempt probe went out
        "last_probe": max(sent) - start,         # usually a retry
        "last_reply": (max(recv) - start) if recv else None,
        "tail": end - max(sent),                 # waiting for the last probe to be lost
        "output_exit": res["wall"] - (end - spawn),  # annotation, output, exit
    }
