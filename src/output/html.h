/* html: the report as one self-contained HTML file that works offline.
 *
 * Layout: a header (run time, options, packet counts), a verdict per target
 * and port (open / closed / filtered after hop N, with that hop's AS), the
 * route graph inline as SVG with a details panel (address, name, AS, RTTs,
 * traces through the node; on hover, focus or click), a hop table per trace,
 * and the AS data credit; for a watch against a baseline (a document with
 * watch.changes), a timeline of the changes after the verdicts
 * (html_changes.h). The results document is embedded for machines.
 *
 * Promises:
 * - No external resource: no URL is written anywhere except the SVG's own
 *   XML namespace attributes, and the page's Content-Security-Policy
 *   (default-src 'none') forbids loading anything; scripts run only with
 *   the per-file random nonce, so a script that slipped into the data
 *   could not run even if escaping failed.
 * - Every outside string (targets, PTR names, AS organisations, cities,
 *   resolver errors) is written as text: invalid UTF-8 and C1 controls as
 *   U+FFFD, C0 controls and DEL as their visible Control Pictures (a
 *   newline shows as U+240A), & < > " ' as entities.
 * - The results document (rg_json_build, docs/json-schema.md) is embedded
 *   in <script type="application/json" id="rg-results"> and the graph's
 *   nodes in id="rg-graph", compact, with < > & and U+2028/U+2029 written
 *   as \u escapes: no data can close the block or open a comment.
 * - The graph block holds no outside string: node names (the SVG <title>
 *   of each node: "prober", an address, "unkN", "endN"), kinds, the traces
 *   through each node with their TTLs, and "node_count" = g->nnodes (the
 *   SVG also has one "legend" node when there are traces). The page's
 *   script builds the details panel from both blocks with textContent only.
 * - The SVG is inlined from its <svg element on (XML prolog, doctype and
 *   comments before it dropped); an SVG that does not start that way or
 *   holds a <script> element is not inlined, and the write fails.
 *
 * The output is not byte-for-byte reproducible: the nonce is random. */
#ifndef RG_HTML_H
#define RG_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../graph/graph.h"
#include "../model/result.h"

struct json_t;

/* Writes the report. run, g and doc are required (g built from run, doc
 * from rg_json_build on run, or the document run was read from); svg (len
 * bytes, from rg_render) may be NULL for a report without the picture.
 * False on a write error, no memory, no randomness, or an unusable SVG. */
bool rg_html_write(FILE *out, const rg_run *run, const rg_graph *g, const char *svg,
                   size_t svglen, const struct json_t *doc);

/* The same, shaped as an rg_writer_fn (util/atomic.h). */
typedef struct rg_html_report {
    const rg_run *run;
    const rg_graph *graph;
    const char *svg; /* may be NULL */
    size_t svglen;
    const struct json_t *doc;
    /* doc is rg_json_build_head's: the traces are built one at a time
     * while the document is embedded (output/json_stream.h), with gap. */
    bool head_only;
    unsigned gap;
} rg_html_report;

bool rg_html_writer(FILE *out, const void *report);

#endif
