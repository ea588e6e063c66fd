#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool rg_watch_stats_init(rg_watch_stats *s, const rg_run *run)
{
    memset(s, 0, sizeof *s);
    if (run->ntraces == 0)
        return true;
    s->traces = calloc(run->ntraces, sizeof *s->traces);
    if (!s->traces)
        return false;
    s->ntraces = run->ntraces;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        rg_watch_trace *w = &s->traces[i];
        w->min_ttl = t->min_ttl;
        w->max_ttl = t->max_ttl;
        w->hops = calloc(t->max_ttl - t->min_ttl + 1, sizeof *w->hops);
        if (!w->hops) {
            rg_watch_stats_free(s);
            return false;
        }
    }
    return true;
}

void rg_watch_stats_free(rg_watch_stats *s)
{
    for (size_t i = 0; i < s->ntraces; i++)
        free(s->traces[i].hops);
    free(s->traces);
    memset(s, 0, sizeof *s);
}

static void add_rtt(rg_watch_rtt *r, uint32_t us)
{
    r->n++;
    r->last = us;
    if (r->n == 1 || us < r->best)
        r->best = us;
    if (us > r->worst)
        r->worst = us;
    double d = us - r->mean;
    r->mean += d / r->n;
    r->m2 += d * (us - r->mean);
}

static void add_responder(rg_watch_hop *h, const rg_addr *a)
{
    for (uint32_t k = 0; k < h->nresp; k++)
        if (rg_addr_equal(&h->resp[k].addr, a)) {
            h->resp[k].rounds++;
            return;
        }
    if (h->nresp == RG_WATCH_RESPONDERS) {
        h->others++;
        return;
    }
    h->resp[h->nresp].addr = *a;
    h->resp[h->nresp++].rounds = 1;
}

/* Whether anything past ttl answered in this round: the probes got past. */
static bool answered_beyond(const rg_trace *t, unsigned ttl)
{
    return t->last_answer_ttl > ttl || t->reached_ttl > ttl;
}

static void add_hop(rg_watch_trace *w, const rg_trace *t, unsigned ttl)
{
    rg_watch_hop *h = &w->hops[ttl - w->min_ttl];
    if (rg_trace_sent(t, ttl) == 0) {
        if (rg_trace_inferred(t, ttl)) {
            h->inferred++;
            w->top_ttl = ttl > w->top_ttl ? ttl : w->top_ttl;
        }
        return;
    }
    w->top_ttl = ttl > w->top_ttl ? ttl : w->top_ttl;
    h->probed++;
    const rg_probe *p = rg_trace_shown(t, ttl);
    if (p) {
        h->answered++;
        add_rtt(&h->rtt, p->rtt_us);
        add_responder(h, &p->from);
        return;
    }
    enum rg_silence why = rg_trace_silence(t, ttl);
    if (why == RG_SILENCE_SILENT && answered_beyond(t, ttl))
        h->silent++;
    else if (why == RG_SILENCE_RATE_LIMITED || answered_beyond(t, ttl))
        h->limited++;
}

static void add_trace(rg_watch_trace *w, const rg_trace *t)
{
    if (t->reached_ttl)
        w->reached++;
    if ((unsigned)t->state < 4)
        w->state[t->state]++;
    w->last_state = (uint8_t)t->state;
    w->last_reached_ttl = t->reached_ttl;
    /* Probes past the destination (in flight when it answered) say
     * nothing about the path. */
    unsigned top = t->reached_ttl ? t->reached_ttl : t->max_ttl;
    for (unsigned ttl = t->min_ttl; ttl <= top && ttl <= w->max_ttl; ttl++)
        add_hop(w, t, ttl);
}

void rg_watch_stats_add(rg_watch_stats *s, const rg_run *run)
{
    if (run->interrupted) {
        s->interrupted++;
        return;
    }
    s->rounds++;
    for (size_t i = 0; i < s->ntraces && i < run->ntraces; i++)
        add_trace(&s->traces[i], &run->traces[i]);
}

double rg_watch_loss_pct(const rg_watch_hop *h)
{
    if (h->probed == 0)
        return 0;
    uint32_t lost = h->probed - h->answered - h->limited - h->silent;
    return 100.0 * lost / h->probed;
}

double rg_watch_rtt_stddev(const rg_watch_rtt *r)
{
    return r->n < 2 ? 0 : sqrt(r->m2 / (r->n - 1));
}
