/* metrics: what a watch shows Prometheus, rendered as OpenMetrics text (or
 * the older Prometheus text format for clients that do not ask for
 * OpenMetrics, such as `promtool check metrics`). Pure: rounds in, text out;
 * the HTTP side is metrics_http.h.
 *
 * Low cardinality: one series per target:port (labels target = the address,
 * port), a few per run; no per-hop or per-responder labels. Per service:
 * port state (one 0/1 series per state), destination reached, hop count,
 * RTT, a path identifier (a hash of the responders, so a change shows as a
 * step), path and AS-path change counters and the time of the last change.
 * Per watch: rounds, the last round's duration, probes sent and replies
 * matched/unmatched (counters over all rounds).
 *
 * Memory: one entry per trace, allocated by init; updates allocate nothing. */
#ifndef RG_WATCH_METRICS_H
#define RG_WATCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"

typedef struct rg_metrics_service {
    rg_addr dst;
    uint16_t port;
    uint8_t state;         /* enum rg_port_state */
    bool reached, seen;
    unsigned hops;         /* reached_ttl, else the last TTL that answered */
    uint32_t rtt_us;
    uint32_t path_id;      /* FNV-1a over the responders per TTL */
    uint64_t as_key;       /* FNV-1a over the AS path; 0 = not annotated */
    uint64_t path_changes, as_path_changes;
    double last_change;    /* Unix time; 0 = never */
} rg_metrics_service;

typedef struct rg_metrics {
    rg_metrics_service *svc;
    size_t n;
    uint64_t rounds, probes, matched, unmatched;
    double round_seconds;
} rg_metrics;

bool rg_metrics_init(rg_metrics *m, const rg_run *run);
void rg_metrics_free(rg_metrics *m);
/* A finished round of the same traces; secs: how long it took. */
void rg_metrics_update(rg_metrics *m, const rg_run *run, double secs);
/* The exposition, malloc'd (caller frees); NULL on no memory. openmetrics:
 * OpenMetrics 1.0 (counter families named without _total, "# EOF"), else
 * the Prometheus text format 0.0.4. */
char *rg_metrics_text(const rg_metrics *m, bool openmetrics);

#endif
