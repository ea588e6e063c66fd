/* keymap: the graph builders' small open-addressing map from a key of four
 * indices to an index (graph.c: the shared unk and end nodes; asgraph.c:
 * the AS-level nodes and edges). Kept at most half full, doubling when it
 * would be more, so a probe always ends on an empty slot. */
#ifndef RG_KEYMAP_H
#define RG_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rg_keymap {
    size_t (*keys)[4];
    size_t *vals;      /* RG_GRAPH_NONE: an empty slot */
    size_t cap, used;  /* cap: a power of two */
} rg_keymap;

/* Room for expected keys without growing (at least 16 slots). False when
 * out of memory; rg_keymap_free is safe either way. */
bool rg_keymap_init(rg_keymap *m, size_t expected);
void rg_keymap_free(rg_keymap *m);

/* key's value, RG_GRAPH_NONE when it has none. */
size_t rg_keymap_get(const rg_keymap *m, const size_t key[4]);

/* Sets key's value (v not RG_GRAPH_NONE); false when out of memory. */
bool rg_keymap_put(rg_keymap *m, const size_t key[4], size_t v);

#endif
