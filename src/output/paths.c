#include "paths.h"

#include <string.h>

#include "text.h"

bool rg_paths_wanted(const rg_run *run)
{
    for (size_t i = 0; i < run->nhosts; i++)
        if (run->hosts[i].asn || run->hosts[i].ptr)
            return true;
    return false;
}

static void put_as(FILE *out, const rg_host *h)
{
    if (!h || h->asn == 0) {
        fputs("AS???", out);
        return;
    }
    fprintf(out, "AS%lu", (unsigned long)h->asn);
    if (h->as_org) {
        fputc(' ', out);
        rg_text_clean(out, h->as_org);
    }
    if (h->country[0]) {
        fputs(", ", out);
        rg_text_clean(out, h->country);
    }
}

/* "  3  198.18.16.2  r3a.lab  AS64501 Lab Transit  0.101 ms" */
static void put_hop(FILE *out, const rg_run *run, const rg_trace *t, unsigned ttl)
{
    const rg_probe *p = rg_trace_answer(t, ttl);
    const rg_addr *inferred = p ? NULL : rg_trace_inferred(t, ttl);
    char a[RG_ADDR_STRLEN];
    fprintf(out, "  %2u  ", ttl);
    if (inferred) {
        /* Not measured on this trace: said so, and no RTT of its own. */
        const rg_host *h = rg_run_host(run, inferred);
        fputs(rg_addr_format(inferred, a, sizeof a), out);
        if (h && h->ptr) {
            fputs("  ", out);
            rg_text_clean(out, h->ptr);
        }
        fputs("  ", out);
        put_as(out, h);
        fputs("  (inferred from other traces)\n", out);
        return;
    }
    if (!p) {
        fputs(rg_trace_silence(t, ttl) == RG_SILENCE_RATE_LIMITED ? "~  (rate-limited)\n" : "-\n",
              out);
        return;
    }
    const rg_host *h = rg_run_host(run, &p->from);
    fputs(rg_addr_format(&p->from, a, sizeof a), out);
    if (h && h->ptr) {
        fputs("  ", out);
        rg_text_clean(out, h->ptr);
    }
    fputs("  ", out);
    put_as(out, h);
    fprintf(out, "  %u.%03u ms\n", p->rtt_us / 1000, p->rtt_us % 1000);
}

bool rg_paths_write(FILE *out, const rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        fputc('\n', out);
        rg_text_label(out, t);
        fputc('\n', out);
        for (unsigned ttl = t->min_ttl; ttl <= t->last_ttl; ttl++)
            if (rg_trace_sent(t, ttl) > 0 || rg_trace_inferred(t, ttl))
                put_hop(out, run, t, ttl);
    }
    if (run->as_credit)
        fprintf(out, "\n%s\n", run->as_credit);
    if (run->country_credit)
        fprintf(out, "%s%s\n", run->as_credit ? "" : "\n", run->country_credit);
    return fflush(out) == 0 && !ferror(out);
}
