/* pace: how fast each router may be probed, learnt from its answers.
 *
 * Routers rate-limit the ICMP errors they send (Linux: a burst of six, then
 * one per second towards each destination, by default), and every trace of
 * a run crosses the same first routers. One global rate is either too slow
 * for many disjoint paths or too fast for one shared router, so each router
 * (the responder a probe is expected to reach) gets its own token bucket,
 * driven AIMD-style: it starts at RG_PACE_START_RATE, grows by half per
 * answer until the first loss, then by RG_PACE_INCREASE per answer, and
 * halves on each probe that goes unanswered. A position whose probes were never answered is silent,
 * not throttled: losses there do not slow it (waiting would not make it
 * answer).
 *
 * Keys are addresses; a probe whose responder cannot be predicted is keyed
 * by its TTL and destination prefix (rg_pace_position_key), so the first
 * probes of many traces to one place are paced together too.
 *
 * Pure: the caller passes the time. Memory: the pacers live in fixed chunks
 * (a pacer never moves, so pointers to it stay good) found through a hash
 * index that starts small and doubles, so the table follows the routers and
 * places seen, not the size of the run; past the bound given at init, new
 * keys are not paced (only the global --rate applies). */
#ifndef RG_PACE_H
#define RG_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_PACE_START_RATE 10.0  /* probes/s before anything is known */
#define RG_PACE_BURST 5.0        /* tokens a fresh or fast router may bank */
#define RG_PACE_POSITION_RATE 10.0 /* probes/s to a place whose router is unknown */
#define RG_PACE_MIN_RATE 0.5     /* never slower: a lost probe is retried within 2 s */
#define RG_PACE_INCREASE 1.0     /* probes/s gained per answer */
#define RG_PACE_MAX_RATE 1e6     /* beyond any --rate: only the global cap holds */
#define RG_PACE_SILENT_AFTER 2u  /* unanswered probes, none answered: silent */

typedef struct rg_pacer {
    rg_addr key;
    double rate, tokens;
    uint64_t at;                 /* ns of the last refill */
    uint32_t sent, answered, lost;
    uint32_t id;                 /* rg_pace_id */
} rg_pacer;

typedef struct rg_pace {
    uint32_t *index;    /* open addressing: id of the pacer there (0: empty) */
    size_t mask;        /* index size - 1 */
    size_t max_mask;    /* the index never grows past this */
    rg_pacer **chunks;  /* RG_PACE_CHUNK pacers each */
    size_t nchunks, n;
} rg_pace;

#define RG_PACE_CHUNK 256

/* Room for about `expected` keys at most; starts with far less. */
bool rg_pace_init(rg_pace *p, size_t expected);
void rg_pace_free(rg_pace *p);

/* The key for a probe to TTL ttl towards dst whose responder is unknown. */
rg_addr rg_pace_position_key(unsigned ttl, const rg_addr *dst);

/* The pacer of key, created on first use; NULL when the table is full. */
rg_pacer *rg_pace_get(rg_pace *p, const rg_addr *key, uint64_t now);
/* A pacer's id (1..n; 0 for NULL), to keep in per-probe state, and back. */
uint32_t rg_pace_id(const rg_pace *p, const rg_pacer *c);
rg_pacer *rg_pace_by_id(const rg_pace *p, uint32_t id);

/* Whether a probe may go to this router now; when not, *wake is lowered to
 * the time it may. A NULL or silent pacer never holds a probe back. */
bool rg_pace_ready(rg_pacer *c, uint64_t now, uint64_t *wake);
bool rg_pace_silent(const rg_pacer *c);

void rg_pace_sent(rg_pacer *c);
void rg_pace_answered(rg_pacer *c);
void rg_pace_lost(rg_pacer *c);

#endif
