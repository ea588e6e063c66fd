/* stopset: the global stop set of the opt-in Doubletree mode: every router
 * address some trace has already heard from, with the trace that heard it
 * first. A trace probing back towards the prober stops at the first hop
 * another trace has already found, since the way from there to the prober
 * is already known. Fixed capacity, allocated once; a full set stops
 * nothing (it only costs savings, never correctness). */
#ifndef RG_STOPSET_H
#define RG_STOPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

typedef struct rg_stopset_entry {
    rg_addr addr;
    uint32_t owner; /* trace index + 1; 0 = empty */
} rg_stopset_entry;

typedef struct rg_stopset {
    rg_stopset_entry *slots;
    size_t mask, n;
} rg_stopset;

bool rg_stopset_init(rg_stopset *s, size_t expected);
void rg_stopset_free(rg_stopset *s);
/* Records addr for trace `owner` unless present; returns the trace that
 * found it first (owner itself when it is new, or when the set is full). */
uint32_t rg_stopset_claim(rg_stopset *s, const rg_addr *addr, uint32_t owner);

#endif
