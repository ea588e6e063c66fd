/* json_stream: a run's JSON document written with its traces built one at
 * a time. The document (rg_json_build_head) holds everything but the
 * traces, and an empty "traces" array where they go; the writer gives the
 * bytes json_dumpf would give for the whole document (JSON_INDENT(n) or
 * JSON_COMPACT), building, writing and freeing each trace's tree in turn,
 * so a run of many traces never holds more than one trace's JSON. */
#ifndef RG_JSON_STREAM_H
#define RG_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/result.h"

struct json_t;

/* Where the bytes go: false stops the writing (a write error). */
typedef bool (*rg_json_emit_fn)(void *ctx, const char *text, size_t len);

/* Writes doc (an object) with its "traces" member's value replaced by the
 * run's traces (rg_json_trace with gap), formatted by flags (JSON_INDENT(n)
 * with JSON_PRESERVE_ORDER, or JSON_COMPACT), through emit. False on no
 * memory or when emit failed. */
bool rg_json_stream(const struct json_t *doc, const rg_run *run, unsigned gap, size_t flags,
                    rg_json_emit_fn emit, void *ctx);

/* An rg_json_emit_fn writing to a FILE *. */
bool rg_json_emit_file(void *file, const char *text, size_t len);

#endif
