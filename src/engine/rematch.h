/* rematch: the ICMP errors whose quote a middlebox rewrote, attributed to
 * the one probe they quote, or to none.
 *
 * match.h keys on the quoted destination and ports and then on the quoted
 * sequence number; a middlebox that rewrites one of them leaves a quote
 * that names no probe there. This module looks such a quote up again by
 * the fields that were not rewritten, and accepts it only when the
 * per-trace secret proves it ours and exactly one probe fits:
 * - one or both ports rewritten (TCP): the destination (and the source
 *   port, when it is intact) pick the candidate traces, and the quoted
 *   sequence number (32-bit secret + identity) with our source address
 *   must name a sent probe of exactly one of them. Such a quote is the
 *   hop's own answer.
 * - the destination rewritten, its port too or not (TCP, port
 *   forwarding): the source port picks the candidates, the sequence
 *   number proves it. Evidence only, never a hop's answer: a forger that
 *   saw the probe can send just that quote (test_hostile.py's te-dst).
 * - the sequence number shifted (TCP over IPv4): destination, ports and
 *   source name the trace, and the IP ID (16 secret bits + identity)
 *   names the probe; the shift is the quoted sequence number minus the
 *   sent one. Evidence only: without the sequence number nothing proves
 *   the quote ours. IPv6 has no IP ID: a shift there is not attributed.
 * UDP and ICMP traces are never rematched. A lookup examines at most
 * RG_REMATCH_SCAN traces of its chain: a key most traces share (a fixed source
 * port, thousands of ports to one destination) leaves such quotes
 * unattributed rather than cost O(traces) per stray error. The indexes are
 * built on first use (most runs never need them) and owned here. */
#ifndef RG_REMATCH_H
#define RG_REMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"
#include "../probe/reply.h"

enum rg_rematch_kind {
    RG_REMATCH_NONE = 0,
    RG_REMATCH_PORTS,         /* a port rewritten: the hop's answer */
    RG_REMATCH_DST,           /* the destination rewritten: evidence */
    RG_REMATCH_SEQ,           /* the sequence number shifted: evidence */
};

#define RG_REMATCH_SCAN 1024

/* A hash of chains: head[hash & mask] is the first trace (index + 1; 0:
 * none) of its bucket, next[trace] the following one. Chains, not open
 * addressing: thousands of traces may share a key (a fixed source port),
 * and each is still added in O(1). */
typedef struct rg_rematch_index {
    uint32_t *head, *next;
    size_t mask;
} rg_rematch_index;

typedef struct rg_rematch {
    const rg_trace *traces;
    size_t n;
    /* NULL, or the run whose traces these are: the ones it dropped once
     * written (model/trace_store.h) are skipped without being read. Set
     * after rg_rematch_init. */
    const rg_run *run;
    bool built, failed;
    rg_rematch_index by_dst_sport, by_dst, by_sport;
} rg_rematch;

typedef struct rg_rematch_result {
    uint8_t kind;             /* enum rg_rematch_kind */
    size_t trace;
    unsigned ttl, attempt;
    int32_t shift;            /* RG_REMATCH_SEQ: quoted seq - sent seq */
} rg_rematch_result;

/* Nothing allocated until the first rg_rematch_find. */
void rg_rematch_init(rg_rematch *m, const rg_trace *traces, size_t n);
void rg_rematch_free(rg_rematch *m);

/* Lazy targets: traces[from..n) were appended (traces may have moved).
 * Built indexes take them in, or are dropped to be built again on next
 * need once they would be more than half full (or on no memory). */
void rg_rematch_add(rg_rematch *m, const rg_trace *traces, size_t from, size_t n);

/* For an ICMP error match.h did not attribute (nor as a rewritten
 * source): the probe it quotes and how the quote differs, or false. A
 * reply that fits two probes is attributed to neither. */
bool rg_rematch_find(rg_rematch *m, const rg_reply *r, rg_rematch_result *out);

#endif
