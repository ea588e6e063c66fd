"""Accuracy: a parsed trace against the ground truth, hop by hop (found,
wrong, missed), port states, and whether an ECMP trace kept to one branch."""

from .common import PORTS, norm


# ---------------------------------------------------------------------------
# Accuracy
# ---------------------------------------------------------------------------

def new_trace():
    # hops: measured addresses per TTL; inferred: routegraph's inferred_responder
    # (never measured on this trace); silence: its label of an unanswered hop.
    return {"hops": {}, "state": None, "inferred": {}, "silence": {}}


def add_hop(tr, ttl, addr):
    """Records a probed TTL; addr None = a probe there got no answer."""
    lst = tr["hops"].setdefault(int(ttl), [])
    a = norm(addr)
    if a and a not in lst:
        lst.append(a)


def router_group(truth, exp):
    """The router(s) answering at a ground-truth hop: 'r4', or 'r3a+r3b' for an
    ECMP hop whose branch the flow's hash picks."""
    return "+".join(sorted({truth.router_of[a] for a in exp}))


def score(truth, traces, targets, family, state_known=True):
    """Compares parsed traces {(addr, port): trace} with the ground truth.

    Per hop (TTL 1 up to the target's distance): *found* when the hop shows
    an address of the ground truth (measured; or, with no measured address,
    routegraph's inferred_responder on a branch consistent with the trace's
    measured hops); *wrong* when it shows an address that is not (measured),
    or an inferred one off every consistent branch, or any address where the
    ground truth is silent; otherwise not found. hops_right = found, or
    rightly empty (a silent router, a filtered port's destination TTL)."""
    fam = str(family)
    res = {"traces": 0, "traces_right": 0, "hops": 0, "hops_right": 0,
           "ports": 0, "ports_right": 0, "ports_unknown": 0,
           "ecmp": 0, "ecmp_one_branch": 0, "ecmp_undetermined": 0, "ecmp_guessed": 0,
           "missing": 0, "wrong": [],
           # hops that have an answerer in the ground truth (a router that
           # answers, the destination of an open or closed port)
           "findable": 0, "found_measured": 0, "found_inferred": 0, "hops_wrong": 0,
           "wrong_measured": 0, "wrong_inferred": 0, "wrong_hops": [],
           # router hops: needed (per router group) and measured right
           "router_needed": {}, "router_measured": {},
           # routegraph's labels of unanswered hops that should have an answer
           # (rate-limited is right) and of truly silent ones (silent is right)
           "label_rate_limited": 0, "label_silent": 0, "label_wrong": 0}
    for addr in targets:
        t = truth.net_of(addr)
        d = t["distance"]
        branches = t["branches"][fam]
        for port in PORTS:
            res["traces"] += 1
            tr = traces.get((norm(addr), port))
            if tr is None:
                res["missing"] += 1
                tr = new_trace()
            state = t["ports"][str(port)]
            # The branches consistent with what this trace measured below d.
            consistent = [b for b in branches
                          if all(g == b[k - 1] for k, got in tr["hops"].items() if 1 <= k < d
                                 for g in got)]
            ok_all = True
            for ttl in range(1, d + 1):
                got = tr["hops"].get(ttl, [])
                inf = norm(tr["inferred"].get(ttl)) if not got else None
                label = tr["silence"].get(ttl) if not got else None
                if ttl < d:
                    exp = t["responders"][fam][ttl - 1]
                    if exp == [None]:
                        found, wrong = False, bool(got) or bool(inf)
                        ok = not wrong
                        if label:
                            res["label_silent" if label == "silent" else "label_wrong"] += 1
                    else:
                        grp = router_group(truth, exp)
                        res["router_needed"][grp] = res["router_needed"].get(grp, 0) + 1
                        res["findable"] += 1
                        if got:
                            found = all(g in exp for g in got)
                            wrong = not found
                            if found:
                                res["router_measured"][grp] = res["router_measured"].get(grp, 0) + 1
                        elif inf:
                            found = any(b[ttl - 1] == inf for b in consistent)
                            wrong = not found
                        else:
                            found = wrong = False
                            if label:
                                res["label_rate_limited" if label == "rate-limited"
                                    else "label_wrong"] += 1
                        ok = found
                else:
                    if state == "filtered":
                        found, wrong = False, bool(got) or bool(inf)
                        ok = not wrong
                    else:
                        res["findable"] += 1
                        if got:
                            found = got == [norm(addr)]
                            wrong = not found
                        elif inf:
                            found = inf == norm(addr)
                            wrong = not found
                        else:
                            found = wrong = False
                        ok = found
                res["hops"] += 1
                res["hops_right"] += ok
                if found:
                    res["found_measured" if got else "found_inferred"] += 1
                if wrong:
                    res["hops_wrong"] += 1
                    res["wrong_measured" if got else "wrong_inferred"] += 1
                    if len(res["wrong_hops"]) < 10:
                        res["wrong_hops"].append({"target": addr, "port": port, "ttl": ttl,
                                                  "measured": got, "inferred": inf,
                                                  "expected": t["responders"][fam][ttl - 1]
                                                  if ttl < d else [norm(addr)]})
                ok_all &= ok
            if state_known:
                res["ports"] += 1
                if tr["state"] == state:
                    res["ports_right"] += 1
                else:
                    ok_all = False
                    res["ports_unknown"] += tr["state"] == "unknown"
            res["traces_right"] += ok_all
            if not ok_all and len(res["wrong"]) < 5:
                res["wrong"].append({"target": addr, "port": port, "state": tr["state"],
                                     "hops": {k: v for k, v in sorted(tr["hops"].items())}})
            branches = t["branches"][fam]
            if len(branches) > 1:
                res["ecmp"] += 1
                # Measured hops, and inferred ones where nothing was measured
                # (marked as such by routegraph; judged like measured ones).
                seen = {"hops": {k: tr["hops"].get(k) or
                                 ([norm(tr["inferred"][k])] if k in tr["inferred"] else [])
                                 for k in set(tr["hops"]) | set(tr["inferred"])}}
                ob = one_branch(seen, branches)
                # A branch no measured hop of the trace shows, only inferred:
                # counted as found above (every branch is consistent), but the
                # flow's hash, not other traces, decides it.
                differ = [i + 1 for i in range(len(branches[0]))
                          if len({b[i] for b in branches}) > 1]
                if not any(tr["hops"].get(k) for k in differ) and \
                        any(k in tr["inferred"] for k in differ):
                    res["ecmp_guessed"] += 1
                res["ecmp_one_branch"] += ob is True
                res["ecmp_undetermined"] += ob is None
    res["ports_wrong"] = res["ports"] - res["ports_right"]
    return res


def one_branch(tr, branches):
    """True when the hops where the branches differ all answered, each with one
    address, all from the same branch; False when they show a mix (or an
    address of no branch); None when some stayed silent and the rest fit one
    branch (under ICMP throttling, say)."""
    differ = [i for i in range(len(branches[0])) if len({b[i] for b in branches}) > 1]
    got = [tr["hops"].get(i + 1, []) for i in differ]
    if any(len(g) > 1 for g in got):
        return False
    answered = [(i, g[0]) for i, g in zip(differ, got) if g]
    if not any(all(b[i] == a for i, a in answered) for b in branches):
        return False
    return True if len(answered) == len(differ) else None
