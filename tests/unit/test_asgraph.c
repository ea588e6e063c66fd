/* The AS-level graph: folding a router-level graph built by hand into AS
 * nodes, unk nodes per (AS before, AS after), edge weights in traces,
 * services per destination AS; and its DOT text (output/asdot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/asgraph.h"
#include "output/asdot.h"

/* Router-level nodes of the fixture. */
enum {
    PROBER, R1,  /* AS100 */
    R2,          /* AS200 */
    R3,          /* no AS */
    D4, D5,      /* AS300, destinations */
    U6,          /* a silent hop */
    E7,          /* an end */
    D8,          /* a destination with no AS */
    R9,          /* AS100 */
    NNODES
};

typedef struct fixture {
    rg_gnode nodes[NNODES];
    rg_gedge edges[64];
    rg_gtrace traces[16];
    rg_gcluster clusters[3];
    rg_graph g;
} fixture;

static void host(fixture *f, size_t k, uint32_t asn)
{
    f->nodes[k].kind = RG_GNODE_HOST;
    f->nodes[k].asn = asn;
}

/* One trace: its router-level path (from the prober), destination and port. */
static void trace(fixture *f, const size_t *path, size_t n, size_t dest, uint16_t port,
                  enum rg_port_state state, bool reached)
{
    rg_graph *g = &f->g;
    size_t t = g->ntraces++, prev = PROBER;
    for (size_t i = 0; i < n; i++) {
        g->edges[g->nedges++] = (rg_gedge){.from = prev, .to = path[i], .trace = t,
                                           .ttl = (unsigned)i + 1};
        prev = path[i];
    }
    g->traces[t] = (rg_gtrace){.port = port, .state = state, .reached = reached, .dest = dest,
                               .end = RG_GRAPH_NONE};
}

/* Six traces: two straight AS100 > AS200 > AS300 (80 open, 443 closed);
 * one with a silent hop between AS100 and AS200 (80 open); one with an
 * unannotated hop inside AS100 that stops in AS200 (80 filtered); one to
 * an unannotated destination behind AS100 (22 open); one that nothing
 * answered (23 unknown). */
static void build(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->nodes[PROBER].kind = RG_GNODE_ROOT;
    host(f, R1, 100);
    host(f, R2, 200);
    host(f, R3, 0);
    host(f, D4, 300);
    host(f, D5, 300);
    f->nodes[U6].kind = RG_GNODE_UNK;
    f->nodes[E7].kind = RG_GNODE_END;
    host(f, D8, 0);
    host(f, R9, 100);
    f->clusters[0] = (rg_gcluster){.asn = 100, .org = "Transit <&> \"One\"", .ncountries = 1,
                                   .countries = {"DE"}};
    f->clusters[1] = (rg_gcluster){.asn = 200};
    f->clusters[2] = (rg_gcluster){.asn = 300, .org = "Hosting"};
    f->g = (rg_graph){.nodes = f->nodes, .nnodes = NNODES, .edges = f->edges,
                      .traces = f->traces, .clusters = f->clusters, .nclusters = 3};
    trace(f, (size_t[]){R1, R2, D4}, 3, D4, 80, RG_PORT_OPEN, true);
    trace(f, (size_t[]){R1, R2, D4}, 3, D4, 443, RG_PORT_CLOSED, true);
    trace(f, (size_t[]){R1, U6, R2, D5}, 4, D5, 80, RG_PORT_OPEN, true);
    trace(f, (size_t[]){R1, R3, R9, R2, E7}, 5, D5, 80, RG_PORT_FILTERED, false);
    trace(f, (size_t[]){R1, R3, D8}, 3, D8, 22, RG_PORT_OPEN, true);
    trace(f, NULL, 0, D8, 23, RG_PORT_UNKNOWN, false);
}

static void assert_node(const rg_asgraph *ag, size_t k, enum rg_asnode_kind kind,
                        uint32_t asn, size_t traces, size_t addrs, size_t dests)
{
    assert_true(k < ag->nnodes);
    const rg_asnode *n = &ag->nodes[k];
    assert_int_equal(n->kind, kind);
    assert_int_equal(n->asn, asn);
    assert_int_equal(n->traces, traces);
    assert_int_equal(n->addrs, addrs);
    assert_int_equal(n->dests, dests);
}

static void assert_edge(const rg_asgraph *ag, size_t i, size_t from, size_t to, size_t traces,
                        bool unreached)
{
    assert_true(i < ag->nedges);
    assert_int_equal(ag->edges[i].from, from);
    assert_int_equal(ag->edges[i].to, to);
    assert_int_equal(ag->edges[i].traces, traces);
    assert_int_equal(ag->edges[i].unreached, unreached);
}

static void test_nodes(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    rg_asgraph *ag = rg_asgraph_build(&f.g);
    assert_non_null(ag);
    assert_int_equal(ag->ntraces, 6);
    assert_int_equal(ag->nnodes, 7);
    assert_node(ag, 0, RG_ASNODE_PROBER, 0, 6, 0, 0);
    assert_node(ag, 1, RG_ASNODE_AS, 100, 5, 2, 0);   /* R1, R9; R3 inside it uncounted */
    assert_node(ag, 2, RG_ASNODE_AS, 200, 4, 1, 0);
    assert_node(ag, 3, RG_ASNODE_AS, 300, 3, 2, 2);   /* D5 counted though t3 missed it */
    assert_node(ag, 4, RG_ASNODE_UNK, 0, 1, 0, 0);    /* the silent hop: no address */
    assert_node(ag, 5, RG_ASNODE_UNK, 0, 1, 2, 1);    /* R3 and D8 behind AS100 */
    assert_node(ag, 6, RG_ASNODE_UNK, 0, 0, 0, 1);    /* D8 for the trace nothing answered */
    assert_int_equal(ag->nodes[4].id, 1);
    assert_int_equal(ag->nodes[4].before, 1);
    assert_int_equal(ag->nodes[4].after, 2);
    assert_int_equal(ag->nodes[5].before, 1);
    assert_int_equal(ag->nodes[5].after, RG_GRAPH_NONE);
    assert_int_equal(ag->nodes[6].before, 0);
    assert_string_equal(ag->nodes[1].org, "Transit <&> \"One\"");
    assert_string_equal(ag->nodes[1].countries[0], "DE");
    assert_null(ag->nodes[2].org);
    rg_asgraph_free(ag);
}

static void test_edges(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    rg_asgraph *ag = rg_asgraph_build(&f.g);
    assert_non_null(ag);
    assert_int_equal(ag->nedges, 8);
    assert_edge(ag, 0, 0, 1, 5, false); /* prober > AS100: all but the silent trace */
    assert_edge(ag, 1, 1, 2, 3, false); /* AS100 > AS200 directly (t3's gap was in AS100) */
    assert_edge(ag, 2, 2, 3, 3, false);
    assert_edge(ag, 3, 1, 4, 1, false); /* through the silent hop */
    assert_edge(ag, 4, 4, 2, 1, false);
    assert_edge(ag, 5, 2, 3, 1, true);  /* t3 stopped in AS200, short of AS300 */
    assert_edge(ag, 6, 1, 5, 1, false);
    assert_edge(ag, 7, 0, 6, 1, true);
    rg_asgraph_free(ag);
}

static void test_services(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    rg_asgraph *ag = rg_asgraph_build(&f.g);
    assert_non_null(ag);
    const rg_asnode *d = &ag->nodes[3];
    assert_int_equal(d->nservices, 3);
    assert_int_equal(d->services[0].port, 80);
    assert_int_equal(d->services[0].state, RG_PORT_OPEN);
    assert_int_equal(d->services[0].traces, 2);
    assert_int_equal(d->services[1].port, 80);
    assert_int_equal(d->services[1].state, RG_PORT_FILTERED);
    assert_int_equal(d->services[1].traces, 1);
    assert_int_equal(d->services[2].port, 443);
    assert_int_equal(d->services[2].state, RG_PORT_CLOSED);
    assert_int_equal(ag->nodes[5].nservices, 1);
    assert_int_equal(ag->nodes[5].services[0].port, 22);
    assert_int_equal(ag->nodes[6].services[0].state, RG_PORT_UNKNOWN);
    assert_int_equal(ag->nodes[1].nservices, 0);
    rg_asgraph_free(ag);
}

/* A trace counts once on an edge however often its path crosses it. */
static void test_weight_once_per_trace(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    f.g.ntraces = f.g.nedges = 0;
    trace(&f, (size_t[]){R1, R2, R9, R2, D4}, 5, D4, 80, RG_PORT_OPEN, true);
    rg_asgraph *ag = rg_asgraph_build(&f.g);
    assert_non_null(ag);
    assert_int_equal(ag->nedges, 4);
    assert_edge(ag, 1, 1, 2, 1, false);
    assert_edge(ag, 2, 2, 1, 1, false);
    assert_edge(ag, 3, 2, 3, 1, false);
    assert_int_equal(ag->nodes[1].traces, 1);
    rg_asgraph_free(ag);
}

static void test_has_as(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    assert_true(rg_graph_has_as(&f.g));
    for (size_t k = 0; k < NNODES; k++)
        f.nodes[k].asn = 0;
    assert_false(rg_graph_has_as(&f.g));
    rg_asgraph *ag = rg_asgraph_build(&f.g); /* all one unk node behind the prober */
    assert_non_null(ag);
    assert_int_equal(ag->nnodes, 2);
    assert_int_equal(ag->nodes[1].kind, RG_ASNODE_UNK);
    assert_int_equal(ag->nodes[1].traces, 5);
    rg_asgraph_free(ag);
}

static char *dot_of(const rg_asgraph *ag)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    assert_true(rg_asdot_write(m, ag));
    assert_int_equal(fclose(m), 0);
    return text;
}

static void test_dot_text(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    rg_asgraph *ag = rg_asgraph_build(&f.g);
    assert_non_null(ag);
    char *text = dot_of(ag);
    static const char *const want[] = {
        "  \"prober\" [label=<<b>prober</b><br/>6 traces>",
        "<b>AS100</b> Transit &lt;&amp;&gt; &quot;One&quot; (DE)</td></tr>",
        "2 addresses, 5 traces</td></tr>",
        "2 addresses, 3 traces, 2 destinations</td></tr>"
        "<tr><td align=\"right\">80</td><td bgcolor=\"#b6e3a8\">open &#215;2</td>"
        "<td bgcolor=\"#ffd98a\">filtered &#215;1</td></tr>"
        "<tr><td align=\"right\">443</td><td bgcolor=\"#f4a6a6\">closed &#215;1</td></tr>",
        "  \"asunk1\" [label=<",
        "  \"prober\" -> \"AS100\" [penwidth=3, label=\"5\"];\n",
        "  \"AS100\" -> \"AS200\" [penwidth=2, label=\"3\"];\n",
        "  \"AS200\" -> \"AS300\" [style=dotted, color=\"#888888\", label=\"1 not reached\"];\n",
        "  \"prober\" -> \"asunk3\" [style=dotted, color=\"#888888\", label=\"1 not reached\"];\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(text, want[i]))
            fail_msg("missing: %s\nin:\n%s", want[i], text);
    }
    assert_null(strstr(text, "Transit <"));
    free(text);
    rg_asgraph_free(ag);
}

/* Past RG_ASDOT_PORTS ports a destination says how many more. */
static void test_dot_many_ports(void **state)
{
    (void)state;
    fixture f;
    build(&f);
    f.g.ntraces = f.g.nedges = 0;
    for (uint16_t p = 1; p <= RG_ASDOT_PORTS + 3; p++)
        trace(&f, (size_t[]){R1, D4}, 2, D4, p, RG_PORT_OPEN, true);
    rg_asgraph *ag = rg_asgraph_build(&f.g);
    assert_non_null(ag);
    char *text = dot_of(ag);
    assert_non_null(strstr(text, ">8</td>"));
    assert_null(strstr(text, ">9</td>"));
    assert_non_null(strstr(text, "&#8230; 3 more ports</td>"));
    free(text);
    rg_asgraph_free(ag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_weight_once_per_trace),
        cmocka_unit_test(test_has_as),
        cmocka_unit_test(test_dot_text),
        cmocka_unit_test(test_dot_many_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
