/* changes: the services of a run compared with a baseline run (diff.h),
 * round after round, written as text lines and JSON events.
 *
 * Memory: one rg_service per trace of the run, allocated once by init;
 * comparing a round allocates only the JSON events it reports. */
#ifndef RG_WATCH_CHANGES_H
#define RG_WATCH_CHANGES_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/result.h"
#include "diff.h"

typedef struct rg_changes {
    rg_service *svc;   /* one per trace of the run, same order */
    size_t n;
    uint64_t reported; /* changes reported so far */
} rg_changes;

struct json_t;

/* False on no memory. baseline is only read during init. */
bool rg_changes_init(rg_changes *c, const rg_run *baseline, const rg_run *run);
void rg_changes_free(rg_changes *c);

/* Compares every concluded, complete trace of run (same traces as at init)
 * with its service. Each change is written to text (may be NULL) as one line
 * "LABEL  VERDICT: details" and appended to events (may be NULL) as an
 * object; with all, unchanged services get a line and an event too (diff).
 * round 0: not in a watch (no "round" key). Returns the changes found. */
size_t rg_changes_compare(rg_changes *c, const rg_run *run, FILE *text,
                          struct json_t *events, bool all, unsigned round);

#endif
