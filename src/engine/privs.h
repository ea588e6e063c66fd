/* privs: the one file allowed to touch capabilities and user ids.
 *
 * Called once, right after the raw sockets are open and before anything
 * reads a reply, resolves a name or writes a file. Started through sudo, the
 * process becomes the invoking user (so output files are theirs); in every
 * case it ends with no capability in any set, no ambient capability, an empty
 * bounding set where it was allowed to empty it, and no_new_privs. The drop
 * is verified, not assumed. */
#ifndef RG_PRIVS_H
#define RG_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* False (and one line in err) if any step or the verification failed. */
bool rg_privs_drop(char *err, size_t errlen);

#endif
