/* window: the in-flight bound of --max-inflight. A trace enters when it
 * starts and leaves when it ends; no more than `limit` are inside at once
 * (0: no bound), so the probe slots a run holds follow the window, not the
 * number of targets. Pure counting, no clock. */
#ifndef RG_WINDOW_H
#define RG_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rg_window {
    size_t limit;  /* 0: every trace may be in flight */
    size_t active; /* traces inside now */
} rg_window;

/* Takes a place for one trace; false (nothing taken) when full. */
bool rg_window_enter(rg_window *w);
/* A trace that left comes back in (the end-of-run recheck reopened it):
 * counted whatever the bound, since it held a place before. */
void rg_window_return(rg_window *w);
/* Gives back the place of a trace that ended (never below zero). */
void rg_window_leave(rg_window *w);

#endif
