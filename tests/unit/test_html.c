/* The HTML report: hostile names written as literal text everywhere, the
 * embedded JSON that no data can close, no reference to anything outside
 * the file, the SVG inlined without its prolog, and the report's parts
 * (verdicts with the hop and AS that explain them, hop tables, graph data
 * whose node count is the model's). The real SVG comes from rg_render. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "graph/graph.h"
#include "input/json_read.h"
#include "output/html.h"
#include "output/json.h"
#include "output/render.h"

#define DATA RG_SOURCE_ROOT "/tests/data/"

/* The same process-lifetime caches and graphviz leaks test_dot.c explains. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libpango\nleak:libglib\nleak:libcairo\n"
           "leak:libgvplugin_pango\nleak:gvconfig\nleak:libharfbuzz\nleak:libexpat\n"
           "leak:gvLayoutJobs\nleak:gvRenderJobs\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

/* ---- helpers ---- */

typedef struct report {
    rg_run run;
    rg_graph *g;
    json_t *doc;
    char *svg;
    size_t svglen;
} report;

static void load(report *r, const char *json_path)
{
    char err[512];
    memset(r, 0, sizeof *r);
    if (!rg_json_read_file(json_path, &r->run, err, sizeof err))
        fail_msg("%s", err);
    r->g = rg_graph_build(&r->run);
    assert_non_null(r->g);
    /* As `routegraph render` does: the document rebuilt from the run, with
     * the options the saved file recorded. */
    r->doc = rg_json_build(&r->run, NULL);
    assert_non_null(r->doc);
    json_t *saved = json_load_file(json_path, 0, NULL);
    assert_non_null(saved);
    json_object_set(r->doc, "options", json_object_get(saved, "options"));
    json_decref(saved);
}

static void render_svg(report *r)
{
    rg_render_out out = {.format = "svg"};
    char err[256];
    if (!rg_render(r->g, &out, 1, err, sizeof err))
        fail_msg("%s", err);
    r->svg = out.data;
    r->svglen = out.len;
}

static void unload(report *r)
{
    free(r->svg);
    json_decref(r->doc);
    rg_graph_free(r->g);
    rg_run_free(&r->run);
}

/* The report as a string; asserts rg_html_write's result is want.
 * noinline: GCC 12 at -O3 otherwise takes the returned text for a pointer
 * into this frame (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *html_of(const report *r, const char *svg, size_t svglen, bool want)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(rg_html_write(f, &r->run, r->g, svg, svglen, r->doc), want);
    assert_int_equal(fclose(f), 0);
    return text;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static size_t count_nocase(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = hay; *p; p++)
        n += strncasecmp(p, needle, len) == 0;
    return n;
}

/* The text of <script type="application/json" id="ID">, malloc'd. */
static char *json_block(const char *html, const char *id)
{
    char open[128];
    snprintf(open, sizeof open, "<script type=\"application/json\" id=\"%s\">", id);
    const char *start = strstr(html, open);
    assert_non_null(start);
    start += strlen(open);
    const char *end = strstr(start, "</script>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

static json_t *parse_block(const char *html, const char *id)
{
    char *text = json_block(html, id);
    /* Nothing in it could end the element or start markup. */
    assert_null(strpbrk(text, "<>&"));
    assert_null(strstr(text, "\xe2\x80\xa8"));
    assert_null(strstr(text, "\xe2\x80\xa9"));
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    if (!doc)
        fail_msg("%s block: %s", id, e.text);
    free(text);
    return doc;
}

/* The <tr ...> element that holds needle. */
static char *row_with(const char *html, const char *needle)
{
    const char *at = strstr(html, needle);
    assert_non_null(at);
    const char *start = at;
    while (start > html && strncmp(start, "<tr", 3) != 0)
        start--;
    const char *end = strstr(at, "</tr>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

static void assert_row_has(const char *html, const char *row_key, const char *const *want)
{
    char *row = row_with(html, row_key);
    for (size_t i = 0; want[i]; i++)
        if (!strstr(row, want[i]))
            fail_msg("row of %s lacks %s: %s", row_key, want[i], row);
    free(row);
}

/* ---- hostile text ---- */

static void test_hostile_names_literal(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-hostile.json");
    render_svg(&r);
    json_object_set_new(r.doc, "credits", json_pack("[s]", "<b>not ours</b>\"];"));
    char *html = html_of(&r, r.svg, r.svglen, true);
    /* The target: quote, markup, backslashes. */
    assert_non_null(strstr(html, "evil&quot;]; &quot;x&quot; -&gt; &quot;y&quot;; "
                                 "&lt;script&gt;alert(1)&lt;/script&gt; \\N \\&quot;"));
    assert_non_null(strstr(html, "r1&quot;]; &lt;script&gt;x&lt;/script&gt;\\<"));
    assert_non_null(strstr(html, "&lt;svg onload=alert(1)&gt;.example"));
    assert_non_null(strstr(html, "&lt;/font&gt;&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&gt;]; "
                                 "&quot;pwn&quot; [label=&lt;b&gt;"));
    /* City: an entity as text, U+FFFE as U+FFFD (control characters are
     * refused when the document is read). */
    assert_non_null(strstr(html, "K\xc3\xb6ln &amp;#x1b;\xef\xbf\xbd "
                                 "&amp; &lt;city&gt; -- &lt;!-- ]]&gt;"));
    assert_non_null(strstr(html, "Evil AS&amp;#13;&amp;#10;Injected: yes"));
    assert_null(strstr(html, "&#x1b;"));
    assert_null(strstr(html, "&#13;"));
    assert_non_null(strstr(html, "&lt;b&gt;not ours&lt;/b&gt;&quot;];"));
    /* Nothing from the data became markup. */
    assert_null(strstr(html, "<script>alert"));
    assert_null(strstr(html, "<script>x"));
    assert_null(strstr(html, "<svg onload"));
    assert_null(strstr(html, "<b>not ours"));
    assert_null(strstr(html, "<city>"));
    /* The report's own three script elements, and no others. */
    assert_int_equal(count_nocase(html, "<script"), 3);
    assert_int_equal(count_nocase(html, "</script"), 3);
    free(html);
    unload(&r);
}

/* The hop tables show each answer's extensions under its kind, the
 * interface name escaped; the embedded document keeps them. */
static void test_extensions_in_hop_tables(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "icmpext-lab.json");
    render_svg(&r);
    char *html = html_of(&r, r.svg, r.svglen, true);
    assert_non_null(strstr(html, "<span class=\"k k-time-exceeded\">time-exceeded</span>"
                                 "<br/><span class=\"muted\">MPLS 24005 (TC 0, S 0, TTL 1), "
                                 "16 (TC 5, S 1, TTL 1)</span></td>"));
    assert_non_null(strstr(html, "<br/><span class=\"muted\">incoming interface "
                                 "<span class=\"mono\">ge-0/0/1.0</span> ifIndex 7 "
                                 "198.18.100.4 MTU 1500</span><br/><span class=\"muted\">"
                                 "outgoing interface ifIndex 12</span></td>"));
    assert_int_equal(count(html, "incoming interface <span class=\"mono\">ae1.0 &quot;core"
                                 "&quot; &lt;&amp;&gt;</span> MTU 9000</span>"), 2);
    assert_null(strstr(html, "<&>"));
    json_t *doc = parse_block(html, "rg-results");
    json_t *ext = json_object_get(json_object_get(json_array_get(json_object_get(json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "traces"), 0), "hops"), 4),
        "probes"), 0), "reply"), "extensions");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(ext, "interfaces"), 0), "name")),
                        "ae1.0 \"core\" <&>");
    json_decref(doc);
    free(html);
    unload(&r);
}

/* A hop known only from other traces: its row says so, and shows what
 * annotation learnt of that address (name and AS cells, as an answered
 * hop's row does). */
static void test_inferred_hop_row(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    rg_trace *t = NULL;
    unsigned ttl = 0;
    for (size_t i = 0; i < r.run.ntraces && !t; i++)
        for (unsigned k = r.run.traces[i].min_ttl; k < r.run.traces[i].max_ttl && !t; k++)
            if (!rg_trace_shown(&r.run.traces[i], k) && rg_trace_shown(&r.run.traces[i], k + 1)) {
                t = &r.run.traces[i];
                ttl = k;
            }
    assert_non_null(t);
    const rg_probe *next = rg_trace_shown(t, ttl + 1);
    t->inferred[ttl - t->min_ttl] = next->from; /* any address the run annotated */
    char *html = html_of(&r, NULL, 0, true);
    char addr[RG_ADDR_STRLEN], row[512];
    rg_addr_format(&next->from, addr, sizeof addr);
    snprintf(row, sizeof row, "<td class=\"num\">%u</td><td class=\"mono inferred\">%s</td>"
             "<td class=\"inferred\">inferred from other traces</td><td>", ttl, addr);
    const char *at = strstr(html, row);
    assert_non_null(at);
    const char *end = strstr(at, "</tr>");
    assert_non_null(end);
    /* The same name and AS cells as the answered row of that address. */
    snprintf(row, sizeof row, "<td class=\"mono\">%s</td>", addr);
    const char *answered = strstr(html, row);
    assert_non_null(answered);
    const char *cells = strstr(answered, "</td><td>"); /* after the address */
    assert_non_null(cells);
    cells = strstr(cells + 1, "</td><td>");             /* after the reply kind */
    assert_non_null(cells);
    const char *num = strstr(cells, "</td><td class=\"num\">");
    assert_non_null(num);
    size_t n = (size_t)(num - cells);
    const char *as = strstr(cells, "AS");
    assert_true(as && as < num); /* the address has an AS: the cells say something */
    const char *mine = strstr(at, "inferred from other traces</td><td>");
    assert_non_null(mine);
    mine += strlen("inferred from other traces");
    assert_true(mine + n < end);
    assert_memory_equal(mine, cells, n);
    free(html);
    unload(&r);
}

/* The embedded document holds the hostile strings exactly, and reads back. */
static void test_json_block_reads_back(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-hostile.json");
    char *html = html_of(&r, NULL, 0, true);
    char *text = json_block(html, "rg-results");
    assert_non_null(strstr(text, "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));
    free(text);
    json_t *back = parse_block(html, "rg-results");
    assert_true(json_equal(back, r.doc));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(back, "traces"), 0), "target")),
                        "evil\"]; \"x\" -> \"y\"; <script>alert(1)</script> \\N \\\"");
    json_decref(back);
    free(html);
    unload(&r);
}

/* Strings made to break out of a script element or a JavaScript string. */
static void test_json_block_cannot_close(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    static const char *const nasty[] = {
        "</script><script>alert(1)</script>", "</SCRIPT >", "<!--<script>", "]]>&amp;&lt;",
        "line\xe2\x80\xa8sep\xe2\x80\xa9para", "\"\\\x01",
    };
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++)
        json_array_append_new(list, json_string(nasty[i]));
    json_object_set_new(r.doc, "x-nasty", list);
    char *html = html_of(&r, NULL, 0, true);
    char *text = json_block(html, "rg-results");
    assert_non_null(strstr(text, "\\u003c/script\\u003e\\u003cscript\\u003e"));
    assert_non_null(strstr(text, "line\\u2028sep\\u2029para"));
    assert_non_null(strstr(text, "]]\\u003e\\u0026amp;\\u0026lt;"));
    free(text);
    json_t *back = parse_block(html, "rg-results");
    assert_true(json_equal(json_object_get(back, "x-nasty"), list));
    json_decref(back);
    assert_int_equal(count_nocase(html, "</script"), 3);
    free(html);
    unload(&r);
}

/* Bytes that are not UTF-8 come out as U+FFFD, never raw. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    rg_addr a;
    assert_true(rg_addr_parse("198.18.0.1", &a));
    rg_host *h = rg_run_host(&r.run, &a);
    assert_non_null(h);
    assert_true(rg_host_set(&h->ptr, "bad\xff\xc0\xafname\xed\xa0\x80<i>"));
    char *html = html_of(&r, NULL, 0, true);
    assert_non_null(strstr(html, "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdname\xef\xbf\xbd"
                                 "\xef\xbf\xbd\xef\xbf\xbd&lt;i&gt;"));
    assert_null(strstr(html, "\xff"));
    assert_null(strstr(html, "<i>"));
    free(html);
    unload(&r);
}

/* A country without an AS is still shown in the hop table. */
static void test_country_without_as(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    rg_addr a;
    assert_true(rg_addr_parse("198.18.0.1", &a));
    rg_host *h = rg_run_host(&r.run, &a);
    assert_non_null(h);
    h->asn = 0;
    rg_host_set(&h->as_org, NULL);
    rg_host_set(&h->city, NULL);
    memcpy(h->country, "NL", 3);
    char *html = html_of(&r, NULL, 0, true);
    assert_non_null(strstr(html, "<span class=\"clip\"><span class=\"muted\">&ndash;</span> "
                                 "<span class=\"muted\">(NL)</span></span>"));
    free(html);
    unload(&r);
}

/* ---- no outside references ---- */

static void test_no_external_refs(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    render_svg(&r);
    char *html = html_of(&r, r.svg, r.svglen, true);
    assert_non_null(strstr(r.svg, "<!DOCTYPE svg")); /* graphviz wrote a prolog ... */
    assert_null(strstr(html, "<?xml"));               /* ... that is not inlined */
    assert_null(strstr(html, "<!DOCTYPE svg"));
    assert_null(strstr(html, "<!-- Generated by"));
    size_t refs = 0;
    for (const char *p = html; *p; p++) {
        if (strncasecmp(p, "http:", 5) != 0 && strncasecmp(p, "https:", 6) != 0)
            continue;
        bool ns = (p - html >= 7 && strncmp(p - 7, "xmlns=\"", 7) == 0) ||
                  (p - html >= 13 && strncmp(p - 13, "xmlns:xlink=\"", 13) == 0);
        if (!ns)
            fail_msg("outside reference: %.60s", p > html + 30 ? p - 30 : html);
        refs++;
    }
    assert_int_equal(refs, 2); /* the two namespaces of the one <svg> */
    assert_null(strstr(html, " src="));
    assert_int_equal(count(html, "href=\""), count(html, "href=\"#"));
    /* Loading is forbidden outright; scripts run only with this file's nonce. */
    const char *csp = strstr(html, "<meta http-equiv=\"Content-Security-Policy\" "
                                   "content=\"default-src 'none'; ");
    assert_non_null(csp);
    const char *nonce = strstr(csp, "script-src 'nonce-");
    assert_non_null(nonce);
    char tag[80];
    snprintf(tag, sizeof tag, "<script nonce=\"%.32s\">", nonce + strlen("script-src 'nonce-"));
    assert_int_equal(count(html, tag), 1);
    free(html);
    unload(&r);
}

/* ---- structure ---- */

static void test_structure(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    render_svg(&r);
    char *html = html_of(&r, r.svg, r.svglen, true);
    assert_memory_equal(html, "<!DOCTYPE html>\n", 16);
    const char *order[] = {"<header", "id=\"rg-options\"", "id=\"verdicts\"", "id=\"graph\"",
                           "id=\"rg-svg\"", "<svg width=", "id=\"rg-details\"", "id=\"hops\"",
                           "<footer", "id=\"rg-results\"", "id=\"rg-graph\"", "<script nonce=",
                           "</html>\n"};
    const char *at = html;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *next = strstr(at, order[i]);
        if (!next)
            fail_msg("missing or out of order: %s", order[i]);
        at = next;
    }
    assert_int_equal(count(html, "<details class=\"trace\""), r.run.ntraces);
    assert_int_equal(count(html, "<td class=\"verdict\">"), r.run.ntraces);
    assert_non_null(strstr(html, "<b>ports</b>80, 443, 22, 8080</span>"));
    assert_non_null(strstr(html, "AS data: ip-location-db (@ip-location-db/asn), CC BY 4.0"));
    /* Each verdict names the hop that explains it and that hop's AS. */
    assert_row_has(html, "href=\"#trace-0\"",
                   (const char *[]){"s-open", "reached at hop 6", "198.19.0.5", "AS64502",
                                    "Lab Hosting", "web1.h1.lab.example", NULL});
    assert_row_has(html, "href=\"#trace-4\"",
                   (const char *[]){"s-filtered\">filtered<", "after hop 6, no answer to ", "198.18.48.2",
                                    "AS64503", "Lab Cloud", NULL});
    assert_row_has(html, "href=\"#trace-5\"",
                   (const char *[]){"s-unreachable\">unreachable<", "unreachable from hop 2 (!X, ICMP 3/13)", "198.18.1.2",
                                    "AS64500", NULL});
    assert_row_has(html, "href=\"#trace-7\"",
                   (const char *[]){"s-unknown\">unknown<", "no reply at all", NULL});
    /* Hop rows name their node for the page's script; silent hops say so. */
    assert_non_null(strstr(html, "<tr data-node=\"198.18.48.2\" tabindex=\"0\"><td class=\"num\">"
                                 "6</td><td class=\"mono\">198.18.48.2</td>"));
    /* ... and whether the router is silent or only rationed its answers. */
    assert_true(count(html, "no reply: silent</td>") + count(html, "no reply: rate-limited") >= 6);
    free(html);
    unload(&r);
}

/* The graph block is the model: one entry per node, named as the SVG
 * titles them, with the traces through each node. */
static void test_graph_block(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    render_svg(&r);
    char *html = html_of(&r, r.svg, r.svglen, true);
    json_t *gb = parse_block(html, "rg-graph");
    json_t *nodes = json_object_get(gb, "nodes");
    assert_int_equal(json_integer_value(json_object_get(gb, "node_count")), r.g->nnodes);
    assert_int_equal(json_array_size(nodes), r.g->nnodes);
    assert_true(json_is_true(json_object_get(gb, "legend")));
    /* Every node's title is in the inlined SVG, plus the legend. */
    assert_int_equal(count(html, "class=\"node\""), r.g->nnodes + 1);
    for (size_t k = 0; k < json_array_size(nodes); k++) {
        char title[96];
        const char *name = json_string_value(json_object_get(json_array_get(nodes, k), "name"));
        snprintf(title, sizeof title, "<title>%s</title>", name);
        if (!strstr(html, title))
            fail_msg("no SVG node titled %s", name);
    }
    json_t *prober = json_array_get(nodes, 0);
    assert_string_equal(json_string_value(json_object_get(prober, "name")), "prober");
    assert_int_equal(json_array_size(json_object_get(prober, "traces")), r.run.ntraces);
    /* 198.18.48.2 is on the paths of traces 3 and 4, at TTL 6. */
    size_t k = rg_graph_host(r.g, &r.run.traces[3].dst);
    assert_true(k != RG_GRAPH_NONE);
    rg_addr a;
    assert_true(rg_addr_parse("198.18.48.2", &a));
    json_t *hop = json_array_get(nodes, rg_graph_host(r.g, &a));
    char *through = json_dumps(json_object_get(hop, "traces"), JSON_COMPACT);
    assert_string_equal(through, "[[3,6],[4,6]]");
    free(through);
    assert_string_equal(json_string_value(json_object_get(hop, "kind")), "host");
    assert_null(json_object_get(hop, "ptr")); /* no outside string in this block */
    json_decref(gb);
    free(html);
    unload(&r);
}

/* ---- the SVG ---- */

static void test_svg_prolog_stripped(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    static const char svg[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
        "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\"\n"
        " \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
        "<!-- Generated by graphviz version 2.42.2 (0)\n -->\n<!-- Title: x -->\n"
        "<svg width=\"8pt\" height=\"8pt\" viewBox=\"0 0 8 8\" "
        "xmlns=\"http://www.w3.org/2000/svg\"><g class=\"node\"><title>prober</title></g></svg>\n";
    char *html = html_of(&r, svg, sizeof svg - 1, true);
    assert_non_null(strstr(html, "<div class=\"graph fit\" id=\"rg-svg\">\n<svg width=\"8pt\""));
    assert_null(strstr(html, "<?xml"));
    assert_null(strstr(html, "svg11.dtd"));
    assert_null(strstr(html, "Generated by graphviz"));
    free(html);
    unload(&r);
}

static void test_svg_refused(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    static const char *const bad[] = {
        "<html><svg></svg></html>",
        "<?xml version=\"1.0\"",                      /* prolog never closed */
        "<!-- <svg> -->",                             /* no root after it */
        "<svg><script>alert(1)</script></svg>",
        "<svg>\n<SCRIPT>alert(1)</SCRIPT></svg>",
        "<svgx></svgx>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        free(html_of(&r, bad[i], strlen(bad[i]), false));
    char *html = html_of(&r, NULL, 0, true);
    assert_non_null(strstr(html, "This report has no picture of the graph."));
    assert_null(strstr(html, "<svg"));
    free(html);
    unload(&r);
}

/* ---- edges ---- */

static void test_empty_run(void **state)
{
    (void)state;
    rg_run empty = {0};
    rg_graph *g = rg_graph_build(&empty);
    assert_non_null(g);
    json_t *doc = rg_json_build(&empty, NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_true(rg_html_write(f, &empty, g, NULL, 0, doc));
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(text, "Nothing was traced."));
    assert_non_null(strstr(text, "<b>options</b>not recorded"));
    assert_null(strstr(text, "id=\"hops\""));
    json_t *gb = parse_block(text, "rg-graph");
    assert_int_equal(json_integer_value(json_object_get(gb, "node_count")), 1);
    assert_true(json_is_false(json_object_get(gb, "legend")));
    json_decref(gb);
    free(text);
    json_decref(doc);
    rg_graph_free(g);
}

static void test_write_error(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    FILE *f = fopen("/dev/full", "w");
    assert_non_null(f);
    assert_false(rg_html_write(f, &r.run, r.g, NULL, 0, r.doc));
    fclose(f);
    rg_html_report rep = {.run = &r.run, .graph = r.g, .doc = NULL};
    f = fopen("/dev/null", "w");
    assert_false(rg_html_writer(f, &rep)); /* the document is required */
    rep.doc = r.doc;
    assert_true(rg_html_writer(f, &rep));
    fclose(f);
    unload(&r);
}

/* ---- the timeline of changes (a watch against a baseline) ---- */

static json_t *change_event(void)
{
    return json_pack(
        "{s:s,s:s,s:i,s:s,s:i,s:i,s:s,s:i,"
        "s:{s:[sssss],s:[iii],s:b,s:s},s:{s:[ssss n s],s:[iiii],s:b,s:s}}",
        "target", "198.18.44.40", "address", "198.18.44.40", "port", 443, "change", "as-path",
        "round", 7, "part_ttl", 6, "part_after", "198.18.18.2", "part_after_asn", 64501,
        "old", "hops", "198.18.0.1", "198.18.1.2", "198.18.16.2", "198.18.18.2", "198.18.37.2",
        "as_path", 64500, 64501, 64502, "reached", 1, "state", "closed",
        "new", "hops", "198.18.0.1", "198.18.1.2", "198.18.16.2", "198.18.18.2", "198.18.48.2",
        "as_path", 64500, 64501, 64503, 64502, "reached", 1, "state", "closed");
}

static void test_changes_timeline(void **state)
{
    (void)state;
    report r;
    load(&r, DATA "graph-lab.json");
    char *plain = html_of(&r, NULL, 0, true);
    assert_null(strstr(plain, "id=\"changes\""));
    free(plain);
    json_t *ev = change_event(), *bad = change_event();
    /* An event from elsewhere: hostile strings, wrong types, a path too long. */
    json_object_set_new(bad, "address", json_string("<b>\"x\"</b>:1"));
    json_object_set_new(bad, "change", json_string("<script>"));
    json_object_set_new(bad, "round", json_string("7"));
    json_object_set_new(bad, "part_after", json_string("</td><script>alert(1)</script>"));
    json_t *long_hops = json_array();
    for (int i = 0; i < 300; i++)
        json_array_append_new(long_hops, json_string("198.18.0.1"));
    json_object_set_new(json_object_get(bad, "new"), "hops", long_hops);
    json_object_set_new(r.doc, "watch", json_pack("{s:[o,o,i]}", "changes", ev, bad, 5));
    char *html = html_of(&r, NULL, 0, true);
    const char *order[] = {"id=\"verdicts\"", "id=\"changes\"", "id=\"hops\"",
                           "id=\"rg-results\""};
    const char *at = html;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *next = strstr(at, order[i]);
        if (!next)
            fail_msg("missing or out of order: %s", order[i]);
        at = next;
    }
    assert_non_null(strstr(html, "<h2>Changes<small>3 against the baseline"));
    assert_int_equal(count(html, "<li class=\"change\""), 2); /* 5 is no event */
    assert_non_null(strstr(html, "<li class=\"change\" data-change=\"0\" tabindex=\"0\">"
                                 "<div class=\"when\">round 7</div><div class=\"what\">"
                                 "<span class=\"mono\">198.18.44.40:443</span> <span "
                                 "class=\"verdict\">AS path changed</span>: paths part at hop 6 "
                                 "after 198.18.18.2 (AS64501)</div>"));
    /* Side by side: the rows from the parting hop on are marked, a silent
     * hop is *, the longer path gets rows of its own. */
    assert_non_null(strstr(html, "<tr><td class=\"num\">5</td><td class=\"mono\">198.18.37.2"
                                 "</td><td class=\"mono\">*</td></tr>"));
    assert_non_null(strstr(html, "<tr class=\"parted\"><td class=\"num\">6</td><td "
                                 "class=\"mono\"></td><td class=\"mono\">198.18.48.2</td></tr>"));
    char *first = strndup(strstr(html, "data-change=\"0\""),
                          (size_t)(strstr(html, "data-change=\"1\"") - strstr(html, "data-change=\"0\"")));
    assert_int_equal(count(first, "<td class=\"num\">"), 6 + 2); /* TTLs, the end, AS */
    free(first);
    assert_non_null(strstr(html, "<td>AS64500 AS64501 AS64502</td><td>AS64500 AS64501 AS64503 "
                                 "AS64502</td>"));
    assert_non_null(strstr(html, "<td>reached, port closed</td><td>reached, port closed</td>"));
    /* The hostile event: text only, its verdict unknown, its round 0, its
     * path cut at the most TTLs a trace has. */
    assert_non_null(strstr(html, "[&lt;b&gt;&quot;x&quot;&lt;/b&gt;:1]:443</span> <span "
                                 "class=\"verdict\">changed</span>"));
    assert_non_null(strstr(html, "after &lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "<div class=\"when\">round 0</div>"));
    assert_null(strstr(html, "<td class=\"num\">65</td>")); /* RG_MAX_TTL */
    assert_non_null(strstr(html, "<td class=\"num\">64</td>"));
    assert_int_equal(count_nocase(html, "<script"), 3); /* the two data blocks, the page's */
    /* The page's script finds the events in the embedded document. */
    json_t *doc = parse_block(html, "rg-results");
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "watch"), "changes")), 3);
    json_decref(doc);
    free(html);
    unload(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_names_literal),
        cmocka_unit_test(test_extensions_in_hop_tables),
        cmocka_unit_test(test_json_block_reads_back),
        cmocka_unit_test(test_json_block_cannot_close),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_country_without_as),
        cmocka_unit_test(test_no_external_refs),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_graph_block),
        cmocka_unit_test(test_svg_prolog_stripped),
        cmocka_unit_test(test_svg_refused),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_changes_timeline),
        cmocka_unit_test(test_inferred_hop_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
