/* engine: sends the probes of every trace and matches the replies.
 *
 * A global token bucket paces probes at --rate; a round-robin pass over the
 * traces in flight (roster.h: the window, not the whole run) interleaves
 * them so that no router sees a burst from one trace. Within a trace, TTL n+1 goes out as
 * soon as TTL n has answered, or once an RTT-derived wait has passed without
 * an answer, so a silent hop does not hold the trace up. Nothing is sent past
 * the TTL at which the destination (or an unreachable) answered, on this
 * trace or another trace to the same address; retries go only to TTLs still
 * silent after --timeout; a trace ends after --gap silent TTLs past its last
 * answer.
 *
 * Port probes: one per trace, at a high TTL, first (the port's state and,
 * from its answer's TTL, the destination's distance, below which every TTL
 * may go at once); with opts.port_probe_last only at the end, when the
 * hops did not show the destination's state.
 *
 * Port checks: an RST from the destination proves nothing when an earlier
 * probe of the trace may have left a half-open connection there (its SYN-ACK
 * lost on the way back; rg_trace_rst_trusted). The engine then sends the
 * same probe again, a port check, once that RST is in: the RST ended the
 * half-open state, so the check's answer is the port's own. Checks go only
 * after such a doubtful RST, in the free probe slots of that TTL and the
 * TTLs above it (all reach the destination), up to a budget per trace.
 *
 * Opt-in stop-set mode (Doubletree): each trace starts at a higher TTL,
 * probes forward to its destination, then back towards the prober, and stops
 * going back at the first router another trace has already heard from. It
 * sends fewer probes than one per hop when targets share their first hops,
 * at the price of not seeing hops below the stop point on every trace.
 *
 * In-flight window (--max-inflight): at most that many traces are started
 * and not yet done; the next trace starts when one ends. With a trace_done
 * hook each trace is handed over once, when it ends; the end-of-run recheck
 * of inferred hops then leaves handed traces alone (they were written).
 *
 * Lazy targets (opts.feed): the run starts with the traces it has (none,
 * or the command line's) and asks the feed for more as the window frees
 * room; a fed trace learns its pilot role (the first RG_INFER_WITNESSES
 * towards its prefix) and its siblings (earlier traces to its address not
 * yet handed over) as it arrives (intake.h). The run ends when the feed
 * has ended and every trace has.
 *
 * Memory: the run-wide structures are allocated once in rg_engine_run
 * before the first probe; a trace's probe slots (rg_trace_alloc) and the
 * engine's per-slot state are allocated when it enters the window, so a
 * run holds the slots of the traces in flight plus those kept for the
 * outputs. Otherwise the send/receive loop allocates nothing. The engine
 * writes into run->traces' probe slots and run->stats. A trace the hook
 * released keeps no engine state either. With opts.compact a trace kept
 * after it ends is compacted (rg_trace_compact) and expanded again only if
 * it is probed once more. */
#ifndef RG_ENGINE_H
#define RG_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"
#include "sockets.h"

/* A trace the engine has finished with for good: concluded, its silence
 * labels set from what the run knows now, never probed again. The hook may
 * write it and release its probe slots (rg_trace_release); the engine then
 * frees its own state for that trace too. */
typedef void (*rg_trace_done_fn)(void *ctx, rg_run *run, size_t trace);

/* Lazy targets: asked for more traces whenever the in-flight window has
 * room and every trace fed so far has started. Appends up to about room
 * traces to run (the ports of one target together, so room may be passed
 * by a few), each planned deferred (rg_trace_init_deferred) and prepared
 * (rg_engine_prepare_trace); no two with the same address and port.
 * Returns false once nothing more will come. */
typedef bool (*rg_trace_feed_fn)(void *ctx, rg_run *run, size_t room);

typedef struct rg_engine_opts {
    unsigned rate;    /* probes per second */
    double timeout;   /* seconds before a probe counts as lost */
    unsigned gap;     /* silent TTLs past the last answer that end a trace */
    unsigned retries; /* extra probes for a silent TTL */
    unsigned stop_set_start; /* 0: off; else Doubletree mode starting at this TTL */
    unsigned max_inflight;   /* 0: no bound; else traces started and not done */
    rg_trace_done_fn trace_done; /* NULL: traces are only read after the run */
    bool compact;     /* a finished trace kept is compacted (rg_trace_compact) */
    /* The port probe goes last, and only when the hops ended on no answer
     * of the destination's (or an unreachable's): for ICMP echo with
     * --multipath, where the trace's own echo reply (multipath's flow 0)
     * already says what a port probe would. Costs the early distance, so
     * TTLs go one after another. */
    bool port_probe_last;
    void *trace_done_ctx;
    rg_trace_feed_fn feed;       /* NULL: run->traces is every trace of the run */
    void *feed_ctx;
    size_t feed_max;             /* traces the feed may add in all (sizes the tables) */
} rg_engine_opts;

typedef struct rg_engine_progress {
    size_t traces_done, traces_total;
    uint64_t probes_sent, replies;
} rg_engine_progress;

typedef void (*rg_progress_fn)(void *ctx, const rg_engine_progress *p);

/* Gives a trace its random source port (unless fixed_sport), sequence base
 * and flow label. src must already be set. */
void rg_engine_prepare_trace(rg_trace *t, uint16_t fixed_sport);

/* Runs until every trace has ended or *stop becomes non-zero. progress (may
 * be NULL) is called about every 100 ms. False (err set) on a fatal error. */
bool rg_engine_run(rg_run *run, const rg_sockets *socks,
                   const rg_engine_opts *opts, rg_progress_fn progress,
                   void *ctx, volatile sig_atomic_t *stop, char *err,
                   size_t errlen);

#endif
