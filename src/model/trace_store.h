/* trace_store: the trace records of a run that writes each trace as it
 * ends (the streamed output alone), kept so that memory stays flat.
 *
 * The engine and its indexes (match, rematch, intake, the feeder's) name a
 * trace by its index in run->traces, so the records may not move. The
 * store reserves one mapping for the most traces the run may hold (address
 * space only: a page costs memory once a trace on it is written to), and a
 * trace written and dropped gives its name and everything it owns back at
 * once and its record's page back to the kernel when every trace on that
 * page has gone.
 *
 * A dropped trace reads as all zeros: no name, no probe slots, destination
 * family 0. Nothing may read or write a dropped record: either takes its
 * page back (a read maps a fresh page here, not the kernel's shared zero
 * page). So the tables that name traces by index forget a trace when it is
 * dropped (rg_match_forget, rg_intake_forget), the feeder keeps its own
 * keys, and every pass over the run's traces (rematch, rg_run_conclude,
 * rg_run_infer, the engine's end of run) asks rg_trace_store_dropped
 * first. */
#ifndef RG_TRACE_STORE_H
#define RG_TRACE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* run->traces becomes a store with room for max traces (run has none
 * yet); false (run unchanged) when the mapping or its tables fail. */
bool rg_trace_store_open(rg_run *run, size_t max);
/* The most traces the store holds (run->store set). */
size_t rg_trace_store_room(const rg_run *run);
/* Frees what trace i owns (rg_trace_free) and, when no other trace on them
 * is left, the pages of its record. Nothing when already dropped or when
 * run has no store. */
void rg_trace_store_drop(rg_run *run, size_t i);
/* Whether trace i was dropped (false without a store, or run NULL). */
bool rg_trace_store_dropped(const rg_run *run, size_t i);
/* Traces dropped so far (0 without a store). */
size_t rg_trace_store_ndropped(const rg_run *run);
/* Frees the traces still held and the mapping (rg_run_free's part). */
void rg_trace_store_close(rg_run *run);

#endif
