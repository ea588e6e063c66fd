#include "pace.h"

#include <stdlib.h>
#include <string.h>

#define NS 1000000000.0

bool rg_pace_init(rg_pace *p, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2 && cap < ((size_t)1 << 22))
        cap *= 2;
    p->slots = calloc(cap, sizeof *p->slots);
    p->mask = cap - 1;
    p->n = 0;
    return p->slots != NULL;
}

void rg_pace_free(rg_pace *p)
{
    free(p->slots);
    memset(p, 0, sizeof *p);
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
    if (!p->slots)
        return NULL;
    size_t i = (size_t)rg_addr_hash(key, 0x9ace) & p->mask;
    for (size_t probes = 0; probes <= p->mask; probes++, i = (i + 1) & p->mask) {
        rg_pacer *c = &p->slots[i];
        if (c->used && rg_addr_equal(&c->key, key))
            return c;
        if (c->used)
            continue;
        if ((p->n + 1) * 4 > (p->mask + 1) * 3)
            return NULL;
        /* A position (responder not known yet) gets one probe and then a
         * trickle: its first answer names the router, whose own pacer
         * then takes over; several positions may be one router. */
        bool position = key->family == RG_ADDR_KEY;
        *c = (rg_pacer){.key = *key, .rate = position ? RG_PACE_POSITION_RATE : RG_PACE_START_RATE,
                        .tokens = position ? 1.0 : RG_PACE_BURST, .at = now, .used = true};
        p->n++;
        return c;
    }
    return NULL;
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
