#include "roster.h"

#include <stdlib.h>

/* The unstarted others are found by a scan that only moves forward, past
 * the pilots: over the whole run it visits each trace once. */
static void skip_pilots(rg_roster *r)
{
    while (r->other_at < r->n && r->group[r->other_at] == RG_ROSTER_PILOTS)
        r->other_at++;
}

bool rg_roster_init(rg_roster *r, size_t n, const bool *is_pilot)
{
    *r = (rg_roster){.n = n};
    for (int g = 0; g < RG_ROSTER_GROUPS; g++)
        r->list[g] = (rg_roster_list){RG_ROSTER_NONE, RG_ROSTER_NONE, RG_ROSTER_NONE, 0};
    if (n >= RG_ROSTER_NONE)
        return false;
    size_t m = n ? n : 1, np = 0;
    r->prev = malloc(m * sizeof *r->prev);
    r->next = malloc(m * sizeof *r->next);
    r->group = malloc(m);
    for (size_t i = 0; i < n; i++)
        np += is_pilot[i];
    r->pilots = malloc((np ? np : 1) * sizeof *r->pilots);
    r->cap = m;
    r->pilots_cap = np ? np : 1;
    if (!r->prev || !r->next || !r->group || !r->pilots) {
        rg_roster_free(r);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        r->group[i] = is_pilot[i] ? RG_ROSTER_PILOTS : RG_ROSTER_OTHERS;
        r->prev[i] = r->next[i] = RG_ROSTER_NONE;
        if (is_pilot[i])
            r->pilots[r->npilots++] = (uint32_t)i;
    }
    skip_pilots(r);
    return true;
}

static bool grow(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return true;
    size_t c = *cap * 2 > want ? *cap * 2 : want;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

bool rg_roster_add(rg_roster *r, bool is_pilot)
{
    size_t n = r->n, cap = r->cap;
    if (n + 1 >= RG_ROSTER_NONE)
        return false;
    /* The three arrays share cap: each grows to the same new size. */
    size_t c1 = cap, c2 = cap, c3 = cap;
    if (!grow((void **)&r->prev, &c1, n + 1, sizeof *r->prev) ||
        !grow((void **)&r->next, &c2, n + 1, sizeof *r->next) ||
        !grow((void **)&r->group, &c3, n + 1, sizeof *r->group))
        return false;
    r->cap = c3;
    if (is_pilot && !grow((void **)&r->pilots, &r->pilots_cap, r->npilots + 1, sizeof *r->pilots))
        return false;
    r->prev[n] = r->next[n] = RG_ROSTER_NONE;
    r->group[n] = is_pilot ? RG_ROSTER_PILOTS : RG_ROSTER_OTHERS;
    if (is_pilot)
        r->pilots[r->npilots++] = (uint32_t)n;
    r->n = n + 1;
    skip_pilots(r);
    return true;
}

void rg_roster_free(rg_roster *r)
{
    free(r->prev);
    free(r->next);
    free(r->group);
    free(r->pilots);
    r->prev = r->next = r->pilots = NULL;
    r->group = NULL;
}

uint32_t rg_roster_waiting(const rg_roster *r, enum rg_roster_group g)
{
    if (g == RG_ROSTER_PILOTS)
        return r->pilot_at < r->npilots ? r->pilots[r->pilot_at] : RG_ROSTER_NONE;
    return r->other_at < r->n ? (uint32_t)r->other_at : RG_ROSTER_NONE;
}

static void append(rg_roster *r, uint32_t t)
{
    rg_roster_list *l = &r->list[r->group[t]];
    r->prev[t] = l->tail;
    r->next[t] = RG_ROSTER_NONE;
    if (l->tail != RG_ROSTER_NONE)
        r->next[l->tail] = t;
    else
        l->head = t;
    l->tail = t;
    l->len++;
}

void rg_roster_start(rg_roster *r, enum rg_roster_group g)
{
    uint32_t t = rg_roster_waiting(r, g);
    if (t == RG_ROSTER_NONE)
        return;
    if (g == RG_ROSTER_PILOTS) {
        r->pilot_at++;
    } else {
        r->other_at = t + 1;
        skip_pilots(r);
    }
    append(r, t);
}

void rg_roster_leave(rg_roster *r, uint32_t t)
{
    rg_roster_list *l = &r->list[r->group[t]];
    if (l->cursor == t)
        l->cursor = r->next[t];
    if (r->prev[t] != RG_ROSTER_NONE)
        r->next[r->prev[t]] = r->next[t];
    else
        l->head = r->next[t];
    if (r->next[t] != RG_ROSTER_NONE)
        r->prev[r->next[t]] = r->prev[t];
    else
        l->tail = r->prev[t];
    r->prev[t] = r->next[t] = RG_ROSTER_NONE;
    l->len--;
}

void rg_roster_rejoin(rg_roster *r, uint32_t t)
{
    append(r, t);
}

uint32_t rg_roster_first(const rg_roster *r, enum rg_roster_group g)
{
    const rg_roster_list *l = &r->list[g];
    return l->cursor != RG_ROSTER_NONE ? l->cursor : l->head;
}

uint32_t rg_roster_after(const rg_roster *r, uint32_t t)
{
    uint32_t n = r->next[t];
    return n != RG_ROSTER_NONE ? n : r->list[r->group[t]].head;
}

void rg_roster_resume_after(rg_roster *r, uint32_t t)
{
    r->list[r->group[t]].cursor = r->next[t];
}
