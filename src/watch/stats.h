/* stats: per-hop statistics of a service watched over many rounds, like
 * mtr's report columns, computed from each round's concluded rg_run.
 *
 * One round counts once per hop, as one mtr probe does: the hop was probed
 * in that round (some probe went out at that TTL), answered (some probe got
 * a reply), or stayed unanswered. An unanswered round is packet loss only
 * when nothing past the hop answered either: a router that rations its ICMP
 * errors (rg_run_infer labels it rate-limited) or a hop whose later hops
 * answered in the same round was crossed by the probes, so that round counts
 * as `limited`, not as loss (mtr #239); a router that never answers anyone
 * counts as `silent`. Hops the engine did not probe because other traces
 * showed them (inference) count as `inferred`, outside the loss figures.
 *
 * Memory: rg_watch_stats_init allocates everything from the first round's
 * shape (traces x TTL rows x a fixed number of responders per hop); adding
 * a round allocates nothing, so memory stays flat however long the watch. */
#ifndef RG_WATCH_STATS_H
#define RG_WATCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"

/* Distinct responders remembered per hop; more are counted in `others`. */
#define RG_WATCH_RESPONDERS 8

typedef struct rg_watch_responder {
    rg_addr addr;
    uint32_t rounds; /* rounds in which it answered at this TTL */
} rg_watch_responder;

/* RTTs in microseconds; mean and m2 by Welford's method. */
typedef struct rg_watch_rtt {
    uint32_t n, last, best, worst;
    double mean, m2;
} rg_watch_rtt;

typedef struct rg_watch_hop {
    uint32_t probed, answered, limited, silent, inferred;
    rg_watch_rtt rtt;
    rg_watch_responder resp[RG_WATCH_RESPONDERS];
    uint32_t nresp, others;
} rg_watch_hop;

typedef struct rg_watch_trace {
    unsigned min_ttl, max_ttl;
    rg_watch_hop *hops;     /* [ttl - min_ttl] */
    uint32_t reached;       /* rounds in which the destination answered */
    uint32_t state[4];      /* rounds per enum rg_port_state */
    uint8_t last_state;     /* enum rg_port_state of the latest round */
    unsigned last_reached_ttl;
    unsigned top_ttl;       /* highest TTL with any figure, for the report */
} rg_watch_trace;

typedef struct rg_watch_stats {
    rg_watch_trace *traces; /* one per trace of the run, same order */
    size_t ntraces;
    uint32_t rounds;
    uint32_t interrupted;   /* rounds cut short by a signal (not added) */
} rg_watch_stats;

/* Shapes the statistics after run's traces; false on no memory. */
bool rg_watch_stats_init(rg_watch_stats *s, const rg_run *run);
void rg_watch_stats_free(rg_watch_stats *s);

/* Adds one concluded (and inferred) round; run must have the shape given
 * to init (same traces in the same order). */
void rg_watch_stats_add(rg_watch_stats *s, const rg_run *run);

/* Packet loss in percent: unanswered rounds that were neither limited nor
 * silent, of the rounds probed; 0 when never probed. */
double rg_watch_loss_pct(const rg_watch_hop *h);
/* Standard deviation of the RTTs in microseconds (0 below two samples). */
double rg_watch_rtt_stddev(const rg_watch_rtt *r);

#endif
