/* paths: the AS-path view after the classic table, when the run was
 * annotated. First the AS path of each trace on one line
 * (`AS64500 -> AS64501 -> AS64502`; the ports of a target that share a
 * path on one line), with each AS's organisation once; then each trace's
 * hops in aligned columns under a header (Hop, Address, Name, AS, Country,
 * RTT), like `mtr -z --report`. Silent and rate-limited hops use the
 * table's symbols (`-`, `~`). */
#ifndef RG_PATHS_H
#define RG_PATHS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../model/result.h"

/* True when any host carries an AS number or a name worth a view. */
bool rg_paths_wanted(const rg_run *run);
/* The ASes the trace's answers crossed, in TTL order, each stretch once,
 * unknown ones passed over; at most max. Pure. */
size_t rg_paths_as_path(const rg_run *run, const rg_trace *t, uint32_t *as, size_t max);
/* False on write error or no memory. */
bool rg_paths_write(FILE *out, const rg_run *run);

#endif
