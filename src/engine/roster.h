/* roster: which traces the engine's scheduling pass visits. Traces in flight
 * (started and not done) sit in one of two round-robin lists, pilots and
 * the others; traces not started yet wait in start order, pilots first,
 * each group in trace order. So a pass costs what is in flight, not the
 * number of traces in the run, and a trace never started costs 8 bytes
 * here. Pure bookkeeping: no clock, no sockets. */
#ifndef RG_ROSTER_H
#define RG_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_ROSTER_NONE UINT32_MAX

enum rg_roster_group { RG_ROSTER_PILOTS = 0, RG_ROSTER_OTHERS = 1, RG_ROSTER_GROUPS = 2 };

typedef struct rg_roster_list {
    uint32_t head, tail;
    uint32_t cursor; /* where the next pass begins; NONE: at head */
    size_t len;
} rg_roster_list;

typedef struct rg_roster {
    size_t n, cap;              /* traces, and room for them */
    uint32_t *prev, *next;      /* per trace: its neighbours in its list */
    uint8_t *group;             /* per trace: enum rg_roster_group, set once */
    uint32_t *pilots;           /* the pilots in trace order, not yet started */
    size_t npilots, pilot_at, pilots_cap;
    size_t other_at;            /* first index that may be an unstarted other */
    rg_roster_list list[RG_ROSTER_GROUPS];
} rg_roster;

/* n traces, none started; is_pilot[i] says which group trace i is in. */
bool rg_roster_init(rg_roster *r, size_t n, const bool *is_pilot);
void rg_roster_free(rg_roster *r);

/* Trace n (the next index) joins the run, not started, in its group: for
 * traces taken in while the run goes (lazy targets). False out of memory. */
bool rg_roster_add(rg_roster *r, bool is_pilot);

/* The next trace of group g to start, or RG_ROSTER_NONE when all have. */
uint32_t rg_roster_waiting(const rg_roster *r, enum rg_roster_group g);
/* Starts that trace: it joins the tail of its group's list. */
void rg_roster_start(rg_roster *r, enum rg_roster_group g);

/* A trace in flight ended: it leaves its list (a pass's cursor on it moves
 * to its successor). */
void rg_roster_leave(rg_roster *r, uint32_t t);
/* A trace that left comes back (reopened): the tail of its list. */
void rg_roster_rejoin(rg_roster *r, uint32_t t);

/* Where a pass over group g begins (RG_ROSTER_NONE: the list is empty). */
uint32_t rg_roster_first(const rg_roster *r, enum rg_roster_group g);
/* The trace after t in its list, wrapping from the tail to the head. */
uint32_t rg_roster_after(const rg_roster *r, uint32_t t);
/* The next pass over t's group begins after t (the rate stopped at t). */
void rg_roster_resume_after(rg_roster *r, uint32_t t);

#endif
