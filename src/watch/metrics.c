#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

bool rg_metrics_init(rg_metrics *m, const rg_run *run)
{
    memset(m, 0, sizeof *m);
    if (run->ntraces && !(m->svc = calloc(run->ntraces, sizeof *m->svc)))
        return false;
    m->n = run->ntraces;
    for (size_t i = 0; i < m->n; i++) {
        m->svc[i].dst = run->traces[i].dst;
        m->svc[i].port = run->traces[i].dport;
    }
    return true;
}

void rg_metrics_free(rg_metrics *m)
{
    free(m->svc);
    memset(m, 0, sizeof *m);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void update_service(rg_metrics_service *s, const rg_run *run, const rg_trace *t)
{
    rg_path p;
    rg_path_of(run, t, &p);
    uint64_t h = 14695981039346656037ull;
    for (unsigned i = 0; i < p.len; i++)
        h = fnv(h, p.hop[i].family ? p.hop[i].bytes : (const uint8_t *)"-",
                p.hop[i].family == 6 ? 16 : p.hop[i].family == 4 ? 4 : 1);
    uint32_t id = (uint32_t)(h ^ (h >> 32));
    uint64_t as = p.nas ? fnv(14695981039346656037ull, p.as, p.nas * sizeof p.as[0]) : 0;
    double now = (double)run->end.tv_sec + run->end.tv_nsec / 1e9;
    if (s->seen && id != s->path_id) {
        s->path_changes++;
        s->last_change = now;
    }
    if (s->seen && as && s->as_key && as != s->as_key) {
        s->as_path_changes++;
        s->last_change = now;
    }
    s->seen = true;
    s->path_id = id;
    s->as_key = as ? as : s->as_key;
    s->state = (uint8_t)t->state;
    s->reached = t->reached_ttl != 0;
    s->hops = t->reached_ttl ? t->reached_ttl : t->last_answer_ttl;
    s->rtt_us = t->reached_ttl ? t->rtt_us : 0;
}

void rg_metrics_update(rg_metrics *m, const rg_run *run, double secs)
{
    m->rounds++;
    m->round_seconds = secs;
    m->probes += run->stats.probes_sent;
    m->matched += run->stats.matched;
    m->unmatched += run->stats.unmatched;
    for (size_t i = 0; i < m->n && i < run->ntraces; i++)
        if (!run->traces[i].incomplete)
            update_service(&m->svc[i], run, &run->traces[i]);
}

/* ---- exposition ---- */

static void family(FILE *f, const char *name, const char *type, const char *help, bool om)
{
    bool counter = strcmp(type, "counter") == 0;
    /* OpenMetrics names the counter family without _total, the Prometheus
     * text format with it. */
    fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, counter && !om ? "_total" : "", help,
            name, counter && !om ? "_total" : "", type);
}

static void labels(FILE *f, const rg_metrics_service *s)
{
    char a[RG_ADDR_STRLEN];
    fprintf(f, "{target=\"%s\",port=\"%u\"}", rg_addr_format(&s->dst, a, sizeof a), s->port);
}

typedef double (*value_fn)(const rg_metrics_service *s);

static void per_service(FILE *f, const rg_metrics *m, const char *name, const char *suffix,
                        value_fn v)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!m->svc[i].seen)
            continue;
        fprintf(f, "%s%s", name, suffix);
        labels(f, &m->svc[i]);
        fprintf(f, " %.17g\n", v(&m->svc[i]));
    }
}

static double v_reached(const rg_metrics_service *s) { return s->reached; }
static double v_hops(const rg_metrics_service *s) { return s->hops; }
static double v_rtt(const rg_metrics_service *s) { return s->rtt_us / 1e6; }
static double v_path(const rg_metrics_service *s) { return s->path_id; }
static double v_pchg(const rg_metrics_service *s) { return (double)s->path_changes; }
static double v_aschg(const rg_metrics_service *s) { return (double)s->as_path_changes; }
static double v_last(const rg_metrics_service *s) { return s->last_change; }

static void port_states(FILE *f, const rg_metrics *m)
{
    static const enum rg_port_state states[] = {RG_PORT_OPEN, RG_PORT_CLOSED, RG_PORT_FILTERED,
                                                RG_PORT_UNKNOWN};
    char a[RG_ADDR_STRLEN];
    for (size_t i = 0; i < m->n; i++) {
        const rg_metrics_service *s = &m->svc[i];
        for (size_t k = 0; s->seen && k < 4; k++)
            fprintf(f, "routegraph_port_state{target=\"%s\",port=\"%u\",state=\"%s\"} %d\n",
                    rg_addr_format(&s->dst, a, sizeof a), s->port,
                    rg_port_state_name(states[k]), s->state == states[k]);
    }
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v, bool om)
{
    family(f, name, "counter", help, om);
    fprintf(f, "%s_total %llu\n", name, (unsigned long long)v);
}

char *rg_metrics_text(const rg_metrics *m, bool om)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    counter(f, "routegraph_rounds", "Rounds finished.", m->rounds, om);
    family(f, "routegraph_round_duration_seconds", "gauge", "Duration of the last round.", om);
    fprintf(f, "routegraph_round_duration_seconds %.6f\n", m->round_seconds);
    counter(f, "routegraph_probes_sent", "Probes sent, all rounds.", m->probes, om);
    counter(f, "routegraph_replies_matched", "Replies matched to a probe, all rounds.",
            m->matched, om);
    counter(f, "routegraph_replies_unmatched", "Replies that matched no probe, all rounds.",
            m->unmatched, om);
    family(f, "routegraph_port_state", "gauge",
           "1 for the port state of the last round (open, closed, filtered, unknown).", om);
    port_states(f, m);
    family(f, "routegraph_destination_reached", "gauge",
           "1 when the destination answered in the last round.", om);
    per_service(f, m, "routegraph_destination_reached", "", v_reached);
    family(f, "routegraph_hops", "gauge",
           "Hops to the destination (or to the last answer) in the last round.", om);
    per_service(f, m, "routegraph_hops", "", v_hops);
    family(f, "routegraph_rtt_seconds", "gauge",
           "Round-trip time of the destination's answer in the last round (0: none).", om);
    per_service(f, m, "routegraph_rtt_seconds", "", v_rtt);
    family(f, "routegraph_path_id", "gauge",
           "Identifier of the path (hash of the responders per TTL); changes when it does.", om);
    per_service(f, m, "routegraph_path_id", "", v_path);
    family(f, "routegraph_path_changes", "counter", "Rounds whose path differed from the one before.",
           om);
    per_service(f, m, "routegraph_path_changes", "_total", v_pchg);
    family(f, "routegraph_as_path_changes", "counter",
           "Rounds whose AS path differed from the one before.", om);
    per_service(f, m, "routegraph_as_path_changes", "_total", v_aschg);
    family(f, "routegraph_last_change_timestamp_seconds", "gauge",
           "Unix time of the last path or AS-path change (0: none).", om);
    per_service(f, m, "routegraph_last_change_timestamp_seconds", "", v_last);
    if (om)
        fputs("# EOF\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
