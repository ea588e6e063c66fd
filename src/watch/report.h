/* report: the statistics of a watch (stats.h) as text, like
 * `mtr --report`, and as the "watch" member of the JSON document
 * (docs/json-schema.md, schema routegraph-watch/1). Reads only. */
#ifndef RG_WATCH_REPORT_H
#define RG_WATCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/result.h"
#include "stats.h"

#define RG_WATCH_SCHEMA "routegraph-watch/1"

/* One block per trace: a heading with the rounds, the destination's
 * answers and port states, then one line per TTL (Loss% Snt Rcv Lim Last
 * Avg Best Wrst StDev, RTTs in ms), the most frequent responder first and
 * the others under it with how often each answered. run names the traces
 * (the latest round). False on write error. */
bool rg_watch_report_write(FILE *out, const rg_watch_stats *s, const rg_run *run);

struct json_t;
/* The "watch" member; NULL on no memory. interval in seconds. */
struct json_t *rg_watch_report_json(const rg_watch_stats *s, const rg_run *run,
                                    double interval);

#endif
