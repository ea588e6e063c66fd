#include "jsonl.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "../model/trace_store.h"

#ifndef RG_VERSION
#define RG_VERSION "0.0.0"
#endif

#define LINE_BUF 16384 /* a trace's line is about 1.6 KB; longer ones are allocated */

/* The line's text and its newline in one write: json_dumpf hands the stream
 * each token on its own, which cost a fwrite call per token (a twentieth of
 * a 131,072-trace run's CPU). */
static bool write_line(FILE *out, const json_t *line)
{
    char buf[LINE_BUF];
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    size_t n = json_dumpb(line, buf, sizeof buf - 1, flags);
    if (n == 0)
        return false;
    if (n < sizeof buf) {
        buf[n++] = '\n';
        return fwrite(buf, 1, n, out) == n;
    }
    char *big = json_dumps(line, flags);
    bool ok = big && fputs(big, out) != EOF && fputc('\n', out) != EOF;
    free(big);
    return ok;
}

/* One compact line, flushed: a pipe's reader gets it now. */
static bool put_line(rg_jsonl *w, json_t *line)
{
    if (!line) {
        w->failed = true;
        return false;
    }
    if (!w->failed)
        w->failed = !write_line(w->out, line) || fflush(w->out) != 0;
    json_decref(line);
    return !w->failed;
}

bool rg_jsonl_open(rg_jsonl *w, const rg_config *cfg, bool release, char *err,
                   size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->release = release;
    if (!cfg->output) {
        w->out = stdout;
        return true;
    }
    size_t n = strlen(cfg->output) + sizeof ".jsonl";
    char *path = malloc(n);
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    snprintf(path, n, "%s.jsonl", cfg->output);
    bool ok = rg_stream_begin(&w->stream, path, err, errlen);
    free(path);
    w->out = w->stream.f;
    return ok;
}

bool rg_jsonl_head(rg_jsonl *w, const rg_run *run)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    json_t *o = json_object();
    bool ok = o && json_object_set_new(o, "schema", json_string(RG_JSONL_SCHEMA)) == 0;
    ok = ok && json_object_set_new(o, "type", json_string("run")) == 0;
    ok = ok && json_object_set_new(o, "version", json_string(RG_VERSION)) == 0;
    ok = ok && json_object_set_new(o, "start_time", rg_json_time(&now)) == 0;
    ok = ok && json_object_set_new(o, "options", rg_json_options(w->cfg)) == 0;
    ok = ok && json_object_set_new(o, "traces_planned",
                                   w->lazy ? json_null() : json_integer((json_int_t)run->ntraces)) == 0;
    ok = ok && json_object_set_new(o, "unresolved",
                                   w->lazy ? json_null() : rg_json_unresolved(run)) == 0;
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return put_line(w, o);
}

/* Inferred hops and silence labels depend on every trace of the run; the
 * streamed line says what was known when this trace ended. */
static bool mark_provisional(json_t *trace)
{
    json_t *hops = json_object_get(trace, "hops"), *hop;
    size_t i;
    bool ok = true;
    json_array_foreach(hops, i, hop)
        if (json_object_get(hop, "inferred_responder") || json_object_get(hop, "silence"))
            ok &= json_object_set_new(hop, "provisional", json_true()) == 0;
    return ok;
}

json_t *rg_jsonl_trace_json(const rg_run *run, const rg_trace *t, unsigned gap,
                            bool annotated)
{
    json_t *o = rg_json_trace(run, t, gap);
    if (!o)
        return NULL;
    if (!annotated) /* it would say "no AS" where nothing was looked up */
        json_object_del(o, "as_path");
    if (!mark_provisional(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The trace's body, annotated through a view of the run holding this one
 * trace and its own hosts (the run's hosts are not filled while it runs). */
static json_t *trace_body(rg_jsonl *w, const rg_run *run, rg_trace *t)
{
    if (!w->annotate)
        return rg_jsonl_trace_json(run, t, w->cfg->gap, false);
    rg_run view = *run;
    view.traces = t;
    view.ntraces = 1;
    view.store = NULL;
    view.hosts = NULL;
    view.nhosts = 0;
    json_t *body = w->annotate(w->annotate_ctx, &view)
                       ? rg_jsonl_trace_json(&view, t, w->cfg->gap, true)
                       : NULL;
    rg_run_free_hosts(&view);
    return body;
}

void rg_jsonl_trace_done(void *ctx, rg_run *run, size_t trace)
{
    rg_jsonl *w = ctx;
    rg_trace *t = &run->traces[trace];
    json_t *o = json_object();
    json_t *body = trace_body(w, run, t);
    bool ok = o && body && json_object_set_new(o, "type", json_string("trace")) == 0 &&
              json_object_update(o, body) == 0;
    json_decref(body);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    if (w->release && run->store)
        rg_trace_store_drop(run, trace); /* the record and name too (trace_store.h) */
    else if (w->release)
        rg_trace_release(t);
    if (o && w->names && rg_jsonl_names_push(w->names, o))
        return; /* written by the names' worker */
    if (put_line(w, o))
        w->written++;
}

/* The names' worker writes each line once its batch is named. */
static void write_named(void *ctx, json_t *line)
{
    rg_jsonl *w = ctx;
    if (put_line(w, line))
        w->written++;
}

bool rg_jsonl_start_names(rg_jsonl *w, const rg_dns_opts *o, char *err, size_t errlen)
{
    w->names = rg_jsonl_names_start(o, write_named, w, err, errlen);
    return w->names != NULL;
}

bool rg_jsonl_close(rg_jsonl *w, const rg_run *run, char *err, size_t errlen)
{
    rg_jsonl_names_finish(w->names, &w->names_stats); /* every trace line first */
    w->names = NULL;
    json_t *o = json_object();
    bool ok = o && json_object_set_new(o, "type", json_string("end")) == 0;
    ok = ok && json_object_set_new(o, "end_time", rg_json_time(&run->end)) == 0;
    ok = ok && json_object_set_new(o, "traces_written", json_integer((json_int_t)w->written)) == 0;
    ok = ok && json_object_set_new(o, "complete", json_boolean(w->written == run->ntraces)) == 0;
    ok = ok && json_object_set_new(o, "stats", rg_json_stats(&run->stats)) == 0;
    if (w->lazy) { /* known only now */
        ok = ok && json_object_set_new(o, "traces_planned", json_integer((json_int_t)run->ntraces)) == 0;
        ok = ok && json_object_set_new(o, "unresolved", rg_json_unresolved(run)) == 0;
    }
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    bool wrote = put_line(w, o);
    if (!w->cfg->output) {
        if (!wrote)
            snprintf(err, errlen, "cannot write to standard output");
        return wrote;
    }
    if (!wrote) {
        snprintf(err, errlen, "%s: cannot write: %s", w->stream.path,
                 errno ? strerror(errno) : "write error");
        rg_stream_abort(&w->stream);
        return false;
    }
    return rg_stream_commit(&w->stream, err, errlen);
}

void rg_jsonl_abort(rg_jsonl *w)
{
    rg_jsonl_names_finish(w->names, NULL);
    w->names = NULL;
    if (w->cfg && w->cfg->output)
        rg_stream_abort(&w->stream);
}
