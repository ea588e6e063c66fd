"""A small TAP test harness for the integration tests: every test is a
function; a test passes when it returns, fails on any exception. Prints
`ok N - name` / `not ok N - name` lines that tests/run-all.sh counts."""
import ipaddress
import json
import os
import subprocess
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "lab", "lab")
_tests = []

# The lab's ground truth, shared by run.py and test_hostile.py.
TOPO = json.load(open(os.path.join(ROOT, "lab", "topology.json")))
NETS = {t["name"]: t for t in TOPO["targets"]}
PROBER = TOPO["prober"]


def target(net, family, host):
    """Address number `host` inside target network `net` (h1, h2, h3)."""
    prefix = NETS[net]["v4_prefix" if family == 4 else "v6_prefix"]
    return str(ipaddress.ip_network(prefix)[host])


def net_of(address):
    """The target network (its topology.json entry) that holds address."""
    a = ipaddress.ip_address(address)
    for t in NETS.values():
        if a in ipaddress.ip_network(t["v4_prefix"]) or a in ipaddress.ip_network(t["v6_prefix"]):
            return t
    raise AssertionError(f"{address} is in no lab target network")


def test(fn):
    _tests.append(fn)
    return fn


class Result:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def run(argv, stdin=None, timeout=120, env=None):
    """Runs argv with a hard time limit; returns a Result."""
    start = time.monotonic()
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                       timeout=timeout, env=e, errors="replace")
    return Result(p.returncode, p.stdout, p.stderr, time.monotonic() - start)


def lab(*args, timeout=120):
    return run([LAB, *args], timeout=timeout)


def run_all(only=None):
    n = failed = 0
    for fn in _tests:
        if only and not any(o in fn.__name__ for o in only.split(",")):
            continue
        n += 1
        name = fn.__name__
        start = time.monotonic()
        try:
            fn()
            print(f"ok {n} - {name} ({time.monotonic() - start:.1f}s)", flush=True)
        except Exception:  # noqa: BLE001 - any failure is a test failure
            failed += 1
            print(f"not ok {n} - {name}", flush=True)
            for line in traceback.format_exc().splitlines()[-25:]:
                print(f"#   {line}", flush=True)
    print(f"1..{n}")
    return failed
