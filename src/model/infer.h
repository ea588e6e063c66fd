/* infer: what other traces tell about a hop this trace did not measure.
 *
 * Routers rate-limit the ICMP errors they send (Linux: one per second per
 * destination after a burst of six), so on a large run most probes to the
 * first shared routers go unanswered. Every trace crosses them, though, and
 * a hop is often known from the traces around it:
 *   - backward: the router that precedes responder R at TTL k, when every
 *     trace that measured both TTL k-1 and R at k saw the same one;
 *   - forward: the router that follows responder A at TTL k towards the
 *     same destination prefix (/24, /48), when every trace saw the same one.
 * The prober counts as the node before TTL 1, and a destination's answer
 * as its prefix, so the first and the last router are learnt too.
 * Each adjacency is a witness from one trace (one flow). A hop is inferred
 * only from at least RG_INFER_WITNESSES agreeing witnesses and no
 * disagreeing one: under ECMP the flows of different traces take different
 * branches, so a branching or converging point shows up as disagreement and
 * stops inference there. An inferred hop is never passed off as measured:
 * it lives in rg_trace.inferred, apart from the probe slots.
 *
 * The same table labels hops without an answer: rate-limited when a router
 * at that position answered other traces' probes, silent when none did.
 *
 * Memory: rg_links owns one table, sized at first to what it expects and
 * doubled when 3/4 full, up to 2^24 entries; a table that cannot grow stops
 * inference (it only costs hops, never correctness). */
#ifndef RG_INFER_H
#define RG_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"
#include "result.h"

/* Agreeing witnesses (flows, one per trace) needed to infer a hop. A flow
 * that took a branch of a load balancer none of the witnesses took would
 * get a wrong hop; with two equal-cost branches the chance that n flows
 * all took one is 2 * 2^-n: 3% for six (what this asked once, until a lab
 * run showed it), which a run over many prefixes behind load balancers
 * meets all but surely; one in 2048 for twelve, wider balancers less. The
 * first this many traces towards each prefix are the engine's pilots.
 * Overridable at build time for measurements only. */
#ifndef RG_INFER_WITNESSES
#define RG_INFER_WITNESSES 12u
#endif

typedef struct rg_link {
    rg_addr key, other;   /* key at ttl; other: its neighbour */
    uint32_t scope;       /* forward: destination prefix; backward: 0 */
    uint32_t witnesses;
    uint8_t ttl, forward, used, conflict; /* forward: 0 back, 1 forward, 2 pair */
} rg_link;

typedef struct rg_links {
    rg_link *slots;
    size_t mask, n;
} rg_links;

bool rg_links_init(rg_links *l, size_t expected);
void rg_links_free(rg_links *l);

/* The scope of the prober's forward witnesses: its first router is its
 * route's whatever the destination (never a prefix's scope: those have
 * the low bit set). */
#define RG_LINKS_ANY_SCOPE 0u

/* Destination prefix a forward witness is kept under: /24 or /48. */
uint32_t rg_links_scope(const rg_addr *dst);

/* One trace measured a at TTL ttl and b at ttl + 1 on the way to a
 * destination of the given scope. */
void rg_links_add(rg_links *l, const rg_addr *a, unsigned ttl, const rg_addr *b,
                  uint32_t scope);

/* The one router before b (at TTL ttl) / after a (at TTL ttl) that at least
 * `witnesses` traces agree on, or NULL. */
const rg_addr *rg_links_pred(const rg_links *l, const rg_addr *b, unsigned ttl,
                             unsigned witnesses);
const rg_addr *rg_links_succ(const rg_links *l, const rg_addr *a, unsigned ttl,
                             uint32_t scope, unsigned witnesses);

/* Whether some trace measured a at TTL ttl followed by b. */
bool rg_links_seen(const rg_links *l, const rg_addr *a, unsigned ttl, const rg_addr *b);

/* Whether any router was seen there at all (agreeing or not), and the one
 * seen last (a guess, for pacing only; NULL when none). */
const rg_addr *rg_links_guess_pred(const rg_links *l, const rg_addr *b, unsigned ttl);
const rg_addr *rg_links_guess_succ(const rg_links *l, const rg_addr *a, unsigned ttl,
                                   uint32_t scope);

/* The node a trace shows at ttl, as inference keys it: the prober before
 * TTL 1, a destination's answer as its prefix, a router's address; with
 * with_inferred also an inferred hop. NULL when none; buf holds keys. */
const rg_addr *rg_infer_node(const rg_trace *t, unsigned ttl, bool with_inferred,
                             rg_addr *buf);

/* Adds the adjacency (ttl, ttl + 1) of t when it measured both. */
void rg_links_add_pair(rg_links *l, const rg_trace *t, unsigned ttl);

/* Notes that t measured a router at ttl (towards its destination's
 * prefix), for the silence labels. */
void rg_links_add_place(rg_links *l, const rg_trace *t, unsigned ttl);

/* Adds the adjacencies and places a concluded trace measured. */
void rg_links_add_trace(rg_links *l, const rg_trace *t);

/* The responder a trace shows at ttl: measured, else inferred; NULL. */
const rg_addr *rg_infer_known(const rg_trace *t, unsigned ttl);

/* What backward and forward inference say of hop ttl of t from l; NULL
 * when they say nothing, disagree, or name no router. */
const rg_addr *rg_infer_candidate(const rg_trace *t, const rg_links *l, unsigned ttl,
                                  unsigned witnesses);

/* Fills t->inferred from l for the hops below the destination that t did
 * not measure, and returns how many it inferred. */
unsigned rg_infer_trace(rg_trace *t, const rg_links *l, unsigned witnesses);

/* Whether a router at hop ttl of t answered some trace's probe, judged
 * from t's known neighbours there (a measured predecessor or successor). */
bool rg_infer_place_answers(const rg_trace *t, const rg_links *l, unsigned ttl);

/* Labels t's unanswered hops rate-limited or silent (t->silence). */
void rg_infer_silence(rg_trace *t, const rg_links *l);

/* After rg_trace_conclude on every trace: each trace without a distance
 * of its own takes the one another port of its address showed
 * (est_distance), then inference and labels for all traces. False on
 * allocation failure (nothing inferred then). */
bool rg_run_infer(rg_run *run, unsigned witnesses);

#endif
