/* jsonl_names: the batching worker, its queue and its name cache. */
#include "jsonl_names.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model/result.h"
#include "../util/addr.h"

typedef struct cached {
    rg_addr addr;
    char *ptr;  /* NULL: no name */
    bool used;
} cached;

struct rg_jsonl_names {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t more;  /* a line was queued, or finish was asked */
    pthread_cond_t room;  /* the worker took lines */
    json_t **queue;
    size_t len, cap;
    struct timespec oldest; /* when queue[0] came (CLOCK_MONOTONIC) */
    bool closing;
    bool silent;        /* a batch got no answer at all: no more lookups */
    rg_dns_opts opts;
    rg_names_write_fn write;
    void *ctx;
    cached *cache;      /* RG_NAMES_CACHE * 2 slots, open addressing */
    size_t ncached;
    rg_names_stats stats;
};

#define CACHE_SLOTS (2 * RG_NAMES_CACHE)

/* ---- where "ptr" goes in a hop ---- */

bool rg_jsonl_names_put_ptr(json_t *hop, const char *ptr)
{
    static const char *const after[] = {"country", "country_source", "city", "probes"};
    json_t *moved[4] = {0};
    json_t *v = json_string(ptr);
    if (!v)
        return false; /* dns_parse keeps valid names only: never here */
    for (size_t i = 0; i < 4; i++)
        if ((moved[i] = json_object_get(hop, after[i]))) {
            json_incref(moved[i]);
            json_object_del(hop, after[i]);
        }
    bool ok = json_object_set_new(hop, "ptr", v) == 0;
    for (size_t i = 0; i < 4; i++)
        if (moved[i])
            ok &= json_object_set_new(hop, after[i], moved[i]) == 0;
    return ok;
}

/* ---- the cache ---- */

static cached *cache_slot(rg_jsonl_names *n, const rg_addr *a)
{
    size_t i = (size_t)rg_addr_hash(a, 0x9e37) & (CACHE_SLOTS - 1);
    while (n->cache[i].used && !rg_addr_equal(&n->cache[i].addr, a))
        i = (i + 1) & (CACHE_SLOTS - 1);
    return &n->cache[i];
}

static void cache_clear(rg_jsonl_names *n)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        free(n->cache[i].ptr);
    memset(n->cache, 0, CACHE_SLOTS * sizeof *n->cache);
    n->ncached = 0;
}

static void cache_put(rg_jsonl_names *n, const rg_addr *a, const char *ptr)
{
    if (n->ncached >= RG_NAMES_CACHE)
        cache_clear(n);
    cached *c = cache_slot(n, a);
    if (c->used)
        return;
    *c = (cached){.addr = *a, .ptr = ptr ? strdup(ptr) : NULL, .used = true};
    n->ncached++;
}

/* ---- one batch ---- */

/* The address a hop names, measured or inferred; false when none. */
static bool hop_addr(json_t *hop, rg_addr *a)
{
    json_t *s = json_object_get(hop, "responder");
    if (!json_is_string(s))
        s = json_object_get(hop, "inferred_responder");
    return json_is_string(s) && rg_addr_parse(json_string_value(s), a);
}

/* The batch's addresses the cache does not know, into *out (malloc'd). */
static size_t unknown_addrs(rg_jsonl_names *n, json_t **lines, size_t count, rg_addr **out)
{
    size_t len = 0, cap = 0;
    *out = NULL;
    for (size_t l = 0; l < count; l++) {
        json_t *hop;
        size_t i;
        json_array_foreach(json_object_get(lines[l], "hops"), i, hop) {
            rg_addr a;
            if (!hop_addr(hop, &a) || cache_slot(n, &a)->used)
                continue;
            if (len == cap) {
                cap = cap ? cap * 2 : 64;
                rg_addr *m = realloc(*out, cap * sizeof *m);
                if (!m)
                    return len;
                *out = m;
            }
            (*out)[len++] = a; /* rg_run_set_hosts makes them unique */
        }
    }
    return len;
}

/* Looks the unknown addresses up (one deadline) and caches the answers. */
static void look_up(rg_jsonl_names *n, const rg_addr *addrs, size_t count)
{
    rg_run view = {0};
    if (count == 0 || !rg_run_set_hosts(&view, addrs, count))
        return;
    rg_dns_stats st;
    rg_dns_opts o = n->opts;
    o.stats = &st;
    char err[RG_DNS_MSGLEN];
    if (!rg_dns_annotate(&view, &o, err, sizeof err)) {
        n->silent = true; /* a bad server: the same for every batch */
        snprintf(n->stats.error, sizeof n->stats.error, "%s", err);
    } else {
        n->stats.queries += st.queries;
        n->stats.deadline_hits += st.deadline_hit;
        /* Not one answer, not even "no such name": the server is not
         * there, and each later batch would wait its whole deadline. */
        if (st.queries > 0 && st.answered == 0 && st.nodata == 0) {
            n->silent = true;
            snprintf(n->stats.error, sizeof n->stats.error,
                     "the DNS server did not answer %lu lookups", st.queries);
        }
        /* An address still unanswered at the deadline is not cached as
         * nameless: a later batch may ask again. */
        for (size_t i = 0; i < view.nhosts; i++)
            if (view.hosts[i].ptr || !st.deadline_hit)
                cache_put(n, &view.hosts[i].addr, view.hosts[i].ptr);
    }
    rg_run_free_hosts(&view);
}

static void name_hops(rg_jsonl_names *n, json_t *line)
{
    json_t *hop;
    size_t i;
    json_array_foreach(json_object_get(line, "hops"), i, hop) {
        rg_addr a;
        if (!hop_addr(hop, &a))
            continue;
        const cached *c = cache_slot(n, &a);
        if (c->used && c->ptr && rg_jsonl_names_put_ptr(hop, c->ptr))
            n->stats.named++;
    }
}

static void do_batch(rg_jsonl_names *n, json_t **lines, size_t count)
{
    rg_addr *addrs = NULL;
    size_t k = n->silent ? 0 : unknown_addrs(n, lines, count, &addrs);
    if (k)
        look_up(n, addrs, k);
    free(addrs);
    for (size_t i = 0; i < count; i++) {
        name_hops(n, lines[i]);
        n->write(n->ctx, lines[i]);
    }
    n->stats.batches++;
    n->stats.lines += count;
}

/* ---- the worker ---- */

static struct timespec after_ms(struct timespec t, unsigned ms)
{
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* Under the lock: waits for a batch (full, old enough, or the end), takes
 * it into batch; 0 when finished. */
static size_t take_batch(rg_jsonl_names *n, json_t **batch)
{
    while (n->len == 0 && !n->closing)
        pthread_cond_wait(&n->more, &n->mu);
    if (n->len < RG_NAMES_BATCH && !n->closing) {
        struct timespec until = after_ms(n->oldest, RG_NAMES_GATHER_MS);
        while (n->len < RG_NAMES_BATCH && !n->closing &&
               pthread_cond_timedwait(&n->more, &n->mu, &until) != ETIMEDOUT)
            ;
    }
    size_t k = n->len < RG_NAMES_BATCH ? n->len : RG_NAMES_BATCH;
    memcpy(batch, n->queue, k * sizeof *batch);
    memmove(n->queue, n->queue + k, (n->len - k) * sizeof *n->queue);
    n->len -= k;
    clock_gettime(CLOCK_MONOTONIC, &n->oldest); /* the rest waited at least this long */
    pthread_cond_broadcast(&n->room);
    return k;
}

static void *worker(void *arg)
{
    rg_jsonl_names *n = arg;
    json_t **batch = malloc(RG_NAMES_BATCH * sizeof *batch);
    pthread_mutex_lock(&n->mu);
    for (size_t k; batch && (k = take_batch(n, batch)) > 0;) {
        pthread_mutex_unlock(&n->mu);
        do_batch(n, batch, k);
        pthread_mutex_lock(&n->mu);
    }
    /* No memory for a batch: every line written as it is. */
    for (size_t i = 0; !batch && i < n->len; i++)
        n->write(n->ctx, n->queue[i]);
    if (!batch)
        n->len = 0;
    pthread_mutex_unlock(&n->mu);
    free(batch);
    return NULL;
}

rg_jsonl_names *rg_jsonl_names_start(const rg_dns_opts *o, rg_names_write_fn write,
                                     void *ctx, char *err, size_t errlen)
{
    rg_jsonl_names *n = calloc(1, sizeof *n);
    if (n) {
        n->cache = calloc(CACHE_SLOTS, sizeof *n->cache);
        n->queue = malloc(RG_NAMES_QUEUE * sizeof *n->queue);
        n->cap = RG_NAMES_QUEUE;
    }
    if (!n || !n->cache || !n->queue) {
        snprintf(err, errlen, "out of memory");
        if (n) {
            free(n->cache);
            free(n->queue);
        }
        free(n);
        return NULL;
    }
    n->opts = *o;
    n->opts.do_ptr = true;
    n->opts.cymru = RG_CYMRU_OFF;
    n->opts.stats = NULL;
    n->write = write;
    n->ctx = ctx;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->more, &ca);
    pthread_cond_init(&n->room, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&n->thread, NULL, worker, n);
    if (rc == 0)
        return n;
    snprintf(err, errlen, "cannot start the name lookups: %s", strerror(rc));
    pthread_cond_destroy(&n->more);
    pthread_cond_destroy(&n->room);
    pthread_mutex_destroy(&n->mu);
    free(n->cache);
    free(n->queue);
    free(n);
    return NULL;
}

bool rg_jsonl_names_push(rg_jsonl_names *n, json_t *line)
{
    pthread_mutex_lock(&n->mu);
    while (n->len >= n->cap) /* the queue was allocated whole: wait for room */
        pthread_cond_wait(&n->room, &n->mu);
    if (n->len == 0)
        clock_gettime(CLOCK_MONOTONIC, &n->oldest);
    n->queue[n->len++] = line;
    if (n->len == 1 || n->len >= RG_NAMES_BATCH) /* the gathering starts, or is done */
        pthread_cond_signal(&n->more);
    pthread_mutex_unlock(&n->mu);
    return true;
}

void rg_jsonl_names_finish(rg_jsonl_names *n, rg_names_stats *stats)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->closing = true;
    pthread_cond_signal(&n->more);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    if (stats)
        *stats = n->stats;
    cache_clear(n);
    free(n->cache);
    free(n->queue);
    pthread_cond_destroy(&n->more);
    pthread_cond_destroy(&n->room);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
