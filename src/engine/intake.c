#include "intake.h"

#include <stdlib.h>
#include <string.h>

#define START 64

bool rg_intake_init(rg_intake *in)
{
    memset(in, 0, sizeof *in);
    in->scopes = calloc(START, sizeof *in->scopes);
    in->latest = calloc(START, sizeof *in->latest);
    in->scope_mask = in->latest_mask = START - 1;
    if (in->scopes && in->latest)
        return true;
    rg_intake_free(in);
    return false;
}

void rg_intake_free(rg_intake *in)
{
    free(in->scopes);
    free(in->latest);
    memset(in, 0, sizeof *in);
}

static size_t scope_slot(const rg_scope_count *t, size_t mask, uint32_t scope)
{
    size_t i = (size_t)(scope * 2654435761u) & mask;
    while (t[i].count && t[i].scope != scope)
        i = (i + 1) & mask;
    return i;
}

static bool grow_scopes(rg_intake *in)
{
    size_t cap = (in->scope_mask + 1) * 2;
    rg_scope_count *t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t k = 0; k <= in->scope_mask; k++)
        if (in->scopes[k].count)
            t[scope_slot(t, cap - 1, in->scopes[k].scope)] = in->scopes[k];
    free(in->scopes);
    in->scopes = t;
    in->scope_mask = cap - 1;
    return true;
}

uint32_t rg_intake_count_scope(rg_intake *in, uint32_t scope)
{
    if ((in->nscopes + 1) * 2 > in->scope_mask + 1 && !grow_scopes(in))
        return 0;
    rg_scope_count *c = &in->scopes[scope_slot(in->scopes, in->scope_mask, scope)];
    if (!c->count) {
        c->scope = scope;
        in->nscopes++;
    }
    if (c->count < UINT32_MAX)
        c->count++;
    return c->count;
}

#define GONE UINT32_MAX /* a dropped trace's entry (rg_intake_forget) */

static size_t addr_slot(const uint32_t *t, size_t mask, const rg_addr *dst,
                        const rg_trace *traces)
{
    size_t i = (size_t)rg_addr_hash(dst, 0x51b1) & mask;
    while (t[i] && (t[i] == GONE || !rg_addr_equal(&traces[t[i] - 1].dst, dst)))
        i = (i + 1) & mask;
    return i;
}

static bool grow_latest(rg_intake *in, const rg_trace *traces)
{
    size_t cap = (in->latest_mask + 1) * 2;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t k = 0; k <= in->latest_mask; k++)
        if (in->latest[k] && in->latest[k] != GONE)
            t[addr_slot(t, cap - 1, &traces[in->latest[k] - 1].dst, traces)] = in->latest[k];
    free(in->latest);
    in->latest = t;
    in->latest_mask = cap - 1;
    return true;
}

uint32_t rg_intake_latest(rg_intake *in, const rg_trace *traces, uint32_t trace)
{
    if ((in->naddrs + 1) * 2 > in->latest_mask + 1 && !grow_latest(in, traces))
        return UINT32_MAX;
    uint32_t *slot = &in->latest[addr_slot(in->latest, in->latest_mask, &traces[trace].dst,
                                           traces)];
    uint32_t before = *slot;
    if (!before)
        in->naddrs++;
    *slot = trace + 1;
    return before;
}

size_t rg_intake_position(const rg_intake *in, const rg_trace *traces, uint32_t trace)
{
    if (!in->latest)
        return SIZE_MAX;
    size_t i = addr_slot(in->latest, in->latest_mask, &traces[trace].dst, traces);
    return in->latest[i] == trace + 1 ? i : SIZE_MAX;
}

void rg_intake_forget(rg_intake *in, size_t pos)
{
    if (in->latest && pos <= in->latest_mask)
        in->latest[pos] = GONE;
}
