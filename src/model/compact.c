/* The compact form of a finished trace (result.h, rg_trace_compact): the
 * probe slots a trace used, packed row by row. Lossless: a slot left out
 * is all zero, so rg_trace_expand gives back the very same bytes. */
#include "result.h"

#include <stdlib.h>
#include <string.h>

static size_t rows_of(const rg_trace *t)
{
    return (size_t)(t->max_ttl - t->min_ttl) + 2; /* the port probes' row first */
}

static bool slot_used(const rg_probe *p)
{
    static const rg_probe empty;
    return memcmp(p, &empty, sizeof *p) != 0;
}

/* Attempts row r keeps: those sent, and any later slot holding something. */
static unsigned kept_in_row(const rg_trace *t, size_t r)
{
    unsigned n = t->nsent && t->nsent[r] <= t->attempts ? t->nsent[r] : 0;
    for (unsigned a = t->attempts; a > n; a--)
        if (slot_used(&t->probes[r * t->attempts + a - 1]))
            return a;
    return n;
}

/* Where the kept extensions' slots move when the layout changes. */
static void move_ext_slots(rg_trace *t, bool to_compact)
{
    size_t rows = rows_of(t);
    for (uint32_t k = 0; k < t->nexts; k++) {
        uint32_t s = t->exts[k].slot;
        if (to_compact) {
            size_t r = s / t->attempts;
            t->exts[k].slot = t->row_start[r] + s % t->attempts;
            continue;
        }
        size_t r = 0;
        while (r + 1 < rows && t->row_start[r + 1] <= s)
            r++;
        t->exts[k].slot = (uint32_t)(r * t->attempts + (s - t->row_start[r]));
    }
}

/* The extensions' spare room goes too (a failed shrink keeps it). */
static void shrink_exts(rg_trace *t)
{
    if (t->nexts == t->exts_cap)
        return;
    if (t->nexts == 0) {
        rg_trace_clear_ext(t);
        return;
    }
    rg_probe_ext *e = realloc(t->exts, t->nexts * sizeof *e);
    if (e) {
        t->exts = e;
        t->exts_cap = t->nexts;
    }
}

bool rg_trace_compact(rg_trace *t)
{
    if (!t->probes || t->row_start)
        return true;
    size_t rows = rows_of(t);
    uint16_t *start = malloc((rows + 1) * sizeof *start);
    if (!start)
        return false;
    size_t total = 0;
    for (size_t r = 0; r < rows; r++) {
        start[r] = (uint16_t)total;
        total += kept_in_row(t, r);
    }
    start[rows] = (uint16_t)total;
    /* One slot at least: a trace with slots keeps a non-NULL probes. */
    rg_probe *packed = malloc((total ? total : 1) * sizeof *packed);
    if (!packed) {
        free(start);
        return false;
    }
    for (size_t r = 0; r < rows; r++)
        memcpy(&packed[start[r]], &t->probes[r * t->attempts],
               (size_t)(start[r + 1] - start[r]) * sizeof *packed);
    free(t->probes);
    t->probes = packed;
    t->row_start = start;
    move_ext_slots(t, true);
    shrink_exts(t);
    return true;
}

bool rg_trace_expand(rg_trace *t)
{
    if (!t->row_start)
        return true;
    size_t rows = rows_of(t);
    rg_probe *full = calloc(rows * t->attempts, sizeof *full);
    if (!full)
        return false;
    for (size_t r = 0; r < rows; r++)
        memcpy(&full[r * t->attempts], &t->probes[t->row_start[r]],
               (size_t)(t->row_start[r + 1] - t->row_start[r]) * sizeof *full);
    move_ext_slots(t, false);
    free(t->probes);
    free(t->row_start);
    t->probes = full;
    t->row_start = NULL;
    return true;
}
