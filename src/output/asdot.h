/* asdot: the AS-level graph (graph/asgraph.h) as Graphviz DOT text, laid
 * out and drawn by the same path as the router-level graph (render.h).
 *
 * Promises:
 * - Node names are generated identifiers only: "prober", "AS<n>",
 *   "asunk<n>" (never an address, so never a router-level node's name).
 * - An AS node shows its number, organisation and countries, how many
 *   addresses and traces it holds, and, for destinations, its services: one
 *   row per port (at most RG_ASDOT_PORTS, then how many more) with a cell
 *   per state and its trace count, coloured as the router-level graph's.
 * - An edge's pen width grows with the log of the traces crossing it
 *   (1 for one trace, at most 8) and its label is that count; edges of
 *   unreached traces to their destination's AS are dotted, "N not reached".
 * - Every outside string (AS organisation, credit) is escaped as dot.h
 *   escapes it; byte-for-byte deterministic for a given AS graph. */
#ifndef RG_ASDOT_H
#define RG_ASDOT_H

#include <stdbool.h>
#include <stdio.h>

#include "../graph/asgraph.h"

#define RG_ASDOT_PORTS 8

/* False on a write error. */
bool rg_asdot_write(FILE *out, const rg_asgraph *g);

/* The same, shaped as an rg_writer_fn (util/atomic.h); ctx is the AS graph. */
bool rg_asdot_writer(FILE *out, const void *asgraph);

#endif
