#include "queue.h"

#include <stdlib.h>

bool rg_ring_init(rg_ring *r, size_t cap)
{
    r->cap = cap ? cap : 1;
    r->items = calloc(r->cap, sizeof *r->items);
    r->head = r->len = 0;
    return r->items != NULL;
}

void rg_ring_free(rg_ring *r)
{
    free(r->items);
    r->items = NULL;
    r->len = 0;
}

bool rg_ring_push(rg_ring *r, rg_pending p)
{
    if (r->len == r->cap)
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

bool rg_heap_init(rg_heap *h, size_t cap)
{
    h->cap = cap ? cap : 1;
    h->items = calloc(h->cap, sizeof *h->items);
    h->len = 0;
    return h->items != NULL;
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
    if (h->len == h->cap)
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
