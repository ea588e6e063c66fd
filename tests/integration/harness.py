"""A small TAP test harness for the integration tests: every test is a
function; a test passes when it returns, fails on any exception. Prints
`ok N - name` / `not ok N - name` lines that tests/run-all.sh counts."""
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "lab", "lab")
_tests = []


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
