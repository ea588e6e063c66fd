"""Lab control: waiting for (or bringing up) the lab in the mode a run
measures, the ICMP throttle of --throttle, and a watch on every router's
ICMP limit while a tool runs."""
import ctypes
import json
import os
import threading
import time

from .common import LAB, ROUTERS, ROUTER_NS, STATE_DIR, THROTTLE_STATE, die, log, sh


# ---------------------------------------------------------------------------
# Lab and throttling
# ---------------------------------------------------------------------------

def lab_status():
    r = sh([LAB, "status"], check=False)
    return r.stdout.strip()


# The benchmark measures the plain lab: a tracer's speed under link delays
# or the kernel's ICMP limits is another figure (lab/lab up options).
PLAIN_MODE = "icmp-limits=off delays=off"
# --delays: the same lab with links of real delay (lab/lab up --delays on),
# restored to the plain lab when the run ends.
LAB_MODE = {"want": PLAIN_MODE, "up": []}


def lab_usable():
    # "outdated" only means lab/lab was edited since up: the network is there.
    st = lab_status()
    return (st.startswith("up ") or st.startswith("outdated")) and st.endswith(LAB_MODE["want"])


def ensure_lab(wait_s=180):
    """Waits for the plain lab (others may be rebuilding it, or using it in
    another mode for a while); brings it up only when it is down. Never takes
    it down."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        st = lab_status()
        if lab_usable():
            return
        if st == "down" or (LAB_MODE["up"] and st.startswith("up ")):
            log(f"lab is {st}; lab/lab up {' '.join(LAB_MODE['up'])}")
            sh([LAB, "up", *LAB_MODE["up"]], check=False, timeout=180)
        else:
            time.sleep(3)
    die(f"lab not usable after {wait_s} s (status: {lab_status()})")


def throttle_on(routers):
    """The lab's own switch to Linux's default ICMP rate limit (lab/lab impair),
    router by router. The state file is written first, so an interrupted run's
    throttles are lifted by the next run."""
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(THROTTLE_STATE, "w") as f:
        json.dump({"routers": list(routers)}, f)
    for r in routers:
        sh([LAB, "impair", "ratelimit", r])


def throttle_off():
    """Lifts our throttles (also ones left over by an interrupted run)."""
    try:
        st = json.load(open(THROTTLE_STATE))
        routers = st["routers"] if "routers" in st else [st["router"]]
    except (OSError, ValueError, KeyError):
        return
    for r in routers:
        if os.path.exists(f"/run/netns/{ROUTER_NS[r]}"):
            sh([LAB, "impair", "remove", "ratelimit", r], check=False)
    os.unlink(THROTTLE_STATE)


CLONE_NEWNET = 0x40000000


class IcmpWatch(threading.Thread):
    """Watches every router's ICMP rate limit while a tool runs: other people's
    tests switch routers to Linux's limit for a few seconds (lab/lab impair
    ratelimit), which would silently change what a tracer sees. Reads the
    sysctl from inside each namespace by setns in this thread only: microseconds
    a look, where `lab/lab impair status` costs most of a second of CPU."""

    def __init__(self, expected):
        super().__init__(daemon=True)
        self.expected = set(expected)   # routers that should be rate limited
        self.events = set()
        self.halt = threading.Event()

    @staticmethod
    def limited_now():
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        out = set()
        try:
            for r in ROUTERS:
                try:
                    fd = os.open(f"/run/netns/{ROUTER_NS[r]}", os.O_RDONLY)
                except OSError:
                    continue
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        continue
                    try:
                        with open("/proc/sys/net/ipv4/icmp_ratelimit") as f:
                            if f.read().strip() != "0":
                                out.add(r)
                    finally:
                        if libc.setns(home, CLONE_NEWNET) != 0:
                            raise OSError("setns back to our own namespace failed")
                finally:
                    os.close(fd)
        finally:
            os.close(home)
        return out

    def run(self):
        while not self.halt.wait(0.25):
            got = self.limited_now()
            if got != self.expected:
                self.events.add(f"rate-limited routers {sorted(got) or 'none'}, "
                                f"expected {sorted(self.expected) or 'none'}")

    def stop(self):
        self.halt.set()
        self.join()
        return sorted(self.events)


def settle_icmp(expected, wait_s=600):
    """Waits until exactly the expected routers are rate limited: someone
    else's impairment ends by itself; our own throttle is put back if someone
    lifted it (lab up, impair clear)."""
    deadline = time.monotonic() + wait_s
    while True:
        got = IcmpWatch.limited_now()
        if got == set(expected):
            return True
        for r in set(expected) - got:
            sh([LAB, "impair", "ratelimit", r], check=False)
        if got - set(expected):
            if time.monotonic() > deadline:
                return False
            log(f"routers rate limited by someone else: {sorted(got - set(expected))}; waiting")
            time.sleep(5)
