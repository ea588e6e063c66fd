/* progress: a one-line status on stderr while a run lasts more than a second.
 * Only on a terminal and without -q; the line is erased when the run ends so
 * nothing of it stays in the scrollback or reaches a pipe. */
#ifndef RG_PROGRESS_H
#define RG_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "../engine/engine.h"

typedef struct rg_progress {
    bool enabled;
    bool shown;
    uint64_t start_ns;
} rg_progress;

void rg_progress_init(rg_progress *p, bool quiet);
/* Matches rg_progress_fn; ctx is an rg_progress. */
void rg_progress_update(void *ctx, const rg_engine_progress *pr);
void rg_progress_finish(rg_progress *p);

#endif
