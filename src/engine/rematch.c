#include "rematch.h"

#include <stdlib.h>

#include "../probe/probe.h"
#include "../model/trace_store.h"
#include "../probe/wire.h"

#define PROTO_TCP 6

/* Which fields of the quote key an index: the ones a rewrite left alone. */
enum key_kind { KEY_DST_SPORT, KEY_DST, KEY_SPORT };

typedef struct key {
    rg_addr dst;              /* family 0 for KEY_SPORT */
    uint16_t sport;           /* 0 for KEY_DST */
} key;

static key key_of(enum key_kind k, const rg_addr *dst, uint16_t sport)
{
    switch (k) {
    case KEY_DST_SPORT: return (key){.dst = *dst, .sport = sport};
    case KEY_DST: return (key){.dst = *dst};
    default: return (key){.sport = sport};
    }
}

static key trace_key(enum key_kind k, const rg_trace *t)
{
    return key_of(k, &t->dst, t->sport);
}

static uint64_t key_hash(const key *k)
{
    rg_addr none = {0};
    return rg_addr_hash(k->dst.family ? &k->dst : &none, k->sport);
}

static bool key_equal(const key *x, const key *y)
{
    return x->sport == y->sport && x->dst.family == y->dst.family &&
           (x->dst.family == 0 || rg_addr_equal(&x->dst, &y->dst));
}

/* Chains the TCP traces [from, n) under their keys. */
static void index_insert(rg_rematch_index *ix, enum key_kind k, const rg_run *run,
                         const rg_trace *traces, size_t from, size_t n)
{
    for (size_t t = from; t < n; t++) {
        if (rg_trace_store_dropped(run, t) || traces[t].method != RG_METHOD_TCP)
            continue; /* dropped once written: not read (trace_store.h) */
        key kt = trace_key(k, &traces[t]);
        size_t b = (size_t)key_hash(&kt) & ix->mask;
        ix->next[t] = ix->head[b];
        ix->head[b] = (uint32_t)(t + 1);
    }
}

/* Every TCP trace under its key; the buckets at most half full. */
static bool index_build(rg_rematch_index *ix, enum key_kind k, const rg_run *run,
                        const rg_trace *traces, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    ix->head = calloc(cap, sizeof *ix->head);
    ix->next = calloc(n ? n : 1, sizeof *ix->next);
    ix->mask = cap - 1;
    if (!ix->head || !ix->next)
        return false;
    index_insert(ix, k, run, traces, 0, n);
    return true;
}

static bool build(rg_rematch *m)
{
    if (m->built || m->failed)
        return m->built;
    if (m->n >= UINT32_MAX ||
        !index_build(&m->by_dst_sport, KEY_DST_SPORT, m->run, m->traces, m->n) ||
        !index_build(&m->by_dst, KEY_DST, m->run, m->traces, m->n) ||
        !index_build(&m->by_sport, KEY_SPORT, m->run, m->traces, m->n)) {
        rg_rematch_free(m);
        m->failed = true; /* out of memory: quotes stay unattributed */
        return false;
    }
    m->built = true;
    return true;
}

void rg_rematch_init(rg_rematch *m, const rg_trace *traces, size_t n)
{
    *m = (rg_rematch){.traces = traces, .n = n};
}

void rg_rematch_free(rg_rematch *m)
{
    rg_rematch_index *ix[] = {&m->by_dst_sport, &m->by_dst, &m->by_sport};
    for (size_t i = 0; i < sizeof ix / sizeof ix[0]; i++) {
        free(ix[i]->head);
        free(ix[i]->next);
        ix[i]->head = ix[i]->next = NULL;
    }
    m->built = false;
}

void rg_rematch_add(rg_rematch *m, const rg_trace *traces, size_t from, size_t n)
{
    m->traces = traces;
    m->n = n;
    if (!m->built)
        return;
    rg_rematch_index *ix[] = {&m->by_dst_sport, &m->by_dst, &m->by_sport};
    static const enum key_kind kinds[] = {KEY_DST_SPORT, KEY_DST, KEY_SPORT};
    if (n >= UINT32_MAX || n * 2 > m->by_dst.mask + 1) {
        rg_rematch_free(m); /* built again, twice as large, on next need */
        return;
    }
    for (size_t i = 0; i < 3; i++) {
        uint32_t *next = realloc(ix[i]->next, n * sizeof *next);
        if (!next) {
            rg_rematch_free(m);
            return;
        }
        ix[i]->next = next;
        index_insert(ix[i], kinds[i], m->run, traces, from, n);
    }
}

/* Whether the sequence number names a probe of t that was sent. */
static bool seq_names_probe(const rg_trace *t, const rg_reply *r, unsigned *ttl,
                            unsigned *attempt)
{
    return r->has_seq && rg_probe_identity(t->seq_base, r->seq, ttl, attempt) &&
           *attempt < rg_trace_sent(t, *ttl);
}

/* Whether a field the index leaves out was indeed rewritten (the
 * destination within its family): what match.h refused for another
 * reason is not this module's to take. */
static bool rewritten(enum key_kind k, const rg_trace *t, const rg_reply *r)
{
    switch (k) {
    case KEY_DST_SPORT: return r->dport != t->dport;
    case KEY_DST: return r->sport != t->sport;
    default:
        return r->probe_dst.family == t->dst.family && !rg_addr_equal(&r->probe_dst, &t->dst);
    }
}

/* The one trace of the reply's key's chain whose secret the quoted
 * sequence number carries; false for none, for more than one, and when the
 * chain is longer than RG_REMATCH_SCAN (a key most traces share, as a
 * fixed source port makes it: uniqueness is then not worth proving for
 * every stray error). */
static bool find_one(const rg_rematch *m, const rg_rematch_index *ix, enum key_kind k,
                     const rg_reply *r, rg_rematch_result *out)
{
    key want = key_of(k, &r->probe_dst, r->sport);
    size_t found = 0;
    size_t n = 0;
    for (uint32_t e = ix->head[(size_t)key_hash(&want) & ix->mask]; e != 0; e = ix->next[e - 1]) {
        if (++n > RG_REMATCH_SCAN)
            return false;
        size_t ti = e - 1;
        if (rg_trace_store_dropped(m->run, ti))
            continue;
        const rg_trace *t = &m->traces[ti];
        key have = trace_key(k, t);
        unsigned ttl, attempt;
        if (!key_equal(&have, &want) || !rewritten(k, t, r) ||
            !rg_addr_equal(&r->probe_src, &t->src) || !seq_names_probe(t, r, &ttl, &attempt))
            continue;
        if (++found > 1)
            return false;
        *out = (rg_rematch_result){.trace = ti, .ttl = ttl, .attempt = attempt};
    }
    return found == 1;
}

/* The quoted IPv4 identification (the quote starts at the IP header). */
static bool quoted_ip_id(const rg_reply *r, uint16_t *id)
{
    if (!r->quote)
        return false;
    rg_cur c = rg_cur_make(r->quote, r->quote_len);
    uint8_t vihl;
    return rg_get_u8(&c, &vihl) && vihl >> 4 == 4 && rg_cur_skip(&c, 3) &&
           rg_get_be16(&c, id);
}

/* The IP ID's identity: the probe of t it names, if sent. */
static bool ip_id_names_probe(const rg_trace *t, uint16_t id, unsigned *ttl,
                              unsigned *attempt)
{
    uint16_t off = (uint16_t)(id - rg_probe_ip_id(t->seq_base, 0, 0));
    return rg_probe_identity(0, off, ttl, attempt) && *attempt < rg_trace_sent(t, *ttl);
}

/* Destination, ports and source exact, the sequence number not ours: the
 * IP ID names the probe and the difference is the shift. */
static bool find_shifted(const rg_rematch *m, const rg_reply *r, rg_rematch_result *out)
{
    key want = key_of(KEY_DST_SPORT, &r->probe_dst, r->sport);
    const rg_rematch_index *ix = &m->by_dst_sport;
    uint16_t id;
    if (r->probe_dst.family != 4 || !r->has_seq || !quoted_ip_id(r, &id))
        return false;
    size_t n = 0;
    for (uint32_t e = ix->head[(size_t)key_hash(&want) & ix->mask];
         e != 0 && n++ < RG_REMATCH_SCAN; e = ix->next[e - 1]) {
        size_t ti = e - 1;
        if (rg_trace_store_dropped(m->run, ti))
            continue;
        const rg_trace *t = &m->traces[ti];
        unsigned ttl, attempt;
        if (t->dport != r->dport || !rg_addr_equal(&t->dst, &r->probe_dst) ||
            t->sport != r->sport || !rg_addr_equal(&r->probe_src, &t->src) ||
            !ip_id_names_probe(t, id, &ttl, &attempt))
            continue;
        uint32_t sent = rg_probe_seq(t->seq_base, ttl, attempt);
        if (r->seq == sent)
            return false; /* not shifted: match.h refused it for a reason */
        *out = (rg_rematch_result){.kind = RG_REMATCH_SEQ, .trace = ti, .ttl = ttl,
                                   .attempt = attempt, .shift = (int32_t)(r->seq - sent)};
        return true; /* the exact key is unique per run (match.h) */
    }
    return false;
}

bool rg_rematch_find(rg_rematch *m, const rg_reply *r, rg_rematch_result *out)
{
    *out = (rg_rematch_result){0};
    if ((r->kind != RG_REPLY_TIME_EXCEEDED && r->kind != RG_REPLY_UNREACHABLE) ||
        r->probe_proto != PROTO_TCP || !r->quote || !build(m))
        return false;
    /* Ports rewritten, the destination as sent: the hop's answer. */
    if (find_one(m, &m->by_dst_sport, KEY_DST_SPORT, r, out) ||
        find_one(m, &m->by_dst, KEY_DST, r, out)) {
        out->kind = RG_REMATCH_PORTS;
        return true;
    }
    /* The destination rewritten (and maybe its port): evidence. */
    if (find_one(m, &m->by_sport, KEY_SPORT, r, out)) {
        out->kind = RG_REMATCH_DST;
        return true;
    }
    if (find_shifted(m, r, out))
        return true;
    *out = (rg_rematch_result){0};
    return false;
}
