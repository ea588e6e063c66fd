#include "watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../annotate/annotate.h"
#include "../engine/engine.h"
#include "../history/history.h"
#include "../model/middlebox.h"
#include "../input/json_read.h"
#include "../util/atomic.h"
#include "../output/json.h"
#include "../output/outputs.h"
#include "../output/text.h"
#include "changes.h"
#include "metrics.h"
#include "metrics_http.h"
#include "report.h"
#include "stats.h"
#include "stop.h"

#define NS 1000000000ull

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void reset_trace(rg_trace *t)
{
    size_t rows = t->max_ttl - t->min_ttl + 1;
    memset(t->probes, 0, rg_trace_slots(t) * sizeof *t->probes);
    memset(t->nsent, 0, rows + 1);
    memset(t->inferred, 0, rows * sizeof *t->inferred);
    memset(t->silence, 0, rows);
    rg_trace_clear_ext(t);
    t->port_ttl = t->max_ttl;
    t->reached_ttl = t->last_ttl = t->last_answer_ttl = 0;
    t->state = RG_PORT_UNKNOWN;
    t->rtt_us = 0;
    t->stopped_by_unreachable = false;
    t->est_distance = 0;
    t->port_probes_sent = t->port_probes_lost = 0;
    t->incomplete = false;
    rg_middlebox_reset(t);
    rg_engine_prepare_trace(t, t->sport);
}

void rg_watch_reset_round(rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++)
        reset_trace(&run->traces[i]);
    memset(&run->stats, 0, sizeof run->stats);
    run->interrupted = false;
}

/* Either stage of a stop signal (stop.h). */
static bool stopping(void)
{
    return *rg_stop_finish_flag() || *rg_stop_flag();
}

/* Sleeps until deadline (monotonic ns) or a stop signal; bounded by the
 * deadline, woken early by the signal (nanosleep returns EINTR). */
static void wait_until(uint64_t deadline)
{
    for (uint64_t now = mono_ns(); !stopping() && now < deadline; now = mono_ns()) {
        uint64_t left = deadline - now;
        struct timespec ts = {(time_t)(left / NS), (long)(left % NS)};
        nanosleep(&ts, NULL);
    }
}

static void say_round(const rg_run *run, uint32_t round, double secs)
{
    size_t reached = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        reached += run->traces[i].reached_ttl != 0;
    fprintf(stderr, "routegraph: round %u: %zu of %zu traces reached the destination, "
            "%llu probes, %.1f s\n", round, reached, run->ntraces,
            (unsigned long long)run->stats.probes_sent, secs);
}

typedef struct out_ctx {
    const rg_watch_stats *stats;
    const rg_run *run;
    const rg_config *cfg;
    json_t *changes; /* borrowed; NULL without --baseline */
} out_ctx;

static bool write_report(FILE *out, const void *p)
{
    const out_ctx *c = p;
    return rg_watch_report_write(out, c->stats, c->run);
}

static bool write_json(FILE *out, const void *p)
{
    const out_ctx *c = p;
    json_t *doc = rg_json_build(c->run, c->cfg);
    json_t *w = rg_watch_report_json(c->stats, c->run, c->cfg->interval);
    if (w && c->changes)
        json_object_set(w, "changes", c->changes);
    bool ok = doc && w && json_object_set_new(doc, "watch", w) == 0;
    if (!ok && doc == NULL)
        json_decref(w);
    ok = ok && json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 &&
         fputc('\n', out) != EOF;
    json_decref(doc);
    return ok && fflush(out) == 0 && !ferror(out);
}

static bool write_file(const char *prefix, const char *ext, rg_writer_fn fn, const out_ctx *c)
{
    char path[4096], err[512];
    if ((size_t)snprintf(path, sizeof path, "%s.%s", prefix, ext) >= sizeof path) {
        fputs("routegraph: output prefix too long\n", stderr);
        return false;
    }
    if (rg_write_atomic(path, fn, c, err, sizeof err))
        return true;
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, err);
    fputc('\n', stderr);
    return false;
}

/* The latest round's graph formats (g's) through the usual outputs; the
 * HTML report's timeline of changes reads the "watch" member. */
static bool write_graphs(const rg_config *g, const out_ctx *c)
{
    json_t *w = g->formats & RG_FMT_HTML
                    ? rg_watch_report_json(c->stats, c->run, c->cfg->interval)
                    : NULL;
    if (w && c->changes)
        json_object_set(w, "changes", c->changes);
    bool ok = rg_outputs_write_watch(c->run, g, false, NULL, w);
    json_decref(w);
    return ok;
}

/* The report (table), the JSON with its "watch" member, and the latest
 * round's graph formats. */
static bool write_outputs(const rg_watch_stats *stats, const rg_run *run, const rg_config *cfg,
                          json_t *changes)
{
    out_ctx c = {stats, run, cfg, changes};
    bool ok = true;
    if (!cfg->output) {
        if (cfg->formats & RG_FMT_TABLE)
            ok = write_report(stdout, &c);
        else if (cfg->formats & RG_FMT_JSON)
            ok = write_json(stdout, &c);
        else
            ok = write_graphs(cfg, &c);
        return ok;
    }
    if (cfg->formats & RG_FMT_TABLE) {
        ok &= write_file(cfg->output, "txt", write_report, &c);
        if (!cfg->quiet)
            ok &= write_report(stdout, &c);
    }
    if (cfg->formats & RG_FMT_JSON)
        ok &= write_file(cfg->output, "json", write_json, &c);
    rg_config g = *cfg;
    g.formats &= RG_FMT_GRAPH;
    if (g.formats)
        ok &= write_graphs(&g, &c);
    return ok;
}

static void complain(const char *msg)
{
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, msg);
    fputc('\n', stderr);
}

/* AS numbers (and what else the offline sources know) for a round: no DNS
 * per round. */
static void annotate_round(rg_run *run, rg_sources *sources)
{
    rg_annotate_stats st = {0};
    char err[256];
    rg_sources_ready(sources);
    if (!rg_run_collect_hosts(run))
        return;
    if (sources->asdb || sources->mmdbs)
        rg_annotate_offline(run, sources->asdb, sources->mmdbs, &st, err, sizeof err);
    rg_annotate_countries(run, sources->countries, sources->default_countries, &st);
}

/* The round against the baseline: one line and one event per change, the
 * events both in this round's array and in all. */
static void compare_round(rg_changes *ch, rg_run *run, const rg_config *cfg, json_t *round_ev,
                          json_t *all, unsigned round)
{
    if (rg_changes_compare(ch, run, cfg->quiet ? NULL : stdout, round_ev, false, round) &&
        !cfg->quiet)
        fflush(stdout);
    json_array_extend(all, round_ev);
}

/* Keeps the round: its document, services and changes, one transaction. */
static bool store_round(rg_history *h, const rg_run *run, const rg_config *cfg, json_t *round_ev)
{
    char err[512];
    json_t *doc = rg_json_build(run, cfg);
    bool ok = doc && rg_history_add_round(h, run, doc, round_ev, err, sizeof err) > 0;
    json_decref(doc);
    if (!ok)
        complain(doc ? err : "out of memory");
    return ok;
}

/* --baseline: read (hostile input) and set up the services; false with the
 * error reported. */
static bool open_baseline(rg_changes *ch, const rg_run *run, const rg_config *cfg)
{
    char err[512];
    rg_run base = {0};
    if (!rg_json_read_file(cfg->baseline, &base, err, sizeof err)) {
        complain(err);
        return false;
    }
    bool ok = rg_changes_init(ch, &base, run);
    rg_run_free(&base);
    if (!ok)
        complain("out of memory");
    return ok;
}

int rg_watch_run(rg_run *run, const rg_config *cfg, const rg_sockets *socks,
                 rg_sources *sources)
{
    rg_watch_stats stats;
    char err[512];
    rg_changes ch = {0};
    json_t *events = NULL;
    if (cfg->baseline) {
        if (!open_baseline(&ch, run, cfg))
            return 2;
        if (!(events = json_array())) {
            rg_changes_free(&ch);
            return 1;
        }
    }
    rg_metrics metrics = {0};
    rg_metrics_server *server = NULL;
    if (cfg->metrics && (!rg_metrics_init(&metrics, run) ||
                         !(server = rg_metrics_serve(cfg->metrics, err, sizeof err)))) {
        complain(server || metrics.svc || run->ntraces == 0 ? err : "out of memory");
        rg_metrics_free(&metrics);
        rg_changes_free(&ch);
        json_decref(events);
        return 2;
    }
    rg_history *hist = NULL;
    if (cfg->history && !(hist = rg_history_open(cfg->history, err, sizeof err))) {
        complain(err);
        rg_metrics_stop(server);
        rg_metrics_free(&metrics);
        rg_changes_free(&ch);
        json_decref(events);
        return 2;
    }
    if (!rg_watch_stats_init(&stats, run)) {
        fputs("routegraph: out of memory\n", stderr);
        rg_changes_free(&ch);
        json_decref(events);
        rg_history_close(hist);
        rg_metrics_stop(server);
        rg_metrics_free(&metrics);
        return 1;
    }
    rg_engine_opts eo = {.rate = cfg->rate, .timeout = cfg->timeout, .gap = cfg->gap,
                         .retries = cfg->retries, .stop_set_start = cfg->stop_set};
    /* A first signal lets the round in progress end (the engine does not
     * see it); a second one sets the engine's flag and abandons it. */
    volatile sig_atomic_t *abandon = rg_stop_flag();
    int status = 0;
    uint32_t round = 1;
    for (; !stopping() && (cfg->rounds == 0 || round <= cfg->rounds); round++) {
        uint64_t start = mono_ns();
        if (round > 1)
            rg_watch_reset_round(run);
        if (!rg_engine_run(run, socks, &eo, NULL, NULL, abandon, err, sizeof err)) {
            fputs("routegraph: ", stderr);
            rg_text_line(stderr, err);
            fputc('\n', stderr);
            status = 1;
            break;
        }
        rg_watch_stats_add(&stats, run);
        if (!cfg->quiet && !run->interrupted)
            say_round(run, round, (mono_ns() - start) / 1e9);
        if (!run->interrupted && (cfg->baseline || hist || server)) {
            json_t *round_ev = json_array();
            annotate_round(run, sources);
            if (server) {
                rg_metrics_update(&metrics, run, (mono_ns() - start) / 1e9);
                rg_metrics_publish(server, rg_metrics_text(&metrics, true),
                                   rg_metrics_text(&metrics, false));
            }
            if (cfg->baseline && round_ev)
                compare_round(&ch, run, cfg, round_ev, events, round);
            bool stored = !hist || store_round(hist, run, cfg, round_ev);
            json_decref(round_ev);
            if (!stored) {
                status = 1;
                break;
            }
        }
        if (cfg->rounds == 0 || round < cfg->rounds)
            wait_until(start + (uint64_t)(cfg->interval * NS));
    }
    if (status == 0 && *abandon) {
        /* Abandoned at once: no DNS wait; the finished rounds' figures and
         * the partial round (marked interrupted) are still written. */
        if (!cfg->quiet && run->interrupted)
            fprintf(stderr, "routegraph: stopped by %s again: round %u abandoned, not kept\n",
                    rg_stop_signal_name(), round - 1);
        status = write_outputs(&stats, run, cfg, events) ? rg_stop_exit_status() : 1;
    } else if (status == 0) {
        char warn[512];
        rg_sources_annotate(sources, run, cfg, warn, sizeof warn);
        if (warn[0] && !cfg->quiet) {
            fputs("routegraph: ", stderr);
            rg_text_line(stderr, warn);
            fputc('\n', stderr);
        }
        if (!write_outputs(&stats, run, cfg, events))
            status = 1;
    }
    rg_watch_stats_free(&stats);
    rg_changes_free(&ch);
    json_decref(events);
    rg_history_close(hist);
    /* The server goes before the figures it reads. */
    rg_metrics_stop(server);
    rg_metrics_free(&metrics);
    return status;
}
