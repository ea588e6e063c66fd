/* mda_rule: MDA's stopping rule (Augustin et al., "Multipath tracing with
 * Paris traceroute"; Veitch et al., "Failure control in multipath route
 * tracing").
 *
 * A load balancer spreads flows uniformly over its next hops. Having seen k
 * distinct next hops, we keep sending new flows through the hop until so
 * many (n_k) answered from those k that a (k+1)-th next hop, had it existed,
 * would have been missed with probability at most 1 - confidence. n_k is the
 * smallest n with P(n uniform flows over k+1 next hops miss one) <= alpha.
 * At 95%: 6, 11, 16, 21, 27 ...; at 99%: 8, 15, 21, 28, 36 ... (the
 * published table).
 *
 * Pure: no state, no allocation; computed exactly by a recurrence over the
 * number of distinct next hops seen (every term positive, no cancellation). */
#ifndef RG_MDA_RULE_H
#define RG_MDA_RULE_H

#include <stdbool.h>

#define RG_MDA_DEFAULT_CONFIDENCE 95u
#define RG_MDA_MAX_NEXTHOPS 64u /* beyond this a hop is reported as is */

/* Whether the confidence is one MDA is run at (95 or 99). */
bool rg_mda_confidence_ok(unsigned confidence);

/* Probability that n flows spread uniformly over m next hops leave at
 * least one of them unseen. 0 for m <= 1. */
double rg_mda_miss(unsigned m, unsigned n);

/* n_k: flows through a hop, all answered from k next hops, that rule out
 * a (k+1)-th at this confidence. 0 when k is 0, above RG_MDA_MAX_NEXTHOPS,
 * or the confidence is not 95 or 99. */
unsigned rg_mda_probes(unsigned k, unsigned confidence);

#endif
