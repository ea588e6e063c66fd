/* The DOT writer and the in-process renderer: golden DOT text for fixed
 * JSON inputs (read through json_read), hostile names that must neither
 * break the DOT nor the SVG, SVG and PNG checked as documents, and a saved
 * JSON rendering exactly like the run it came from.
 *
 * RG_UPDATE_GOLDEN=1 rewrites tests/golden/graph-*.dot instead of comparing
 * (review the diff and the rendered PNG before committing it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cgraph.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef RG_HAVE_LIBXML2
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif

#include "annotate/annotate.h"
#include "graph/graph.h"
#include "input/json_read.h"
#include "output/dot.h"
#include "output/json.h"
#include "output/render.h"

#define DATA RG_SOURCE_ROOT "/tests/data/"
#define GOLDEN RG_SOURCE_ROOT "/tests/golden/"
#define MAX_TITLES 512

/* Fontconfig, pango and libgvc's plugin loader keep caches for the life of
 * the process, and graphviz 2.42's dot layout leaks some of its own
 * allocations (HTML label parse trees, auxiliary rank edges) every time;
 * LeakSanitizer (the ASan unit run) would report them as ours. Nothing of
 * ours is allocated inside these calls. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libpango\nleak:libglib\nleak:libcairo\n"
           "leak:libgvplugin_pango\nleak:gvconfig\nleak:libharfbuzz\nleak:libexpat\n"
           "leak:gvLayoutJobs\nleak:gvRenderJobs\n";
}

/* libgvc has no frame pointers: only full unwinding sees the gvLayoutJobs
 * frame those suppressions name. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

/* ---- helpers ---- */

static rg_graph *graph_of(const char *json_path)
{
    rg_run run;
    char err[512];
    if (!rg_json_read_file(json_path, &run, err, sizeof err))
        fail_msg("%s", err);
    rg_graph *g = rg_graph_build(&run);
    rg_run_free(&run);
    assert_non_null(g);
    return g;
}

static char *dot_of(const rg_graph *g)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_true(rg_dot_write(f, g));
    assert_int_equal(fclose(f), 0);
    return text;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return buf;
}

/* The naming contract written out again on purpose, as the test's own
 * statement of what rg_dot_node_name must return. */
static const char *node_name(const rg_graph *g, size_t k, char *buf, size_t len)
{
    const rg_gnode *n = &g->nodes[k];
    switch (n->kind) {
    case RG_GNODE_ROOT: snprintf(buf, len, "prober"); break;
    case RG_GNODE_HOST: rg_addr_format(&n->addr, buf, len); break;
    case RG_GNODE_UNK: snprintf(buf, len, "unk%u", n->id); break;
    case RG_GNODE_END: snprintf(buf, len, "end%u", n->id); break;
    }
    return buf;
}

/* Edges the DOT must hold: one per trace and hop, or one per bundle, plus
 * one from each end node to its destination. */
static size_t expected_edges(const rg_graph *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->nedges; i++) {
        size_t same = 0, first = i;
        for (size_t j = 0; j < g->nedges; j++) {
            if (g->edges[j].from != g->edges[i].from || g->edges[j].to != g->edges[i].to)
                continue;
            if (same++ == 0)
                first = j;
        }
        n += same < RG_DOT_BUNDLE || first == i;
    }
    for (size_t k = 0; k < g->nnodes; k++)
        n += g->nodes[k].kind == RG_GNODE_END;
    return n;
}

/* The DOT parses with cgraph into exactly the graph's nodes (and the legend)
 * and edges: nothing a name said was taken as DOT. */
static Agraph_t *parse_back(const rg_graph *g, const char *dot)
{
    Agraph_t *ag = agmemread(dot);
    assert_non_null(ag);
    assert_int_equal(agnnodes(ag), g->nnodes + (g->ntraces ? 1 : 0));
    assert_int_equal(agnedges(ag), expected_edges(g));
    char name[64];
    for (size_t k = 0; k < g->nnodes; k++)
        if (!agnode(ag, (char *)node_name(g, k, name, sizeof name), 0))
            fail_msg("node %s missing after parsing", name);
    return ag;
}

static void golden(const char *name)
{
    char in[512], out[512];
    snprintf(in, sizeof in, DATA "graph-%s.json", name);
    snprintf(out, sizeof out, GOLDEN "graph-%s.dot", name);
    rg_graph *g = graph_of(in);
    char *dot = dot_of(g);
    if (getenv("RG_UPDATE_GOLDEN")) {
        FILE *f = fopen(out, "w");
        assert_non_null(f);
        fputs(dot, f);
        fclose(f);
    }
    char *want = slurp(out);
    if (!want)
        fail_msg("%s missing (RG_UPDATE_GOLDEN=1 writes it)", out);
    assert_string_equal(dot, want);
    agclose(parse_back(g, dot));
    free(want);
    free(dot);
    rg_graph_free(g);
}

/* ---- XML: libxml2 where installed, and always a small honest check ---- */

static bool entity_ok(const char *s, size_t *len)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(s, named[i], strlen(named[i])) == 0) {
            *len = strlen(named[i]);
            return true;
        }
    size_t i = 2;
    bool hex = s[1] == '#' && s[2] == 'x';
    if (s[1] != '#')
        return false;
    i += hex;
    size_t start = i;
    while (hex ? strchr("0123456789abcdefABCDEF", s[i]) && s[i] : s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == start || s[i] != ';')
        return false;
    *len = i + 1;
    return true;
}

/* Text or an attribute value up to `stop`: no '<', every '&' a reference. */
static const char *xml_chars(const char *p, char stop)
{
    while (*p && *p != stop) {
        size_t n;
        if (*p == '<' && stop != '<')
            return NULL;
        if (*p == '&') {
            if (!entity_ok(p, &n))
                return NULL;
            p += n;
            continue;
        }
        p++;
    }
    return p;
}

static const char *xml_name(const char *p, char *out, size_t len)
{
    size_t n = 0;
    while (*p && (strchr(":_-.", *p) || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9'))) {
        if (n + 1 >= len)
            return NULL;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return n ? p : NULL;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Start tag after '<': attributes quoted and well-formed. */
static const char *xml_start_tag(const char *p, char *name, size_t len, bool *empty)
{
    char attr[64];
    if (!(p = xml_name(p, name, len)))
        return NULL;
    for (;;) {
        p = skip_ws(p);
        if (*p == '>' || (p[0] == '/' && p[1] == '>')) {
            *empty = *p == '/';
            return p + (*empty ? 2 : 1);
        }
        if (!(p = xml_name(p, attr, sizeof attr)) || *p++ != '=' || (*p != '"' && *p != '\''))
            return NULL;
        char q = *p++;
        if (!(p = xml_chars(p, q)) || *p++ != q)
            return NULL;
    }
}

/* Prolog (declaration, doctype, comments), one root element whose tags
 * nest, then only comments and white space. */
static bool xml_well_formed(const char *p)
{
    char stack[64][64], name[64];
    size_t depth = 0;
    bool root_done = false;
    while (*p) {
        if (*p != '<') {
            if (depth == 0 && *skip_ws(p) && *skip_ws(p) != '<')
                return false;
            if (!(p = xml_chars(p, '<')))
                return false;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *end = strstr(p + 4, "--");
            if (!end || end[2] != '>')
                return false;
            p = end + 3;
        } else if (strncmp(p, "<?", 2) == 0 || (strncmp(p, "<!DOCTYPE", 9) == 0 && depth == 0)) {
            const char *end = strchr(p, '>');
            if (!end || root_done)
                return false;
            p = end + 1;
        } else if (p[1] == '/') {
            if (!depth || !(p = xml_name(p + 2, name, sizeof name)) ||
                strcmp(name, stack[depth - 1]) != 0 || *(p = skip_ws(p)) != '>')
                return false;
            p++;
            root_done = --depth == 0;
        } else {
            bool empty;
            if (root_done || depth == 64 || !(p = xml_start_tag(p + 1, name, sizeof name, &empty)))
                return false;
            if (empty)
                root_done = depth == 0;
            else
                memcpy(stack[depth++], name, sizeof name);
        }
    }
    return depth == 0 && root_done;
}

/* &#45; &lt; ... back to characters (ASCII only, as node names are). */
static void xml_unescape(char *s)
{
    char *w = s;
    for (char *p = s; *p;) {
        if (*p != '&') {
            *w++ = *p++;
            continue;
        }
        char *semi = strchr(p, ';');
        assert_non_null(semi);
        if (p[1] == '#')
            *w++ = (char)strtol(p + 2, NULL, 10);
        else
            *w++ = !strncmp(p, "&lt;", 4) ? '<' : !strncmp(p, "&gt;", 4) ? '>'
                 : !strncmp(p, "&amp;", 5) ? '&' : '"';
        p = semi + 1;
    }
    *w = '\0';
}

/* The <title> of every node group, in document order. */
static size_t svg_titles(const char *svg, char titles[][64], size_t max)
{
    size_t n = 0;
    for (const char *p = svg; (p = strstr(p, "class=\"node\"")) != NULL && n < max;) {
        const char *t = strstr(p, "<title>"), *end = t ? strstr(t, "</title>") : NULL;
        assert_non_null(end);
        size_t len = (size_t)(end - t - 7);
        assert_true(len < 64);
        memcpy(titles[n], t + 7, len);
        titles[n][len] = '\0';
        xml_unescape(titles[n++]);
        p = end;
    }
    return n;
}

#ifdef RG_HAVE_LIBXML2
static void libxml2_titles(const char *svg, size_t len, char titles[][64], size_t *n)
{
    xmlDocPtr doc = xmlReadMemory(svg, (int)len, "graph.svg", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    assert_non_null(doc);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "svg");
    *n = 0;
    for (xmlNodePtr top = root->children; top; top = top->next)
        for (xmlNodePtr e = top->children; e; e = e->next) {
            xmlChar *cls = e->type == XML_ELEMENT_NODE ? xmlGetProp(e, BAD_CAST "class") : NULL;
            if (cls && strcmp((const char *)cls, "node") == 0)
                for (xmlNodePtr c = e->children; c; c = c->next)
                    if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "title")) {
                        xmlChar *text = xmlNodeGetContent(c);
                        snprintf(titles[(*n)++], 64, "%s", (const char *)text);
                        xmlFree(text);
                    }
            xmlFree(cls);
        }
    xmlFreeDoc(doc);
}
#endif

static void check_svg(const rg_graph *g, const char *svg, size_t len)
{
    static char titles[MAX_TITLES][64];
    assert_int_equal(strlen(svg), len); /* no NUL inside */
    assert_true(xml_well_formed(svg));
    size_t n = svg_titles(svg, titles, MAX_TITLES);
    assert_int_equal(n, g->nnodes + 1);
    assert_string_equal(titles[n - 1], "legend");
    char name[64];
    for (size_t k = 0; k < g->nnodes; k++) { /* graphviz keeps the declaration order */
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(titles[i], node_name(g, k, name, sizeof name)) == 0;
        if (!found)
            fail_msg("no SVG node titled %s", name);
    }
#ifdef RG_HAVE_LIBXML2
    static char xml_titles[MAX_TITLES][64];
    size_t nx = 0;
    libxml2_titles(svg, len, xml_titles, &nx);
    assert_int_equal(nx, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(xml_titles[i], titles[i]);
#endif
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_png(const char *data, size_t len, uint32_t min_width)
{
    const unsigned char *p = (const unsigned char *)data;
    assert_true(len > 33);
    assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
    assert_int_equal(be32(p + 8), 13); /* IHDR comes first, 13 bytes */
    assert_memory_equal(p + 12, "IHDR", 4);
    uint32_t w = be32(p + 16), h = be32(p + 20);
    assert_true(w >= min_width && w < 32768);
    assert_true(h >= 50 && h < 32768);
    assert_memory_equal(p + len - 8, "IEND", 4);
}

static void render_both(const rg_graph *g, rg_render_out outs[2])
{
    char err[256] = "";
    outs[0] = (rg_render_out){.format = "svg"};
    outs[1] = (rg_render_out){.format = "png"};
    if (!rg_render(g, outs, 2, err, sizeof err))
        fail_msg("%s", err);
    assert_string_equal(err, "");
}

/* ---- tests ---- */

static void test_golden_lab(void **state)
{
    (void)state;
    golden("lab");
}

static void test_golden_64(void **state)
{
    (void)state;
    golden("64");
}

static void test_golden_hostile(void **state)
{
    (void)state;
    golden("hostile");
}

/* What graphviz reads back is exactly the hostile text, shown literally. */
static void test_hostile_parses_back(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "graph-hostile.json");
    char *dot = dot_of(g);
    Agraph_t *ag = parse_back(g, dot);
    static const char *const injected[] = {"x", "y", "pwn", "script", "b"};
    for (size_t i = 0; i < sizeof injected / sizeof injected[0]; i++)
        assert_null(agnode(ag, (char *)injected[i], 0));
    Agnode_t *r1 = agnode(ag, "198.18.0.1", 0);
    /* escString after lexing: the name's quote and trailing backslash
     * survive as text, the backslash doubled for the label's own escapes;
     * then our "\n" line breaks. (No name holds a control character: the
     * reader refuses one.) */
    assert_string_equal(agget(r1, "label"), "198.18.0.1\\nr1\"]; <script>x</script>"
                                            "\\\\\\n0.10 ms");
    Agnode_t *dst = agnode(ag, "198.19.0.66", 0);
    const char *html = agget(dst, "label");
    assert_non_null(strstr(html, "evil&quot;]; &quot;x&quot; -&gt; &quot;y&quot;; "
                                 "&lt;script&gt;alert(1)&lt;/script&gt; \\\\N"));
    assert_non_null(strstr(html, "<i>&lt;svg onload=alert(1)&gt;.example</i>"));
    assert_null(strstr(html, "<script"));
    Agraph_t *cl = agsubg(ag, "cluster_as64666", 0);
    assert_non_null(cl);
    assert_memory_equal(agget(cl, "label"), "AS64666 </font></td></tr></table>>]; \"pwn\"", 42);
    Agraph_t *cl2 = agsubg(ag, "cluster_as64667", 0);
    assert_string_equal(agget(cl2, "label"),
                        "AS64667 {a|b} <port> \\\\\\\\ \\\\l \\\\N \"q\" (DE)");
    agclose(ag);
    free(dot);
    rg_graph_free(g);
}

/* A hop's label stack and interface names on its node, read back by
 * graphviz as text: the name's quote, '<' and '&' literal, the control
 * character's name never kept; the SVG checked as the others. */
static void test_extensions_on_nodes(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "icmpext-lab.json");
    char *dot = dot_of(g);
    assert_non_null(strstr(dot, "  \"198.18.100.2\" [label=\"198.18.100.2\\nMPLS 24005, 16\\n"
                                "0.07 ms\"];\n"));
    Agraph_t *ag = parse_back(g, dot);
    assert_string_equal(agget(agnode(ag, "198.18.100.4", 0), "label"),
                        "198.18.100.4\\nin ge-0/0/1.0\\nout ifIndex 12\\n0.09 ms");
    assert_string_equal(agget(agnode(ag, "2001:db8:fa0::5", 0), "label"),
                        "2001:db8:fa0::5\\nMPLS 17\\nin ae1.0 \"core\" <&amp;>\\n0.10 ms");
    assert_string_equal(agget(agnode(ag, "198.18.100.1", 0), "label"),
                        "198.18.100.1\\n0.06 ms");
    agclose(ag);
    rg_render_out outs[2];
    render_both(g, outs);
    check_svg(g, outs[0].data, outs[0].len);
    assert_non_null(strstr(outs[0].data, "in ae1.0 &quot;core&quot; &lt;&amp;&gt;"));
    for (int i = 0; i < 2; i++)
        free(outs[i].data);
    free(dot);
    rg_graph_free(g);
}

static void test_hostile_svg_png(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "graph-hostile.json");
    rg_render_out outs[2];
    render_both(g, outs);
    check_svg(g, outs[0].data, outs[0].len);
    assert_null(strstr(outs[0].data, "<script"));
    assert_null(strstr(outs[0].data, "<svg onload"));
    assert_non_null(strstr(outs[0].data, "&lt;script&gt;alert(1)&lt;/script&gt; \\N"));
    assert_non_null(strstr(outs[0].data, "\\\\ \\l \\N &quot;q&quot;"));
    check_png(outs[1].data, outs[1].len, 200);
    free(outs[0].data);
    free(outs[1].data);
    rg_graph_free(g);
}

static void test_lab_svg_png(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "graph-lab.json");
    rg_render_out outs[2];
    render_both(g, outs);
    check_svg(g, outs[0].data, outs[0].len);
    assert_non_null(strstr(outs[0].data, "AS64501 Lab Transit Backbone (BE, NL)"));
    assert_non_null(strstr(outs[0].data, ">http SA<"));
    assert_non_null(strstr(outs[0].data, "198.19.0.5: port 443 leaves the path of ports 80, 8080 "
                                         "after 198.18.1.2"));
    check_png(outs[1].data, outs[1].len, 500);
    free(outs[0].data);
    free(outs[1].data);
    rg_graph_free(g);
}

static void test_64_svg_png(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "graph-64.json");
    assert_int_equal(g->ntraces, 64);
    rg_render_out outs[2];
    render_both(g, outs);
    check_svg(g, outs[0].data, outs[0].len);
    check_png(outs[1].data, outs[1].len, 500);
    free(outs[0].data);
    free(outs[1].data);
    rg_graph_free(g);
}

static void test_render_errors(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "graph-lab.json");
    rg_render_out outs[2] = {{.format = "svg"}, {.format = "nosuch"}};
    char err[256];
    assert_false(rg_render(g, outs, 2, err, sizeof err));
    assert_memory_equal(err, "graph: cannot render nosuch: ", 29);
    assert_null(strchr(err, '\n'));
    assert_null(outs[0].data); /* nothing left allocated */
    assert_null(outs[1].data);
    rg_graph_free(g);
}

static void test_palette(void **state)
{
    (void)state;
    for (size_t i = 0; i < 64; i++)
        for (size_t j = 0; j < i; j++)
            assert_false(strcmp(rg_dot_trace_color(i), rg_dot_trace_color(j)) == 0 &&
                         strcmp(rg_dot_trace_style(i), rg_dot_trace_style(j)) == 0);
    assert_string_equal(rg_dot_trace_color(128), rg_dot_trace_color(0));
    /* About 30 traces each get a colour of their own. */
    for (size_t i = 0; i < 30; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(rg_dot_trace_color(i), rg_dot_trace_color(j));
}

/* ---- a live run and its saved JSON draw the same graph ---- */

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
    t->sport = (uint16_t)(40000 + run->ntraces);
    return t;
}

static void hop(rg_trace *t, unsigned ttl, const char *from, enum rg_reply_kind kind,
                uint32_t rtt)
{
    rg_probe *p = rg_trace_probe(t, ttl, rg_trace_sent(t, ttl));
    p->sent = (struct timespec){1795618200 + ttl, 987654321};
    rg_trace_set_sent(t, ttl, rg_trace_sent(t, ttl) + 1);
    if (!from)
        return;
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->icmp_type = kind == RG_REPLY_UNREACHABLE ? 3 : 11;
    p->icmp_code = kind == RG_REPLY_UNREACHABLE ? 13 : 0;
    p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : 0x14;
    p->rtt_us = rtt;
    p->reply_ttl = 60;
    p->received = p->sent;
}

static void annotate(rg_run *run, const char *addr, uint32_t asn, const char *org,
                     const char *ptr, const char *cc, const char *city)
{
    rg_addr a;
    assert_true(rg_addr_parse(addr, &a));
    rg_host *h = rg_run_host(run, &a);
    assert_non_null(h);
    h->asn = asn;
    h->as_source = RG_AS_CSV;
    assert_true(rg_host_set(&h->as_org, org) && rg_host_set(&h->ptr, ptr) &&
                rg_host_set(&h->city, city));
    snprintf(h->country, sizeof h->country, "%s", cc);
}

static void live_run(rg_run *run)
{
    const enum rg_reply_kind TE = RG_REPLY_TIME_EXCEEDED;
    rg_trace *t = add_trace(run, "web.lab", "198.19.0.5", 80);
    hop(t, 1, "198.18.0.1", TE, 150);
    hop(t, 2, NULL, TE, 0);
    hop(t, 2, "198.18.1.2", TE, 330);
    hop(t, 3, "198.19.0.5", RG_REPLY_SYNACK, 700);
    t = add_trace(run, "web.lab", "198.19.0.5", 443);
    hop(t, 1, "198.18.0.1", TE, 170);
    hop(t, 2, "198.18.17.2", TE, 360);
    hop(t, 3, "198.19.0.5", RG_REPLY_RST, 720);
    t = add_trace(run, "198.19.0.9", "198.19.0.9", 22);
    hop(t, 1, "198.18.0.1", TE, 160);
    hop(t, 2, "198.18.1.2", RG_REPLY_UNREACHABLE, 300);
    t = add_trace(run, "198.19.0.11", "198.19.0.11", 80);
    hop(t, 1, "198.18.0.1", TE, 140);
    for (unsigned ttl = 2; ttl <= 5; ttl++) {
        hop(t, ttl, NULL, TE, 0);
        hop(t, ttl, NULL, TE, 0);
    }
    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_conclude(&run->traces[i]);
    assert_true(rg_run_collect_hosts(run));
    annotate(run, "198.18.0.1", 64500, "Access \"Net\"", "r1.lab", "DE", "Köln");
    annotate(run, "198.18.1.2", 64500, "Access \"Net\"", NULL, "DE", NULL);
    annotate(run, "198.18.17.2", 64501, "Transit", "r3b<lab>", "NL", NULL);
    annotate(run, "198.19.0.5", 64502, "Hosting & Co", "web1.example", "US", "Ashburn");
    run->as_credit = RG_ANNOTATE_ASN_CREDIT;
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The SVG's lines in sorted order: graphviz 2.42 may emit the clusters in
 * another order each time (render.h), with the same coordinates. */
static char *sorted_lines(const char *svg)
{
    char *copy = strdup(svg), *out = malloc(strlen(svg) + 2);
    size_t n = 0, cap = 1024;
    char **lines = malloc(cap * sizeof *lines), *save = NULL;
    assert_true(copy && out && lines);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            assert_non_null(lines = realloc(lines, (cap *= 2) * sizeof *lines));
        lines[n++] = l;
    }
    qsort(lines, n, sizeof *lines, line_cmp);
    char *w = out;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s\n", lines[i]);
    *w = '\0';
    free(lines);
    free(copy);
    return out;
}

static void test_saved_equals_live(void **state)
{
    (void)state;
    rg_run live = {0}, saved;
    live_run(&live);
    rg_graph *g1 = rg_graph_build(&live);
    assert_non_null(g1);

    json_t *doc = rg_json_build(&live, NULL); /* hosts and credits included */
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    char err[256];
    if (!rg_json_read_buffer(text, strlen(text), &saved, err, sizeof err))
        fail_msg("%s", err);
    free(text);
    rg_graph *g2 = rg_graph_build(&saved);
    assert_non_null(g2);

    char *dot1 = dot_of(g1), *dot2 = dot_of(g2);
    assert_string_equal(dot2, dot1);
    assert_non_null(strstr(dot1, "AS64500 Access \\\"Net\\\" (DE)"));
    assert_non_null(strstr(dot1, "K\xc3\xb6ln"));
    assert_non_null(strstr(dot1, "CC BY 4.0"));
    rg_render_out o1[2], o2[2];
    render_both(g1, o1);
    render_both(g2, o2);
    assert_int_equal(o1[0].len, o2[0].len);
    char *lines1 = sorted_lines(o1[0].data), *lines2 = sorted_lines(o2[0].data);
    assert_string_equal(lines1, lines2);
    free(lines1);
    free(lines2);
    assert_memory_equal(o1[1].data, o2[1].data, 24); /* PNG signature and size */
    for (int i = 0; i < 2; i++) {
        free(o1[i].data);
        free(o2[i].data);
    }
    free(dot1);
    free(dot2);
    rg_graph_free(g1);
    rg_graph_free(g2);
    rg_run_free(&saved);
    rg_run_free(&live);
}

/* A port whose only RST may have reset a half-open connection of ours is
 * unknown; the legend gets that swatch only then. */
static void test_unknown_port_in_legend(void **state)
{
    (void)state;
    for (int doubt = 0; doubt <= 1; doubt++) {
        rg_run run = {0};
        rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 80);
        hop(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED, 100);
        if (doubt)
            hop(t, 2, NULL, RG_REPLY_NONE, 0); /* its SYN-ACK lost, say */
        hop(t, 2, "198.19.0.5", RG_REPLY_RST, 200);
        rg_trace_probe(t, 2, rg_trace_sent(t, 2) - 1)->sent.tv_sec++;
        rg_trace_probe(t, 2, rg_trace_sent(t, 2) - 1)->received.tv_sec++;
        rg_trace_conclude(t);
        assert_int_equal(t->state, doubt ? RG_PORT_UNKNOWN : RG_PORT_CLOSED);
        assert_true(rg_run_collect_hosts(&run));
        rg_graph *g = rg_graph_build(&run);
        assert_non_null(g);
        char *dot = dot_of(g);
        assert_int_equal(strstr(dot, ">unknown</td>") != NULL, doubt);
        assert_int_equal(strstr(dot, ">closed</td>") != NULL, 1); /* the swatch, always */
        free(dot);
        rg_graph_free(g);
        rg_run_free(&run);
    }
}

/* ---- markup entities in names ---- */

static const char *const ENTITY_NAMES[] = {
    "r1&#x1b;]0;PWNED&#x7;&#x1b;[2J",
    "Org &#1; &#xFFFE; &#55296; &#x9f; &amp;lt;b&gt; &#0; &#x110000;",
    "C&#133;ity &#X1B;",
    "t&#x1b;[31m.example",
};

/* The lab run with every outside name replaced by entity-laden text. */
static rg_graph *entity_graph(void)
{
    json_error_t jerr;
    json_t *doc = json_load_file(DATA "graph-lab.json", 0, &jerr);
    assert_non_null(doc);
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(doc, "hosts"), i, h) {
        json_object_set_new(h, "ptr", json_string(ENTITY_NAMES[0]));
        json_object_set_new(h, "as_org", json_string(ENTITY_NAMES[1]));
        json_object_set_new(h, "city", json_string(ENTITY_NAMES[2]));
    }
    json_array_foreach(json_object_get(doc, "traces"), i, h)
        json_object_set_new(h, "target", json_string(ENTITY_NAMES[3]));
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    rg_run run;
    char err[256];
    if (!rg_json_read_buffer(text, strlen(text), &run, err, sizeof err))
        fail_msg("%s", err);
    free(text);
    rg_graph *g = rg_graph_build(&run);
    rg_run_free(&run);
    assert_non_null(g);
    return g;
}

/* No control character, raw or as a character reference, and no reference
 * to what XML 1.0 refuses. */
static void assert_no_controls(const char *svg)
{
    for (const unsigned char *p = (const unsigned char *)svg; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') || *p == 0x7f)
            fail_msg("raw control byte 0x%02x at %zu", *p, (size_t)((const char *)p - svg));
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            fail_msg("raw C1 control at %zu", (size_t)((const char *)p - svg));
        if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
            fail_msg("raw U+FFFE/U+FFFF at %zu", (size_t)((const char *)p - svg));
        if (p[0] == 0xed && p[1] >= 0xa0)
            fail_msg("raw surrogate at %zu", (size_t)((const char *)p - svg));
        if (p[0] == '&' && p[1] == '#') {
            bool hex = p[2] == 'x' || p[2] == 'X';
            unsigned long cp = strtoul((const char *)p + 2 + hex, NULL, hex ? 16 : 10);
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
                (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
                fail_msg("reference to U+%04lX at %zu", cp, (size_t)((const char *)p - svg));
        }
    }
}

static void test_entities_in_names(void **state)
{
    (void)state;
    rg_graph *g = entity_graph();
    char *dot = dot_of(g);
    /* Every '&' of a name reaches graphviz as &amp;: nothing to decode. */
    assert_null(strstr(dot, "&#"));
    agclose(parse_back(g, dot));
    free(dot);
    rg_render_out outs[2];
    render_both(g, outs);
    assert_no_controls(outs[0].data);
    check_svg(g, outs[0].data, outs[0].len); /* libxml2 refuses &#x1b; */
    /* Shown literally, as the text it is. */
    assert_non_null(strstr(outs[0].data, "r1&amp;#x1b;]0;PWNED&amp;#x7;&amp;#x1b;[2J"));
    assert_non_null(strstr(outs[0].data, "&amp;#55296;"));
    check_png(outs[1].data, outs[1].len, 200);
    free(outs[0].data);
    free(outs[1].data);
    rg_graph_free(g);
}

/* A router-level graph too large for dot in reasonable time is refused
 * with one line, before any layout (issue 12: 48,000 nodes ran for over
 * 200 s). */
static void test_render_refuses_a_graph_too_large(void **state)
{
    (void)state;
    rg_run run = {0};
    for (unsigned i = 0; i < 500; i++) { /* 500 traces, 4 routers each of their own */
        char dst[32], r[32];
        snprintf(dst, sizeof dst, "198.19.%u.%u", i / 250, i % 250 + 1);
        rg_trace *t = add_trace(&run, dst, dst, 80);
        for (unsigned ttl = 1; ttl <= 4; ttl++) {
            snprintf(r, sizeof r, "198.18.%u.%u", (i * 4 + ttl) / 250, (i * 4 + ttl) % 250 + 1);
            hop(t, ttl, r, RG_REPLY_TIME_EXCEEDED, 100 * ttl);
        }
        hop(t, 5, dst, RG_REPLY_SYNACK, 600);
        rg_trace_conclude(t);
    }
    assert_true(rg_run_collect_hosts(&run));
    rg_graph *g = rg_graph_build(&run);
    assert_non_null(g);
    assert_true(g->nnodes > RG_RENDER_MAX_NODES);
    rg_render_out outs[1] = {{.format = "svg"}};
    char err[512] = "";
    clock_t start = clock();
    bool ok = rg_render(g, outs, 1, err, sizeof err);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (ok)
        free(outs[0].data);
    assert_false(ok);
    assert_null(outs[0].data);
    assert_non_null(strstr(err, "graph: too large to draw ("));
    assert_null(strchr(err, '\n'));
    assert_true(seconds < 5.0); /* the DOT text is parsed, never laid out */
    rg_graph_free(g);
    rg_run_free(&run);
}

static void test_writer_fails_on_full_stream(void **state)
{
    (void)state;
    rg_graph *g = graph_of(DATA "graph-lab.json");
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        skip();
    assert_false(rg_dot_write(full, g));
    fclose(full);
    rg_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_lab),
        cmocka_unit_test(test_golden_64),
        cmocka_unit_test(test_golden_hostile),
        cmocka_unit_test(test_hostile_parses_back),
        cmocka_unit_test(test_extensions_on_nodes),
        cmocka_unit_test(test_hostile_svg_png),
        cmocka_unit_test(test_lab_svg_png),
        cmocka_unit_test(test_64_svg_png),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_palette),
        cmocka_unit_test(test_saved_equals_live),
        cmocka_unit_test(test_unknown_port_in_legend),
        cmocka_unit_test(test_writer_fails_on_full_stream),
        cmocka_unit_test(test_entities_in_names),
        cmocka_unit_test(test_render_refuses_a_graph_too_large),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
#ifdef RG_HAVE_LIBXML2
    xmlCleanupParser();
#endif
    return rc;
}
