/* json: the versioned machine-readable results (docs/json-schema.md), written
 * with jansson. */
#ifndef RG_JSON_H
#define RG_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "../cli/config.h"
#include "../model/result.h"

/* routegraph/2 added the port state "unreachable" (an ICMP unreachable was
 * "filtered" in routegraph/1) and narrowed "filtered"; the reader takes
 * both (docs/json-schema.md). */
#define RG_JSON_SCHEMA "routegraph/2"
#define RG_JSON_SCHEMA_V1 "routegraph/1"

/* Builds the document; caller json_decref()s it. NULL on allocation failure. */
struct json_t *rg_json_build(const rg_run *run, const rg_config *cfg);
/* The same without the traces: "traces" is an empty array, where
 * rg_json_stream (output/json_stream.h) writes them one at a time. */
struct json_t *rg_json_build_head(const rg_run *run, const rg_config *cfg);
/* The gap rg_json_build gives each trace (cfg NULL: 0). */
unsigned rg_json_gap(const rg_config *cfg);
/* Pieces of the document, for the streamed JSONL output (output/jsonl.h);
 * each NULL on allocation failure, caller json_decref()s. A trace's hops
 * carry annotation keys only when run->hosts is filled. */
struct json_t *rg_json_trace(const rg_run *run, const rg_trace *t, unsigned gap);
struct json_t *rg_json_options(const rg_config *cfg);
struct json_t *rg_json_stats(const rg_run_stats *s);
struct json_t *rg_json_unresolved(const rg_run *run);
struct json_t *rg_json_time(const struct timespec *ts);

/* Builds and writes it (indented, trailing newline). False on error. */
bool rg_json_write(FILE *out, const rg_run *run, const rg_config *cfg);

/* Adds what annotation learnt about h to o (the annotation keys of the
 * schema; absent when unknown). False on allocation failure. */
bool rg_json_put_annotation(struct json_t *o, const rg_host *h);
/* The run's credits as a JSON array (empty when none); NULL on failure. */
struct json_t *rg_json_credits(const rg_run *run);

#endif
