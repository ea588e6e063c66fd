/* plan: targets into traces, all at once or as the engine asks. */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/resolve.h"
#include "engine/engine.h"
#include "model/trace_store.h"
#include "say.h"

/* Why a resolved address cannot be traced, or NULL. */
static const char *unusable(const rg_sockets *socks, const rg_addr *a,
                            rg_addr *src, char *buf, size_t len)
{
    int e;
    if (!rg_sockets_have(socks, a->family))
        return "this host has no IPv6 raw sockets";
    if (getenv("ROUTEGRAPH_LAB_ONLY") && !rg_addr_is_lab(a))
        return "outside the lab address ranges (ROUTEGRAPH_LAB_ONLY is set)";
    if (!rg_source_for(a, 80, src, &e)) {
        snprintf(buf, len, "no route: %s", strerror(e));
        return buf;
    }
    return NULL;
}

/* The ports of one target: its own port joins -p; without -p it replaces
 * the default port. ICMP echo has no port: one trace per address, port 0. */
static size_t target_ports(const rg_config *cfg, uint16_t own, uint16_t *ports)
{
    size_t n = 0;
    if (cfg->method == RG_METHOD_ICMP) {
        ports[0] = 0;
        return 1;
    }
    if (!own || cfg->ports_given) {
        memcpy(ports, cfg->ports, cfg->nports * sizeof *ports);
        n = cfg->nports;
    }
    for (size_t i = 0; i < n; i++)
        if (ports[i] == own)
            return n;
    if (own)
        ports[n++] = own;
    return n;
}

/* Room for n traces: exactly (cap NULL, a whole run planned once), or
 * doubling *cap (fed a target at a time, where growing by one target would
 * copy the array each time, and glibc may keep old and new both). */
static bool reserve(rg_run *run, size_t n, size_t *cap)
{
    if (run->store) /* its room was set for the whole run; the records never move */
        return n <= rg_trace_store_room(run);
    if (cap && n <= *cap)
        return true;
    size_t want = !cap ? n : *cap * 2 > n ? *cap * 2 : n < 1024 ? 1024 : n;
    rg_trace *t = realloc(run->traces, want * sizeof *t);
    if (!t)
        return false;
    run->traces = t;
    if (cap)
        *cap = want;
    return true;
}

static bool add_traces(rg_run *run, const rg_config *cfg, const char *name, uint16_t own,
                       const rg_addr *dst, const rg_addr *src, unsigned naddrs, size_t *cap)
{
    uint16_t ports[RG_MAX_PORTS + 1];
    size_t nports = target_ports(cfg, own, ports);
    if (!reserve(run, run->ntraces + nports, cap))
        return false;
    for (size_t p = 0; p < nports; p++) {
        rg_trace *tr = &run->traces[run->ntraces];
        /* Slots come when the engine starts the trace (its window). */
        if (!rg_trace_init_deferred(tr, name, dst, ports[p], cfg->min_ttl,
                                    cfg->max_ttl, rg_attempts_for(cfg->retries)))
            return false;
        tr->src = *src;
        tr->addresses = naddrs;
        tr->method = (uint8_t)cfg->method;
        rg_engine_prepare_trace(tr, (uint16_t)cfg->sport);
        run->ntraces++;
    }
    return true;
}

/* "FILE:LINE: " for a target from a file, "" for one from argv. */
static const char *where(const rg_config *cfg, size_t line, char *buf, size_t len)
{
    buf[0] = '\0';
    if (line && cfg->target_file)
        snprintf(buf, len, "%s:%zu: ", strcmp(cfg->target_file, "-") ? cfg->target_file : "stdin",
                 line);
    return buf;
}

/* One family of one target: traced, or listed as not traced. */
static bool plan_one(rg_run *run, const rg_config *cfg, const char *name, uint16_t port,
                     size_t line, const rg_sockets *socks, enum rg_family_pref fam,
                     size_t *cap)
{
    char why[256], buf[256], many[1280], at[512];
    rg_addr dst, src;
    rg_addr_count count;
    const char *bad = NULL;
    if (!rg_resolve(name, fam, &dst, &count, why, sizeof why)) {
        bad = why;
        if (cfg->family == RG_FAMILY_BOTH && strncmp(why, "has no IPv", 10) == 0)
            snprintf(why, sizeof why, "has no IPv%u address (-46 given)", (unsigned)fam);
    } else {
        bad = unusable(socks, &dst, &src, buf, sizeof buf);
    }
    if (bad) {
        rg_say("%s%s: %s", where(cfg, line, at, sizeof at), name, bad);
        return rg_run_add_unresolved(run, name, bad);
    }
    /* Not behind -q: it says what was traced, as traceroute does. */
    if (rg_resolve_many_warning(many, sizeof many, name, &count, &dst))
        rg_say("%s", many);
    return add_traces(run, cfg, name, port, &dst, &src, count.v4 + count.v6, cap);
}

/* -46: a name's IPv4 and its IPv6 address side by side. */
static bool plan_target(rg_run *run, const rg_config *cfg, const char *name, uint16_t port,
                        size_t line, const rg_sockets *socks, size_t *cap)
{
    rg_addr lit;
    if (cfg->family == RG_FAMILY_BOTH && !rg_addr_parse(name, &lit))
        return plan_one(run, cfg, name, port, line, socks, RG_FAMILY_4, cap) &&
               plan_one(run, cfg, name, port, line, socks, RG_FAMILY_6, cap);
    return plan_one(run, cfg, name, port, line, socks,
                    cfg->family == RG_FAMILY_BOTH ? RG_FAMILY_ANY : cfg->family, cap);
}

bool rg_plan_all(rg_run *run, const rg_config *cfg, const rg_target_list *l,
                 const rg_sockets *socks)
{
    for (size_t i = 0; i < l->n; i++)
        if (!plan_target(run, cfg, l->names[i], l->ports[i], l->lines[i], socks, NULL))
            return false;
    /* Two names for one address: trace it once, under the first name. */
    return rg_run_dedupe(run);
}

size_t rg_plan_max_targets(const rg_config *cfg)
{
    size_t nports = cfg->nports ? cfg->nports : 1;
    size_t rows = cfg->max_ttl - cfg->min_ttl + 2, attempts = rg_attempts_for(cfg->retries);
    size_t max = RG_MAX_TARGETS;
    if (RG_MAX_TRACES / nports < max)
        max = RG_MAX_TRACES / nports;
    if (RG_MAX_PROBE_SLOTS / (nports * rows * attempts) < max)
        max = RG_MAX_PROBE_SLOTS / (nports * rows * attempts);
    return max;
}

/* ---- the lazy feed ---- */

bool rg_feeder_init(rg_feeder *f, const rg_config *cfg, const rg_sockets *socks,
                    const rg_target_list *list, rg_target_reader *reader, bool checked)
{
    memset(f, 0, sizeof *f);
    f->cfg = cfg;
    f->socks = socks;
    f->list = list;
    f->reader = reader;
    f->checked = checked;
    f->seen_mask = 1023;
    f->seen = calloc(f->seen_mask + 1, sizeof *f->seen);
    return f->seen != NULL;
}

void rg_feeder_free(rg_feeder *f)
{
    free(f->seen);
    f->seen = NULL;
}

static bool same_key(const rg_feed_key *k, const rg_addr *dst, uint16_t dport)
{
    return k->dport == dport && rg_addr_equal(&k->dst, dst);
}

static size_t seen_slot(const rg_feed_key *seen, size_t mask, const rg_addr *dst, uint16_t dport)
{
    size_t i = (size_t)rg_addr_hash(dst, dport) & mask;
    while (seen[i].dst.family && !same_key(&seen[i], dst, dport))
        i = (i + 1) & mask;
    return i;
}

static bool grow_seen(rg_feeder *f)
{
    size_t cap = (f->seen_mask + 1) * 2;
    rg_feed_key *s = calloc(cap, sizeof *s);
    if (!s)
        return false;
    for (size_t k = 0; k <= f->seen_mask; k++)
        if (f->seen[k].dst.family)
            s[seen_slot(s, cap - 1, &f->seen[k].dst, f->seen[k].dport)] = f->seen[k];
    free(f->seen);
    f->seen = s;
    f->seen_mask = cap - 1;
    return true;
}

/* Drops the traces from `from` on whose address and port an earlier trace
 * has (two names for one address), keeping the first. */
static bool drop_duplicates(rg_feeder *f, rg_run *run, size_t from)
{
    size_t w = from;
    for (size_t i = from; i < run->ntraces; i++) {
        if ((f->nseen + 1) * 2 > f->seen_mask + 1 && !grow_seen(f))
            return false;
        if (w != i)
            run->traces[w] = run->traces[i];
        const rg_trace *t = &run->traces[w];
        size_t k = seen_slot(f->seen, f->seen_mask, &t->dst, t->dport);
        if (f->seen[k].dst.family) {
            rg_trace_free(&run->traces[w]);
            continue;
        }
        f->seen[k] = (rg_feed_key){t->dst, t->dport};
        f->nseen++;
        w++;
    }
    run->ntraces = w;
    return true;
}

/* Named now (unless the first pass did), or with --strict the end of
 * the intake, named once by rg_lazy_report. */
static void bad_entry(rg_feeder *f, const char *why)
{
    if (f->cfg->strict) {
        f->failed = true;
        snprintf(f->failure, sizeof f->failure, "%.440s (--strict: no more targets read)", why);
        return;
    }
    f->skipped++;
    if (!f->checked && f->skipped <= RG_TARGETS_SHOWN_SKIPS)
        rg_say("%s", why);
}

/* The next target, or false when there is none now (f says whether more
 * may come: !f->failed && the reader waits). */
static bool next_target(rg_feeder *f, rg_target_entry *e, bool *more)
{
    *more = false;
    if (f->next < f->list->n) {
        size_t i = f->next++;
        snprintf(e->host, sizeof e->host, "%s", f->list->names[i]);
        e->port = f->list->ports[i];
        e->line = f->list->lines[i];
        return true;
    }
    char err[512];
    while (f->reader && !f->failed) {
        switch (rg_reader_next(f->reader, e, err, sizeof err)) {
        case RG_READ_ENTRY:
            return true;
        case RG_READ_BAD:
            bad_entry(f, err);
            continue;
        case RG_READ_WAIT:
            *more = true;
            return false;
        case RG_READ_FAIL:
            f->failed = true;
            snprintf(f->failure, sizeof f->failure, "%s", err);
            return false;
        case RG_READ_END:
            return false;
        }
    }
    return false;
}

bool rg_feed(void *ctx, rg_run *run, size_t room)
{
    rg_feeder *f = ctx;
    size_t start = run->ntraces;
    /* Targets that fail to resolve add nothing: bounded all the same. */
    for (size_t taken = 0; taken < room && run->ntraces - start < room; taken++) {
        rg_target_entry e;
        bool more;
        if (f->nomem)
            return false;
        if (!next_target(f, &e, &more))
            return more;
        size_t from = run->ntraces;
        if (!plan_target(run, f->cfg, e.host, e.port, e.line, f->socks, &f->traces_cap) ||
            !drop_duplicates(f, run, from)) {
            f->nomem = f->failed = true;
            snprintf(f->failure, sizeof f->failure, "out of memory reading the targets");
            return false;
        }
    }
    return !f->failed;
}

bool rg_plan_check_file(const rg_config *cfg, const char *path, size_t limit,
                        size_t *entries, size_t *skipped, char *err, size_t errlen)
{
    rg_target_reader *r = malloc(sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    *entries = *skipped = 0;
    bool ok = rg_reader_open(r, path, limit, err, errlen);
    for (bool more = ok; more;) {
        rg_target_entry e;
        switch (rg_reader_next(r, &e, err, errlen)) {
        case RG_READ_ENTRY:
            (*entries)++;
            break;
        case RG_READ_BAD:
            if (cfg->strict)
                ok = more = false;
            else if (++*skipped <= RG_TARGETS_SHOWN_SKIPS)
                rg_say("%s", err);
            break;
        case RG_READ_WAIT: /* a regular file never waits */
        case RG_READ_FAIL:
            ok = more = false;
            break;
        case RG_READ_END:
            more = false;
            break;
        }
    }
    rg_reader_close(r);
    free(r);
    return ok;
}

/* "N bad entries skipped" as the whole-list reading says it. */
static void say_skipped(size_t n, size_t shown)
{
    if (n > shown)
        rg_say("%zu more bad entries not shown", n - shown);
    if (n)
        rg_say("%zu bad entr%s skipped, the others traced (--strict stops at the first)", n,
               n == 1 ? "y" : "ies");
}

bool rg_lazy_open(rg_lazy *z, const rg_config *cfg, const rg_sockets *socks,
                  const rg_target_list *list, char *err, size_t errlen)
{
    memset(z, 0, sizeof *z);
    size_t max = rg_plan_max_targets(cfg), entries = 0;
    size_t limit = max > list->n ? max - list->n : 1;
    const char *path = cfg->target_file;
    bool checked = path && rg_reader_rereadable(path);
    if (checked) {
        if (!rg_plan_check_file(cfg, path, limit, &entries, &z->checked_skipped, err, errlen))
            return false;
        say_skipped(z->checked_skipped, RG_TARGETS_SHOWN_SKIPS);
        if (entries + list->n == 0) {
            snprintf(err, errlen, "nothing to trace: %s",
                     z->checked_skipped ? "every target given was bad" : "no target given");
            return false;
        }
    }
    size_t ports = cfg->method == RG_METHOD_ICMP ? 1 : cfg->nports + 1;
    z->max_traces = max * ports < RG_MAX_TRACES ? max * ports : RG_MAX_TRACES;
    if (path && !(z->reader = malloc(sizeof *z->reader))) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (path && !rg_reader_open(z->reader, path, limit, err, errlen)) {
        free(z->reader);
        z->reader = NULL;
        return false;
    }
    if (z->reader)
        z->reader->nonblocking = !checked;
    z->open = true;
    if (rg_feeder_init(&z->feeder, cfg, socks, list, z->reader, checked))
        return true;
    snprintf(err, errlen, "out of memory");
    return false;
}

bool rg_lazy_report(const rg_lazy *z, size_t *skipped)
{
    const rg_feeder *f = &z->feeder;
    if (!f->checked)
        say_skipped(f->skipped, RG_TARGETS_SHOWN_SKIPS);
    *skipped = f->checked ? z->checked_skipped : f->skipped;
    if (f->failed) {
        rg_say("%s", f->failure);
        return false;
    }
    /* A pipe that brought nothing: as a file with nothing is refused. */
    if (!f->checked && f->list->n == 0 && (!f->reader || f->reader->entries == 0)) {
        rg_say("nothing to trace: %s",
               f->skipped ? "every target given was bad" : "no target given");
        return false;
    }
    return true;
}

void rg_lazy_close(rg_lazy *z)
{
    if (!z->open && !z->reader)
        return;
    rg_feeder_free(&z->feeder);
    if (z->reader)
        rg_reader_close(z->reader);
    free(z->reader);
    memset(z, 0, sizeof *z);
}
