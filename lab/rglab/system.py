"""What lab/lab does to the machine: commands in namespaces, batched ip
commands, the lock, the state dir and the lab's own processes.

Every process lab/lab starts is recorded by pid and recognised again by its
name before it is signalled (guards against pid reuse).
"""
import fcntl
import hashlib
import os
import subprocess
import sys
import time

STATE_DIR = "/run/routegraph-lab"
NETNS_ETC = "/etc/netns/rg-prober"
LOCK_WAIT_S = 120


class LabError(Exception):
    """One clear line for the user; lab/lab exits 1."""


def log(msg):
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def run(argv, input_text=None, check=True, capture=True, timeout=60):
    """Runs argv; with check, a failure is a LabError naming the command."""
    r = subprocess.run(argv, input=input_text, text=True, timeout=timeout,
                       stdin=None if input_text is not None else subprocess.DEVNULL,
                       capture_output=capture)
    if check and r.returncode != 0:
        err = (r.stderr or "").strip() if capture else ""
        raise LabError(f"{' '.join(argv)} failed ({r.returncode}){': ' + err if err else ''}")
    return r


def ns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def nsrun(ns, argv, **kw):
    return run(["ip", "netns", "exec", ns, *argv], **kw)


def sysctl(ns, settings):
    """settings: {key: value}; one sysctl process per namespace."""
    if settings:
        nsrun(ns, ["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in settings.items())])


def sysctl_read(ns, keys):
    out = nsrun(ns, ["sysctl", "-n", *keys]).stdout.split("\n")
    return [v.strip() for v in out[:len(keys)]]


def nft_load(ns, ruleset):
    nsrun(ns, ["nft", "-f", "-"], input_text=ruleset)


class Batch:
    """ip commands queued per namespace and run as one `ip -batch` each:
    several hundred separate ip processes would make `up` take seconds."""

    def __init__(self):
        self.cmds = {}

    def q(self, ns, *words):
        self.cmds.setdefault(ns, []).append(" ".join(str(w) for w in words))

    def flush(self, order):
        """Runs the queued commands, namespaces in the given order."""
        for ns in order:
            if ns in self.cmds:
                run(["ip", "-n", ns, "-batch", "-"], input_text="\n".join(self.cmds[ns]) + "\n")
        self.cmds = {}


class Lock:
    """flock on lab/lab itself, so parallel up/down/impair callers queue
    (the file the bash lab/lab locked too). The fd is close-on-exec: no
    daemon inherits it."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError("timed out waiting for another lab up/down") from None
                time.sleep(0.05)

    def __exit__(self, *exc):
        os.close(self.fd)


def version_stamp(files):
    """Hash of the program and the topology: a lab built by another version
    is 'outdated'."""
    h = hashlib.sha256()
    for f in sorted(files):
        with open(f, "rb") as fh:
            h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()


def state(name):
    return os.path.join(STATE_DIR, name)


def read_first(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().strip()
    except OSError:
        return ""


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# --- the lab's own processes ----------------------------------------------------

def _cmdline0(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def is_listener(pid):
    return str(pid).isdigit() and _cmdline0(pid).endswith("/rg-lab-listen")


def is_relay(pid):
    return str(pid).isdigit() and _cmdline0(pid).endswith("/rg-lab-delay")


def is_nsd(pid):
    """nsd renames itself ("nsd: main" etc.)."""
    c = _comm(pid) if str(pid).isdigit() else ""
    return c == "nsd" or c.startswith("nsd: ")


def is_ours(pid):
    return is_listener(pid) or is_nsd(pid) or is_relay(pid)


def pid_from(path):
    return read_first(path)


def ns_pids(ns):
    r = run(["ip", "netns", "pids", ns], check=False)
    return r.stdout.split() if r.returncode == 0 else []


def kill_and_reap(pids, wait_s=5.0):
    """SIGTERM, then after 2 s SIGKILL to what is still ours; returns once
    init has reaped them too (no leftover zombie), at most wait_s."""
    for p in pids:
        try:
            os.kill(int(p), 15)
        except OSError:
            pass
    deadline = time.monotonic() + wait_s
    killed = False
    while True:
        alive = [p for p in pids if os.path.exists(f"/proc/{p}")]
        if not alive:
            return []
        if time.monotonic() > deadline:
            return alive
        if not killed and time.monotonic() > deadline - wait_s + 2.0:
            for p in alive:
                if is_ours(p):
                    try:
                        os.kill(int(p), 9)
                    except OSError:
                        pass
            killed = True
        time.sleep(0.02)
