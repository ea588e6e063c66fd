/* json_read: a routegraph/1 document (docs/json-schema.md) back into an
 * rg_run, so saved results can be rendered again without probing.
 *
 * The document is outside input and may be hostile. Promises:
 * - Every member the schema defines is type-checked and range-checked (TTL
 *   1-255, at most 6 probes per TTL, ports 1-65535, addresses of the
 *   trace's family, times in the schema's exact format); unknown members are
 *   ignored, as the schema's versioning rules ask.
 * - No string holds DEL or a C1 control character (U+007F-U+009F), and no
 *   name (target, unresolved name, as_org, ptr, city) any control character
 *   (C0 too, as rg_utf8_name_ok says); a document with one is refused.
 * - Sizes are bounded: the document (RG_JSON_READ_MAX_BYTES), every string
 *   (RG_JSON_READ_MAX_STRING), and the probe slots allocated over all
 *   traces (rg_json_read_max_slots): a trace's slots come from the options
 *   (TTL range x attempts), not from its hops, so without this a few hundred
 *   bytes per trace could claim ~100 KB each. The allowance grows with the
 *   document: a real run (TTLs up to 64, 6 attempts) needs under 2 slots
 *   per byte.
 * - Memory is bounded: before parsing, one pass over the text estimates
 *   what the parsed tree will take (rg_json_read_estimate); over
 *   rg_json_read_budget the document is refused. A real run's document
 *   needs about 5 times its size; a tree of empty objects about 80.
 * - On failure: false, *run left empty, and one line in err naming the JSON
 *   path of the offending value, e.g. "$.traces[2].hops[0].ttl: expected an
 *   integer from 1 to 30". Never a crash, never a partial run.
 * - The verdict of each trace (state, reached TTL, RTT, last answer) is
 *   derived again from its probes with rg_trace_conclude, exactly as the live
 *   run did; the document's own verdict members are type-checked but the
 *   probes win, so the run is always self-consistent.
 * - TTL range and probes per TTL come from "options" (min_ttl, max_ttl,
 *   retries); when options is null they are the smallest range that holds
 *   every hop.
 * - run->hosts always lists every responder and destination address
 *   (rg_run_collect_hosts); the optional top-level "hosts" array, when
 *   present, fills in their annotations (asn, as_org, as_source, ptr,
 *   country, city). Entries for addresses not in the run are ignored, and
 *   so are the same keys on hops[] entries (hosts carries them all).
 * - "credits": the AS data credit routegraph writes (RG_ANNOTATE_ASN_CREDIT)
 *   is restored as run->as_credit; other credits are type-checked and
 *   dropped, as the model holds only that static text.
 * - "protocol" is an open enumeration: any string is accepted.
 * - Members added to routegraph/1 later (stats.send_errors,
 *   options.stop_set, hosts, credits) are optional.
 *
 * Not in the document, hence zero after reading: stats.last_send_error,
 * trace seq_base and flow_label. */
#ifndef RG_JSON_READ_H
#define RG_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/result.h"

#define RG_JSON_READ_MAX_BYTES (256u * 1024 * 1024)
#define RG_JSON_READ_MAX_STRING 1024
#define RG_JSON_READ_MAX_SLOTS (4u * 1024 * 1024) /* 64 bytes each */
#define RG_JSON_READ_SLOTS_BASE 65536u
#define RG_JSON_READ_SLOTS_PER_BYTE 4u

#define RG_JSON_READ_BUDGET_BASE (64u * 1024 * 1024)
#define RG_JSON_READ_BUDGET_PER_BYTE 12u

/* The memory parsing a document of len bytes would take (estimated from
 * its text, linear), and the most it may take. */
size_t rg_json_read_estimate(const char *buf, size_t len);
size_t rg_json_read_budget(size_t len);

/* The probe slots a document of len bytes may make the reader allocate. */
size_t rg_json_read_max_slots(size_t len);

/* Reads a document held in memory (len bytes, no terminator needed).
 * *run must be zeroed; on success the caller frees it with rg_run_free. */
bool rg_json_read_buffer(const char *buf, size_t len, rg_run *run, char *err,
                         size_t errlen);

/* Reads a file ("-" = standard input); errors start with the file name. */
bool rg_json_read_file(const char *path, rg_run *run, char *err, size_t errlen);

/* The same, also handing back the document's validated "options" object
 * (a reference the caller json_decref()s; NULL when the document has none),
 * so a file or a pipe is read once. */
struct json_t;
bool rg_json_read_buffer_options(const char *buf, size_t len, rg_run *run,
                                 struct json_t **options, char *err, size_t errlen);
bool rg_json_read_file_options(const char *path, rg_run *run, struct json_t **options,
                               char *err, size_t errlen);

#endif
