#include "queue.h"

#include <stdlib.h>
#include <string.h>

/* The next capacity when cap items are full: twice, at most max; 0 when
 * max is reached. */
static size_t next_cap(size_t cap, size_t max)
{
    if (cap >= max)
        return 0;
    return cap > max / 2 ? max : 2 * cap;
}

bool rg_ring_init(rg_ring *r, size_t cap, size_t max)
{
    r->cap = cap ? cap : 1;
    r->max = max > r->cap ? max : r->cap;
    r->items = malloc(r->cap * sizeof *r->items);
    r->head = r->len = 0;
    return r->items != NULL;
}

/* The items, oldest first, into a larger array. */
static bool ring_grow(rg_ring *r)
{
    size_t cap = next_cap(r->cap, r->max);
    rg_pending *items = cap ? malloc(cap * sizeof *items) : NULL;
    if (!items)
        return false;
    size_t first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
    memcpy(items, r->items + r->head, first * sizeof *items);
    memcpy(items + first, r->items, (r->len - first) * sizeof *items);
    free(r->items);
    r->items = items;
    r->cap = cap;
    r->head = 0;
    return true;
}

void rg_ring_free(rg_ring *r)
{
    free(r->items);
    r->items = NULL;
    r->len = 0;
}

bool rg_ring_push(rg_ring *r, rg_pending p)
{
    if (r->len == r->cap && !ring_grow(r))
        return false;
    r->items[(r->head + r->len) % r->cap] = p;
    r->len++;
    return true;
}

const rg_pending *rg_ring_peek(const rg_ring *r)
{
    return r->len ? &r->items[r->head] : NULL;
}

void rg_ring_pop(rg_ring *r)
{
    if (!r->len)
        return;
    r->head = (r->head + 1) % r->cap;
    r->len--;
}

bool rg_heap_init(rg_heap *h, size_t cap, size_t max)
{
    h->cap = cap ? cap : 1;
    h->max = max > h->cap ? max : h->cap;
    h->items = malloc(h->cap * sizeof *h->items);
    h->len = 0;
    return h->items != NULL;
}

static bool heap_grow(rg_heap *h)
{
    size_t cap = next_cap(h->cap, h->max);
    rg_pending *items = cap ? realloc(h->items, cap * sizeof *items) : NULL;
    if (!items)
        return false;
    h->items = items;
    h->cap = cap;
    return true;
}

void rg_heap_free(rg_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->len = 0;
}

static void swap(rg_pending *a, rg_pending *b)
{
    rg_pending t = *a;
    *a = *b;
    *b = t;
}

bool rg_heap_push(rg_heap *h, rg_pending p)
{
    if (h->len == h->cap && !heap_grow(h))
        return false;
    size_t i = h->len++;
    h->items[i] = p;
    while (i > 0 && h->items[(i - 1) / 2].at > h->items[i].at) {
        swap(&h->items[(i - 1) / 2], &h->items[i]);
        i = (i - 1) / 2;
    }
    return true;
}

const rg_pending *rg_heap_peek(const rg_heap *h)
{
    return h->len ? &h->items[0] : NULL;
}

void rg_heap_pop(rg_heap *h)
{
    if (!h->len)
        return;
    h->items[0] = h->items[--h->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && h->items[l].at < h->items[m].at)
            m = l;
        if (r < h->len && h->items[r].at < h->items[m].at)
            m = r;
        if (m == i)
            return;
        swap(&h->items[i], &h->items[m]);
        i = m;
    }
}
