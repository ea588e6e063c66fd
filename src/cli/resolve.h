/* resolve: a target name or literal to one address of the wanted family.
 * Literals never touch DNS. Names go through getaddrinfo (so /etc/hosts
 * counts); the first address of the wanted family wins. */
#ifndef RG_RESOLVE_H
#define RG_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/addr.h"
#include "config.h"

/* False with one line in why (not naming the target; the caller does). */
bool rg_resolve(const char *name, enum rg_family_pref want, rg_addr *out,
                char *why, size_t whylen);

#endif
