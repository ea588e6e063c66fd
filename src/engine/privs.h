/* privs: the one file allowed to touch capabilities and user ids.
 *
 * Called once in every mode, right after the raw sockets are open (a trace)
 * or straight after the command line is parsed (render and any other mode
 * that probes nothing), before anything reads a file or a reply, resolves a
 * name, starts graphviz or writes a file. Started as root, the process
 * becomes the invoking user of sudo, doas or pkexec (so output files are
 * theirs), or, started as plain root, ROUTEGRAPH_USER ("nobody" by default),
 * and refuses to run if that account does not exist or is root; in every
 * case it ends with no capability in any set, no ambient capability, an empty
 * bounding set where it was allowed to empty it, and no_new_privs. The drop
 * is verified, not assumed. */
#ifndef RG_PRIVS_H
#define RG_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* True when this process started with more than its caller's rights: the
 * kernel set AT_SECURE (file capabilities, setuid), it runs as root, or it
 * holds any capability in its permitted set. */
bool rg_privs_privileged_start(void);

/* In a privileged start, removes the environment variables that make
 * graphviz or the libraries under it load code from a directory of the
 * caller's choosing (GVBINDIR and the like); returns how many it removed.
 * Called first thing in main, before any library can read them. */
size_t rg_privs_scrub_env(void);

/* False (and one line in err) if any step or the verification failed. */
bool rg_privs_drop(char *err, size_t errlen);

#endif
