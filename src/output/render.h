/* render: lays out the route graph and draws it as SVG or PNG in-process with
 * graphviz's libgvc (dot layout; svg by the core plugin, png by cairo). No
 * subprocess, no external converter.
 *
 * The graph goes through its DOT text (output/dot.h) and agmemread, so a
 * saved .dot file renders to exactly the same picture with `dot`.
 * libgvc finds its plugins through the config file that Debian's libgvc6
 * writes at install time (libgvc6-config-update -c); nothing else is needed.
 *
 * Not thread-safe: cgraph's parser and error hook are process globals, and
 * one libgvc context is kept for the whole process (see render.c). */
#ifndef RG_RENDER_H
#define RG_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../graph/graph.h"

/* One requested output: format is "svg" or "png" (anything libgvc knows as a
 * device also works, e.g. "pdf" if the cairo plugin has it). On success data
 * is a malloc'd buffer of len bytes, followed by a NUL not counted in len,
 * that the caller free()s.
 *
 * The picture is the same for the same graph, but graphviz 2.42 orders
 * cluster subgraphs by internal pointers: the SVG may list the AS clusters
 * in another order from one run to the next, and PNG bytes may differ. */
typedef struct rg_render_out {
    const char *format;
    char *data;
    size_t len;
} rg_render_out;

/* The largest graph (as graphviz reads its DOT: nodes including the legend,
 * edges after bundling) that is laid out: dot takes seconds at this size,
 * minutes at a few times it (48,000 nodes: over 200 s). Past
 * RG_RENDER_BOUNDED_EDGES, dot's network simplex and crossing minimisation
 * run with bounded iterations (nslimit, nslimit1, mclimit). */
#define RG_RENDER_MAX_NODES 2000
#define RG_RENDER_MAX_EDGES 3000
#define RG_RENDER_BOUNDED_EDGES 500

/* Lays the graph out once and renders every requested format. False with
 * one line in err on failure (a graph over the limits above among them);
 * then no out->data is left allocated. */
bool rg_render(const rg_graph *g, rg_render_out *outs, size_t nouts, char *err,
               size_t errlen);

/* The same for any graph a DOT writer describes (output/asdot.h's AS-level
 * graph): write(f, graph) puts the whole DOT text. */
typedef bool (*rg_dot_fn)(FILE *out, const void *graph);
bool rg_render_with(rg_dot_fn write, const void *graph, rg_render_out *outs, size_t nouts,
                    char *err, size_t errlen);

/* Writes an rg_render_out's bytes; an rg_writer_fn (util/atomic.h). */
bool rg_render_writer(FILE *out, const void *render_out);

#endif
