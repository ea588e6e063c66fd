#include "mpath.h"

#include "../probe/reply.h"

#include <stdlib.h>
#include <string.h>

void rg_mpath_init(rg_mpath *m, const rg_addr *dst, uint16_t dport, unsigned confidence)
{
    memset(m, 0, sizeof *m);
    m->dst = *dst;
    m->dport = dport;
    m->confidence = confidence;
}

void rg_mpath_free(rg_mpath *m)
{
    free(m->obs);
    memset(m, 0, sizeof *m);
}

bool rg_mpath_add(rg_mpath *m, const rg_mp_obs *o)
{
    if (m->nobs == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        rg_mp_obs *n = realloc(m->obs, cap * sizeof *n);
        if (!n)
            return false;
        m->obs = n;
        m->cap = cap;
    }
    m->obs[m->nobs++] = *o;
    return true;
}

/* Inserts a into the sorted set out[0..n) (capacity max); returns the new
 * count, which goes on counting past max. */
static size_t set_add(rg_addr *out, size_t n, size_t max, const rg_addr *a)
{
    size_t lo = 0, hi = n < max ? n : max;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = rg_addr_compare(&out[mid], a);
        if (c == 0)
            return n;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (n >= max)
        return n + 1; /* counted, not kept (the caller sized too small) */
    memmove(&out[lo + 1], &out[lo], (n - lo) * sizeof *out);
    out[lo] = *a;
    return n + 1;
}

/* Distinct responders at ttl, counted without a buffer (quadratic: only
 * when the caller's buffer was too small). */
static size_t count_distinct(const rg_mpath *m, unsigned ttl)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nobs; i++) {
        if (m->obs[i].ttl != ttl)
            continue;
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++)
            earlier = m->obs[j].ttl == ttl && rg_addr_equal(&m->obs[j].from, &m->obs[i].from);
        n += !earlier;
    }
    return n;
}

size_t rg_mpath_branches(const rg_mpath *m, unsigned ttl, rg_addr *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nobs; i++)
        if (m->obs[i].ttl == ttl)
            n = set_add(out, n, max, &m->obs[i].from);
    return n > max ? count_distinct(m, ttl) : n;
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

size_t rg_mpath_flows(const rg_mpath *m, unsigned ttl, const rg_addr *a,
                      uint16_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nobs; i++) {
        const rg_mp_obs *o = &m->obs[i];
        if (o->ttl != ttl || !rg_addr_equal(&o->from, a))
            continue;
        bool dup = false;
        for (size_t j = 0; j < n && j < max && !dup; j++)
            dup = out[j] == o->flow;
        if (dup)
            continue;
        if (n < max)
            out[n] = o->flow;
        n++;
    }
    if (n > 0 && max > 0)
        qsort(out, n < max ? n : max, sizeof *out, cmp_u16);
    return n;
}

/* The responder flow took at ttl (NULL: not probed there). */
static const rg_addr *flow_at(const rg_mpath *m, uint16_t flow, unsigned ttl)
{
    for (size_t i = 0; i < m->nobs; i++)
        if (m->obs[i].ttl == ttl && m->obs[i].flow == flow)
            return &m->obs[i].from;
    return NULL;
}

size_t rg_mpath_preds(const rg_mpath *m, unsigned ttl, const rg_addr *a,
                      rg_addr *out, size_t max)
{
    if (ttl <= m->first_ttl)
        return 0;
    rg_addr only[2];
    size_t nonly = rg_mpath_branches(m, ttl - 1, only, 2);
    size_t n = 0;
    for (size_t i = 0; i < m->nobs; i++) {
        const rg_mp_obs *o = &m->obs[i];
        if (o->ttl != ttl || !rg_addr_equal(&o->from, a))
            continue;
        const rg_addr *p = flow_at(m, o->flow, ttl - 1);
        if (!p && nonly == 1)
            p = &only[0];
        if (p)
            n = set_add(out, n, max, p);
    }
    return n;
}

bool rg_mp_obs_final(const rg_mpath *m, const rg_mp_obs *o)
{
    switch (o->kind) {
    case RG_REPLY_PORT_UNREACH:
        return true; /* the host may answer from another of its addresses */
    case RG_REPLY_SYNACK:
    case RG_REPLY_RST:
    case RG_REPLY_UDP:
    case RG_REPLY_ECHO:
        return rg_addr_equal(&o->from, &m->dst);
    default:
        return false;
    }
}

bool rg_mpath_is_destination(const rg_mpath *m, unsigned ttl, const rg_addr *a)
{
    for (size_t i = 0; i < m->nobs; i++)
        if (m->obs[i].ttl == ttl && rg_addr_equal(&m->obs[i].from, a) &&
            rg_mp_obs_final(m, &m->obs[i]))
            return true;
    return false;
}

bool rg_mpath_reached(const rg_mpath *m, unsigned ttl)
{
    for (size_t i = 0; i < m->nobs; i++)
        if (m->obs[i].ttl == ttl && rg_mp_obs_final(m, &m->obs[i]))
            return true;
    return false;
}
