#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/middlebox.h"
#include "keymap.h"

#define MAX_CLASSES 16 /* path classes per destination; more are not split out */

/* Scratch state of one build: each trace's path as node indices per TTL
 * from its first probed TTL to the one it ended at (reached, or last
 * answer). With Doubletree (--stop-set) a trace may start above min_ttl:
 * the TTLs it never probed are not silent hops. */
typedef struct builder {
    rg_graph *g;
    const rg_run *run;
    size_t *path;       /* all paths back to back */
    size_t *path_off;   /* [trace]: start in path */
    unsigned *path_first; /* [trace]: TTL of path[path_off] */
    unsigned *path_len; /* [trace] */
    unsigned *route_len; /* [trace]: the part of the path that is routing */
    size_t cap_nodes, cap_edges;
    unsigned nunk, nend; /* ids handed out so far */
} builder;

/* ---- small helpers ---- */

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int addr_cmp(const void *a, const void *b)
{
    return rg_addr_compare(a, b);
}

/* The address a trace shows at ttl: its own answer, else the hop other
 * traces showed (inferred; its edge is drawn as such); NULL when silent. */
static const rg_addr *hop_addr(const rg_trace *t, unsigned ttl, bool *inferred)
{
    const rg_probe *p = rg_trace_answer(t, ttl);
    *inferred = !p && rg_trace_inferred(t, ttl);
    return p ? &p->from : rg_trace_inferred(t, ttl);
}

static unsigned path_end_ttl(const rg_trace *t)
{
    unsigned end = t->reached_ttl ? t->reached_ttl : t->last_answer_ttl;
    if (end < t->min_ttl || end > t->max_ttl)
        return 0;
    return end;
}

static unsigned path_first_ttl(const rg_trace *t)
{
    unsigned end = path_end_ttl(t), ttl = t->min_ttl;
    while (ttl < end && rg_trace_sent(t, ttl) == 0 && !rg_trace_inferred(t, ttl))
        ttl++;
    return ttl;
}

static unsigned path_len(const rg_trace *t)
{
    unsigned end = path_end_ttl(t);
    return end ? end - path_first_ttl(t) + 1 : 0;
}

size_t rg_graph_host(const rg_graph *g, const rg_addr *a)
{
    size_t lo = 1, hi = g->nhosts + 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = rg_addr_compare(&g->nodes[mid].addr, a);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return RG_GRAPH_NONE;
}

static size_t add_node(builder *b, enum rg_gnode_kind kind)
{
    rg_graph *g = b->g;
    if (g->nnodes == b->cap_nodes) {
        size_t cap = b->cap_nodes ? 2 * b->cap_nodes : 64;
        rg_gnode *n = realloc(g->nodes, cap * sizeof *n);
        if (!n)
            return RG_GRAPH_NONE;
        g->nodes = n;
        b->cap_nodes = cap;
    }
    rg_gnode *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->cluster = RG_GRAPH_NONE;
    n->dest = RG_GRAPH_NONE;
    return g->nnodes++;
}

static bool add_edge(builder *b, size_t from, size_t to, size_t trace, unsigned ttl,
                     bool inferred)
{
    rg_graph *g = b->g;
    /* A routing loop revisits an edge: one chain per trace draws it once. */
    for (size_t i = g->nedges; i-- > 0 && g->edges[i].trace == trace;)
        if (g->edges[i].from == from && g->edges[i].to == to)
            return true;
    if (g->nedges == b->cap_edges) {
        size_t cap = b->cap_edges ? 2 * b->cap_edges : 64;
        rg_gedge *e = realloc(g->edges, cap * sizeof *e);
        if (!e)
            return false;
        g->edges = e;
        b->cap_edges = cap;
    }
    g->edges[g->nedges++] = (rg_gedge){.from = from, .to = to, .trace = trace, .ttl = ttl,
                                       .inferred = inferred};
    return true;
}

/* ---- host nodes ---- */

/* The trace that draws mpath's branches: the first one pointing at it. */
static bool draws_mpath(const rg_run *run, size_t i)
{
    const rg_mpath *m = run->traces[i].mpath;
    if (!m)
        return false;
    for (size_t j = 0; j < i; j++)
        if (run->traces[j].mpath == m)
            return false;
    return true;
}

static size_t count_addresses(const rg_run *run)
{
    size_t n = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        n += 1 + path_len(&run->traces[i]) + (draws_mpath(run, i) ? run->traces[i].mpath->nobs : 0);
    return n;
}

/* Every destination and every address on a path, once, in address order. */
static bool add_hosts(builder *b)
{
    const rg_run *run = b->run;
    rg_addr *all = malloc((count_addresses(run) + 1) * sizeof *all);
    if (!all)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        all[n++] = t->dst;
        unsigned end = path_end_ttl(t);
        for (unsigned ttl = path_first_ttl(t); end && ttl <= end; ttl++) {
            bool inferred;
            const rg_addr *a = hop_addr(t, ttl, &inferred);
            if (a)
                all[n++] = *a;
        }
        for (size_t k = 0; draws_mpath(run, i) && k < t->mpath->nobs; k++)
            if (t->mpath->obs[k].from.family)
                all[n++] = t->mpath->obs[k].from;
    }
    qsort(all, n, sizeof *all, addr_cmp);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (i > 0 && rg_addr_equal(&all[i - 1], &all[i]))
            continue;
        size_t k = add_node(b, RG_GNODE_HOST);
        ok = k != RG_GRAPH_NONE;
        if (ok) {
            b->g->nodes[k].addr = all[i];
            b->g->nhosts++;
        }
    }
    free(all);
    return ok;
}

static bool annotate_host(rg_gnode *n, const rg_host *h)
{
    n->asn = h->asn;
    memcpy(n->country, h->country, sizeof n->country);
    n->country[sizeof n->country - 1] = '\0';
    n->as_org = dup_or_null(h->as_org);
    n->ptr = dup_or_null(h->ptr);
    n->city = dup_or_null(h->city);
    return (!h->as_org || !*h->as_org || n->as_org) && (!h->ptr || !*h->ptr || n->ptr) &&
           (!h->city || !*h->city || n->city);
}

static bool annotate_hosts(builder *b)
{
    for (size_t k = 1; k <= b->g->nhosts; k++) {
        const rg_host *h = rg_run_host(b->run, &b->g->nodes[k].addr);
        if (h && !annotate_host(&b->g->nodes[k], h))
            return false;
    }
    return true;
}

/* ---- clusters ---- */

static void add_country(rg_gcluster *c, const char *cc)
{
    if (!cc[0])
        return;
    size_t i = 0;
    while (i < c->ncountries && strcmp(c->countries[i], cc) < 0)
        i++;
    if (i < c->ncountries && strcmp(c->countries[i], cc) == 0)
        return;
    if (c->ncountries == RG_GRAPH_MAX_COUNTRIES) {
        c->more_countries = true;
        if (i == c->ncountries)
            return;
        c->ncountries--; /* keep the alphabetically first ones */
    }
    memmove(c->countries[i + 1], c->countries[i], (c->ncountries - i) * sizeof c->countries[0]);
    memcpy(c->countries[i], cc, 3);
    c->ncountries++;
}

static size_t cluster_of(const rg_graph *g, uint32_t asn)
{
    size_t lo = 0, hi = g->nclusters;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->clusters[mid].asn == asn)
            return mid;
        if (g->clusters[mid].asn < asn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return RG_GRAPH_NONE;
}

static bool make_clusters(builder *b)
{
    rg_graph *g = b->g;
    uint32_t *asns = malloc((g->nhosts + 1) * sizeof *asns);
    g->clusters = calloc(g->nhosts + 1, sizeof *g->clusters);
    if (!asns || !g->clusters) {
        free(asns);
        return false;
    }
    size_t n = 0;
    for (size_t k = 1; k <= g->nhosts; k++)
        if (g->nodes[k].asn)
            asns[n++] = g->nodes[k].asn;
    qsort(asns, n, sizeof *asns, u32_cmp);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || asns[i] != asns[i - 1])
            g->clusters[g->nclusters++].asn = asns[i];
    free(asns);
    for (size_t k = 1; k <= g->nhosts; k++) {
        rg_gnode *node = &g->nodes[k];
        if (!node->asn)
            continue;
        node->cluster = cluster_of(g, node->asn);
        rg_gcluster *c = &g->clusters[node->cluster];
        if (!c->org && node->as_org && !(c->org = strdup(node->as_org)))
            return false;
        add_country(c, node->country);
    }
    return true;
}

/* ---- paths, unk nodes, edges ---- */

static bool alloc_paths(builder *b)
{
    const rg_run *run = b->run;
    size_t total = 0;
    b->path_off = malloc((run->ntraces + 1) * sizeof *b->path_off);
    b->path_len = malloc((run->ntraces + 1) * sizeof *b->path_len);
    b->route_len = malloc((run->ntraces + 1) * sizeof *b->route_len);
    b->path_first = malloc((run->ntraces + 1) * sizeof *b->path_first);
    if (!b->path_off || !b->path_len || !b->route_len || !b->path_first)
        return false;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        b->path_off[i] = total;
        b->path_len[i] = path_len(t);
        b->path_first[i] = path_first_ttl(t);
        b->route_len[i] = b->path_len[i];
        if (t->stopped_by_unreachable && !t->reached_ttl && b->route_len[i])
            b->route_len[i]--;
        total += b->path_len[i];
    }
    b->path = malloc((total + 1) * sizeof *b->path);
    return b->path != NULL;
}

/* Host nodes of the answered TTLs; RG_GRAPH_NONE where it was silent. */
static void fill_path(builder *b, size_t i)
{
    const rg_trace *t = &b->run->traces[i];
    size_t *path = b->path + b->path_off[i];
    for (unsigned k = 0; k < b->path_len[i]; k++) {
        bool inferred;
        const rg_addr *a = hop_addr(t, b->path_first[i] + k, &inferred);
        path[k] = a ? rg_graph_host(b->g, a) : RG_GRAPH_NONE;
    }
}

static size_t same_cluster(const rg_graph *g, size_t a, size_t c)
{
    if (g->nodes[a].kind != RG_GNODE_HOST || g->nodes[c].kind != RG_GNODE_HOST)
        return RG_GRAPH_NONE;
    return g->nodes[a].cluster == g->nodes[c].cluster ? g->nodes[a].cluster : RG_GRAPH_NONE;
}

/* Fills path[first .. first+gap-1] (silent TTLs between known nodes `before`
 * and `after`) with unk nodes shared by every trace with the same gap. */
static bool fill_gap(builder *b, rg_keymap *unks, size_t i, size_t first,
                     size_t gap, size_t before, size_t after)
{
    size_t *path = b->path + b->path_off[i];
    const rg_trace *t = &b->run->traces[i];
    for (size_t k = 0; k < gap; k++) {
        size_t key[4] = {before, after, gap, k};
        size_t node = rg_keymap_get(unks, key);
        if (node == RG_GRAPH_NONE) {
            node = add_node(b, RG_GNODE_UNK);
            if (node == RG_GRAPH_NONE || !rg_keymap_put(unks, key, node))
                return false;
            b->g->nodes[node].id = b->nunk++;
            b->g->nodes[node].cluster = same_cluster(b->g, before, after);
            b->g->nodes[node].rate_limited = true;
        }
        path[first + k] = node;
        /* Rate-limited only if every trace through it was. */
        unsigned ttl = b->path_first[i] + (unsigned)(first + k);
        if (rg_trace_silence(t, ttl) != RG_SILENCE_RATE_LIMITED)
            b->g->nodes[node].rate_limited = false;
    }
    return true;
}

/* A path ends on an answered TTL, so every silent run has a known node after it. */
static bool fill_unks(builder *b, rg_keymap *unks, size_t i)
{
    size_t *path = b->path + b->path_off[i];
    size_t before = 0, first = 0;
    for (size_t k = 0; k < b->path_len[i]; k++) {
        if (path[k] == RG_GRAPH_NONE)
            continue;
        if (k > first && !fill_gap(b, unks, i, first, k - first, before, path[k]))
            return false;
        before = path[k];
        first = k + 1;
    }
    return true;
}

static size_t end_node(builder *b, rg_keymap *ends, size_t last, size_t dest,
                       enum rg_gend_reason why)
{
    size_t key[4] = {last, dest, (size_t)why, 0};
    size_t node = rg_keymap_get(ends, key);
    if (node != RG_GRAPH_NONE)
        return node;
    node = add_node(b, RG_GNODE_END);
    if (node == RG_GRAPH_NONE || !rg_keymap_put(ends, key, node))
        return RG_GRAPH_NONE;
    rg_gnode *n = &b->g->nodes[node];
    n->id = b->nend++;
    n->dest = dest;
    n->reason = why;
    return node;
}

static bool chain_trace(builder *b, rg_keymap *ends, size_t i)
{
    const rg_trace *t = &b->run->traces[i];
    rg_gtrace *gt = &b->g->traces[i];
    const size_t *path = b->path + b->path_off[i];
    size_t prev = 0;
    for (unsigned k = 0; k < b->path_len[i]; k++) {
        unsigned ttl = b->path_first[i] + k;
        bool inferred;
        hop_addr(t, ttl, &inferred);
        if (path[k] != prev && !add_edge(b, prev, path[k], i, ttl, inferred))
            return false;
        prev = path[k];
    }
    gt->last = prev;
    if (gt->reached || t->last_ttl == 0)
        return true;
    enum rg_gend_reason why = t->stopped_by_unreachable ? RG_GEND_UNREACHABLE : RG_GEND_SILENCE;
    gt->end = end_node(b, ends, prev, gt->dest, why);
    return gt->end != RG_GRAPH_NONE && add_edge(b, prev, gt->end, i, 0, false);
}

static bool make_paths(builder *b)
{
    const rg_run *run = b->run;
    rg_keymap unks = {0}, ends = {0};
    bool ok = alloc_paths(b) &&
              rg_keymap_init(&unks, b->path_off[run->ntraces - 1] + b->path_len[run->ntraces - 1]) &&
              rg_keymap_init(&ends, run->ntraces);
    for (size_t i = 0; ok && i < run->ntraces; i++) {
        fill_path(b, i);
        ok = fill_unks(b, &unks, i);
    }
    for (size_t i = 0; ok && i < run->ntraces; i++)
        ok = chain_trace(b, &ends, i);
    rg_keymap_free(&unks);
    rg_keymap_free(&ends);
    return ok;
}

/* ---- multipath branches ---- */

static bool has_edge(const rg_graph *g, size_t from, size_t to)
{
    for (size_t i = 0; i < g->nedges; i++)
        if (g->edges[i].from == from && g->edges[i].to == to)
            return true;
    return false;
}

#define MP_MAX_PREDS 256u

/* The edges into the branches MDA found at ttl. */
static bool mpath_ttl_edges(builder *b, size_t i, const rg_mpath *m, unsigned ttl)
{
    rg_addr br[MP_MAX_PREDS], pr[MP_MAX_PREDS];
    size_t nb = rg_mpath_branches(m, ttl, br, MP_MAX_PREDS);
    for (size_t k = 0; k < nb && k < MP_MAX_PREDS; k++) {
        size_t to = rg_graph_host(b->g, &br[k]);
        size_t np = ttl == m->first_ttl ? 1 : rg_mpath_preds(m, ttl, &br[k], pr, MP_MAX_PREDS);
        for (size_t j = 0; to != RG_GRAPH_NONE && j < np && j < MP_MAX_PREDS; j++) {
            size_t from = ttl == m->first_ttl ? 0 : rg_graph_host(b->g, &pr[j]);
            if (from == RG_GRAPH_NONE || from == to || has_edge(b->g, from, to))
                continue;
            if (!add_edge(b, from, to, i, ttl, false))
                return false;
            rg_gedge *e = &b->g->edges[b->g->nedges - 1];
            e->multipath = true;
            e->mp_rule_met = m->hop_state[ttl] == RG_MP_HOP_RULE ||
                             m->hop_state[ttl] == RG_MP_HOP_SHARED ||
                             m->hop_state[ttl] == RG_MP_HOP_ROUTE;
            e->mp_confidence = m->confidence;
        }
    }
    return true;
}

static bool mpath_edges(builder *b)
{
    for (size_t i = 0; i < b->run->ntraces; i++) {
        if (!draws_mpath(b->run, i))
            continue;
        const rg_mpath *m = b->run->traces[i].mpath;
        for (unsigned ttl = m->first_ttl; ttl && ttl <= m->last_ttl; ttl++)
            if (!mpath_ttl_edges(b, i, m, ttl))
                return false;
    }
    return true;
}

/* ---- traces, destinations ---- */

static void port_cell(const rg_trace *t, size_t i, rg_gport *cell)
{
    cell->port = t->dport;
    cell->tcp = t->method == RG_METHOD_TCP;
    rg_trace_port_text(t, cell->port_text, sizeof cell->port_text);
    cell->trace = i;
    cell->state = t->last_ttl ? t->state : RG_PORT_UNKNOWN;
    const rg_probe *p = rg_trace_deciding(t);
    if (t->state == RG_PORT_UNREACHABLE)
        p = rg_trace_unreachable(t); /* its mark: !N, !H, !X ... */
    rg_probe_code(p, cell->code, sizeof cell->code);
}

static int port_cmp(const void *a, const void *b)
{
    const rg_gport *x = a, *y = b;
    if (x->port != y->port)
        return (x->port > y->port) - (x->port < y->port);
    return (x->trace > y->trace) - (x->trace < y->trace);
}

static bool add_name(rg_gnode *n, const char *target)
{
    char text[RG_ADDR_STRLEN];
    if (!target || !*target || strcmp(target, rg_addr_format(&n->addr, text, sizeof text)) == 0)
        return true;
    for (size_t i = 0; i < n->nnames; i++)
        if (strcmp(n->names[i], target) == 0)
            return true;
    if (n->nnames == RG_GRAPH_MAX_NAMES) {
        n->more_names++;
        return true;
    }
    n->names[n->nnames] = strdup(target);
    return n->names[n->nnames++] != NULL;
}

static bool add_traces(builder *b)
{
    const rg_run *run = b->run;
    rg_graph *g = b->g;
    g->traces = calloc(run->ntraces, sizeof *g->traces);
    if (!g->traces)
        return false;
    g->ntraces = run->ntraces;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        rg_gtrace *gt = &g->traces[i];
        gt->dst = t->dst;
        gt->port = t->dport;
        rg_trace_port_text(t, gt->port_text, sizeof gt->port_text);
        gt->state = t->last_ttl ? t->state : RG_PORT_UNKNOWN;
        gt->unknown_why = t->unknown_why;
        gt->reached = t->reached_ttl != 0;
        gt->dest = rg_graph_host(g, &t->dst);
        gt->end = RG_GRAPH_NONE;
        g->nodes[gt->dest].reached |= gt->reached;
        if (!(gt->target = strdup(t->target ? t->target : "")))
            return false;
        rg_gnode *d = &g->nodes[gt->dest];
        rg_gport *cells = realloc(d->ports, (d->nports + 1) * sizeof *cells);
        if (!cells)
            return false;
        d->ports = cells;
        port_cell(t, i, &d->ports[d->nports++]);
        if (!add_name(d, t->target))
            return false;
    }
    for (size_t k = 1; k <= g->nhosts; k++)
        if (g->nodes[k].nports > 1)
            qsort(g->nodes[k].ports, g->nodes[k].nports, sizeof(rg_gport), port_cmp);
    return true;
}

static void add_sources(rg_graph *g, const rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_addr *s = &run->traces[i].src;
        if (s->family != 4 && s->family != 6)
            continue;
        size_t k = 0;
        while (k < g->nsources && rg_addr_compare(&g->sources[k], s) < 0)
            k++;
        if ((k < g->nsources && rg_addr_equal(&g->sources[k], s)) ||
            k == RG_GRAPH_MAX_SOURCES)
            continue;
        if (g->nsources == RG_GRAPH_MAX_SOURCES)
            g->nsources--;
        memmove(&g->sources[k + 1], &g->sources[k], (g->nsources - k) * sizeof *s);
        g->sources[k] = *s;
        g->nsources++;
    }
}

/* ---- median RTT ---- */

static size_t slots(const rg_trace *t)
{
    return rg_trace_slots(t);
}

/* Calls fn for every reply in the run whose sender is a host node. */
static void each_reply(const builder *b, void (*fn)(void *, size_t, uint32_t), void *ctx)
{
    for (size_t i = 0; i < b->run->ntraces; i++) {
        const rg_trace *t = &b->run->traces[i];
        for (size_t k = 0; t->probes && k < slots(t); k++) {
            const rg_probe *p = &t->probes[k];
            if (p->kind == RG_REPLY_NONE)
                continue;
            size_t node = rg_graph_host(b->g, &p->from);
            if (node != RG_GRAPH_NONE)
                fn(ctx, node, p->rtt_us);
        }
    }
}

typedef struct rtt_fill {
    rg_graph *g;
    size_t *off;
    uint32_t *samples;
} rtt_fill;

static void count_rtt(void *ctx, size_t node, uint32_t rtt)
{
    (void)rtt;
    ((rtt_fill *)ctx)->g->nodes[node].nrtt++;
}

static void put_rtt(void *ctx, size_t node, uint32_t rtt)
{
    rtt_fill *f = ctx;
    f->samples[f->off[node]++] = rtt;
}

static bool median_rtts(builder *b)
{
    rg_graph *g = b->g;
    rtt_fill f = {.g = g};
    each_reply(b, count_rtt, &f);
    size_t total = 0;
    f.off = malloc((g->nhosts + 1) * sizeof *f.off);
    if (!f.off)
        return false;
    for (size_t k = 1; k <= g->nhosts; k++) {
        f.off[k] = total;
        total += g->nodes[k].nrtt;
    }
    f.samples = malloc((total + 1) * sizeof *f.samples);
    if (!f.samples) {
        free(f.off);
        return false;
    }
    each_reply(b, put_rtt, &f);
    for (size_t k = 1; k <= g->nhosts; k++) {
        size_t n = g->nodes[k].nrtt;
        if (n == 0)
            continue;
        uint32_t *s = f.samples + f.off[k] - n; /* put_rtt advanced off to the end */
        qsort(s, n, sizeof *s, u32_cmp);
        g->nodes[k].median_rtt_us = n % 2 ? s[n / 2]
                                          : (uint32_t)(((uint64_t)s[n / 2 - 1] + s[n / 2]) / 2);
    }
    free(f.off);
    free(f.samples);
    return true;
}

/* ---- ICMP extensions: the first each responder sent ---- */

static bool node_extensions(builder *b)
{
    rg_graph *g = b->g;
    for (size_t i = 0; i < b->run->ntraces; i++) {
        const rg_trace *t = &b->run->traces[i];
        for (uint32_t k = 0; t->probes && k < t->nexts; k++) {
            const rg_probe *p = &t->probes[t->exts[k].slot];
            size_t node = rg_graph_host(g, &p->from);
            if (node == RG_GRAPH_NONE || g->nodes[node].ext)
                continue;
            g->nodes[node].ext = malloc(sizeof *g->nodes[node].ext);
            if (!g->nodes[node].ext)
                return false;
            *g->nodes[node].ext = t->exts[k].ext;
        }
    }
    return true;
}

/* ---- splits: where two ports of one destination part ---- */

/* Node at a TTL on the routing part of trace i's path; RG_GRAPH_NONE outside it. */
static size_t node_at(const builder *b, size_t i, unsigned ttl)
{
    unsigned min = b->path_first[i];
    if (ttl < min || ttl - min >= b->route_len[i])
        return RG_GRAPH_NONE;
    return b->path[b->path_off[i] + (ttl - min)];
}

/* True when both traces have known, different hosts at some TTL; *at is the
 * last host they shared before it (0 = the prober), *ttl that TTL. */
static bool diverge(const builder *b, size_t x, size_t y, size_t *at, unsigned *ttl)
{
    *at = 0;
    for (unsigned t = 1; t <= 255; t++) {
        size_t nx = node_at(b, x, t), ny = node_at(b, y, t);
        if (nx == RG_GRAPH_NONE || ny == RG_GRAPH_NONE)
            continue;
        if (b->g->nodes[nx].kind != RG_GNODE_HOST || b->g->nodes[ny].kind != RG_GNODE_HOST)
            continue;
        if (nx != ny) {
            *ttl = t;
            return true;
        }
        *at = nx;
    }
    return false;
}

typedef struct dest_trace {
    size_t dest, trace;
} dest_trace;

static int dest_trace_cmp(const void *a, const void *b)
{
    const dest_trace *x = a, *y = b;
    if (x->dest != y->dest)
        return (x->dest > y->dest) - (x->dest < y->dest);
    return (x->trace > y->trace) - (x->trace < y->trace);
}

static void mark_split_edges(rg_graph *g, size_t at, size_t trace)
{
    for (size_t e = 0; e < g->nedges; e++)
        if (g->edges[e].trace == trace && g->edges[e].from == at)
            g->edges[e].split = true;
}

static bool collect_class(const dest_trace *dt, size_t n, const size_t *class_of,
                          size_t c, size_t **out, size_t *nout)
{
    *out = malloc(n * sizeof **out);
    if (!*out)
        return false;
    *nout = 0;
    for (size_t k = 0; k < n; k++)
        if (class_of[k] == c)
            (*out)[(*nout)++] = dt[k].trace;
    return true;
}

static bool add_split(builder *b, const dest_trace *dt, size_t n, const size_t *class_of,
                      const size_t *rep, size_t c)
{
    rg_graph *g = b->g;
    rg_gsplit *s = realloc(g->splits, (g->nsplits + 1) * sizeof *s);
    if (!s)
        return false;
    g->splits = s;
    s = &g->splits[g->nsplits];
    memset(s, 0, sizeof *s);
    s->dest = dt[0].dest;
    s->first = dt[rep[0]].trace;
    s->other = dt[rep[c]].trace;
    diverge(b, s->first, s->other, &s->at, &s->ttl);
    g->nsplits++;
    if (!collect_class(dt, n, class_of, c, &s->other_traces, &s->nother) ||
        !collect_class(dt, n, class_of, 0, &s->first_traces, &s->nfirst))
        return false;
    g->nodes[s->at].nsplits++;
    mark_split_edges(g, s->at, s->first);
    mark_split_edges(g, s->at, s->other);
    return true;
}

/* Groups one destination's traces into path classes, each led by its first
 * trace, and records how every further class leaves the first one. */
static bool split_destination(builder *b, const dest_trace *dt, size_t n)
{
    size_t rep[MAX_CLASSES], nclasses = 0;
    size_t *class_of = malloc(n * sizeof *class_of);
    if (!class_of)
        return false;
    for (size_t k = 0; k < n; k++) {
        size_t at;
        unsigned ttl;
        class_of[k] = RG_GRAPH_NONE;
        for (size_t c = 0; c < nclasses && class_of[k] == RG_GRAPH_NONE; c++)
            if (!diverge(b, dt[rep[c]].trace, dt[k].trace, &at, &ttl))
                class_of[k] = c;
        if (class_of[k] == RG_GRAPH_NONE && nclasses < MAX_CLASSES) {
            rep[nclasses] = k;
            class_of[k] = nclasses++;
        }
    }
    bool ok = true;
    for (size_t c = 1; ok && c < nclasses; c++)
        ok = add_split(b, dt, n, class_of, rep, c);
    free(class_of);
    return ok;
}

static bool find_splits(builder *b)
{
    size_t n = b->g->ntraces;
    dest_trace *dt = malloc((n + 1) * sizeof *dt);
    if (!dt)
        return false;
    for (size_t i = 0; i < n; i++)
        dt[i] = (dest_trace){.dest = b->g->traces[i].dest, .trace = i};
    qsort(dt, n, sizeof *dt, dest_trace_cmp);
    bool ok = true;
    for (size_t k = 0; ok && k < n;) {
        size_t end = k + 1;
        while (end < n && dt[end].dest == dt[k].dest)
            end++;
        if (end - k > 1)
            ok = split_destination(b, dt + k, end - k);
        k = end;
    }
    free(dt);
    return ok;
}

/* ---- build / free ---- */

/* The credits the run's data asks for, on one line ("; " between them). */
static bool set_credit(rg_graph *g, const rg_run *run)
{
    const char *a = run->as_credit, *c = run->country_credit;
    if (!a && !c)
        return true;
    size_t n = (a ? strlen(a) : 0) + (c ? strlen(c) : 0) + 3;
    if (!(g->credit = malloc(n)))
        return false;
    snprintf(g->credit, n, "%s%s%s", a ? a : "", a && c ? "; " : "", c ? c : "");
    return true;
}

/* The changes each trace's quotes first show, on the hop that shows them. */
static bool mark_rewrites(builder *b)
{
    for (size_t i = 0; i < b->run->ntraces; i++) {
        const rg_trace *t = &b->run->traces[i];
        size_t max = rg_middlebox_max_changes(t);
        if (!t->probes || max == 0)
            continue;
        rg_mbox_change *ch = malloc(max * sizeof *ch);
        if (!ch)
            return false;
        size_t n = rg_middlebox_changes(t, ch, max);
        for (size_t k = 0; k < n && k < max; k++) {
            size_t node = rg_graph_host(b->g, &ch[k].probe->from);
            if (node != RG_GRAPH_NONE)
                b->g->nodes[node].rewrites |= ch[k].what;
        }
        free(ch);
    }
    return true;
}

/* The node of the last hop below ttl that quoted the probe (the root when
 * none did), or RG_GRAPH_NONE. */
static size_t node_before(const rg_graph *g, const rg_trace *t, unsigned ttl)
{
    unsigned below = rg_middlebox_quoted_below(t, ttl);
    if (below == 0)
        return 0; /* the root */
    const rg_probe *p = rg_trace_shown(t, below);
    return p ? rg_graph_host(g, &p->from) : RG_GRAPH_NONE;
}

/* Rewrites seen only through errors that are not answers (a NAT that
 * leaves quotes alone, a shifted sequence number): marked on the hop
 * after which they happened, since the hop that told has no node. */
static void mark_evidence(builder *b)
{
    for (size_t i = 0; i < b->run->ntraces; i++) {
        const rg_trace *t = &b->run->traces[i];
        if (!t->probes)
            continue;
        const rg_rewrite_seen *d = rg_middlebox_evidence(t, RG_QC_DST);
        const rg_rewrite_seen *q = rg_middlebox_evidence(t, RG_QC_SEQ);
        const struct { unsigned ttl; uint16_t what; } seen[] = {
            {t->nat_ttl, RG_QC_SRC}, {d ? d->ttl : 0, RG_QC_DST}, {q ? q->ttl : 0, RG_QC_SEQ}};
        for (size_t k = 0; k < sizeof seen / sizeof seen[0]; k++) {
            size_t node = seen[k].ttl ? node_before(b->g, t, seen[k].ttl) : RG_GRAPH_NONE;
            if (node != RG_GRAPH_NONE)
                b->g->nodes[node].rewritten_after |= seen[k].what;
        }
    }
}

static bool build(builder *b)
{
    if (add_node(b, RG_GNODE_ROOT) == RG_GRAPH_NONE)
        return false;
    add_sources(b->g, b->run);
    if (!set_credit(b->g, b->run))
        return false;
    if (!add_hosts(b) || !annotate_hosts(b) || !make_clusters(b) || !add_traces(b) ||
        !median_rtts(b) || !mark_rewrites(b) || !node_extensions(b))
        return false;
    mark_evidence(b);
    if (b->run->ntraces == 0)
        return true;
    return make_paths(b) && find_splits(b) && mpath_edges(b);
}

rg_graph *rg_graph_build(const rg_run *run)
{
    builder b = {.run = run};
    b.g = calloc(1, sizeof *b.g);
    if (!b.g)
        return NULL;
    bool ok = build(&b);
    free(b.path);
    free(b.path_off);
    free(b.path_len);
    free(b.route_len);
    free(b.path_first);
    if (ok)
        return b.g;
    rg_graph_free(b.g);
    return NULL;
}

static void node_free(rg_gnode *n)
{
    free(n->as_org);
    free(n->ptr);
    free(n->city);
    free(n->ports);
    free(n->ext);
    for (size_t i = 0; i < n->nnames; i++)
        free(n->names[i]);
}

void rg_graph_free(rg_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nnodes; i++)
        node_free(&g->nodes[i]);
    free(g->nodes);
    free(g->edges);
    for (size_t i = 0; i < g->ntraces; i++)
        free(g->traces[i].target);
    free(g->traces);
    for (size_t i = 0; i < g->nclusters; i++)
        free(g->clusters[i].org);
    free(g->clusters);
    for (size_t i = 0; i < g->nsplits; i++) {
        free(g->splits[i].other_traces);
        free(g->splits[i].first_traces);
    }
    free(g->splits);
    free(g->credit);
    free(g);
}
