/* intake: what the engine needs to know of a trace that arrives while the
 * run goes on (lazy targets, engine.h's feed hook), which a run planned
 * whole learns by sorting all its traces: whether it is one of the first
 * RG_INFER_WITNESSES traces towards its destination prefix (a pilot), and
 * the latest trace to the same address (its sibling, so the ports of an
 * address share a distance and are handed over together). Two hash
 * tables, each at most half full and doubled when needed; their size
 * follows the prefixes and addresses seen, a few bytes each. */
#ifndef RG_INTAKE_H
#define RG_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"

typedef struct rg_scope_count {
    uint32_t scope, count; /* count 0: empty */
} rg_scope_count;

typedef struct rg_intake {
    rg_scope_count *scopes;
    size_t scope_mask, nscopes;
    uint32_t *latest;      /* trace index + 1 per address; 0 = empty */
    size_t latest_mask, naddrs;
} rg_intake;

bool rg_intake_init(rg_intake *in);
void rg_intake_free(rg_intake *in);
/* Counts one more trace towards scope; the count after it (1 for the
 * first), or 0 when out of memory. */
uint32_t rg_intake_count_scope(rg_intake *in, uint32_t scope);
/* The latest trace before traces[trace] to its address (index + 1; 0:
 * none), and records traces[trace] as the latest (UINT32_MAX: out of
 * memory). traces is the run's array as it is now (it may have moved). */
uint32_t rg_intake_latest(rg_intake *in, const rg_trace *traces, uint32_t trace);
/* As rg_match_position / rg_match_forget: a trace about to be dropped
 * (model/trace_store.h) leaves the table of latest traces, if it is its
 * address's latest, without its record being read again. */
size_t rg_intake_position(const rg_intake *in, const rg_trace *traces, uint32_t trace);
void rg_intake_forget(rg_intake *in, size_t pos);

#endif
