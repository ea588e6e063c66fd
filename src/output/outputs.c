#include "outputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "../graph/asgraph.h"
#include "../graph/graph.h"
#include "../util/atomic.h"
#include "asdot.h"
#include "dot.h"
#include "html.h"
#include "json.h"
#include "json_stream.h"
#include "middlebox.h"
#include "paths.h"
#include "render.h"
#include "table.h"
#include "text.h"

/* What the formats share: the JSON document (JSON and HTML) and the graph
 * with its SVG (DOT, SVG, PNG and HTML), each made once. The document is
 * the head alone (rg_json_build_head): each writer builds the traces one
 * at a time as it writes them (json_stream.h). */
typedef struct shared {
    const rg_run *run;
    const rg_config *cfg;
    json_t *doc;
    rg_graph *graph;
    rg_asgraph *asgraph; /* drawn instead of graph when the AS level was chosen */
} shared;

static void complain(const char *what)
{
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, what); /* it may quote a path */
    fputc('\n', stderr);
}

typedef struct table_ctx {
    const rg_run *run;
    size_t width; /* 0: full width */
} table_ctx;

/* The classic table, then the AS-path view when the run was annotated. */
static bool write_table(FILE *out, const void *ctx)
{
    const table_ctx *t = ctx;
    if (!rg_table_write_width(out, t->run, t->width) || !rg_middlebox_write(out, t->run))
        return false;
    return !rg_paths_wanted(t->run) || rg_paths_write(out, t->run);
}

/* Where the table goes to standard output it fits the terminal: COLUMNS
 * when set, else the terminal's width; a pipe or --wide gets it whole. */
static size_t stdout_width(const rg_config *cfg)
{
    if (cfg->wide)
        return 0;
    const char *env = getenv("COLUMNS");
    char *end;
    unsigned long c = env && *env ? strtoul(env, &end, 10) : 0;
    if (env && *env && *end == '\0' && c >= 20 && c <= 100000)
        return (size_t)c;
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 0;
}

static bool write_json(FILE *out, const void *ctx)
{
    const shared *sh = ctx;
    return rg_json_stream(sh->doc, sh->run, rg_json_gap(sh->cfg),
                          JSON_INDENT(2) | JSON_PRESERVE_ORDER, rg_json_emit_file, out) &&
           fputc('\n', out) != EOF;
}

static bool write_one(const rg_config *cfg, const char *ext, rg_writer_fn fn,
                      const void *ctx)
{
    char err[512];
    if (!cfg->output) {
        bool ok = fn(stdout, ctx) && fflush(stdout) == 0;
        if (!ok)
            complain("cannot write to standard output");
        return ok;
    }
    size_t n = strlen(cfg->output) + strlen(ext) + 1;
    char *path = malloc(n);
    if (!path) {
        complain("out of memory");
        return false;
    }
    snprintf(path, n, "%s%s", cfg->output, ext);
    bool ok = rg_write_atomic(path, fn, ctx, err, sizeof err);
    if (!ok)
        complain(err);
    free(path);
    return ok;
}

/* svg, png and the html report's picture from one layout. */
static bool write_drawings(const shared *sh)
{
    unsigned f = sh->cfg->formats;
    rg_render_out outs[2];
    size_t n = 0, svg = 2;
    if (f & (RG_FMT_SVG | RG_FMT_HTML)) {
        svg = n;
        outs[n++] = (rg_render_out){.format = "svg"};
    }
    if (f & RG_FMT_PNG)
        outs[n++] = (rg_render_out){.format = "png"};
    char err[512];
    bool drawn = sh->asgraph ? rg_render_with(rg_asdot_writer, sh->asgraph, outs, n, err, sizeof err)
                             : rg_render(sh->graph, outs, n, err, sizeof err);
    if (!drawn) {
        complain(err);
        return false;
    }
    bool ok = true;
    if (f & RG_FMT_SVG)
        ok = write_one(sh->cfg, ".svg", rg_render_writer, &outs[svg]) && ok;
    if (f & RG_FMT_PNG)
        ok = write_one(sh->cfg, ".png", rg_render_writer, &outs[n - 1]) && ok;
    if (f & RG_FMT_HTML) {
        rg_html_report rep = {sh->run, sh->graph, outs[svg].data, outs[svg].len, sh->doc,
                              true, rg_json_gap(sh->cfg)};
        ok = write_one(sh->cfg, ".html", rg_html_writer, &rep) && ok;
    }
    for (size_t i = 0; i < n; i++)
        free(outs[i].data);
    return ok;
}

/* --graph-level: auto is the AS level past RG_GRAPH_AS_TRACES traces, when
 * some address has an AS to fold into. */
static bool as_level(const rg_config *cfg, const rg_graph *g)
{
    if (cfg->graph_level != RG_GLEVEL_AUTO)
        return cfg->graph_level == RG_GLEVEL_AS;
    return g->ntraces > RG_GRAPH_AS_TRACES && rg_graph_has_as(g);
}

static bool write_graph(shared *sh)
{
    sh->graph = rg_graph_build(sh->run);
    if (!sh->graph) {
        complain("out of memory building the graph");
        return false;
    }
    if (as_level(sh->cfg, sh->graph) && !(sh->asgraph = rg_asgraph_build(sh->graph))) {
        complain("out of memory building the AS-level graph");
        return false;
    }
    bool ok = true;
    if (sh->cfg->formats & RG_FMT_DOT)
        ok = write_one(sh->cfg, ".dot", sh->asgraph ? rg_asdot_writer : rg_dot_writer,
                       sh->asgraph ? (const void *)sh->asgraph : sh->graph) && ok;
    if (sh->cfg->formats & (RG_FMT_SVG | RG_FMT_PNG | RG_FMT_HTML))
        ok = write_drawings(sh) && ok;
    return ok;
}

bool rg_outputs_write(const rg_run *run, const rg_config *cfg, bool show_table,
                      json_t *saved_options)
{
    return rg_outputs_write_watch(run, cfg, show_table, saved_options, NULL);
}

bool rg_outputs_write_watch(const rg_run *run, const rg_config *cfg, bool show_table,
                            json_t *saved_options, json_t *watch)
{
    shared sh = {run, cfg, NULL, NULL, NULL};
    bool ok = true;
    if (cfg->formats & (RG_FMT_JSON | RG_FMT_HTML)) {
        sh.doc = rg_json_build_head(run, cfg);
        if (!sh.doc) {
            complain("out of memory building the JSON document");
            return false;
        }
        if (saved_options)
            json_object_set(sh.doc, "options", saved_options);
        if (watch)
            json_object_set(sh.doc, "watch", watch);
    }
    table_ctx file_table = {run, 0}, term_table = {run, stdout_width(cfg)};
    if (cfg->formats & RG_FMT_TABLE)
        ok = write_one(cfg, ".txt", write_table, cfg->output ? &file_table : &term_table) && ok;
    if (cfg->formats & RG_FMT_JSON)
        ok = write_one(cfg, ".json", write_json, &sh) && ok;
    if (cfg->formats & RG_FMT_GRAPH)
        ok = write_graph(&sh) && ok;
    if (cfg->output && show_table)
        ok = write_table(stdout, &term_table) && ok;
    rg_asgraph_free(sh.asgraph);
    rg_graph_free(sh.graph);
    json_decref(sh.doc);
    return ok;
}

bool rg_outputs_check(const rg_config *cfg, char *err, size_t errlen)
{
    static const struct {
        unsigned bit;
        const char *ext;
    } files[] = {
        {RG_FMT_TABLE, ".txt"}, {RG_FMT_JSON, ".json"}, {RG_FMT_DOT, ".dot"},
        {RG_FMT_SVG, ".svg"},   {RG_FMT_PNG, ".png"},   {RG_FMT_HTML, ".html"},
    };
    if (!cfg->output)
        return true;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!(cfg->formats & files[i].bit))
            continue;
        size_t n = strlen(cfg->output) + strlen(files[i].ext) + 1;
        char *path = malloc(n);
        if (!path) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        snprintf(path, n, "%s%s", cfg->output, files[i].ext);
        bool ok = rg_check_writable(path, err, errlen);
        free(path);
        if (!ok)
            return false;
    }
    return true;
}
