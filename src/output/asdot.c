#include "asdot.h"

#include <inttypes.h>
#include <string.h>

#include "dot.h"

#define FONT "Helvetica,Arial,sans-serif"
#define MAX_ORG 40
#define MAX_PENWIDTH 8

static void put_name(FILE *f, const rg_asgraph *g, size_t k)
{
    const rg_asnode *n = &g->nodes[k];
    switch (n->kind) {
    case RG_ASNODE_PROBER: fputs("\"prober\"", f); break;
    case RG_ASNODE_AS: fprintf(f, "\"AS%" PRIu32 "\"", n->asn); break;
    case RG_ASNODE_UNK: fprintf(f, "\"asunk%u\"", n->id); break;
    }
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* "12 addresses, 500 traces, 3 destinations", the counts that are not
 * zero, as an HTML-like row (none: no row). */
static void put_counts(FILE *f, const rg_asnode *n)
{
    const char *sep = "<tr><td align=\"left\" colspan=\"6\">";
    if (n->addrs) {
        fprintf(f, "%s%zu address%s", sep, n->addrs, n->addrs == 1 ? "" : "es");
        sep = ", ";
    }
    if (n->traces) {
        fprintf(f, "%s%zu trace%s", sep, n->traces, plural(n->traces));
        sep = ", ";
    }
    if (n->dests) {
        fprintf(f, "%s%zu destination%s", sep, n->dests, plural(n->dests));
        sep = ", ";
    }
    if (sep[0] == ',')
        fputs("</td></tr>", f);
}

/* One row per port: "80" then a cell per state it ended in, with counts. */
static void put_services(FILE *f, const rg_asnode *n)
{
    size_t ports = 0;
    for (size_t i = 0; i < n->nservices; i++) {
        const rg_asservice *s = &n->services[i];
        bool first = i == 0 || n->services[i - 1].port != s->port;
        if (first && ports++ == RG_ASDOT_PORTS)
            break;
        if (first)
            fprintf(f, "<tr><td align=\"right\">%u</td>", s->port);
        fprintf(f, "<td bgcolor=\"%s\">%s &#215;%zu</td>", rg_dot_state_fill(s->state),
                rg_port_state_name(s->state), s->traces);
        if (i + 1 == n->nservices || n->services[i + 1].port != s->port)
            fputs("</tr>", f);
    }
    if (ports <= RG_ASDOT_PORTS)
        return;
    size_t all = 0;
    for (size_t i = 0; i < n->nservices; i++)
        all += i == 0 || n->services[i - 1].port != n->services[i].port;
    fprintf(f, "<tr><td align=\"left\" colspan=\"6\">&#8230; %zu more ports</td></tr>",
            all - RG_ASDOT_PORTS);
}

static void put_as(FILE *f, const rg_asgraph *g, size_t k)
{
    const rg_asnode *n = &g->nodes[k];
    fputs("  ", f);
    put_name(f, g, k);
    fprintf(f, " [label=<<table border=\"0\" cellborder=\"0\" cellspacing=\"1\">"
               "<tr><td align=\"left\" colspan=\"6\"><b>AS%" PRIu32 "</b>",
            n->asn);
    if (n->org) {
        fputc(' ', f);
        rg_dot_put_text(f, n->org, true, MAX_ORG);
    }
    for (size_t i = 0; i < n->ncountries; i++) {
        fputs(i ? ", " : " (", f);
        rg_dot_put_text(f, n->countries[i], true, 0);
    }
    fputs(n->ncountries ? ")</td></tr>" : "</td></tr>", f);
    put_counts(f, n);
    put_services(f, n);
    fprintf(f, "</table>>, fillcolor=\"%s\"];\n", n->dests ? "#eef8f8" : "#f2f6fc");
}

static void put_unk(FILE *f, const rg_asgraph *g, size_t k)
{
    const rg_asnode *n = &g->nodes[k];
    fputs("  ", f);
    put_name(f, g, k);
    fputs(" [label=<<table border=\"0\" cellborder=\"0\" cellspacing=\"1\">"
          "<tr><td align=\"left\" colspan=\"6\"><b>unk</b> no AS or silent</td></tr>",
          f);
    put_counts(f, n);
    put_services(f, n);
    fputs("</table>>, style=\"rounded,dashed\"];\n", f);
}

static void put_prober(FILE *f, const rg_asgraph *g)
{
    fprintf(f, "  \"prober\" [label=<<b>prober</b><br/>%zu trace%s>, fillcolor=\"#e8e8e8\"];\n",
            g->ntraces, plural(g->ntraces));
}

/* 1 + floor(log2(traces)), at most MAX_PENWIDTH. */
static unsigned penwidth(size_t traces)
{
    unsigned w = 1;
    while (traces > 1 && w < MAX_PENWIDTH) {
        traces /= 2;
        w++;
    }
    return w;
}

static void put_edge(FILE *f, const rg_asgraph *g, const rg_asedge *e)
{
    fputs("  ", f);
    put_name(f, g, e->from);
    fputs(" -> ", f);
    put_name(f, g, e->to);
    if (e->unreached)
        fprintf(f, " [style=dotted, color=\"#888888\", label=\"%zu not reached\"];\n",
                e->traces);
    else
        fprintf(f, " [penwidth=%u, label=\"%zu\"];\n", penwidth(e->traces), e->traces);
}

bool rg_asdot_write(FILE *out, const rg_asgraph *g)
{
    fputs("digraph \"routegraph\" {\n"
          "  graph [rankdir=LR, nodesep=0.25, ranksep=0.7, fontname=\"" FONT "\", "
          "fontsize=10];\n"
          "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"" FONT
          "\", fontsize=10, margin=\"0.08,0.03\"];\n"
          "  edge [arrowsize=0.6, color=\"#4363d8\", fontname=\"" FONT "\", fontsize=9];\n",
          out);
    if (g->credit) {
        fputs("  graph [label=\"", out);
        rg_dot_put_text(out, g->credit, false, 0);
        fputs("\", labelloc=b, labeljust=r, fontsize=8, fontcolor=\"#666666\"];\n", out);
    }
    for (size_t k = 0; k < g->nnodes; k++) {
        switch (g->nodes[k].kind) {
        case RG_ASNODE_PROBER: put_prober(out, g); break;
        case RG_ASNODE_AS: put_as(out, g, k); break;
        case RG_ASNODE_UNK: put_unk(out, g, k); break;
        }
    }
    for (size_t i = 0; i < g->nedges; i++)
        put_edge(out, g, &g->edges[i]);
    fputs("}\n", out);
    return fflush(out) == 0 && !ferror(out);
}

bool rg_asdot_writer(FILE *out, const void *asgraph)
{
    return rg_asdot_write(out, asgraph);
}
