#include "stopset.h"

#include <stdlib.h>

bool rg_stopset_init(rg_stopset *s, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2)
        cap *= 2;
    s->slots = calloc(cap, sizeof *s->slots);
    s->mask = cap - 1;
    s->n = 0;
    return s->slots != NULL;
}

void rg_stopset_free(rg_stopset *s)
{
    free(s->slots);
    s->slots = NULL;
}

uint32_t rg_stopset_claim(rg_stopset *s, const rg_addr *addr, uint32_t owner)
{
    if (!s->slots)
        return owner;
    size_t i = (size_t)rg_addr_hash(addr, 0x5eed) & s->mask;
    while (s->slots[i].owner != 0) {
        if (rg_addr_equal(&s->slots[i].addr, addr))
            return s->slots[i].owner - 1;
        i = (i + 1) & s->mask;
    }
    if ((s->n + 1) * 2 > s->mask + 1)
        return owner; /* keep probing rather than degrade the table */
    s->slots[i].addr = *addr;
    s->slots[i].owner = owner + 1;
    s->n++;
    return owner;
}
