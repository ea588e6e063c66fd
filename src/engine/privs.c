#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Environment that makes a library load code from a place of the caller's
 * choosing. In a privileged start it is the caller's choice, not the
 * operator's, so it is removed before any library reads it. graphviz 2.42
 * reads GVBINDIR (the plugin directory and its config6a) and no other
 * variable that selects code; the others are read by the libraries its
 * plugins pull in (gdk-pixbuf loaders, GIO and GTK modules). glibc and the
 * dynamic loader already clear theirs (LD_*, GCONV_PATH, ...) when the
 * kernel sets AT_SECURE. */
static const char *const code_env[] = {
    "GVBINDIR", "GDK_PIXBUF_MODULE_FILE", "GDK_PIXBUF_MODULEDIR", "GIO_EXTRA_MODULES",
    "GIO_MODULE_DIR", "GTK_PATH", "GTK_MODULES", "GTK3_MODULES", "GTK_EXE_PREFIX",
    "GTK_IM_MODULE_FILE", "PANGO_LIBDIR", "GCONV_PATH",
};

bool rg_privs_privileged_start(void)
{
    if (getauxval(AT_SECURE) != 0 || getuid() == 0 || geteuid() == 0)
        return true;
    cap_t now = cap_get_proc();
    bool any = false;
    for (cap_value_t c = 0; now && c <= CAP_LAST_CAP && !any; c++) {
        cap_flag_value_t v = CAP_CLEAR;
        if (cap_get_flag(now, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
            any = true;
    }
    cap_free(now);
    return any || now == NULL; /* cannot tell: assume the worst */
}

size_t rg_privs_scrub_env(void)
{
    if (!rg_privs_privileged_start())
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < sizeof code_env / sizeof code_env[0]; i++)
        if (getenv(code_env[i])) {
            unsetenv(code_env[i]);
            n++;
        }
    return n;
}

static bool parse_id(const char *s, unsigned long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > UINT_MAX - 1)
        return false;
    *out = v;
    return true;
}

/* The account a process started as root becomes: the invoking user of
 * sudo (SUDO_UID, SUDO_GID), pkexec (PKEXEC_UID) or doas (DOAS_USER); with
 * none of them, ROUTEGRAPH_USER, by default "nobody". Never root. who says
 * which, for the error line. */
static bool target_user(uid_t *uid, gid_t *gid, const char **who, char *err, size_t errlen)
{
    unsigned long u, g;
    const struct passwd *pw = NULL;
    const char *name;
    if (parse_id(getenv("SUDO_UID"), &u) && parse_id(getenv("SUDO_GID"), &g)) {
        *who = "the sudo user";
        *uid = (uid_t)u;
        *gid = (gid_t)g;
        return true;
    }
    if (parse_id(getenv("PKEXEC_UID"), &u)) {
        *who = "the pkexec user";
        pw = getpwuid((uid_t)u);
        name = pw ? pw->pw_name : getenv("PKEXEC_UID");
    } else if ((name = getenv("DOAS_USER")) && *name) {
        *who = "the doas user";
        pw = getpwnam(name);
    } else {
        name = getenv("ROUTEGRAPH_USER");
        if (!name || !*name)
            name = "nobody";
        *who = "the unprivileged user";
        pw = getpwnam(name);
    }
    if (!pw || pw->pw_uid == 0 || pw->pw_gid == 0) {
        snprintf(err, errlen,
                 "started as root: cannot switch to %s '%.64s' (%s); set ROUTEGRAPH_USER to "
                 "an unprivileged account, or use sudo or setcap",
                 *who, name, pw ? "it is root" : "no such account");
        return false;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return true;
}

/* Started as root (through sudo, doas, pkexec, or plainly): become an
 * unprivileged account, so nothing outside is parsed as root. A setuid-root
 * install: back to the real user. */
static bool switch_user(char *err, size_t errlen)
{
    uid_t uid;
    gid_t g;
    const char *who;
    if (getuid() != 0) {
        if (geteuid() == 0 && (setresgid(getgid(), getgid(), getgid()) != 0 ||
                               setresuid(getuid(), getuid(), getuid()) != 0)) {
            snprintf(err, errlen, "cannot give up the setuid root: %s", strerror(errno));
            return false;
        }
        return true;
    }
    if (!target_user(&uid, &g, &who, err, errlen))
        return false;
    if (setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 || setresuid(uid, uid, uid) != 0) {
        snprintf(err, errlen, "cannot switch to %s %lu: %s", who, (unsigned long)uid,
                 strerror(errno));
        return false;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privilege drop failed: could regain uid 0");
        return false;
    }
    return true;
}

/* Shrinking the bounding set needs CAP_SETPCAP, which only root has here
 * (not a setcap'ed binary), so it is best effort and done before the uid
 * switch; no_new_privs closes the same door in every case. */
static void drop_bounding_set(void)
{
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
        if (cap_drop_bound(c) != 0)
            return;
}

static bool clear_caps(char *err, size_t errlen)
{
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    cap_t none = cap_init();
    if (!none || cap_set_proc(none) != 0) {
        snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
        cap_free(none);
        return false;
    }
    cap_free(none);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
        return false;
    }
    return true;
}

static bool verify(char *err, size_t errlen)
{
    cap_t now = cap_get_proc();
    cap_t none = cap_init();
    bool ok = now && none && cap_compare(now, none) == 0;
    cap_free(now);
    cap_free(none);
    if (!ok)
        snprintf(err, errlen, "privilege drop failed: capabilities remain");
    return ok;
}

bool rg_privs_drop(char *err, size_t errlen)
{
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    drop_bounding_set();
    return switch_user(err, errlen) && clear_caps(err, errlen) &&
           verify(err, errlen);
}
