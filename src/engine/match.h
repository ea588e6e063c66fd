/* match: from a parsed reply to the one probe it answers.
 *
 * A hash table keyed on the trace signature (destination address, destination
 * port, flow id: the source port, or the ICMP identifier with port 0) finds
 * the trace in O(1); the reply's protocol must be the trace's method's, and
 * the sequence number or 16-bit ident then names TTL and attempt directly
 * (probe.h). Nothing scans. A reply that fails any
 * check (unknown signature, wrong source address, identity outside the slots,
 * a probe never sent) is reported as unmatched and never touches a hop. */
#ifndef RG_MATCH_H
#define RG_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"
#include "../probe/reply.h"

typedef struct rg_match_table {
    uint32_t *slots;   /* trace index + 1; 0 = empty */
    size_t mask;       /* capacity - 1, capacity a power of two */
    const rg_trace *traces;
} rg_match_table;

/* Indexes traces[0..n); false on allocation failure or if two traces share
 * a signature (the caller must prevent that). */
bool rg_match_init(rg_match_table *m, const rg_trace *traces, size_t n);
/* Lazy targets: traces[from..n) were appended (traces may have moved);
 * indexes them too, doubling the table to stay at most half full. False
 * on allocation failure or a shared signature. */
bool rg_match_add(rg_match_table *m, const rg_trace *traces, size_t from, size_t n);
void rg_match_free(rg_match_table *m);
/* A trace about to be dropped (model/trace_store.h) leaves the table
 * without its record being read again: its entry's position, taken while
 * the record is there (SIZE_MAX: not indexed), then rg_match_forget marks
 * it gone; lookups pass over it and the next doubling leaves it out. */
size_t rg_match_position(const rg_match_table *m, size_t trace);
void rg_match_forget(rg_match_table *m, size_t pos);

typedef struct rg_match {
    size_t trace;
    unsigned ttl, attempt;
} rg_match;

/* True and *out set when r answers a probe that was sent. */
bool rg_match_reply(const rg_match_table *m, const rg_reply *r, rg_match *out);

/* For a reply rg_match_reply refused: true and *out set when r is an ICMP
 * error whose quote names a probe that was sent (signature and secret)
 * with another source address of the same family: a NAT on the path that
 * does not restore quotes, or a forgery. It stays unmatched (never a hop's
 * answer); model/middlebox reports it as evidence. */
bool rg_match_rewritten_source(const rg_match_table *m, const rg_reply *r, rg_match *out);

#endif
