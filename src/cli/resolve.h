/* resolve: a target name or literal to one address of the wanted family.
 * Literals never touch DNS. Names go through getaddrinfo (so /etc/hosts
 * counts); the first address of the wanted family wins, and the caller
 * learns how many others the name had so it can say they were not traced. */
#ifndef RG_RESOLVE_H
#define RG_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/addr.h"
#include "config.h"

struct addrinfo;

/* Distinct addresses of each allowed family a target resolved to. */
typedef struct rg_addr_count {
    unsigned v4, v6;
} rg_addr_count;

/* False with one line in why (not naming the target; the caller does).
 * On success count holds at least the one address in out (a literal: 1). */
bool rg_resolve(const char *name, enum rg_family_pref want, rg_addr *out,
                rg_addr_count *count, char *why, size_t whylen);

/* The pure parts of rg_resolve, for tests. */

/* Counts the distinct addresses of the allowed families in res and puts the
 * first of them in out; false (out zeroed) when there is none. */
bool rg_resolve_pick(const struct addrinfo *res, enum rg_family_pref want,
                     rg_addr *out, rg_addr_count *count);
/* why for getaddrinfo's rc: "no data" under -4/-6 says which family was
 * missing, since glibc's text does not. */
void rg_resolve_failure(int rc, enum rg_family_pref want, char *why, size_t whylen);
/* The one-line warning that name had more addresses of the traced family
 * than the one traced (name escaped, printable ASCII only); false (buf "")
 * when it had one (a dual-stack name with one of each gets no warning). */
bool rg_resolve_many_warning(char *buf, size_t len, const char *name,
                             const rg_addr_count *count, const rg_addr *traced);

#endif
