/* The graph model: node sharing, unk merging, ends, clusters, medians and
 * where two ports' paths split, on runs built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "model/result.h"

#define T0 1795618200

static rg_trace *add_trace(rg_run *run, const char *target, const char *dst, uint16_t port)
{
    rg_addr a;
    assert_true(rg_addr_parse(dst, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces++];
    assert_true(rg_trace_init(t, target, &a, port, 1, 30, 2));
    assert_true(rg_addr_parse("198.18.0.2", &t->src));
    return t;
}

static rg_probe *sent(rg_trace *t, unsigned ttl)
{
    rg_probe *p = rg_trace_probe(t, ttl, rg_trace_sent(t, ttl));
    assert_non_null(p);
    p->sent.tv_sec = T0 + ttl;
    rg_trace_set_sent(t, ttl, rg_trace_sent(t, ttl) + 1);
    return p;
}

static void reply(rg_trace *t, unsigned ttl, const char *from, enum rg_reply_kind kind,
                  uint32_t rtt)
{
    rg_probe *p = sent(t, ttl);
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->rtt_us = rtt;
    p->icmp_type = kind == RG_REPLY_UNREACHABLE ? 3 : 11;
    p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : 0x14;
}

static void te(rg_trace *t, unsigned ttl, const char *from)
{
    reply(t, ttl, from, RG_REPLY_TIME_EXCEEDED, 100 * ttl);
}

static void silent(rg_trace *t, unsigned ttl)
{
    sent(t, ttl);
    sent(t, ttl);
}

/* Hops given as a list; NULL is a silent TTL. Ends with a SYN-ACK from the
 * destination when `reach`, else with nothing. */
static rg_trace *path(rg_run *run, const char *dst, uint16_t port, const char *const *hops,
                      size_t n, bool reach)
{
    rg_trace *t = add_trace(run, dst, dst, port);
    for (size_t i = 0; i < n; i++) {
        if (hops[i])
            te(t, (unsigned)i + 1, hops[i]);
        else
            silent(t, (unsigned)i + 1);
    }
    if (reach)
        reply(t, (unsigned)n + 1, dst, RG_REPLY_SYNACK, 1000);
    return t;
}

static void conclude(rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_conclude(&run->traces[i]);
    assert_true(rg_run_collect_hosts(run));
}

static size_t host(const rg_graph *g, const char *text)
{
    rg_addr a;
    assert_true(rg_addr_parse(text, &a));
    size_t k = rg_graph_host(g, &a);
    assert_int_not_equal(k, RG_GRAPH_NONE);
    return k;
}

static size_t count_kind(const rg_graph *g, enum rg_gnode_kind kind)
{
    size_t n = 0;
    for (size_t k = 0; k < g->nnodes; k++)
        n += g->nodes[k].kind == kind;
    return n;
}

static size_t count_edges(const rg_graph *g, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = 0; i < g->nedges; i++)
        n += g->edges[i].from == from && g->edges[i].to == to;
    return n;
}

/* The node trace i sits on at its k-th edge's head. */
static size_t head(const rg_graph *g, size_t trace, size_t k)
{
    for (size_t i = 0; i < g->nedges; i++)
        if (g->edges[i].trace == trace && k-- == 0)
            return g->edges[i].to;
    fail_msg("trace %zu has fewer edges", trace);
    return RG_GRAPH_NONE;
}

static void test_nodes_shared(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *a[] = {"198.18.0.1", "198.18.1.2"};
    const char *b[] = {"198.18.0.1", "198.18.1.2", "198.18.16.2"};
    path(&run, "198.19.0.5", 80, a, 2, true);
    path(&run, "198.19.0.5", 443, a, 2, true);
    path(&run, "198.19.0.7", 80, b, 3, true);
    conclude(&run);
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);

    /* prober + 3 routers + 2 destinations, nothing else */
    assert_int_equal(g->nnodes, 6);
    assert_int_equal(g->nhosts, 5);
    assert_int_equal(g->nodes[0].kind, RG_GNODE_ROOT);
    for (size_t k = 2; k <= g->nhosts; k++) /* address order */
        assert_true(rg_addr_compare(&g->nodes[k - 1].addr, &g->nodes[k].addr) < 0);
    size_t r1 = host(g, "198.18.0.1"), r2 = host(g, "198.18.1.2");
    assert_int_equal(count_edges(g, 0, r1), 3); /* one per trace */
    assert_int_equal(count_edges(g, r1, r2), 3);
    assert_int_equal(g->nedges, 3 + 3 + 3 + 1);
    assert_int_equal(head(g, 2, 3), host(g, "198.19.0.7"));
    for (size_t i = 0; i < g->nedges; i++) /* edges in trace, then TTL order */
        if (i > 0 && g->edges[i].trace == g->edges[i - 1].trace)
            assert_int_equal(g->edges[i].ttl, g->edges[i - 1].ttl + 1);

    /* one destination record, both ports, sorted, with their codes */
    const rg_gnode *d = &g->nodes[host(g, "198.19.0.5")];
    assert_int_equal(d->nports, 2);
    assert_int_equal(d->ports[0].port, 80);
    assert_int_equal(d->ports[1].port, 443);
    assert_string_equal(d->ports[0].code, "SA");
    assert_int_equal(d->ports[0].state, RG_PORT_OPEN);
    assert_true(d->reached);
    assert_int_equal(g->nodes[r1].nports, 0);
    assert_int_equal(g->nsources, 1);
    assert_int_equal(count_kind(g, RG_GNODE_END), 0);
    assert_int_equal(g->nsplits, 0);
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_unk_merged(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *gap1[] = {"198.18.0.1", NULL, "198.18.16.2"};
    const char *gap1_other_b[] = {"198.18.0.1", NULL, "198.18.17.2"};
    const char *gap2[] = {"198.18.0.1", NULL, NULL, "198.18.16.2"};
    const char *first_silent[] = {NULL, "198.18.1.2"};
    path(&run, "198.19.0.5", 80, gap1, 3, true);         /* 0 */
    path(&run, "198.19.0.6", 80, gap1, 3, true);         /* 1: same A and B: shares */
    path(&run, "198.19.0.7", 80, gap1_other_b, 3, true); /* 2: other B: own unk */
    path(&run, "198.19.0.8", 80, gap2, 4, true);         /* 3: two silent TTLs: own pair */
    path(&run, "198.19.0.9", 80, first_silent, 2, true); /* 4: A is the prober */
    path(&run, "198.19.0.10", 80, first_silent, 2, true); /* 5 */
    conclude(&run);
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);

    assert_int_equal(count_kind(g, RG_GNODE_UNK), 1 + 1 + 2 + 1);
    size_t u0 = head(g, 0, 1);
    assert_int_equal(g->nodes[u0].kind, RG_GNODE_UNK);
    assert_int_equal(g->nodes[u0].id, 0);
    assert_int_equal(head(g, 1, 1), u0);
    assert_int_not_equal(head(g, 2, 1), u0);
    assert_int_equal(g->nodes[head(g, 2, 1)].kind, RG_GNODE_UNK);
    size_t p1 = head(g, 3, 1), p2 = head(g, 3, 2);
    assert_true(p1 != u0 && p2 != u0 && p1 != p2);
    assert_int_equal(g->nodes[p2].kind, RG_GNODE_UNK);
    assert_int_equal(head(g, 3, 3), host(g, "198.18.16.2"));
    assert_int_equal(head(g, 4, 0), head(g, 5, 0));
    assert_int_equal(g->nodes[head(g, 4, 0)].kind, RG_GNODE_UNK);
    assert_int_equal(count_edges(g, u0, host(g, "198.18.16.2")), 2);
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_ends(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *a[] = {"198.18.0.1", "198.18.1.2", NULL, NULL};
    path(&run, "198.19.0.5", 443, a, 4, false); /* 0: silent after r2 */
    path(&run, "198.19.0.5", 22, a, 4, false);  /* 1: same place: same end */
    rg_trace *t = add_trace(&run, "198.19.0.9", "198.19.0.9", 22); /* 2: refused by r2 */
    te(t, 1, "198.18.0.1");
    reply(t, 2, "198.18.1.2", RG_REPLY_UNREACHABLE, 300);
    t = add_trace(&run, "198.19.0.11", "198.19.0.11", 80); /* 3: nothing at all */
    silent(t, 1);
    silent(t, 2);
    add_trace(&run, "198.19.0.12", "198.19.0.12", 80); /* 4: never sent */
    t = add_trace(&run, "198.19.0.13", "198.19.0.13", 80); /* 5: repeats a router */
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.0.1");
    reply(t, 3, "198.19.0.13", RG_REPLY_RST, 500);
    conclude(&run);
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);

    size_t r2 = host(g, "198.18.1.2");
    assert_int_equal(count_kind(g, RG_GNODE_UNK), 0); /* trailing silence is no unk */
    assert_int_equal(count_kind(g, RG_GNODE_END), 3);
    const rg_gtrace *t0 = &g->traces[0], *t1 = &g->traces[1];
    assert_false(t0->reached);
    assert_int_equal(t0->last, r2);
    assert_int_equal(t0->end, t1->end);
    assert_int_equal(g->nodes[t0->end].reason, RG_GEND_SILENCE);
    assert_int_equal(g->nodes[t0->end].dest, host(g, "198.19.0.5"));
    assert_int_equal(count_edges(g, r2, t0->end), 2);
    assert_false(g->nodes[host(g, "198.19.0.5")].reached);

    const rg_gtrace *t2 = &g->traces[2];
    assert_int_not_equal(t2->end, t0->end); /* other destination, other reason */
    assert_int_equal(g->nodes[t2->end].reason, RG_GEND_UNREACHABLE);
    assert_int_equal(t2->last, r2);

    const rg_gtrace *t3 = &g->traces[3];
    assert_int_equal(t3->last, 0);
    assert_int_equal(count_edges(g, 0, t3->end), 1);

    const rg_gtrace *t4 = &g->traces[4];
    assert_int_equal(t4->end, RG_GRAPH_NONE);
    assert_int_equal(t4->state, RG_PORT_UNKNOWN);
    const rg_gnode *d4 = &g->nodes[t4->dest];
    assert_int_equal(d4->nports, 1);
    assert_int_equal(d4->ports[0].state, RG_PORT_UNKNOWN);
    assert_string_equal(d4->ports[0].code, "-");

    size_t r1 = host(g, "198.18.0.1");
    assert_int_equal(count_edges(g, r1, r1), 0);
    assert_int_equal(head(g, 5, 1), host(g, "198.19.0.13"));
    assert_string_equal(g->nodes[host(g, "198.19.0.13")].ports[0].code, "RA");
    rg_graph_free(g);
    rg_run_free(&run);
}

static void annotate(rg_run *run, const char *addr, uint32_t asn, const char *org,
                     const char *cc, const char *ptr)
{
    rg_addr a;
    assert_true(rg_addr_parse(addr, &a));
    rg_host *h = rg_run_host(run, &a);
    assert_non_null(h);
    h->asn = asn;
    assert_true(rg_host_set(&h->as_org, org));
    assert_true(rg_host_set(&h->ptr, ptr));
    snprintf(h->country, sizeof h->country, "%s", cc);
}

static void test_clusters(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *a[] = {"198.18.0.1", "198.18.16.2", NULL, "198.18.17.2", "198.18.32.2"};
    path(&run, "198.19.0.5", 80, a, 5, true);
    conclude(&run);
    annotate(&run, "198.18.0.1", 64500, "Access", "DE", "r1.example");
    annotate(&run, "198.18.16.2", 64501, NULL, "NL", NULL);
    annotate(&run, "198.18.17.2", 64501, "Transit", "BE", NULL);
    annotate(&run, "198.18.32.2", 4134, "Chinanet", "", NULL);
    annotate(&run, "198.19.0.5", 4134, "Chinanet", "CN", "web.example");
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);

    assert_int_equal(g->nclusters, 3);
    assert_int_equal(g->clusters[0].asn, 4134); /* by AS number */
    assert_int_equal(g->clusters[1].asn, 64500);
    assert_int_equal(g->clusters[2].asn, 64501);
    assert_string_equal(g->clusters[0].org, "Chinanet");
    assert_int_equal(g->clusters[0].ncountries, 1); /* "" is not a country */
    assert_string_equal(g->clusters[0].countries[0], "CN");
    /* the org of the first member that has one; countries sorted */
    assert_string_equal(g->clusters[2].org, "Transit");
    assert_int_equal(g->clusters[2].ncountries, 2);
    assert_string_equal(g->clusters[2].countries[0], "BE");
    assert_string_equal(g->clusters[2].countries[1], "NL");

    assert_int_equal(g->nodes[host(g, "198.18.0.1")].cluster, 1);
    assert_int_equal(g->nodes[host(g, "198.19.0.5")].cluster, 0);
    assert_string_equal(g->nodes[host(g, "198.19.0.5")].ptr, "web.example");
    assert_null(g->nodes[host(g, "198.18.16.2")].as_org);
    size_t unk = head(g, 0, 2);
    assert_int_equal(g->nodes[unk].kind, RG_GNODE_UNK);
    assert_int_equal(g->nodes[unk].cluster, 2); /* both neighbours in AS64501 */
    assert_int_equal(g->nodes[0].cluster, RG_GRAPH_NONE);
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_median_rtt(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 80);
    reply(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED, 400);
    reply(t, 2, "198.19.0.5", RG_REPLY_SYNACK, 900);
    t = add_trace(&run, "198.19.0.5", "198.19.0.5", 443);
    reply(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED, 100);
    reply(t, 2, "198.19.0.5", RG_REPLY_RST, 1000);
    t = add_trace(&run, "198.19.0.6", "198.19.0.6", 80);
    reply(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED, 300);
    reply(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED, 200); /* a retry's answer counts too */
    reply(t, 2, "198.19.0.6", RG_REPLY_SYNACK, 800);
    conclude(&run);
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);
    const rg_gnode *r1 = &g->nodes[host(g, "198.18.0.1")];
    assert_int_equal(r1->nrtt, 4);
    assert_int_equal(r1->median_rtt_us, 250); /* (200 + 300) / 2 */
    const rg_gnode *d = &g->nodes[host(g, "198.19.0.5")];
    assert_int_equal(d->nrtt, 2);
    assert_int_equal(d->median_rtt_us, 950);
    assert_int_equal(g->nodes[host(g, "198.19.0.6")].median_rtt_us, 800);
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_split(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *via_a[] = {"198.18.0.1", "198.18.1.2", "198.18.16.2", "198.18.32.2"};
    const char *via_b[] = {"198.18.0.1", "198.18.1.2", "198.18.17.2", "198.18.32.2"};
    const char *via_a_unk[] = {"198.18.0.1", NULL, "198.18.16.2", "198.18.32.2"};
    path(&run, "198.19.0.5", 80, via_a, 4, true);       /* 0 */
    path(&run, "198.19.0.5", 443, via_b, 4, true);      /* 1: policy routed */
    path(&run, "198.19.0.5", 8080, via_a_unk, 4, true); /* 2: silent hop is no split */
    path(&run, "198.19.0.5", 8443, via_b, 4, true);     /* 3: like 443 */
    rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 22); /* 4: filtered by r2 */
    te(t, 1, "198.18.0.1");
    reply(t, 2, "198.18.1.2", RG_REPLY_UNREACHABLE, 300);
    path(&run, "198.19.0.7", 80, via_b, 4, true); /* 5: other target: never compared */
    conclude(&run);
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);

    assert_int_equal(g->nsplits, 1);
    const rg_gsplit *s = &g->splits[0];
    size_t r2 = host(g, "198.18.1.2");
    assert_int_equal(s->dest, host(g, "198.19.0.5"));
    assert_int_equal(s->at, r2);
    assert_int_equal(s->ttl, 3);
    assert_int_equal(s->first, 0);
    assert_int_equal(s->other, 1);
    assert_int_equal(s->nfirst, 3); /* 80, 8080, 22 */
    assert_int_equal(s->first_traces[1], 2);
    assert_int_equal(s->first_traces[2], 4);
    assert_int_equal(s->nother, 2); /* 443, 8443 */
    assert_int_equal(s->other_traces[1], 3);
    assert_int_equal(g->nodes[r2].nsplits, 1);

    size_t marked = 0;
    for (size_t i = 0; i < g->nedges; i++) {
        const rg_gedge *e = &g->edges[i];
        if (!e->split)
            continue;
        marked++;
        assert_int_equal(e->from, r2);
        assert_true(e->trace == 0 || e->trace == 1);
    }
    assert_int_equal(marked, 2);
    assert_int_equal(head(g, 0, 2), host(g, "198.18.16.2"));
    assert_int_equal(head(g, 1, 2), host(g, "198.18.17.2"));
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_split_at_prober(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *a[] = {"198.18.0.1"};
    const char *b[] = {"198.18.0.9"};
    path(&run, "198.19.0.5", 80, a, 1, true);
    path(&run, "198.19.0.5", 443, b, 1, true);
    conclude(&run);
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);
    assert_int_equal(g->nsplits, 1);
    assert_int_equal(g->splits[0].at, 0);
    assert_int_equal(g->splits[0].ttl, 1);
    assert_int_equal(g->nodes[0].nsplits, 1);
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_names_and_sources(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_trace *t = add_trace(&run, "web1.lab", "198.19.0.5", 80);
    reply(t, 1, "198.19.0.5", RG_REPLY_SYNACK, 100);
    t = add_trace(&run, "198.19.0.5", "198.19.0.5", 443);
    reply(t, 1, "198.19.0.5", RG_REPLY_RST, 100);
    t = add_trace(&run, "www.lab", "198.19.0.5", 22);
    reply(t, 1, "198.19.0.5", RG_REPLY_RST, 100);
    t = add_trace(&run, "web1.lab", "198.19.0.5", 25);
    reply(t, 1, "198.19.0.5", RG_REPLY_RST, 100);
    t = add_trace(&run, "v6.lab", "2001:db8::5", 80);
    assert_true(rg_addr_parse("2001:db8:100::2", &t->src));
    reply(t, 1, "2001:db8::5", RG_REPLY_SYNACK, 100);
    conclude(&run);
    run.as_credit = "AS data: somebody, CC BY 4.0";
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);
    assert_string_equal(g->credit, "AS data: somebody, CC BY 4.0");
    const rg_gnode *d = &g->nodes[host(g, "198.19.0.5")];
    assert_int_equal(d->nnames, 2); /* distinct, not the address itself */
    assert_string_equal(d->names[0], "web1.lab");
    assert_string_equal(d->names[1], "www.lab");
    assert_int_equal(d->nports, 4);
    assert_int_equal(d->ports[0].port, 22);
    assert_int_equal(g->nsources, 2);
    assert_int_equal(g->sources[0].family, 4);
    assert_int_equal(g->sources[1].family, 6);
    assert_string_equal(g->traces[4].target, "v6.lab");
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_empty_run(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);
    assert_int_equal(g->nnodes, 1);
    assert_int_equal(g->nedges, 0);
    assert_int_equal(g->ntraces, 0);
    assert_null(g->credit);
    rg_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_shared),
        cmocka_unit_test(test_unk_merged),
        cmocka_unit_test(test_ends),
        cmocka_unit_test(test_clusters),
        cmocka_unit_test(test_median_rtt),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_at_prober),
        cmocka_unit_test(test_names_and_sources),
        cmocka_unit_test(test_empty_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
