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

/* The line shown: counts, elapsed time and an estimate of the time left
 * ("traces 5/8 done, 60 probes sent, 45 replies, 3.2 s, about 2 s left").
 * Pure, for tests; returns its length. */
size_t rg_progress_line(char *buf, size_t len, const rg_engine_progress *pr,
                        uint64_t elapsed_ns);
void rg_progress_init(rg_progress *p, bool quiet);
/* Matches rg_progress_fn; ctx is an rg_progress. */
void rg_progress_update(void *ctx, const rg_engine_progress *pr);
void rg_progress_finish(rg_progress *p);

#endif
