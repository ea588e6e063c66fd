#include "infer.h"

#include <stdlib.h>
#include <string.h>

#include "trace_store.h"

/* The table's largest size, in entries (a full one infers less). */
#define LINKS_MAX ((size_t)1 << 24)

bool rg_links_init(rg_links *l, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2 && cap < LINKS_MAX)
        cap *= 2;
    l->slots = calloc(cap, sizeof *l->slots);
    l->mask = cap - 1;
    l->n = 0;
    return l->slots != NULL;
}

void rg_links_free(rg_links *l)
{
    free(l->slots);
    memset(l, 0, sizeof *l);
}

uint32_t rg_links_scope(const rg_addr *dst)
{
    rg_addr p = {.family = dst->family};
    memcpy(p.bytes, dst->bytes, dst->family == 4 ? 3 : 6);
    return (uint32_t)rg_addr_hash(&p, 0x5c09e) | 1u;
}

static uint64_t link_hash(const rg_addr *key, unsigned ttl, unsigned forward, uint32_t scope)
{
    return rg_addr_hash(key, ((uint64_t)ttl << 33) | ((uint64_t)forward << 32) | scope);
}

/* The slot holding the entry, or the empty slot where it belongs; NULL
 * when the table is full and the entry is not in it. */
static rg_link *find(const rg_links *l, const rg_addr *key, unsigned ttl, unsigned forward,
                     uint32_t scope)
{
    if (!l->slots)
        return NULL;
    size_t i = (size_t)link_hash(key, ttl, forward, scope) & l->mask;
    for (size_t probes = 0; probes <= l->mask; probes++, i = (i + 1) & l->mask) {
        rg_link *e = &l->slots[i];
        if (!e->used)
            return e;
        if (e->ttl == ttl && e->forward == forward && e->scope == scope &&
            rg_addr_equal(&e->key, key))
            return e;
    }
    return NULL;
}

/* Doubles the table (rehashing every entry); false at LINKS_MAX or out of
 * memory, the table unchanged. */
static bool grow(rg_links *l)
{
    size_t cap = (l->mask + 1) * 2;
    rg_link *slots = cap <= LINKS_MAX ? calloc(cap, sizeof *slots) : NULL;
    if (!slots)
        return false;
    rg_links big = {slots, cap - 1, 0};
    for (size_t i = 0; i <= l->mask; i++) {
        const rg_link *e = &l->slots[i];
        if (!e->used)
            continue;
        *find(&big, &e->key, e->ttl, e->forward, e->scope) = *e;
        big.n++;
    }
    free(l->slots);
    *l = big;
    return true;
}

static void witness(rg_links *l, const rg_addr *key, unsigned ttl, unsigned forward,
                    uint32_t scope, const rg_addr *other)
{
    rg_link *e = find(l, key, ttl, forward, scope);
    if (!e || ttl > UINT8_MAX)
        return;
    if (!e->used) {
        /* Probe chains kept short: the table doubles past 3/4 full; at its
         * largest a full table infers less. */
        if ((l->n + 1) * 4 > (l->mask + 1) * 3) {
            if (!grow(l))
                return;
            e = find(l, key, ttl, forward, scope);
        }
        *e = (rg_link){.key = *key, .other = *other, .scope = scope,
                       .ttl = (uint8_t)ttl, .forward = (uint8_t)forward, .used = 1};
        l->n++;
    } else if (!rg_addr_equal(&e->other, other)) {
        e->conflict = 1;
        e->other = *other;
    }
    e->witnesses++;
}

/* Pair entries (forward == 2) record that a was followed by b at all: the
 * scope field holds a hash of b, the entry b itself, so a lookup is exact. */
static uint32_t pair_scope(const rg_addr *b)
{
    return (uint32_t)rg_addr_hash(b, 0x9a1f) | 1u;
}

void rg_links_add(rg_links *l, const rg_addr *a, unsigned ttl, const rg_addr *b,
                  uint32_t scope)
{
    if (rg_addr_equal(a, b))
        return; /* a router answering twice tells nothing about order */
    witness(l, b, ttl + 1, false, 0, a);
    witness(l, a, ttl, true, scope, b);
    witness(l, a, ttl, 2, pair_scope(b), b);
}

bool rg_links_seen(const rg_links *l, const rg_addr *a, unsigned ttl, const rg_addr *b)
{
    const rg_link *e = find(l, a, ttl, 2, pair_scope(b));
    return e && e->used && rg_addr_equal(&e->other, b);
}

static const rg_addr *agreed(const rg_link *e, unsigned witnesses)
{
    if (!e || !e->used || e->conflict || e->witnesses < witnesses)
        return NULL;
    return &e->other;
}

const rg_addr *rg_links_pred(const rg_links *l, const rg_addr *b, unsigned ttl,
                             unsigned witnesses)
{
    return agreed(find(l, b, ttl, false, 0), witnesses);
}

const rg_addr *rg_links_succ(const rg_links *l, const rg_addr *a, unsigned ttl,
                             uint32_t scope, unsigned witnesses)
{
    return agreed(find(l, a, ttl, true, scope), witnesses);
}

static const rg_addr *guess(const rg_link *e)
{
    return e && e->used ? &e->other : NULL;
}

const rg_addr *rg_links_guess_pred(const rg_links *l, const rg_addr *b, unsigned ttl)
{
    return guess(find(l, b, ttl, false, 0));
}

const rg_addr *rg_links_guess_succ(const rg_links *l, const rg_addr *a, unsigned ttl,
                                   uint32_t scope)
{
    return guess(find(l, a, ttl, true, scope));
}

/* The prober, as the node before TTL 1: the first router is the one its
 * route points at, for every trace of a family. */
static rg_addr prober_key(const rg_trace *t)
{
    rg_addr k = {.family = RG_ADDR_KEY};
    memcpy(k.bytes, "prober", 6);
    k.bytes[6] = t->dst.family;
    return k;
}

/* The trace's destination, as a node: its prefix, so that the router
 * before the destinations of a prefix is learnt from every trace there. */
static rg_addr destination_key(const rg_trace *t)
{
    rg_addr k = {.family = RG_ADDR_KEY};
    k.bytes[0] = 'D';
    k.bytes[1] = t->dst.family;
    memcpy(&k.bytes[2], t->dst.bytes, t->dst.family == 4 ? 3 : 6);
    return k;
}

const rg_addr *rg_infer_node(const rg_trace *t, unsigned ttl, bool with_inferred,
                             rg_addr *buf)
{
    if (ttl == 0 && t->min_ttl == 1) {
        *buf = prober_key(t);
        return buf;
    }
    const rg_probe *p = ttl >= t->min_ttl ? rg_trace_answer(t, ttl) : NULL;
    if (p && rg_addr_equal(&p->from, &t->dst)) {
        *buf = destination_key(t);
        return buf;
    }
    if (p)
        return &p->from;
    return with_inferred ? rg_trace_inferred(t, ttl) : NULL;
}

void rg_links_add_pair(rg_links *l, const rg_trace *t, unsigned ttl)
{
    rg_addr ba, bb;
    const rg_addr *a = rg_infer_node(t, ttl, false, &ba);
    const rg_addr *b = a ? rg_infer_node(t, ttl + 1, false, &bb) : NULL;
    /* The prober's first router is its route's, whatever the destination
     * (a prober with routes to several first routers shows disagreement). */
    if (a && b)
        rg_links_add(l, a, ttl, b, ttl == 0 ? RG_LINKS_ANY_SCOPE : rg_links_scope(&t->dst));
}

/* The key of a place: a TTL towards a destination prefix, whoever the
 * router there is (for the silence labels only). */
static rg_addr place_key(void)
{
    rg_addr k = {.family = RG_ADDR_KEY};
    memcpy(k.bytes, "place", 5);
    return k;
}

void rg_links_add_place(rg_links *l, const rg_trace *t, unsigned ttl)
{
    const rg_probe *p = rg_trace_answer(t, ttl);
    rg_addr key = place_key();
    if (p && !rg_addr_equal(&p->from, &t->dst))
        witness(l, &key, ttl, true, rg_links_scope(&t->dst), &p->from);
}

void rg_links_add_trace(rg_links *l, const rg_trace *t)
{
    unsigned top = t->reached_ttl ? t->reached_ttl : t->last_ttl;
    for (unsigned ttl = t->min_ttl - 1; ttl < top; ttl++)
        rg_links_add_pair(l, t, ttl);
    for (unsigned ttl = t->min_ttl; ttl <= top; ttl++)
        rg_links_add_place(l, t, ttl);
}

const rg_addr *rg_infer_known(const rg_trace *t, unsigned ttl)
{
    const rg_probe *p = rg_trace_answer(t, ttl);
    return p ? &p->from : rg_trace_inferred(t, ttl);
}

/* The highest TTL below the destination whose hop inference may fill. */
static unsigned infer_top(const rg_trace *t)
{
    if (t->reached_ttl)
        return t->reached_ttl - 1;
    unsigned top = t->last_answer_ttl;
    if (t->est_distance > top + 1)
        top = t->est_distance - 1;
    return top > t->max_ttl ? t->max_ttl : top;
}

const rg_addr *rg_infer_candidate(const rg_trace *t, const rg_links *l, unsigned ttl,
                                  unsigned witnesses)
{
    rg_addr bn, bp;
    const rg_addr *back = NULL, *fwd = NULL, *x;
    uint32_t scope = rg_links_scope(&t->dst);
    if ((x = rg_infer_node(t, ttl + 1, true, &bn)))
        back = rg_links_pred(l, x, ttl + 1, witnesses);
    if ((x = rg_infer_node(t, ttl - 1, true, &bp)))
        fwd = rg_links_succ(l, x, ttl - 1, ttl == 1 ? RG_LINKS_ANY_SCOPE : scope, witnesses);
    /* Keys (the prober, a destination prefix) are never a hop. */
    if (back && back->family == RG_ADDR_KEY)
        back = NULL;
    if (fwd && fwd->family == RG_ADDR_KEY)
        fwd = NULL;
    if (back && fwd && !rg_addr_equal(back, fwd))
        return NULL;
    const rg_addr *c = back ? back : fwd;
    /* The hop must fit this trace's own neighbours: some trace went from
     * the hop before it to it, and from it to the hop after. Where a load
     * balancer splits or joins, the other branch's router fails this even
     * when too few flows took that branch to show disagreement. */
    const rg_addr *prev = c ? rg_infer_node(t, ttl - 1, true, &bp) : NULL;
    const rg_addr *next = c ? rg_infer_node(t, ttl + 1, true, &bn) : NULL;
    if (c && prev && !rg_links_seen(l, prev, ttl - 1, c))
        return NULL;
    if (c && next && !rg_links_seen(l, c, ttl, next))
        return NULL;
    return c;
}

/* Infers hop k of t if it is unknown and inferable; 1 when it did. */
static unsigned infer_one(rg_trace *t, const rg_links *l, unsigned k, unsigned witnesses)
{
    if (rg_infer_known(t, k))
        return 0;
    const rg_addr *c = rg_infer_candidate(t, l, k, witnesses);
    if (!c)
        return 0;
    t->inferred[k - t->min_ttl] = *c;
    return 1;
}

unsigned rg_infer_trace(rg_trace *t, const rg_links *l, unsigned witnesses)
{
    unsigned top = infer_top(t), count = 0;
    if (!t->inferred || top < t->min_ttl)
        return 0;
    /* Down, then up, until nothing changes: each pass extends the chains
     * from the hops known so far; at most one pass per hop. */
    for (unsigned pass = 0; pass <= top - t->min_ttl + 1; pass++) {
        unsigned before = count;
        for (unsigned k = top + 1; k-- > t->min_ttl;)
            count += infer_one(t, l, k, witnesses);
        for (unsigned k = t->min_ttl; k <= top; k++)
            count += infer_one(t, l, k, witnesses);
        if (count == before)
            break;
    }
    return count;
}

/* Whether a router at ttl answered any other trace's probe, judged from
 * the known neighbours of this trace. */
bool rg_infer_place_answers(const rg_trace *t, const rg_links *l, unsigned ttl)
{
    uint32_t scope = rg_links_scope(&t->dst);
    rg_addr bn, bp;
    const rg_addr *x, *g;
    if ((x = rg_infer_node(t, ttl + 1, true, &bn)) && rg_links_guess_pred(l, x, ttl + 1))
        return true;
    /* The destination answering another port there says nothing of a
     * router: this port's silence is the destination's (filtered). */
    if ((x = rg_infer_node(t, ttl - 1, true, &bp)) &&
        (g = rg_links_guess_succ(l, x, ttl - 1, ttl == 1 ? RG_LINKS_ANY_SCOPE : scope)) &&
        g->family != RG_ADDR_KEY)
        return true;
    /* With no neighbour known: did any trace towards this prefix get a
     * router's answer at this TTL? */
    rg_addr key = place_key();
    return rg_links_guess_succ(l, &key, ttl, scope) != NULL;
}

void rg_infer_silence(rg_trace *t, const rg_links *l)
{
    unsigned top = t->reached_ttl ? t->reached_ttl : t->last_ttl;
    if (!t->silence)
        return;
    for (unsigned k = t->min_ttl; k <= top && k <= t->max_ttl; k++) {
        uint8_t *s = &t->silence[k - t->min_ttl];
        *s = RG_SILENCE_NONE;
        if (rg_trace_sent(t, k) == 0 || rg_trace_answer(t, k))
            continue;
        *s = rg_trace_inferred(t, k) || rg_infer_place_answers(t, l, k)
                 ? RG_SILENCE_RATE_LIMITED : RG_SILENCE_SILENT;
    }
}

static int cmp_trace_dst(const void *a, const void *b)
{
    const rg_trace *x = *(rg_trace *const *)a, *y = *(rg_trace *const *)b;
    return rg_addr_compare(&x->dst, &y->dst);
}

/* A distance is the address's: a port that stayed silent (filtered) takes
 * the one its address's other ports showed, so inference fills its path
 * up to the destination as the engine, which shares it, expected. */
static bool share_distance(rg_run *run)
{
    rg_trace **by = malloc((run->ntraces ? run->ntraces : 1) * sizeof *by);
    if (!by)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        if (!rg_trace_store_dropped(run, i)) /* not even read (trace_store.h) */
            by[n++] = &run->traces[i];
    qsort(by, n, sizeof *by, cmp_trace_dst);
    for (size_t i = 0, j; i < n; i = j) {
        unsigned d = 0;
        for (j = i; j < n && rg_addr_equal(&by[j]->dst, &by[i]->dst); j++)
            if (!d)
                d = by[j]->est_distance;
        for (size_t k = i; d && k < j; k++) /* d 0: nothing to write (trace_store.h) */
            if (!by[k]->est_distance)
                by[k]->est_distance = d;
    }
    free(by);
    return true;
}

bool rg_run_infer(rg_run *run, unsigned witnesses)
{
    if (!share_distance(run))
        return false;
    size_t hops = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        if (rg_trace_store_dropped(run, i))
            continue;
        rg_trace *t = &run->traces[i];
        if (t->inferred)
            memset(t->inferred, 0, (size_t)(t->max_ttl - t->min_ttl + 1) * sizeof *t->inferred);
        hops += t->max_ttl - t->min_ttl + 1;
    }
    /* The table grows with what it learns (far fewer entries than hops:
     * one per router, TTL and destination prefix), so it starts small. */
    rg_links l;
    if (!rg_links_init(&l, hops < 4096 ? hops : 4096))
        return false;
    for (size_t i = 0; i < run->ntraces; i++)
        if (!rg_trace_store_dropped(run, i))
            rg_links_add_trace(&l, &run->traces[i]);
    for (size_t i = 0; i < run->ntraces; i++) {
        if (rg_trace_store_dropped(run, i))
            continue;
        rg_infer_trace(&run->traces[i], &l, witnesses);
        rg_infer_silence(&run->traces[i], &l);
    }
    rg_links_free(&l);
    return true;
}
