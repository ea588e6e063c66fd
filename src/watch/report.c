#include "report.h"

#include <jansson.h>
#include <string.h>

#include "../output/text.h"

static const rg_watch_responder *top_responder(const rg_watch_hop *h, size_t *index)
{
    const rg_watch_responder *best = NULL;
    for (uint32_t k = 0; k < h->nresp; k++)
        if (!best || h->resp[k].rounds > best->rounds) {
            best = &h->resp[k];
            *index = k;
        }
    return best;
}

static void put_ms(FILE *out, uint32_t us)
{
    fprintf(out, " %6.1f", us / 1000.0);
}

/* Why some of a hop's rounds went unanswered without counting as loss
 * (stats.h), written into buf; "" when there is nothing to say. */
static const char *hop_note(const rg_watch_hop *h, char *buf, size_t len)
{
    buf[0] = '\0';
    if (h->probed == 0 && h->inferred)
        snprintf(buf, len, "not probed, inferred from other traces in %u rounds", h->inferred);
    else if (h->silent && h->answered == 0 && h->limited == 0)
        snprintf(buf, len, "silent router (answers no one), not loss");
    else if (h->limited || h->silent)
        snprintf(buf, len, "rate-limited in %u round%s, not loss", h->limited + h->silent,
                 h->limited + h->silent == 1 ? "" : "s");
    return buf;
}

static void write_hop(FILE *out, const rg_watch_hop *h, unsigned ttl, uint32_t rounds)
{
    char a[RG_ADDR_STRLEN];
    size_t top = 0;
    const rg_watch_responder *r = top_responder(h, &top);
    fprintf(out, "%4u  %-39s", ttl, r ? rg_addr_format(&r->addr, a, sizeof a) : "???");
    fprintf(out, " %5.1f%% %4u %4u %4u", rg_watch_loss_pct(h), h->probed, h->answered,
            h->limited + h->silent);
    if (h->rtt.n) {
        put_ms(out, h->rtt.last);
        fprintf(out, " %6.1f", h->rtt.mean / 1000.0);
        put_ms(out, h->rtt.best);
        put_ms(out, h->rtt.worst);
        fprintf(out, " %6.1f", rg_watch_rtt_stddev(&h->rtt) / 1000.0);
    }
    char nb[96];
    const char *note = hop_note(h, nb, sizeof nb);
    if (*note)
        fprintf(out, "%s  %s", h->rtt.n ? "" : "                                   ", note);
    fputc('\n', out);
    if (!r || (h->nresp == 1 && h->others == 0))
        return;
    /* ECMP or a route change: every responder seen at this TTL. */
    for (uint32_t k = 0; k < h->nresp; k++)
        fprintf(out, "      %-39s %u/%u rounds\n", rg_addr_format(&h->resp[k].addr, a, sizeof a),
                h->resp[k].rounds, rounds);
    if (h->others)
        fprintf(out, "      (%u answers from further responders)\n", h->others);
}

static void write_trace(FILE *out, const rg_watch_trace *w, const rg_trace *t, uint32_t rounds)
{
    rg_text_label(out, t);
    fprintf(out, "  %u rounds, destination reached in %u", rounds, w->reached);
    static const enum rg_port_state order[] = {RG_PORT_OPEN, RG_PORT_CLOSED, RG_PORT_FILTERED,
                                               RG_PORT_UNKNOWN};
    for (size_t k = 0; k < 4; k++)
        if (w->state[order[k]])
            fprintf(out, ", port %s in %u", rg_port_state_name(order[k]), w->state[order[k]]);
    fputs("\n TTL  Host                                    Loss%  Snt  Rcv  Lim"
          "   Last    Avg   Best   Wrst  StDev\n", out);
    for (unsigned ttl = w->min_ttl; ttl <= w->top_ttl && ttl <= w->max_ttl; ttl++) {
        const rg_watch_hop *h = &w->hops[ttl - w->min_ttl];
        if (h->probed || h->inferred)
            write_hop(out, h, ttl, rounds);
    }
}

bool rg_watch_report_write(FILE *out, const rg_watch_stats *s, const rg_run *run)
{
    for (size_t i = 0; i < s->ntraces && i < run->ntraces; i++) {
        if (i)
            fputc('\n', out);
        write_trace(out, &s->traces[i], &run->traces[i], s->rounds);
    }
    if (s->interrupted)
        fprintf(out, "\n%u round%s cut short by a signal not counted\n", s->interrupted,
                s->interrupted == 1 ? "" : "s");
    return fflush(out) == 0 && !ferror(out);
}

/* ---- JSON ---- */

static bool put(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) == 0;
}

static json_t *addr_json(const rg_addr *a)
{
    char buf[RG_ADDR_STRLEN];
    return json_string(rg_addr_format(a, buf, sizeof buf));
}

static json_t *rtt_json(const rg_watch_rtt *r)
{
    if (r->n == 0)
        return json_null();
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "last_us", (json_int_t)r->last, "mean_us",
                     (json_int_t)(r->mean + 0.5), "best_us", (json_int_t)r->best, "worst_us",
                     (json_int_t)r->worst, "stddev_us",
                     (json_int_t)(rg_watch_rtt_stddev(r) + 0.5));
}

static json_t *responders_json(const rg_watch_hop *h)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (uint32_t k = 0; ok && k < h->nresp; k++)
        ok = json_array_append_new(a, json_pack("{s:o,s:I}", "address",
                                                addr_json(&h->resp[k].addr), "rounds",
                                                (json_int_t)h->resp[k].rounds)) == 0;
    if (ok)
        return a;
    json_decref(a);
    return NULL;
}

static json_t *hop_json(const rg_watch_hop *h, unsigned ttl)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "ttl", json_integer(ttl));
    ok &= put(o, "probed", json_integer(h->probed));
    ok &= put(o, "answered", json_integer(h->answered));
    ok &= put(o, "limited", json_integer(h->limited));
    ok &= put(o, "silent", json_integer(h->silent));
    ok &= put(o, "inferred", json_integer(h->inferred));
    ok &= put(o, "loss_pct", json_real(rg_watch_loss_pct(h)));
    ok &= put(o, "rtt", rtt_json(&h->rtt));
    ok &= put(o, "responders", responders_json(h));
    ok &= put(o, "other_responders", json_integer(h->others));
    if (ok)
        return o;
    json_decref(o);
    return NULL;
}

static json_t *trace_json(const rg_watch_trace *w, const rg_trace *t)
{
    json_t *hops = json_array();
    bool ok = hops != NULL;
    for (unsigned ttl = w->min_ttl; ok && ttl <= w->top_ttl && ttl <= w->max_ttl; ttl++) {
        const rg_watch_hop *h = &w->hops[ttl - w->min_ttl];
        if (h->probed || h->inferred)
            ok = json_array_append_new(hops, hop_json(h, ttl)) == 0;
    }
    json_t *states = json_pack("{s:I,s:I,s:I,s:I}", "open", (json_int_t)w->state[RG_PORT_OPEN],
                               "closed", (json_int_t)w->state[RG_PORT_CLOSED], "filtered",
                               (json_int_t)w->state[RG_PORT_FILTERED], "unknown",
                               (json_int_t)w->state[RG_PORT_UNKNOWN]);
    if (!ok || !states) {
        json_decref(hops);
        json_decref(states);
        return NULL;
    }
    return json_pack("{s:o,s:I,s:I,s:o,s:o}", "address", addr_json(&t->dst), "port",
                     (json_int_t)t->dport, "reached", (json_int_t)w->reached, "states", states,
                     "hops", hops);
}

json_t *rg_watch_report_json(const rg_watch_stats *s, const rg_run *run, double interval)
{
    json_t *traces = json_array();
    bool ok = traces != NULL;
    for (size_t i = 0; ok && i < s->ntraces && i < run->ntraces; i++)
        ok = json_array_append_new(traces, trace_json(&s->traces[i], &run->traces[i])) == 0;
    if (!ok) {
        json_decref(traces);
        return NULL;
    }
    return json_pack("{s:s,s:I,s:I,s:f,s:o}", "schema", RG_WATCH_SCHEMA, "rounds",
                     (json_int_t)s->rounds, "interrupted_rounds", (json_int_t)s->interrupted,
                     "interval", interval, "traces", traces);
}
