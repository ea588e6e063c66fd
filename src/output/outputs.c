#include "outputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "../graph/graph.h"
#include "../util/atomic.h"
#include "dot.h"
#include "html.h"
#include "json.h"
#include "paths.h"
#include "render.h"
#include "table.h"
#include "text.h"

/* What the formats share: the JSON document (JSON and HTML) and the graph
 * with its SVG (DOT, SVG, PNG and HTML), each made once. */
typedef struct shared {
    const rg_run *run;
    const rg_config *cfg;
    json_t *doc;
    rg_graph *graph;
} shared;

static void complain(const char *what)
{
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, what); /* it may quote a path */
    fputc('\n', stderr);
}

/* The classic table, then the AS-path view when the run was annotated. */
static bool write_table(FILE *out, const void *ctx)
{
    const rg_run *run = ctx;
    if (!rg_table_write(out, run))
        return false;
    return !rg_paths_wanted(run) || rg_paths_write(out, run);
}

static bool write_json(FILE *out, const void *ctx)
{
    int rc = json_dumpf(ctx, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    return rc == 0 && fputc('\n', out) != EOF;
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
    if (!rg_render(sh->graph, outs, n, err, sizeof err)) {
        complain(err);
        return false;
    }
    bool ok = true;
    if (f & RG_FMT_SVG)
        ok = write_one(sh->cfg, ".svg", rg_render_writer, &outs[svg]) && ok;
    if (f & RG_FMT_PNG)
        ok = write_one(sh->cfg, ".png", rg_render_writer, &outs[n - 1]) && ok;
    if (f & RG_FMT_HTML) {
        rg_html_report rep = {sh->run, sh->graph, outs[svg].data, outs[svg].len, sh->doc};
        ok = write_one(sh->cfg, ".html", rg_html_writer, &rep) && ok;
    }
    for (size_t i = 0; i < n; i++)
        free(outs[i].data);
    return ok;
}

static bool write_graph(shared *sh)
{
    sh->graph = rg_graph_build(sh->run);
    if (!sh->graph) {
        complain("out of memory building the graph");
        return false;
    }
    bool ok = true;
    if (sh->cfg->formats & RG_FMT_DOT)
        ok = write_one(sh->cfg, ".dot", rg_dot_writer, sh->graph) && ok;
    if (sh->cfg->formats & (RG_FMT_SVG | RG_FMT_PNG | RG_FMT_HTML))
        ok = write_drawings(sh) && ok;
    return ok;
}

bool rg_outputs_write(const rg_run *run, const rg_config *cfg, bool show_table,
                      json_t *saved_options)
{
    shared sh = {run, cfg, NULL, NULL};
    bool ok = true;
    if (cfg->formats & (RG_FMT_JSON | RG_FMT_HTML)) {
        sh.doc = rg_json_build(run, cfg);
        if (!sh.doc) {
            complain("out of memory building the JSON document");
            return false;
        }
        if (saved_options)
            json_object_set(sh.doc, "options", saved_options);
    }
    if (cfg->formats & RG_FMT_TABLE)
        ok = write_one(cfg, ".txt", write_table, run) && ok;
    if (cfg->formats & RG_FMT_JSON)
        ok = write_one(cfg, ".json", write_json, sh.doc) && ok;
    if (cfg->formats & RG_FMT_GRAPH)
        ok = write_graph(&sh) && ok;
    if (cfg->output && show_table)
        ok = write_table(stdout, run) && ok;
    rg_graph_free(sh.graph);
    json_decref(sh.doc);
    return ok;
}
