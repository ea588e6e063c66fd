/* libFuzzer harness for the writers: hostile names (reverse-DNS names, AS
 * names, cities, target names, unresolved names and their errors) put into
 * a small saved run, read back through json_read as `routegraph render`
 * does, and written as every format: table and AS-path view, JSON, DOT,
 * SVG through graphviz, and the HTML report. Besides the sanitizers it
 * checks what leaves the process:
 *   - table, paths view, SVG and HTML: valid UTF-8, no control character
 *     (C0 but tab and newline, DEL, C1), and the SVG passes rg_svg_check
 *     (the render fails otherwise, and a failed render aborts here);
 *   - SVG and HTML: no character reference to a control character;
 *   - JSON: parses again and reads back as a run;
 *   - DOT: parses with cgraph into exactly the graph's nodes.
 * The input is up to nine NUL-separated strings (the ninth: an interface
 * name from an ICMP extension of hop 1's answer); bytes that are not UTF-8
 * are taken as Latin-1, so every code point below U+0100 and every valid
 * UTF-8 sequence can be a name.
 *
 *   tests/fuzz/run.sh writers
 */
#include <cgraph.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/asgraph.h"
#include "graph/graph.h"
#include "input/json_read.h"
#include "output/asdot.h"
#include "output/dot.h"
#include "output/html.h"
#include "output/json.h"
#include "output/jsonl.h"
#include "output/paths.h"
#include "output/render.h"
#include "output/table.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* graphviz, pango and fontconfig keep caches and leak some of their own
 * allocations on every layout (see tests/unit/test_dot.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libpango\nleak:libglib\nleak:libcairo\n"
           "leak:libgvplugin_pango\nleak:gvconfig\nleak:libharfbuzz\nleak:libexpat\n"
           "leak:gvLayoutJobs\nleak:gvRenderJobs\nleak:libgvc\nleak:libcgraph\n";
}

static const char TEMPLATE[] =
    "{\"schema\":\"routegraph/1\",\"version\":\"0.1.0\","
    "\"start_time\":\"2026-11-25T14:50:00.000005Z\",\"end_time\":\"2026-11-25T14:50:02.000000Z\","
    "\"options\":{\"ports\":[80],\"min_ttl\":1,\"max_ttl\":30,\"sport\":null,\"timeout\":2.0,"
    "\"retries\":1,\"rate\":100,\"gap\":5,\"family\":\"any\",\"no_dns\":false},"
    "\"stats\":{\"probes_sent\":2,\"replies\":2,\"matched\":2,\"unmatched\":0,\"duplicates\":0,"
    "\"malformed\":0},"
    "\"unresolved\":[{\"name\":\"u\",\"error\":\"e\"}],"
    "\"traces\":[{\"target\":\"t\",\"address\":\"198.19.0.5\",\"family\":4,\"protocol\":\"tcp\","
    "\"port\":80,\"source_address\":\"198.18.0.2\",\"source_port\":40001,\"state\":\"open\","
    "\"reached\":true,\"reached_ttl\":2,\"rtt_us\":300,\"last_answer_ttl\":2,"
    "\"stopped_by\":\"destination\",\"hops\":["
    "{\"ttl\":1,\"responder\":\"198.18.0.1\",\"probes\":[{\"attempt\":0,"
    "\"sent\":\"2026-11-25T14:50:01.001000Z\",\"reply\":{\"from\":\"198.18.0.1\","
    "\"kind\":\"time-exceeded\",\"icmp_type\":11,\"icmp_code\":0,\"rtt_us\":100,\"reply_ttl\":63,"
    "\"received\":\"2026-11-25T14:50:01.001100Z\",\"extensions\":{\"layout\":\"rfc4884\","
    "\"mpls\":[{\"label\":16,\"tc\":5,\"s\":1,\"ttl\":1}],"
    "\"interfaces\":[{\"role\":\"incoming\",\"ifindex\":7,\"name\":\"n\"}]}}}]},"
    "{\"ttl\":2,\"responder\":\"198.19.0.5\",\"probes\":[{\"attempt\":0,"
    "\"sent\":\"2026-11-25T14:50:01.002000Z\",\"reply\":{\"from\":\"198.19.0.5\","
    "\"kind\":\"syn-ack\",\"tcp_flags\":\"SA\",\"rtt_us\":300,\"reply_ttl\":62,"
    "\"received\":\"2026-11-25T14:50:01.002300Z\"}}]}]}],"
    "\"hosts\":[{\"address\":\"198.18.0.1\",\"asn\":64500,\"as_org\":\"o\","
    "\"as_source\":\"offline\",\"ptr\":\"p\",\"country\":\"DE\",\"city\":\"c\"},"
    "{\"address\":\"198.19.0.5\",\"asn\":64501,\"as_org\":\"o\",\"as_source\":\"offline\","
    "\"ptr\":\"p\",\"country\":\"NL\",\"city\":\"c\"}],"
    "\"credits\":[]}";

/* Input bytes as UTF-8: valid sequences as they are, other bytes as
 * Latin-1 characters. */
static char *as_utf8(const uint8_t *s, size_t n)
{
    char *out = malloc(2 * n + 1), *w = out;
    char *copy = malloc(n + 1);
    if (!out || !copy) {
        free(out);
        free(copy);
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    for (size_t i = 0; i < n;) {
        size_t k = rg_utf8_char((const unsigned char *)copy + i, NULL);
        if (k) {
            memcpy(w, copy + i, k);
            w += k;
            i += k;
        } else {
            unsigned char c = (unsigned char)copy[i++];
            if (c < 0x80) {
                *w++ = (char)c; /* only NUL gets here, and strings hold none */
            } else {
                *w++ = (char)(0xc0 | c >> 6);
                *w++ = (char)(0x80 | (c & 0x3f));
            }
        }
    }
    *w = '\0';
    free(copy);
    return out;
}

/* Valid UTF-8, no control character (c1: C1 ones too), and no character
 * reference to one (refs: for the markup outputs). */
static void check_clean(const char *what, const char *s, size_t len, bool refs, bool c1)
{
    if (strlen(s) != len) {
        fprintf(stderr, "%s: a NUL byte inside\n", what);
        abort();
    }
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        size_t n = rg_utf8_char(p, &cp);
        if (!n || (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f ||
            (c1 && cp >= 0x80 && cp <= 0x9f)) {
            size_t at = (size_t)((const char *)p - s), from = at > 60 ? at - 60 : 0;
            fprintf(stderr, "%s: %s at byte %zu, after: %.*s\n", what,
                    n ? "control character" : "invalid UTF-8", at, (int)(at - from), s + from);
            abort();
        }
        if (refs && p[0] == '&' && p[1] == '#') {
            bool hex = p[2] == 'x' || p[2] == 'X';
            unsigned long v = strtoul((const char *)p + 2 + hex, NULL, hex ? 16 : 10);
            if (v < 0x20 || v == 0x7f || (v >= 0x80 && v <= 0x9f) || (v >= 0xd800 && v <= 0xdfff) ||
                v == 0xfffe || v == 0xffff || v > 0x10ffff) {
                fprintf(stderr, "%s: reference to U+%04lX\n", what, v);
                abort();
            }
        }
        p += n;
    }
}

typedef bool (*write_fn)(FILE *, const void *);

static char *written(write_fn fn, const void *ctx, size_t *len)
{
    char *text = NULL;
    *len = 0;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    bool ok = fn(f, ctx);
    if (fclose(f) != 0 || !ok) {
        free(text);
        return NULL;
    }
    return text;
}

static bool table_fn(FILE *f, const void *run)
{
    return rg_table_write(f, run) && (!rg_paths_wanted(run) || rg_paths_write(f, run));
}

static bool dot_fn(FILE *f, const void *g)
{
    return rg_dot_write(f, g);
}

static void check_dot(const rg_graph *g)
{
    size_t len;
    char *text = written(dot_fn, g, &len);
    if (!text)
        abort();
    Agraph_t *ag = agmemread(text);
    if (!ag || (size_t)agnnodes(ag) != g->nnodes + (g->ntraces ? 1 : 0))
        abort();
    agclose(ag);
    free(text);
}

/* The AS level of the same graph: parses, one node per AS graph node,
 * and clean of control characters. */
static void check_asdot(const rg_graph *g)
{
    rg_asgraph *ag = rg_asgraph_build(g);
    if (!ag)
        abort();
    size_t len;
    char *text = written(rg_asdot_writer, ag, &len);
    if (!text)
        abort();
    check_clean("asdot", text, len, true, true);
    Agraph_t *parsed = agmemread(text);
    if (!parsed || (size_t)agnnodes(parsed) != ag->nnodes)
        abort();
    agclose(parsed);
    free(text);
    rg_asgraph_free(ag);
}

static void check_json(const rg_run *run, json_t **doc)
{
    *doc = rg_json_build(run, NULL);
    if (!*doc)
        abort();
    char *text = json_dumps(*doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        abort();
    rg_run again;
    char err[256];
    if (!rg_json_read_buffer(text, strlen(text), &again, err, sizeof err)) {
        fprintf(stderr, "JSON does not read back: %s\n", err);
        abort();
    }
    rg_run_free(&again);
    free(text);
}

/* Each streamed trace is one line (no raw newline however hostile its
 * names) that reads back as the same trace. */
static void check_jsonl(const rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++) {
        json_t *o = rg_jsonl_trace_json(run, &run->traces[i], 5, i % 2 == 0);
        if (!o)
            abort();
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text || strchr(text, '\n'))
            abort();
        json_t *back = json_loads(text, 0, NULL);
        if (!back || !json_equal(back, o))
            abort();
        json_decref(back);
        json_decref(o);
        free(text);
    }
}

static void check_drawings(const rg_run *run, const rg_graph *g, const json_t *doc)
{
    rg_render_out out = {.format = "svg"};
    char err[512];
    if (!rg_render(g, &out, 1, err, sizeof err)) {
        fprintf(stderr, "render failed: %s\n", err);
        abort();
    }
    check_clean("svg", out.data, out.len, true, true);
    rg_html_report rep = {run, g, out.data, out.len, doc};
    size_t len;
    char *html = written(rg_html_writer, &rep, &len);
    if (!html)
        abort();
    check_clean("html", html, len, true, true); /* C1 is refused when read */
    free(html);
    free(out.data);
}

/* The interface object of hop 1's answer in TEMPLATE. */
static json_t *interface0(json_t *doc)
{
    json_t *t = json_array_get(json_object_get(doc, "traces"), 0);
    json_t *hop = json_array_get(json_object_get(t, "hops"), 0);
    json_t *reply = json_object_get(json_array_get(json_object_get(hop, "probes"), 0), "reply");
    json_t *ext = json_object_get(reply, "extensions");
    return json_array_get(json_object_get(ext, "interfaces"), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const slots[][2] = {
        {"trace", "target"}, {"host0", "ptr"}, {"host0", "as_org"}, {"host0", "city"},
        {"host1", "ptr"},    {"host1", "as_org"}, {"unresolved", "name"},
        {"unresolved", "error"}, {"interface", "name"},
    };
    if (size > 4096)
        return 0;
    json_t *doc = json_loads(TEMPLATE, 0, NULL);
    if (!doc)
        abort();
    json_t *objs[] = {
        json_array_get(json_object_get(doc, "traces"), 0),
        json_array_get(json_object_get(doc, "hosts"), 0),
        json_array_get(json_object_get(doc, "hosts"), 1),
        json_array_get(json_object_get(doc, "unresolved"), 0),
        interface0(doc),
    };
    const uint8_t *p = data, *end = data + size;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0] && p <= end; i++) {
        const uint8_t *z = memchr(p, 0, (size_t)(end - p));
        size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
        char *s = as_utf8(p, n);
        json_t *o = strcmp(slots[i][0], "trace") == 0 ? objs[0]
                  : strcmp(slots[i][0], "host0") == 0 ? objs[1]
                  : strcmp(slots[i][0], "host1") == 0 ? objs[2]
                  : strcmp(slots[i][0], "interface") == 0 ? objs[4] : objs[3];
        if (s)
            json_object_set_new(o, slots[i][1], json_string(s));
        free(s);
        p += n + 1;
    }
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    if (!text)
        return 0;
    rg_run run;
    char err[256];
    bool ok = rg_json_read_buffer(text, strlen(text), &run, err, sizeof err);
    free(text);
    if (!ok)
        return 0; /* refused names never reach a writer */
    size_t len;
    char *table = written(table_fn, &run, &len);
    if (!table)
        abort();
    check_clean("table", table, len, false, true);
    free(table);
    json_t *built = NULL;
    check_json(&run, &built);
    check_jsonl(&run);
    rg_graph *g = rg_graph_build(&run);
    if (!g)
        abort();
    check_dot(g);
    check_asdot(g);
    /* A watch's change event holding the fuzzed target text wherever the
     * timeline writes a string (html_changes.h reads events as outside
     * data). */
    const char *t = run.ntraces ? run.traces[0].target : NULL;
    json_t *w = json_pack("{s:[{s:s?,s:i,s:s?,s:i,s:i,s:s?,s:{s:[s?,n]},s:{s:[s?],s:s?}}]}",
                          "changes", "address", t, "port", 80, "change", t, "round", 2,
                          "part_ttl", 1, "part_after", t, "old", "hops", t, "new", "hops", t,
                          "state", t);
    if (!w || json_object_set_new(built, "watch", w) != 0)
        abort();
    check_drawings(&run, g, built);
    rg_graph_free(g);
    json_decref(built);
    rg_run_free(&run);
    return 0;
}
