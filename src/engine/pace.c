#include "pace.h"

#include <stdlib.h>
#include <string.h>

#define NS 1000000000.0

#define INDEX_START 64

bool rg_pace_init(rg_pace *p, size_t expected)
{
    memset(p, 0, sizeof *p);
    size_t cap = INDEX_START;
    while (cap < expected * 2 && cap < ((size_t)1 << 22))
        cap *= 2;
    p->max_mask = cap - 1;
    p->mask = INDEX_START - 1;
    p->index = calloc(INDEX_START, sizeof *p->index);
    return p->index != NULL;
}

void rg_pace_free(rg_pace *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p->index);
    memset(p, 0, sizeof *p);
}

uint32_t rg_pace_id(const rg_pace *p, const rg_pacer *c)
{
    (void)p;
    return c ? c->id : 0;
}

rg_pacer *rg_pace_by_id(const rg_pace *p, uint32_t id)
{
    if (id == 0 || id > p->n)
        return NULL;
    return &p->chunks[(id - 1) / RG_PACE_CHUNK][(id - 1) % RG_PACE_CHUNK];
}

static size_t home(const rg_addr *key, size_t mask)
{
    return (size_t)rg_addr_hash(key, 0x9ace) & mask;
}

/* Doubles the index (the pacers stay where they are). */
static bool grow_index(rg_pace *p)
{
    size_t cap = (p->mask + 1) * 2;
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix)
        return false;
    for (size_t i = 0; i <= p->mask; i++) {
        uint32_t id = p->index[i];
        if (!id)
            continue;
        size_t j = home(&rg_pace_by_id(p, id)->key, cap - 1);
        while (ix[j])
            j = (j + 1) & (cap - 1);
        ix[j] = id;
    }
    free(p->index);
    p->index = ix;
    p->mask = cap - 1;
    return true;
}

/* A new pacer's place at the end of the chunks. */
static rg_pacer *append(rg_pace *p)
{
    if (p->n % RG_PACE_CHUNK == 0) {
        rg_pacer **cs = realloc(p->chunks, (p->nchunks + 1) * sizeof *cs);
        if (!cs)
            return NULL;
        p->chunks = cs;
        if (!(cs[p->nchunks] = malloc(RG_PACE_CHUNK * sizeof **cs)))
            return NULL;
        p->nchunks++;
    }
    return &p->chunks[p->n / RG_PACE_CHUNK][p->n % RG_PACE_CHUNK];
}

rg_addr rg_pace_position_key(unsigned ttl, const rg_addr *dst)
{
    /* Byte 0 the TTL, then the destination's /24 or /48. */
    rg_addr k = {.family = RG_ADDR_KEY};
    k.bytes[0] = (uint8_t)ttl;
    k.bytes[1] = dst->family;
    memcpy(&k.bytes[2], dst->bytes, dst->family == 4 ? 3 : 6);
    return k;
}

rg_pacer *rg_pace_get(rg_pace *p, const rg_addr *key, uint64_t now)
{
    if (!p->index)
        return NULL;
    size_t i = home(key, p->mask);
    for (; p->index[i]; i = (i + 1) & p->mask) {
        rg_pacer *c = rg_pace_by_id(p, p->index[i]);
        if (rg_addr_equal(&c->key, key))
            return c;
    }
    /* Kept at most three quarters full: doubled while it may, else new
     * keys go unpaced. */
    if ((p->n + 1) * 4 > (p->mask + 1) * 3) {
        if (p->mask >= p->max_mask || !grow_index(p))
            return NULL;
        for (i = home(key, p->mask); p->index[i]; i = (i + 1) & p->mask)
            ;
    }
    rg_pacer *c = append(p);
    if (!c)
        return NULL;
    /* A position (responder not known yet) gets one probe and then a
     * trickle: its first answer names the router, whose own pacer then
     * takes over; several positions may be one router. */
    bool position = key->family == RG_ADDR_KEY;
    *c = (rg_pacer){.key = *key, .rate = position ? RG_PACE_POSITION_RATE : RG_PACE_START_RATE,
                    .tokens = position ? 1.0 : RG_PACE_BURST, .at = now,
                    .id = (uint32_t)p->n + 1};
    p->index[i] = c->id;
    p->n++;
    return c;
}

bool rg_pace_silent(const rg_pacer *c)
{
    return c && c->answered == 0 && c->lost >= RG_PACE_SILENT_AFTER;
}

/* A slow router banks at most one probe: a burst after a quiet spell is
 * exactly what its limiter would drop. */
static double bucket_size(const rg_pacer *c)
{
    return c->rate < RG_PACE_BURST ? 1.0 : RG_PACE_BURST;
}

bool rg_pace_ready(rg_pacer *c, uint64_t now, uint64_t *wake)
{
    if (!c || rg_pace_silent(c))
        return true;
    if (now > c->at) {
        c->tokens += (double)(now - c->at) * c->rate / NS;
        if (c->tokens > bucket_size(c))
            c->tokens = bucket_size(c);
        c->at = now;
    }
    if (c->tokens >= 1.0)
        return true;
    uint64_t at = now + (uint64_t)((1.0 - c->tokens) * NS / c->rate) + 1;
    if (at < *wake)
        *wake = at;
    return false;
}

void rg_pace_sent(rg_pacer *c)
{
    if (!c)
        return;
    c->sent++;
    if (!rg_pace_silent(c))
        c->tokens -= 1.0;
}

void rg_pace_answered(rg_pacer *c)
{
    if (!c)
        return;
    c->answered++;
    /* Until the first loss, half again per answer: a router that answers
     * everything is soon probed at the global rate, while one with a
     * burst of six (Linux) is probed at ~110/s when its limiter shows,
     * wasting ~10 probes in the 100 ms before the loss is seen (doubling
     * would waste 60). After a loss, additive. */
    c->rate = c->lost ? c->rate + RG_PACE_INCREASE : c->rate * 1.5;
    if (c->rate > RG_PACE_MAX_RATE)
        c->rate = RG_PACE_MAX_RATE;
}

void rg_pace_lost(rg_pacer *c)
{
    if (!c)
        return;
    c->lost++;
    if (c->answered == 0)
        return; /* silent so far, not throttled: waiting would not help */
    c->rate /= 2.0;
    if (c->rate < RG_PACE_MIN_RATE)
        c->rate = RG_PACE_MIN_RATE;
    if (c->tokens > bucket_size(c))
        c->tokens = bucket_size(c);
}
