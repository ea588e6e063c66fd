/* jsonl: the run as JSON Lines ("routegraph-jsonl/1", docs/json-schema.md),
 * written while it runs: a first line describing the run, one line per
 * trace as soon as the engine has finished it (the engine's trace_done
 * hook), and a last line with the run's statistics. Every line is flushed
 * as it is written, so `routegraph --format jsonl ... | jq` shows traces as
 * they end. With -o the lines go to a temporary file renamed to
 * PREFIX.jsonl at the end (atomic_stream); standard output streams.
 *
 * A streamed trace is final in all it measured: the engine hands a trace
 * over once and never probes it again. What other traces tell about it is
 * not: its inferred hops and silence labels are what the run knew when the
 * trace ended, and each hop carrying one is marked "provisional": true.
 * With an annotate hook, each trace's hosts get what the local databases
 * know (AS, country: cheap lookups) just before its line is written, and
 * the line carries them and its as_path as the document would. With names
 * set (rg_jsonl_start_names), reverse DNS names come in batches ahead of
 * the writer (jsonl_names.h); Team Cymru lookups are not in the stream.
 *
 * Memory: with release set, each trace's probe slots are freed as soon as
 * its line is written (rg_trace_release), so a run that asked for nothing
 * else holds only the traces in flight. */
#ifndef RG_JSONL_H
#define RG_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../cli/config.h"
#include "../model/result.h"
#include "../util/atomic_stream.h"
#include "jsonl_names.h"

#define RG_JSONL_SCHEMA "routegraph-jsonl/1"

typedef struct rg_jsonl {
    FILE *out;             /* standard output, or stream.f with -o */
    rg_stream_file stream; /* with -o */
    const rg_config *cfg;  /* borrowed */
    bool release;          /* free a trace's probe slots once written */
    /* Fills view->hosts for the one trace of view (NULL: no annotation). */
    bool (*annotate)(void *ctx, rg_run *view);
    void *annotate_ctx;
    bool lazy;             /* targets read as the run goes: counts come at the end */
    /* NULL: lines written as each trace ends; else they go through the
     * batched name lookups (jsonl_names.h), which write them. */
    rg_jsonl_names *names;
    rg_names_stats names_stats; /* filled by rg_jsonl_close */
    bool failed;           /* a write failed: nothing more is attempted */
    size_t written;        /* trace lines so far */
} rg_jsonl;

/* Standard output, or PREFIX.jsonl's temporary file with -o. False with
 * one line in err. */
bool rg_jsonl_open(rg_jsonl *w, const rg_config *cfg, bool release, char *err,
                   size_t errlen);
/* The first line: schema, version, time, options, planned traces and the
 * unresolved targets (both null when the targets are read lazily: the
 * last line has them). */
bool rg_jsonl_head(rg_jsonl *w, const rg_run *run);
/* One trace's line (the engine's trace_done hook; ctx is the rg_jsonl). */
void rg_jsonl_trace_done(void *ctx, rg_run *run, size_t trace);
/* The last line (end time, statistics, how many traces were written and
 * whether that is all of them; lazily read targets: the traces planned and
 * the unresolved targets), then the file is put in place. False with
 * one line in err when any line could not be written. */
bool rg_jsonl_close(rg_jsonl *w, const rg_run *run, char *err, size_t errlen);
/* Reverse names for the lines from now on, looked up in batches (o: the
 * server, lab_only, and each batch's deadline). False with one line in err. */
bool rg_jsonl_start_names(rg_jsonl *w, const rg_dns_opts *o, char *err, size_t errlen);
/* Gives up: with -o nothing appears at PREFIX.jsonl. */
void rg_jsonl_abort(rg_jsonl *w);

/* The line object of one trace (without the key "type"), hops carrying
 * inference marked provisional; as_path only when annotated. NULL on
 * allocation failure. */
struct json_t *rg_jsonl_trace_json(const rg_run *run, const rg_trace *t, unsigned gap,
                                   bool annotated);

#endif
