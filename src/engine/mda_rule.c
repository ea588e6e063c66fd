#include "mda_rule.h"

#include <stddef.h>

bool rg_mda_confidence_ok(unsigned confidence)
{
    return confidence == 95 || confidence == 99;
}

double rg_mda_miss(unsigned m, unsigned n)
{
    if (m <= 1 || m > RG_MDA_MAX_NEXTHOPS + 1)
        return 0.0;
    /* p[j]: probability that the flows so far hit exactly j distinct next
     * hops. A new flow hits a seen one with probability j/m. */
    double p[RG_MDA_MAX_NEXTHOPS + 2] = {1.0};
    for (unsigned f = 0; f < n; f++) {
        for (unsigned j = (f + 1 < m ? f + 1 : m); j > 0; j--)
            p[j] = p[j] * j / m + p[j - 1] * (double)(m - j + 1) / m;
        p[0] = 0.0;
    }
    /* Summed from the small terms, not 1 - p[m]: no cancellation. */
    double miss = 0.0;
    for (unsigned j = 0; j < m; j++)
        miss += p[j];
    return miss;
}

unsigned rg_mda_probes(unsigned k, unsigned confidence)
{
    if (k == 0 || k > RG_MDA_MAX_NEXTHOPS || !rg_mda_confidence_ok(confidence))
        return 0;
    double alpha = (100.0 - confidence) / 100.0;
    unsigned n = k; /* fewer than k flows cannot show k next hops */
    while (rg_mda_miss(k + 1, n) > alpha)
        n++;
    return n;
}
