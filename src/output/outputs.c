#include "outputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../graph/graph.h"
#include "atomic.h"
#include "dot.h"
#include "json.h"
#include "paths.h"
#include "render.h"
#include "table.h"

typedef struct json_ctx {
    const rg_run *run;
    const rg_config *cfg;
} json_ctx;

static void complain(const char *what)
{
    fprintf(stderr, "routegraph: %s\n", what);
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
    const json_ctx *j = ctx;
    return rg_json_write(out, j->run, j->cfg);
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

/* svg and png from one layout. */
static bool write_drawings(const rg_graph *g, const rg_config *cfg)
{
    rg_render_out outs[2];
    size_t n = 0;
    if (cfg->formats & RG_FMT_SVG)
        outs[n++] = (rg_render_out){.format = "svg"};
    if (cfg->formats & RG_FMT_PNG)
        outs[n++] = (rg_render_out){.format = "png"};
    char err[512];
    if (!rg_render(g, outs, n, err, sizeof err)) {
        complain(err);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        ok = write_one(cfg, strcmp(outs[i].format, "svg") == 0 ? ".svg" : ".png",
                       rg_render_writer, &outs[i]) && ok;
        free(outs[i].data);
    }
    return ok;
}

static bool write_graph(const rg_run *run, const rg_config *cfg)
{
    rg_graph *g = rg_graph_build(run);
    if (!g) {
        complain("out of memory building the graph");
        return false;
    }
    bool ok = true;
    if (cfg->formats & RG_FMT_DOT)
        ok = write_one(cfg, ".dot", rg_dot_writer, g) && ok;
    if (cfg->formats & (RG_FMT_SVG | RG_FMT_PNG))
        ok = write_drawings(g, cfg) && ok;
    rg_graph_free(g);
    return ok;
}

bool rg_outputs_write(const rg_run *run, const rg_config *cfg, bool show_table)
{
    json_ctx j = {run, cfg};
    bool ok = true;
    if (cfg->formats & RG_FMT_TABLE)
        ok = write_one(cfg, ".txt", write_table, run) && ok;
    if (cfg->formats & RG_FMT_JSON)
        ok = write_one(cfg, ".json", write_json, &j) && ok;
    if (cfg->formats & RG_FMT_GRAPH)
        ok = write_graph(run, cfg) && ok;
    if (cfg->output && show_table)
        ok = write_table(stdout, run) && ok;
    return ok;
}
