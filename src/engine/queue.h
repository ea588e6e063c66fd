/* queue: the engine's two waiting lines for probes. Each starts small and
 * doubles when full, up to a bound (the number of probe slots of the run,
 * which no line can pass), so its memory follows what waits at once, not
 * the size of the run; the send/receive loop allocates only on a doubling:
 *  - rg_heap, a binary min-heap on a deadline: probes in flight, each with
 *    its own give-up time (waits differ per trace, so no FIFO would do);
 *  - rg_ring, a FIFO: retries ready to be sent, in the order they fell due. */
#ifndef RG_QUEUE_H
#define RG_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rg_pending {
    uint64_t at;      /* monotonic ns: deadline or ready time */
    uint64_t sent;    /* monotonic ns the probe went out (in flight only) */
    uint32_t trace;
    uint8_t ttl, attempt;
    bool check;       /* a port check: its attempt is chosen when it is sent */
    bool measure;     /* a hop a recheck found no longer inferable: never skipped */
} rg_pending;

typedef struct rg_ring {
    rg_pending *items;
    size_t cap, head, len;
    size_t max;       /* cap never grows past it */
} rg_ring;

typedef struct rg_heap {
    rg_pending *items;
    size_t cap, len;
    size_t max;
} rg_heap;

/* cap items at first (at least 1), growing up to max (at least cap). */
bool rg_ring_init(rg_ring *r, size_t cap, size_t max);
void rg_ring_free(rg_ring *r);
/* False when max items wait already (the caller sized max so that cannot
 * happen) or growing failed. */
bool rg_ring_push(rg_ring *r, rg_pending p);
const rg_pending *rg_ring_peek(const rg_ring *r);
void rg_ring_pop(rg_ring *r);

bool rg_heap_init(rg_heap *h, size_t cap, size_t max);
void rg_heap_free(rg_heap *h);
/* False as rg_ring_push. */
bool rg_heap_push(rg_heap *h, rg_pending p);
/* The earliest deadline, or NULL when empty. */
const rg_pending *rg_heap_peek(const rg_heap *h);
void rg_heap_pop(rg_heap *h);

#endif
