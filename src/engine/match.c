#include "match.h"

#include <stdlib.h>

#include "../probe/probe.h"

#define GONE UINT32_MAX /* a dropped trace's entry (rg_match_forget) */

static uint64_t key_hash(const rg_addr *dst, uint16_t dport, uint16_t sport)
{
    return rg_addr_hash(dst, (uint64_t)dport << 16 | sport);
}

static bool same_key(const rg_trace *t, const rg_addr *dst, uint16_t dport,
                     uint16_t sport)
{
    return t->dport == dport && t->sport == sport && rg_addr_equal(&t->dst, dst);
}

/* Index of the slot holding the key, or of the empty slot where it belongs. */
static size_t find_slot(const rg_match_table *m, const rg_addr *dst,
                        uint16_t dport, uint16_t sport)
{
    size_t i = (size_t)key_hash(dst, dport, sport) & m->mask;
    while (m->slots[i] != 0 &&
           (m->slots[i] == GONE || !same_key(&m->traces[m->slots[i] - 1], dst, dport, sport)))
        i = (i + 1) & m->mask;
    return i;
}

bool rg_match_init(rg_match_table *m, const rg_trace *traces, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->traces = traces;
    if (!m->slots || n >= UINT32_MAX)
        goto fail;
    for (size_t t = 0; t < n; t++) {
        size_t i = find_slot(m, &traces[t].dst, traces[t].dport, traces[t].sport);
        if (m->slots[i] != 0)
            goto fail;
        m->slots[i] = (uint32_t)(t + 1);
    }
    return true;
fail:
    rg_match_free(m);
    return false;
}

/* Twice the capacity, every trace indexed so far put in again. */
static bool grow(rg_match_table *m)
{
    size_t cap = (m->mask + 1) * 2;
    uint32_t *old = m->slots;
    size_t oldcap = m->mask + 1;
    if (!(m->slots = calloc(cap, sizeof *m->slots))) {
        m->slots = old;
        return false;
    }
    m->mask = cap - 1;
    for (size_t k = 0; k < oldcap; k++) {
        if (!old[k] || old[k] == GONE)
            continue;
        const rg_trace *t = &m->traces[old[k] - 1];
        m->slots[find_slot(m, &t->dst, t->dport, t->sport)] = old[k];
    }
    free(old);
    return true;
}

bool rg_match_add(rg_match_table *m, const rg_trace *traces, size_t from, size_t n)
{
    m->traces = traces;
    if (n >= UINT32_MAX)
        return false;
    while (n * 2 > m->mask + 1)
        if (!grow(m))
            return false;
    for (size_t t = from; t < n; t++) {
        size_t i = find_slot(m, &traces[t].dst, traces[t].dport, traces[t].sport);
        if (m->slots[i] != 0)
            return false;
        m->slots[i] = (uint32_t)(t + 1);
    }
    return true;
}

size_t rg_match_position(const rg_match_table *m, size_t trace)
{
    const rg_trace *t = &m->traces[trace];
    size_t i = m->slots ? find_slot(m, &t->dst, t->dport, t->sport) : 0;
    return m->slots && m->slots[i] == trace + 1 ? i : SIZE_MAX;
}

void rg_match_forget(rg_match_table *m, size_t pos)
{
    if (m->slots && pos <= m->mask)
        m->slots[pos] = GONE;
}

void rg_match_free(rg_match_table *m)
{
    free(m->slots);
    m->slots = NULL;
}

/* The probe a reply names. TCP: the sequence number. UDP / ICMP: the 16-bit
 * ident, and the 32-bit seq must agree whenever the reply carries it; a UDP
 * answer has only the seq an echoing service returned. */
static bool reply_identity(const rg_trace *t, const rg_reply *r, unsigned *ttl,
                           unsigned *attempt)
{
    if (t->method == RG_METHOD_TCP)
        return r->has_seq && rg_probe_identity(t->seq_base, r->seq, ttl, attempt);
    if (!r->has_ident)
        return r->has_seq && rg_probe_identity(t->seq_base, r->seq, ttl, attempt);
    if (!rg_probe_identity16(t->seq_base, r->ident, ttl, attempt))
        return false;
    return !r->has_seq || r->seq == rg_probe_seq(t->seq_base, *ttl, *attempt);
}

/* The match itself; any_source: the quoted source must differ from ours
 * (same family) instead of being it. */
static bool match(const rg_match_table *m, const rg_reply *r, bool any_source,
                  rg_match *out)
{
    if (!m->slots)
        return false;
    size_t i = find_slot(m, &r->probe_dst, r->dport, r->sport);
    if (m->slots[i] == 0)
        return false;
    size_t ti = m->slots[i] - 1;
    const rg_trace *t = &m->traces[ti];
    if (rg_addr_equal(&r->probe_src, &t->src) == any_source ||
        r->probe_src.family != t->src.family ||
        r->probe_proto != rg_method_proto(t->method, t->dst.family))
        return false;
    unsigned ttl, attempt;
    if (!reply_identity(t, r, &ttl, &attempt))
        return false;
    if (attempt >= rg_trace_sent(t, ttl))
        return false; /* outside the slots, or a probe not yet sent */
    out->trace = ti;
    out->ttl = ttl;
    out->attempt = attempt;
    return true;
}

bool rg_match_reply(const rg_match_table *m, const rg_reply *r, rg_match *out)
{
    return match(m, r, false, out);
}

bool rg_match_rewritten_source(const rg_match_table *m, const rg_reply *r, rg_match *out)
{
    if (r->kind != RG_REPLY_TIME_EXCEEDED && r->kind != RG_REPLY_UNREACHABLE)
        return false;
    return match(m, r, true, out);
}
