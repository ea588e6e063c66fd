/* mpath: what multipath discovery (--multipath, MDA) measured towards one
 * destination: every probe that came back, with the flow it carried, and
 * per TTL whether MDA's stopping rule was met before it.
 *
 * The record is the measurement itself (flow, TTL, responder); the views
 * below derive the branches of a TTL, the flows that took each branch and
 * the branches before it (the diamonds' edges) from it, so the outputs
 * never disagree with what was measured. A flow is identified by the TCP
 * source port it used (the destination port is the record's).
 *
 * Memory: an rg_run owns its mpaths array (one per destination probed);
 * traces to that destination point at it (rg_trace.mpath, borrowed). The
 * views scan the record: it holds a few hundred probes per destination. */
#ifndef RG_MPATH_H
#define RG_MPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

/* How the exploration of a TTL ended. */
enum rg_mp_hop_state {
    RG_MP_HOP_NONE = 0,  /* not explored */
    RG_MP_HOP_RULE,      /* every branch before it met the stopping rule */
    RG_MP_HOP_LIMIT,     /* some branch hit the probe budget first */
    RG_MP_HOP_SHARED,    /* not probed: another destination of the same /24 or
                          * /48 proved the single next hop there, and this
                          * destination's own flow met that same router */
    RG_MP_HOP_ROUTE,     /* the first TTL: the prober's routing table has one
                          * next hop for the destination, one answer named it */
};

typedef struct rg_mp_obs {
    rg_addr from;        /* the responder */
    uint16_t flow;       /* flow id: TCP/UDP source port, ICMP echo identifier */
    uint8_t ttl;
    uint8_t kind;        /* enum rg_reply_kind */
} rg_mp_obs;

typedef struct rg_mpath {
    rg_addr dst;
    uint16_t dport;
    uint8_t method;      /* enum rg_method: what the flows varied */
    unsigned confidence; /* 95 or 99 */
    unsigned first_ttl, last_ttl; /* TTLs explored */
    uint64_t probes;     /* probes sent for this destination, retries included */
    rg_mp_obs *obs;      /* owned */
    size_t nobs, cap;
    uint8_t hop_state[256]; /* [ttl] enum rg_mp_hop_state */
} rg_mpath;

void rg_mpath_init(rg_mpath *m, const rg_addr *dst, uint16_t dport, unsigned confidence);
void rg_mpath_free(rg_mpath *m);
/* False when out of memory. */
bool rg_mpath_add(rg_mpath *m, const rg_mp_obs *o);

/* The distinct responders at ttl, sorted (rg_addr_compare); returns how
 * many there are, writing at most max. */
size_t rg_mpath_branches(const rg_mpath *m, unsigned ttl, rg_addr *out, size_t max);
/* The flows that took branch a at ttl, ascending; count returned, at most
 * max written. */
size_t rg_mpath_flows(const rg_mpath *m, unsigned ttl, const rg_addr *a,
                      uint16_t *out, size_t max);
/* The branches at ttl - 1 that flows of branch a at ttl came through,
 * sorted: a flow not probed at ttl - 1 came through its single branch
 * when it has only one. */
size_t rg_mpath_preds(const rg_mpath *m, unsigned ttl, const rg_addr *a,
                      rg_addr *out, size_t max);
/* Whether an answer is the destination's: a SYN-ACK, RST, UDP answer or
 * echo reply from the destination's address, or a port unreachable (which
 * the host may send from another of its addresses). */
bool rg_mp_obs_final(const rg_mpath *m, const rg_mp_obs *o);
/* Whether branch a at ttl answered as the destination on some flow. */
bool rg_mpath_is_destination(const rg_mpath *m, unsigned ttl, const rg_addr *a);
/* Whether the destination answered at ttl on some flow. */
bool rg_mpath_reached(const rg_mpath *m, unsigned ttl);

#endif
