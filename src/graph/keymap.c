#include "keymap.h"

#include <stdlib.h>
#include <string.h>

#include "graph.h"

static bool alloc_slots(rg_keymap *m, size_t cap)
{
    m->cap = cap;
    m->used = 0;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    if (!m->keys || !m->vals)
        return false;
    for (size_t i = 0; i < cap; i++)
        m->vals[i] = RG_GRAPH_NONE;
    return true;
}

bool rg_keymap_init(rg_keymap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < 2 * expected)
        cap *= 2;
    return alloc_slots(m, cap);
}

void rg_keymap_free(rg_keymap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
}

/* The slot holding key, or the empty slot where it belongs. */
static size_t slot_of(const rg_keymap *m, const size_t key[4])
{
    size_t h = 1469598103934665603u;
    for (int i = 0; i < 4; i++)
        h = (h ^ key[i]) * 1099511628211u;
    h ^= h >> 17; /* the multiply only carries upwards; the mask keeps low bits */
    size_t i = h & (m->cap - 1);
    while (m->vals[i] != RG_GRAPH_NONE && memcmp(m->keys[i], key, sizeof m->keys[i]))
        i = (i + 1) & (m->cap - 1);
    return i;
}

size_t rg_keymap_get(const rg_keymap *m, const size_t key[4])
{
    return m->vals[slot_of(m, key)];
}

bool rg_keymap_put(rg_keymap *m, const size_t key[4], size_t v)
{
    if (2 * (m->used + 1) > m->cap) {
        rg_keymap big;
        if (!alloc_slots(&big, 2 * m->cap)) {
            rg_keymap_free(&big);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i] != RG_GRAPH_NONE)
                rg_keymap_put(&big, m->keys[i], m->vals[i]);
        rg_keymap_free(m);
        *m = big;
    }
    size_t s = slot_of(m, key);
    if (m->vals[s] == RG_GRAPH_NONE)
        m->used++;
    memcpy(m->keys[s], key, sizeof m->keys[s]);
    m->vals[s] = v;
    return true;
}
