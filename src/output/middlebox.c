#include "middlebox.h"

#include <inttypes.h>
#include <stdlib.h>

#include "../model/middlebox.h"
#include "text.h"

/* The words a change is written with. */
static const char *field_words(uint16_t what)
{
    switch (what) {
    case RG_QC_DSCP: return "DSCP";
    case RG_QC_ECN: return "ECN";
    case RG_QC_TTL: return "quoted TTL";
    case RG_QC_IPID: return "IP ID";
    case RG_QC_SRC: return "source address";
    case RG_QC_DST: return "destination address";
    case RG_QC_SPORT: return "source port";
    case RG_QC_DPORT: return "destination port";
    case RG_QC_SEQ: return "sequence number shifted";
    case RG_QC_MSS: return "MSS";
    case RG_QC_OPTIONS: return "TCP options";
    case RG_QC_FLOW: return "flow label";
    case RG_QC_TCP: return "TCP header";
    default: return "?";
    }
}

/* "hop 3 NAME ADDR" or "hop 3 ADDR": the responder as the table names it. */
static void put_hop(FILE *out, const rg_run *run, unsigned ttl, const rg_addr *a)
{
    char buf[64];
    fprintf(out, " hop %u ", ttl);
    const rg_host *h = rg_run_host(run, a);
    if (h && h->ptr) {
        rg_text_clean(out, h->ptr);
        fputc(' ', out);
    }
    fputs(rg_addr_format(a, buf, sizeof buf), out);
}

void rg_middlebox_words(FILE *out, const rg_mbox_change *c)
{
    char a[64], b[64];
    fputs(field_words(c->what), out);
    if (c->what == RG_QC_SEQ)
        fprintf(out, " %s", rg_mbox_value(c, true, b, sizeof b));
    else if (c->what == RG_QC_OPTIONS)
        fputs(c->to ? " changed" : " as sent again", out);
    else
        fprintf(out, " %s -> %s", rg_mbox_value(c, false, a, sizeof a),
                rg_mbox_value(c, true, b, sizeof b));
}

void rg_middlebox_evidence_words(FILE *out, const rg_trace *t, uint16_t what)
{
    char a[64], b[64];
    if (what == RG_QC_SRC) {
        if (t->nat_ttl)
            fprintf(out, "source address %s -> %s", rg_addr_format(&t->src, a, sizeof a),
                    rg_addr_format(&t->nat_source, b, sizeof b));
        return;
    }
    const rg_rewrite_seen *e = rg_middlebox_evidence(t, what);
    if (!e)
        return;
    if (what == RG_QC_DST) {
        fprintf(out, "destination address %s -> %s", rg_addr_format(&t->dst, a, sizeof a),
                rg_addr_format(&e->dst, b, sizeof b));
        if (e->dport != t->dport)
            fprintf(out, ", port %u -> %u", (unsigned)t->dport, (unsigned)e->dport);
    } else
        fprintf(out, "sequence number shifted by %+" PRId32, e->shift);
}

static void put_change(FILE *out, const rg_run *run, const rg_trace *t,
                       const rg_mbox_change *c)
{
    rg_text_label(out, t);
    put_hop(out, run, c->ttl, &c->probe->from);
    fputs(": ", out);
    rg_middlebox_words(out, c);
    if (c->prev_ttl == 0)
        fprintf(out, " (rewritten before TTL %u)\n", c->ttl);
    else
        fprintf(out, " (rewritten between TTL %u and %u)\n", c->prev_ttl, c->ttl);
}

/* The last hop that quoted a filtered port's SYN as sent. */
static void put_syn_seen(FILE *out, const rg_run *run, const rg_trace *t)
{
    unsigned ttl = rg_middlebox_syn_last_seen(t);
    const rg_probe *p = ttl ? rg_trace_answer(t, ttl) : NULL;
    if (!p)
        return;
    rg_text_label(out, t);
    fputs(" filtered: SYN last seen at", out);
    put_hop(out, run, ttl, &p->from);
    fputc('\n', out);
}

/* The NAT seen through errors quoting our source rewritten. */
static void put_nat(FILE *out, const rg_run *run, const rg_trace *t)
{
    rg_text_label(out, t);
    put_hop(out, run, t->nat_ttl, &t->nat_by);
    fputs(": ", out);
    rg_middlebox_evidence_words(out, t, RG_QC_SRC);
    fprintf(out, " (rewritten between TTL %u and %u; %u error%s quoting it, not used as hop "
            "answers)\n", rg_middlebox_nat_after(t), t->nat_ttl, (unsigned)t->nat_errors,
            t->nat_errors == 1 ? "" : "s");
}

/* A rewrite seen only through errors that are not hop answers. */
static void put_evidence(FILE *out, const rg_run *run, const rg_trace *t, uint16_t what)
{
    const rg_rewrite_seen *e = rg_middlebox_evidence(t, what);
    if (!e)
        return;
    rg_text_label(out, t);
    put_hop(out, run, e->ttl, &e->by);
    fputs(": ", out);
    rg_middlebox_evidence_words(out, t, what);
    fprintf(out, " (%s between TTL %u and %u; %u error%s quoting it, not used as hop answers)\n",
            what == RG_QC_DST ? "rewritten" : "shifted",
            rg_middlebox_quoted_below(t, e->ttl), e->ttl, (unsigned)e->errors,
            e->errors == 1 ? "" : "s");
}

static bool put_trace(FILE *out, const rg_run *run, const rg_trace *t, bool *header)
{
    size_t max = rg_middlebox_max_changes(t);
    rg_mbox_change *ch = malloc(max * sizeof *ch);
    if (!ch)
        return false;
    size_t n = rg_middlebox_changes(t, ch, max);
    bool filtered = t->state == RG_PORT_FILTERED && rg_middlebox_syn_last_seen(t);
    bool evidence = rg_middlebox_evidence(t, RG_QC_DST) || rg_middlebox_evidence(t, RG_QC_SEQ);
    if ((n || filtered || t->nat_ttl || evidence) && !*header) {
        fputs("\nWhat the path changed in the probes (from the routers' quotes):\n", out);
        *header = true;
    }
    for (size_t i = 0; i < n && i < max; i++)
        put_change(out, run, t, &ch[i]);
    if (t->nat_ttl)
        put_nat(out, run, t);
    put_evidence(out, run, t, RG_QC_DST);
    put_evidence(out, run, t, RG_QC_SEQ);
    if (filtered)
        put_syn_seen(out, run, t);
    free(ch);
    return true;
}

/* Whether some trace got quotes and none of them held the TCP options. */
static bool options_never_quoted(const rg_run *run)
{
    bool quotes = false;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        if (rg_middlebox_options_quoted(t))
            return false;
        for (unsigned ttl = t->min_ttl; t->probes && !quotes && ttl <= t->max_ttl; ttl++) {
            const rg_probe *p = rg_trace_answer(t, ttl);
            quotes = p && p->quote.tcp_quoted > 0;
        }
    }
    return quotes;
}

bool rg_middlebox_write(FILE *out, const rg_run *run)
{
    bool header = false;
    for (size_t i = 0; i < run->ntraces; i++)
        if (run->traces[i].probes && !put_trace(out, run, &run->traces[i], &header))
            return false;
    if (options_never_quoted(run))
        fputs("TCP options not quoted by any hop (8-byte quotes): MSS and option changes "
              "cannot be seen\n", out);
    return !ferror(out);
}
