/* dot: the route graph as Graphviz DOT text, the one description that the
 * renderers (render.c) lay out, so a .dot file and the SVG/PNG made from it
 * always agree.
 *
 * Promises:
 * - The text parses with cgraph for any input: every string that came from
 *   outside (targets, PTR names, AS organisations, cities) is written as
 *   valid UTF-8 with control characters and code points XML forbids
 *   replaced by U+FFFD, and is escaped for where it lands: DOT quoted
 *   strings (quote and backslash, so no \N-style expansion either) or
 *   HTML-like labels (& < > " ' as entities, and the backslash doubled, as
 *   graphviz expands \N there too). Long names are shortened.
 * - Node names are only generated identifiers: "prober", an address,
 *   "unkN", "endN", "legend" (the SVG <title> of each node).
 * - One edge per trace and hop, in the trace's colour and style; where
 *   RG_DOT_BUNDLE or more traces take the same hop, one edge of parallel
 *   lines in their colours instead, so 64 traces stay readable.
 * - Byte-for-byte deterministic for a given graph (golden tests). */
#ifndef RG_DOT_H
#define RG_DOT_H

#include <stdbool.h>
#include <stdio.h>

#include "../graph/graph.h"

#define RG_DOT_NCOLORS 32 /* trace colours; then each colour again in the next edge style */
#define RG_DOT_NSTYLES 4  /* solid, dashed, dotted, bold: 128 distinct traces */
#define RG_DOT_BUNDLE 8   /* traces over one hop drawn as one multi-line edge */

/* False on a write error. */
bool rg_dot_write(FILE *out, const rg_graph *g);

/* The same, shaped as an rg_writer_fn (util/atomic.h); ctx is the graph. */
bool rg_dot_writer(FILE *out, const void *graph);

/* The name node k has in the DOT source, which graphviz writes as the SVG
 * node's <title>: the HTML report's script finds a node's details by it, so
 * both writers take it from here. Fits RG_DOT_NODE_NAMELEN bytes. */
#define RG_DOT_NODE_NAMELEN (RG_ADDR_STRLEN + 16)
const char *rg_dot_node_name(const rg_graph *g, size_t k, char *buf, size_t len);

/* Writes an outside string escaped as this module escapes every label:
 * for a DOT quoted string (html false) or an HTML-like label (html true),
 * at most max characters (0 = all), "…" when cut. For the other DOT
 * writers (output/asdot.h). */
void rg_dot_put_text(FILE *f, const char *s, bool html, size_t max);

/* The fill colour ("#rrggbb") a port state's cells have. */
const char *rg_dot_state_fill(enum rg_port_state s);

/* Trace i's edge colour ("#rrggbb") and style ("solid", ...). */
const char *rg_dot_trace_color(size_t i);
const char *rg_dot_trace_style(size_t i);

#endif
