/* jsonl_names: reverse DNS names (PTR) for the streamed lines, looked up in
 * batches ahead of the writer, in a thread of its own.
 *
 * The engine's trace_done hook builds a trace's line (with its local
 * annotation) and hands it here; the lines wait in a queue, and the worker
 * takes every line waiting (up to RG_NAMES_BATCH) as one batch once
 * RG_NAMES_BATCH have gathered or the oldest has waited RG_NAMES_GATHER_MS:
 * the addresses of the batch's hops (measured or inferred) not yet in the
 * cache are looked up together through c-ares (annotate/dns.h: all in
 * flight, one deadline for the batch), each hop with a name gets its "ptr",
 * and the lines are written in the order they came. So the stream costs
 * about one DNS round trip per batch, not per trace, and a silent or slow
 * name holds back only its batch, by at most the deadline; the probing
 * never waits for DNS (the hook only queues), unless RG_NAMES_QUEUE lines
 * are already waiting, when it waits for the worker to take them.
 *
 * A batch that gets no answer at all (a silent or missing server) ends the
 * lookups for the rest of the run: later lines go out at once, unnamed.
 *
 * Names are cached (address -> name or none, up to RG_NAMES_CACHE
 * addresses, emptied when full): the routers every trace crosses are asked
 * once. Only PTR: the Team Cymru lookups stay with the whole-run outputs.
 *
 * Threads: the queue and the cache are the worker's, behind a mutex for the
 * queue; the write callback runs in the worker only, from start to finish. */
#ifndef RG_JSONL_NAMES_H
#define RG_JSONL_NAMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../annotate/dns.h"

#define RG_NAMES_BATCH 512
#define RG_NAMES_GATHER_MS 50
#define RG_NAMES_QUEUE 4096
#define RG_NAMES_CACHE 65536

typedef struct rg_jsonl_names rg_jsonl_names;

/* Writes one finished line (takes the reference); in the worker thread. */
typedef void (*rg_names_write_fn)(void *ctx, json_t *line);

typedef struct rg_names_stats {
    unsigned long batches, lines, queries, named;
    unsigned long deadline_hits; /* batches cut short by their deadline */
    /* Why lookups stopped for the rest of the run ("": they did not): the
     * server refused to start, or a whole batch got no answer at all. */
    char error[RG_DNS_MSGLEN];
} rg_names_stats;

/* Starts the worker; o's deadline_ms is each batch's (do_ptr is implied,
 * Cymru off). NULL with one line in err when it cannot start. */
rg_jsonl_names *rg_jsonl_names_start(const rg_dns_opts *o, rg_names_write_fn write,
                                     void *ctx, char *err, size_t errlen);
/* Queues a line (takes the reference); waits while RG_NAMES_QUEUE lines
 * wait already (the queue is allocated whole at the start). True. */
bool rg_jsonl_names_push(rg_jsonl_names *n, json_t *line);
/* Looks up and writes every line still queued, stops the worker and frees
 * everything; stats (may be NULL) filled. Safe on NULL. */
void rg_jsonl_names_finish(rg_jsonl_names *n, rg_names_stats *stats);

/* The pure part, for tests: puts a hop's "ptr" where the whole-run
 * document has it (after the AS keys, before country, city and probes). */
bool rg_jsonl_names_put_ptr(json_t *hop, const char *ptr);

#endif
