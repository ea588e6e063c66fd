#include "asgraph.h"

#include <stdlib.h>
#include <string.h>

#include "keymap.h"

/* ---- the builder ---- */

enum { KEY_AS = 1, KEY_UNK = 2 }; /* the first part of a node key */

typedef struct builder {
    const rg_graph *g;
    rg_asgraph *ag;
    size_t cap_nodes, cap_edges;
    rg_keymap nodes, edges;
    size_t *addr_mark;  /* [router-level node]: AS node it was last counted in, + 1 */
    size_t *dest_mark;  /* the same for destination addresses */
    size_t *edge_mark;  /* [edge]: trace that last counted it, + 1 */
    size_t *path;       /* the current trace's visits */
    size_t npath, cap_path;
    unsigned nunk;      /* unk ids handed out so far */
} builder;

static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? 2 * *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

static size_t new_node(builder *b, enum rg_asnode_kind kind)
{
    rg_asgraph *ag = b->ag;
    if (!grow((void **)&ag->nodes, &b->cap_nodes, ag->nnodes + 1, sizeof *ag->nodes))
        return RG_GRAPH_NONE;
    rg_asnode *n = &ag->nodes[ag->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->before = n->after = RG_GRAPH_NONE;
    return ag->nnodes++;
}

/* The AS node of asn; its organisation and countries from its cluster. */
static size_t as_node(builder *b, uint32_t asn)
{
    size_t k[4] = {KEY_AS, asn, 0, 0};
    size_t v = rg_keymap_get(&b->nodes, k);
    if (v != RG_GRAPH_NONE)
        return v;
    v = new_node(b, RG_ASNODE_AS);
    if (v == RG_GRAPH_NONE || !rg_keymap_put(&b->nodes, k, v))
        return RG_GRAPH_NONE;
    rg_asnode *n = &b->ag->nodes[v];
    n->asn = asn;
    for (size_t c = 0; c < b->g->nclusters; c++) {
        const rg_gcluster *cl = &b->g->clusters[c];
        if (cl->asn != asn)
            continue;
        if (cl->org && !(n->org = strdup(cl->org)))
            return RG_GRAPH_NONE;
        memcpy(n->countries, cl->countries, sizeof n->countries);
        n->ncountries = cl->ncountries;
        break;
    }
    return v;
}

/* The unk node between AS nodes before and after (RG_GRAPH_NONE: path end). */
static size_t unk_node(builder *b, size_t before, size_t after)
{
    size_t k[4] = {KEY_UNK, before, after, 0};
    size_t v = rg_keymap_get(&b->nodes, k);
    if (v != RG_GRAPH_NONE)
        return v;
    v = new_node(b, RG_ASNODE_UNK);
    if (v == RG_GRAPH_NONE || !rg_keymap_put(&b->nodes, k, v))
        return RG_GRAPH_NONE;
    rg_asnode *n = &b->ag->nodes[v];
    n->id = ++b->nunk;
    n->before = before;
    n->after = after;
    return v;
}

/* Counts trace t once on the edge from -> to. */
static bool cross(builder *b, size_t from, size_t to, bool unreached, size_t t)
{
    rg_asgraph *ag = b->ag;
    size_t k[4] = {from, to, unreached, 0};
    size_t e = rg_keymap_get(&b->edges, k);
    if (e == RG_GRAPH_NONE) {
        size_t cap = b->cap_edges;
        if (!grow((void **)&ag->edges, &b->cap_edges, ag->nedges + 1, sizeof *ag->edges))
            return false;
        if (b->cap_edges != cap) {
            size_t *m = realloc(b->edge_mark, b->cap_edges * sizeof *m);
            if (!m)
                return false;
            b->edge_mark = m;
        }
        e = ag->nedges++;
        ag->edges[e] = (rg_asedge){from, to, 0, unreached};
        b->edge_mark[e] = 0;
        if (!rg_keymap_put(&b->edges, k, e))
            return false;
    }
    if (b->edge_mark[e] != t + 1) {
        b->edge_mark[e] = t + 1;
        ag->edges[e].traces++;
    }
    return true;
}

static bool visit(builder *b, size_t node)
{
    if (b->npath && b->path[b->npath - 1] == node)
        return true;
    if (!grow((void **)&b->path, &b->cap_path, b->npath + 1, sizeof *b->path))
        return false;
    b->path[b->npath++] = node;
    return true;
}

/* The router-level node k counts as an address of AS node v. */
static void count_addr(builder *b, size_t k, size_t v)
{
    if (b->g->nodes[k].kind == RG_GNODE_HOST && b->addr_mark[k] != v + 1) {
        b->addr_mark[k] = v + 1;
        b->ag->nodes[v].addrs++;
    }
}

/* Folds one trace's router-level path (nodes hops[0..n), the prober not
 * among them) into visits of AS nodes. Unannotated runs wait in `gap`
 * until the next AS (or the end) names their unk node. */
static bool fold_path(builder *b, const size_t *hops, size_t n)
{
    const rg_graph *g = b->g;
    size_t last_as = 0, gap_from = 0, gap_len = 0;
    b->npath = 0;
    if (!visit(b, 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        const rg_gnode *rn = &g->nodes[hops[i]];
        if (rn->kind != RG_GNODE_HOST || rn->asn == 0) {
            if (!gap_len++)
                gap_from = i;
            continue;
        }
        size_t v = as_node(b, rn->asn);
        if (v == RG_GRAPH_NONE)
            return false;
        if (gap_len && v != last_as) {
            size_t u = unk_node(b, last_as, v);
            if (u == RG_GRAPH_NONE || !visit(b, u))
                return false;
            for (size_t j = gap_from; j < gap_from + gap_len; j++)
                count_addr(b, hops[j], u);
        }
        gap_len = 0;
        count_addr(b, hops[i], v);
        if (!visit(b, v))
            return false;
        last_as = v;
    }
    if (!gap_len)
        return true;
    size_t u = unk_node(b, last_as, RG_GRAPH_NONE);
    if (u == RG_GRAPH_NONE || !visit(b, u))
        return false;
    for (size_t j = gap_from; j < gap_from + gap_len; j++)
        count_addr(b, hops[j], u);
    return true;
}

static int service_cmp(const void *x, const void *y)
{
    const rg_asservice *a = x, *b = y;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return (a->state > b->state) - (a->state < b->state);
}

static bool add_service(rg_asnode *n, uint16_t port, enum rg_port_state state)
{
    for (size_t i = 0; i < n->nservices; i++)
        if (n->services[i].port == port && n->services[i].state == state) {
            n->services[i].traces++;
            return true;
        }
    rg_asservice *s = realloc(n->services, (n->nservices + 1) * sizeof *s);
    if (!s)
        return false;
    n->services = s;
    n->services[n->nservices++] = (rg_asservice){port, state, 1};
    return true;
}

/* The node trace t's destination belongs to; the unreached edge if its
 * path does not end there. */
static bool place_destination(builder *b, size_t t)
{
    const rg_gtrace *gt = &b->g->traces[t];
    const rg_gnode *dn = &b->g->nodes[gt->dest];
    size_t last = b->path[b->npath - 1];
    size_t v = last;
    if (dn->asn)
        v = as_node(b, dn->asn);
    else if (!gt->reached) {
        size_t last_as = last;
        if (b->ag->nodes[last].kind == RG_ASNODE_UNK)
            last_as = b->ag->nodes[last].before;
        v = unk_node(b, last_as, RG_GRAPH_NONE);
    }
    if (v == RG_GRAPH_NONE)
        return false;
    rg_asnode *n = &b->ag->nodes[v];
    if (b->dest_mark[gt->dest] != v + 1) {
        b->dest_mark[gt->dest] = v + 1;
        n->dests++;
    }
    if (!add_service(n, gt->port, gt->state))
        return false;
    return v == last || cross(b, last, v, true, t);
}

/* Whether path[i] was visited before i (paths are a TTL range long). */
static bool in_path(const builder *b, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (b->path[j] == b->path[i])
            return true;
    return false;
}

/* Trace t's router-level edges start at edges[*e]; *e is moved past them. */
static bool fold_trace(builder *b, size_t t, size_t *e)
{
    const rg_graph *g = b->g;
    size_t *hops = NULL, nhops = 0, cap = 0;
    bool ok = true;
    for (; *e < g->nedges && g->edges[*e].trace == t; (*e)++) {
        size_t to = g->edges[*e].to;
        if (g->nodes[to].kind == RG_GNODE_END)
            continue;
        ok = grow((void **)&hops, &cap, nhops + 1, sizeof *hops);
        if (!ok)
            break;
        hops[nhops++] = to;
    }
    ok = ok && fold_path(b, hops, nhops);
    free(hops);
    if (!ok)
        return false;
    for (size_t i = 0; i < b->npath; i++) /* once per trace: a path may come back */
        b->ag->nodes[b->path[i]].traces += !in_path(b, i);
    for (size_t i = 1; i < b->npath; i++)
        if (!cross(b, b->path[i - 1], b->path[i], false, t))
            return false;
    return place_destination(b, t);
}

static bool build(builder *b)
{
    const rg_graph *g = b->g;
    b->ag->ntraces = g->ntraces;
    if (g->credit && !(b->ag->credit = strdup(g->credit)))
        return false;
    if (new_node(b, RG_ASNODE_PROBER) != 0)
        return false;
    size_t e = 0;
    for (size_t t = 0; t < g->ntraces; t++)
        if (!fold_trace(b, t, &e))
            return false;
    for (size_t i = 0; i < b->ag->nnodes; i++) {
        rg_asnode *n = &b->ag->nodes[i];
        if (n->nservices)
            qsort(n->services, n->nservices, sizeof *n->services, service_cmp);
    }
    return true;
}

rg_asgraph *rg_asgraph_build(const rg_graph *g)
{
    builder b = {.g = g};
    b.ag = calloc(1, sizeof *b.ag);
    size_t nn = g->nnodes ? g->nnodes : 1;
    b.addr_mark = calloc(nn, sizeof *b.addr_mark);
    b.dest_mark = calloc(nn, sizeof *b.dest_mark);
    bool ok = b.ag && b.addr_mark && b.dest_mark && rg_keymap_init(&b.nodes, 32) && rg_keymap_init(&b.edges, 32) &&
              build(&b);
    rg_keymap_free(&b.nodes);
    rg_keymap_free(&b.edges);
    free(b.addr_mark);
    free(b.dest_mark);
    free(b.edge_mark);
    free(b.path);
    if (!ok) {
        rg_asgraph_free(b.ag);
        return NULL;
    }
    return b.ag;
}

void rg_asgraph_free(rg_asgraph *ag)
{
    if (!ag)
        return;
    for (size_t i = 0; i < ag->nnodes; i++) {
        free(ag->nodes[i].org);
        free(ag->nodes[i].services);
    }
    free(ag->nodes);
    free(ag->edges);
    free(ag->credit);
    free(ag);
}

bool rg_graph_has_as(const rg_graph *g)
{
    for (size_t k = 0; k < g->nnodes; k++)
        if (g->nodes[k].kind == RG_GNODE_HOST && g->nodes[k].asn)
            return true;
    return false;
}
