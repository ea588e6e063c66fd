"""Privilege tests with a setcap'd routegraph run by an ordinary user (uid
65534, no sudo): every mode drops the capability before it reads anything,
the raw sockets are closed before annotation and output, and the caller's
environment never makes graphviz load the caller's code.

run.py imports this module so that its @test functions register with the
harness; the binary under test is run.py's BIN, read at test time. Under
--wrap (valgrind) these tests return at once: valgrind would run instead of
the file-capable binary."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from harness import PROBER, ROOT, lab, run, target, test

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
CAP_NET_RAW_BIT = 1 << 13
SAVED_RUN = os.path.join(ROOT, "tests", "data", "graph-lab.json")

# A graphviz plugin library that reports what it could do: on load (its
# constructor runs at dlopen) it writes, next to its config6a, whether it
# could open a raw socket itself and how many raw sockets the process
# already had open.
PLUGIN_C = r"""
#include <graphviz/gvplugin.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void on_load(void)
{
    const char *dir = getenv("GVBINDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/marker", dir ? dir : "/nonexistent");
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    int inherited = 0;
    for (int i = 0; i < 1024; i++) {
        int type = 0;
        socklen_t len = sizeof type;
        if (i != fd && getsockopt(i, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_RAW)
            inherited++;
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "uid=%d own_raw_socket=%d inherited_raw_sockets=%d\n",
                (int)getuid(), fd >= 0, inherited);
        fclose(f);
    }
}

static gvplugin_api_t apis[] = {{(api_t)0, 0}};
gvplugin_library_t gvplugin_probe_LTX_library = {"probe", apis};
"""

# What any graphviz program does: a context, a graph, the dot layout.
LOADER_C = r"""
#include <graphviz/gvc.h>
int main(void)
{
    GVC_t *gvc = gvContext();
    Agraph_t *g = agmemread("digraph { a -> b }");
    return gvc && g && gvLayout(gvc, g, "dot") == 0 ? 0 : 1;
}
"""

CONFIG6A = """libgvplugin_probe.so.6 probe {
\tlayout {
\t\tdot 100
\t}
}
"""


def wrapped():
    return bool(sys.modules["__main__"].WRAP)


def setcap_copy(d):
    """The binary under test, copied into d and given cap_net_raw+ep, as
    meson install does (test_installed_with_setcap_runs_as_a_plain_user)."""
    os.chmod(d, 0o755)
    binary = os.path.join(d, "routegraph")
    shutil.copy(sys.modules["__main__"].BIN, binary)
    os.chmod(binary, 0o755)
    r = run(["setcap", "cap_net_raw+ep", binary])
    assert r.rc == 0, r
    assert "cap_net_raw=ep" in run(["getcap", binary]).out
    return binary


def plugin_dir(d):
    """A real graphviz plugin directory: the library above and a config6a
    that offers it as the dot layout. Returns (directory, marker path)."""
    p = os.path.join(d, "plugins")
    os.mkdir(p)
    os.chmod(p, 0o777)  # the plugin writes its marker as uid 65534
    with open(os.path.join(p, "probe.c"), "w") as f:
        f.write(PLUGIN_C)
    r = run(["cc", "-shared", "-fPIC", "-o", os.path.join(p, "libgvplugin_probe.so.6"),
             os.path.join(p, "probe.c")])
    assert r.rc == 0, r
    with open(os.path.join(p, "config6a"), "w") as f:
        f.write(CONFIG6A)
    with open(os.path.join(d, "loader.c"), "w") as f:
        f.write(LOADER_C)
    flags = run(["pkg-config", "--cflags", "--libs", "libgvc"]).out.split()
    r = run(["cc", "-o", os.path.join(d, "loader"), os.path.join(d, "loader.c"), *flags])
    assert r.rc == 0, r
    return p, os.path.join(p, "marker")


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def raw_socket_fds(pid):
    """How many of the process's file descriptors are raw sockets."""
    inodes = set()
    for table in ("raw", "raw6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            next(f)
            for line in f:
                inodes.add(line.split()[9])
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            n += 1
    return n


def wait_sleeping(p, seconds=10.0):
    """Waits (bounded) until process p blocks; True if it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and p.poll() is None:
        try:
            if proc_status(p.pid)["State"][0] == "S":
                return True
        except (OSError, KeyError, IndexError):
            pass
        time.sleep(0.05)
    return False


def stop(p):
    if p.poll() is None:
        p.kill()
        p.wait()


@test
def test_privs_render_drops_the_capability_before_reading():
    if wrapped():
        return
    with tempfile.TemporaryDirectory() as d:
        binary = setcap_copy(d)
        # render - waits for its document on stdin: look at it meanwhile.
        p = subprocess.Popen([*NOBODY, binary, "render", "-", "--format", "dot"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            assert wait_sleeping(p), "render did not wait for its input"
            st = proc_status(p.pid)
            for k in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                assert int(st[k][0], 16) == 0, (k, st[k])
            assert st["NoNewPrivs"] == ["1"], st["NoNewPrivs"]
            assert st["Uid"] == ["65534"] * 4, st["Uid"]
            with open(SAVED_RUN, "rb") as f:
                out, err = p.communicate(f.read(), timeout=60)
            assert p.returncode == 0 and out.startswith(b"digraph"), (p.returncode, err)
        finally:
            stop(p)


@test
def test_privs_gvbindir_plugin_is_never_loaded():
    if wrapped():
        return
    with tempfile.TemporaryDirectory() as d:
        binary = setcap_copy(d)
        plugins, marker = plugin_dir(d)
        # The plugin works: an unprivileged graphviz user does load it.
        home = os.path.join(d, "home")  # an ordinary user's, for fontconfig's cache
        os.mkdir(home)
        os.chmod(home, 0o777)
        env = {"GVBINDIR": plugins, "HOME": home}
        r = run([*NOBODY, os.path.join(d, "loader")], env=env)
        assert os.path.exists(marker), ("a graphviz program did not load the test plugin", r)
        os.unlink(marker)
        out = os.path.join(d, "out")
        os.mkdir(out)
        os.chmod(out, 0o777)
        problems = []
        # render, as an ordinary user with the setcap'd binary.
        r = run([*NOBODY, binary, "render", SAVED_RUN, "-o", os.path.join(out, "r"),
                 "--format", "svg"], env=env)
        if os.path.exists(marker):
            problems.append(("render loaded the caller's plugin: " + open(marker).read(), r))
            os.unlink(marker)
        elif r.rc != 0 or r.err != "" or not os.path.exists(os.path.join(out, "r.svg")):
            problems.append(("render failed", r))
        # A trace with graph output, same user, same environment.
        r = run(["ip", "netns", "exec", PROBER["netns"], *NOBODY, binary, "-q", "-n",
                 "--asn-source", "none", "-p", "80", "-o", os.path.join(out, "t"),
                 "--format", "svg", target("h3", 4, 16)],
                env=dict(env, ROUTEGRAPH_LAB_ONLY="1"))
        if os.path.exists(marker):
            problems.append(("a trace loaded the caller's plugin: " + open(marker).read(), r))
        elif r.rc != 0 or r.err != "" or not os.path.exists(os.path.join(out, "t.svg")):
            problems.append(("the trace failed", r))
        assert not problems, problems


@test
def test_privs_raw_sockets_closed_before_annotation():
    if wrapped():
        return
    with tempfile.TemporaryDirectory() as d:
        binary = setcap_copy(d)
        # A silent DNS server keeps the run in annotation for --dns-timeout;
        # probing one target three hops away takes a few milliseconds.
        stopped = lab("dns", "stop")
        assert stopped.rc == 0, stopped
        p = None
        try:
            p = subprocess.Popen(["ip", "netns", "exec", PROBER["netns"], *NOBODY, binary,
                                  "-q", "--format", "json", "-p", "80", "--asn-source", "none",
                                  "--dns-timeout", "4", target("h3", 4, 17)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(os.environ, ROUTEGRAPH_LAB_ONLY="1"))
            time.sleep(1.5)
            assert p.poll() is None, "the run ended before annotation could be seen"
            st = proc_status(p.pid)
            assert st["Uid"] == ["65534"] * 4 and int(st["CapPrm"][0], 16) == 0, st
            n = raw_socket_fds(p.pid)
            assert n == 0, f"{n} raw sockets still open during annotation"
            out, err = p.communicate(timeout=30)
            assert p.returncode == 0, (p.returncode, err)
            assert json.loads(out)["traces"][0]["state"] == "open", out
        finally:
            if p:
                stop(p)
            lab("dns", "start")


def plain_root_env(**extra):
    """The environment of a root shell that used no sudo, doas or pkexec."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("SUDO_UID", "SUDO_GID", "SUDO_USER", "DOAS_USER", "PKEXEC_UID",
                      "ROUTEGRAPH_USER")}
    e.update(extra)
    return e


@test
def test_privs_plain_root_becomes_nobody():
    wrap = sys.modules["__main__"].WRAP
    slow = 3 if wrap else 1
    binary = sys.modules["__main__"].BIN
    # render - waits for its document: by then it is nobody, in every set.
    p = subprocess.Popen([*wrap, binary, "render", "-", "--format", "dot"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=plain_root_env())
    try:
        assert wait_sleeping(p, 10.0 * slow), "render did not wait for its input"
        time.sleep(0.5 * slow)  # under valgrind: past its own start
        st = proc_status(p.pid)
        assert st["Uid"] == ["65534"] * 4 and st["Gid"] == ["65534"] * 4, (st["Uid"], st["Gid"])
        assert st["Groups"] == ["65534"], st["Groups"]
        with open(SAVED_RUN, "rb") as f:
            out, err = p.communicate(f.read(), timeout=60 * slow)
        assert p.returncode == 0 and out.startswith(b"digraph"), (p.returncode, err)
    finally:
        stop(p)
    # A trace, probing only the silent router so that it waits its --timeout.
    p = subprocess.Popen(["ip", "netns", "exec", PROBER["netns"], *wrap, binary, "-q", "-p", "443",
                          "--min-ttl", "5", "--max-ttl", "5", "-w", str(2 * slow), "-r", "0",
                          target("h2", 4, 21)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=plain_root_env(ROUTEGRAPH_LAB_ONLY="1"))
    try:
        time.sleep(1.0 * slow)
        st = proc_status(p.pid)
        assert st["Uid"] == ["65534"] * 4 and st["Gid"] == ["65534"] * 4, (st["Uid"], st["Gid"])
        assert int(st["CapPrm"][0], 16) == 0 and st["NoNewPrivs"] == ["1"], st
        out, err = p.communicate(timeout=30 * slow)
        assert p.returncode == 0 and b"port unknown: no answer at all" in out, (p.returncode, out, err)
    finally:
        stop(p)


@test
def test_privs_plain_root_refuses_an_unusable_account():
    binary = sys.modules["__main__"].BIN
    for user, why in (("rg-no-such-account", "no such account"), ("root", "it is root")):
        r = run([binary, "render", SAVED_RUN, "--format", "dot"],
                env=plain_root_env(ROUTEGRAPH_USER=user))
        lines = r.err.splitlines()
        assert r.rc == 1 and r.out == "" and len(lines) == 1, (user, r)
        assert user in lines[0] and why in lines[0] and "ROUTEGRAPH_USER" in lines[0], (user, r)
    # A named account is used.
    r = run([binary, "render", SAVED_RUN, "--format", "dot"],
            env=plain_root_env(ROUTEGRAPH_USER="daemon"))
    assert r.rc == 0 and r.out.startswith("digraph"), r
