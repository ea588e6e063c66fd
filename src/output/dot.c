#include "dot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/utf8.h"

#define FONT "Helvetica,Arial,sans-serif"
#define RED_BORDER "#d62728"
#define REWRITE_BORDER "#ff7f0e" /* a hop whose quotes show a middlebox's change */
#define SPLIT_PENWIDTH "2.5"
#define CELLS_PER_ROW 6

/* Longest shown text, in characters: a hostile 4 KB PTR name must not turn
 * one node into a wall. */
#define MAX_NAME 48
#define MAX_ORG 40
#define MAX_CITY 32

/* Distinct on white and from each other: 30 traces get 30 colours before
 * any repeats; then cycled through the edge styles, so 128 traces never
 * share a colour and a style. */
static const char *const colors[RG_DOT_NCOLORS] = {
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#1aa7c4",
    "#f032e6", "#9a6324", "#800000", "#808000", "#000075", "#000000",
    "#469990", "#d4a000", "#7f7fff", "#ff6f91", "#2e7d32", "#b0651e",
    "#5e35b1", "#c2185b", "#00838f", "#827717", "#6d4c41", "#ad1457",
    "#283593", "#ef6c00", "#558b2f", "#8e24aa", "#00695c", "#757575",
    "#bf360c", "#1565c0",
};
static const char *const styles[RG_DOT_NSTYLES] = {"solid", "dashed", "dotted", "bold"};
/* How each style looks in the legend, drawn in the trace's colour. */
static const char *const style_glyphs[RG_DOT_NSTYLES] = {
    "\xe2\x94\x81\xe2\x94\x81\xe2\x94\x81\xe2\x94\x81\xe2\x94\x81", /* ━━━━━ */
    "\xe2\x94\x81 \xe2\x94\x81 \xe2\x94\x81",                       /* ━ ━ ━ */
    "\xc2\xb7 \xc2\xb7 \xc2\xb7 \xc2\xb7 \xc2\xb7",                 /* · · · · · */
    "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88", /* █████ */
};
static const char *const cluster_fills[] = {"#f2f6fc", "#f5f9ef", "#fcf5ee", "#f7f0fa",
                                            "#eef8f8", "#fafaee"};

const char *rg_dot_trace_color(size_t i)
{
    return colors[i % RG_DOT_NCOLORS];
}

const char *rg_dot_trace_style(size_t i)
{
    return styles[(i / RG_DOT_NCOLORS) % RG_DOT_NSTYLES];
}

const char *rg_dot_state_fill(enum rg_port_state s)
{
    switch (s) {
    case RG_PORT_OPEN: return "#b6e3a8";
    case RG_PORT_CLOSED: return "#f4a6a6";
    case RG_PORT_FILTERED: return "#ffd98a";
    case RG_PORT_UNREACHABLE: return "#c9a0dc";
    case RG_PORT_UNKNOWN: break;
    }
    return "#eeeeee";
}

/* ---- escaping ---- */

enum esc { ESC_DOT, ESC_HTML };

/* Control characters (C0, DEL, C1) and the two code points XML 1.0 refuses
 * would break a label, a line, or the SVG; they are never shown. */
static bool printable(uint32_t cp)
{
    return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f) && cp != 0xfffe &&
           cp != 0xffff;
}

/* Graphviz expands \N, \G, \L ... in both kinds of label, HTML-like ones
 * after their entities are decoded, so a backslash is always doubled. It
 * decodes entities in quoted labels too (&#x1b; would become a real ESC,
 * and reach the SVG as an invalid character reference), so '&' is always
 * written as &amp;. */
static void put_char(FILE *f, const unsigned char *s, size_t n, uint32_t cp, enum esc how)
{
    if (cp == '\\' || (how == ESC_DOT && cp == '"')) {
        fputc('\\', f);
        fputc((int)cp, f);
        return;
    }
    if (how == ESC_DOT && cp == '&') {
        fputs("&amp;", f);
        return;
    }
    if (how == ESC_HTML) {
        const char *ent = cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;"
                        : cp == '"' ? "&quot;" : cp == '\'' ? "&#39;" : NULL;
        if (ent) {
            fputs(ent, f);
            return;
        }
    }
    fwrite(s, 1, n, f);
}

/* Writes s escaped for a DOT quoted string or an HTML-like label, at most
 * max characters (0 = all) and "…" when it was cut. */
static void put_text(FILE *f, const char *s, enum esc how, size_t max)
{
    size_t shown = 0;
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        if (max && shown == max) {
            fputs("\xe2\x80\xa6", f);
            return;
        }
        uint32_t cp = 0;
        size_t n = rg_utf8_char(p, &cp);
        if (n && printable(cp))
            put_char(f, p, n, cp, how);
        else
            fputs("\xef\xbf\xbd", f); /* U+FFFD */
        p += n ? n : 1;
        shown++;
    }
}

void rg_dot_put_text(FILE *f, const char *s, bool html, size_t max)
{
    put_text(f, s, html ? ESC_HTML : ESC_DOT, max);
}

static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    put_text(f, s, ESC_DOT, 0);
    fputc('"', f);
}

/* ---- names and small texts ---- */

const char *rg_dot_node_name(const rg_graph *g, size_t k, char *buf, size_t len)
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

static void put_node_name(FILE *f, const rg_graph *g, size_t k)
{
    char buf[RG_DOT_NODE_NAMELEN];
    put_quoted(f, rg_dot_node_name(g, k, buf, sizeof buf));
}

/* Microseconds as a few significant digits of milliseconds, truncated. */
static void put_rtt(FILE *f, uint32_t us)
{
    if (us < 10000)
        fprintf(f, "%u.%02u ms", us / 1000, us % 1000 / 10);
    else if (us < 100000)
        fprintf(f, "%u.%u ms", us / 1000, us % 1000 / 100);
    else
        fprintf(f, "%u ms", us / 1000);
}

static const char *service_name(uint16_t port)
{
    switch (port) {
    case 21: return "ftp";
    case 22: return "ssh";
    case 23: return "telnet";
    case 25: return "smtp";
    case 53: return "domain";
    case 80: return "http";
    case 110: return "pop3";
    case 143: return "imap";
    case 443: return "https";
    case 465: return "smtps";
    case 587: return "submission";
    case 853: return "domain-s";
    case 993: return "imaps";
    case 995: return "pop3s";
    case 3306: return "mysql";
    case 5432: return "postgresql";
    case 8080: return "http-alt";
    default: return NULL;
    }
}

/* "name" or "[v6]" for a target written as an IPv6 literal, then ":port". */
static void put_target_port(FILE *f, const rg_gtrace *t, enum esc how)
{
    bool brackets = strchr(t->target, ':') != NULL;
    if (brackets)
        fputc('[', f);
    put_text(f, t->target, how, MAX_NAME);
    fprintf(f, "%s:%s", brackets ? "]" : "", t->port_text);
}

/* ---- nodes ---- */

/* What middleboxes before this hop changed in the probes it quoted:
 * "rewritten: dscp, mss"; with after, what errors that were not answers
 * showed rewritten past it: "rewritten after it: src" (our own words,
 * nothing from outside). */
static void put_rewrites(FILE *f, uint16_t bits, bool after)
{
    const char *sep = after ? "\\nrewritten after it: " : "\\nrewritten: ";
    for (unsigned i = 0; i < RG_QC_KINDS; i++) {
        if (!(bits & (1u << i)))
            continue;
        fprintf(f, "%s%s", sep, rg_quote_change_name(1u << i));
        sep = ", ";
    }
}

static void put_root(FILE *f, const rg_graph *g)
{
    fputs("  \"prober\" [label=\"prober", f);
    for (size_t i = 0; i < g->nsources; i++) {
        char buf[RG_ADDR_STRLEN];
        fputs("\\n", f);
        put_text(f, rg_addr_format(&g->sources[i], buf, sizeof buf), ESC_DOT, 0);
    }
    put_rewrites(f, g->nodes[0].rewritten_after, true);
    fputs("\", shape=box, style=\"rounded,filled,bold\", fillcolor=\"#dde6f7\"", f);
    if (g->nodes[0].nsplits)
        fprintf(f, ", color=\"%s\", penwidth=%s", RED_BORDER, SPLIT_PENWIDTH);
    else if (g->nodes[0].rewritten_after)
        fprintf(f, ", color=\"%s\", penwidth=%s", REWRITE_BORDER, SPLIT_PENWIDTH);
    fputs("];\n", f);
}

/* "AS64500 Org; City, CC" for a tooltip; nothing when nothing is known. */
static void put_whereabouts(FILE *f, const rg_gnode *n)
{
    if (!n->asn && !n->city && !n->country[0])
        return;
    fputs(", tooltip=\"", f);
    if (n->asn) {
        fprintf(f, "AS%u", n->asn);
        if (n->as_org) {
            fputc(' ', f);
            put_text(f, n->as_org, ESC_DOT, MAX_ORG);
        }
        if (n->city || n->country[0])
            fputs("; ", f);
    }
    if (n->city) {
        put_text(f, n->city, ESC_DOT, MAX_CITY);
        if (n->country[0])
            fputs(", ", f);
    }
    put_text(f, n->country, ESC_DOT, 0);
    fputc('"', f);
}

/* The hop's ICMP extensions on its label: the MPLS stack top first, then
 * each interface it named (role, name escaped; its ifIndex when unnamed). */
static void put_extensions(FILE *f, const rg_icmpext *e)
{
    static const char *const role[] = {"in", "sub-ip", "out", "next-hop"};
    for (unsigned i = 0; i < e->nlabels; i++)
        fprintf(f, "%s%lu", i ? ", " : "\\nMPLS ", (unsigned long)e->labels[i].label);
    for (unsigned i = 0; i < e->nifs; i++) {
        const rg_ifinfo *x = &e->ifs[i];
        if (!(x->has & (RG_IF_HAS_NAME | RG_IF_HAS_IFINDEX)))
            continue;
        fprintf(f, "\\n%s ", role[x->role & 3]);
        if (x->has & RG_IF_HAS_NAME)
            put_text(f, x->name, ESC_DOT, MAX_NAME);
        else
            fprintf(f, "ifIndex %lu", (unsigned long)x->ifindex);
    }
}

static void put_hop(FILE *f, const rg_graph *g, size_t k)
{
    const rg_gnode *n = &g->nodes[k];
    char buf[RG_ADDR_STRLEN];
    fputs("  ", f);
    put_node_name(f, g, k);
    fputs(" [label=\"", f);
    put_text(f, rg_addr_format(&n->addr, buf, sizeof buf), ESC_DOT, 0);
    if (n->ptr) {
        fputs("\\n", f);
        put_text(f, n->ptr, ESC_DOT, MAX_NAME);
    }
    if (n->ext)
        put_extensions(f, n->ext);
    if (n->nrtt) {
        fputs("\\n", f);
        put_rtt(f, n->median_rtt_us);
    }
    put_rewrites(f, n->rewrites, false);
    put_rewrites(f, n->rewritten_after, true);
    fputc('"', f);
    put_whereabouts(f, n);
    if (n->nsplits)
        fprintf(f, ", color=\"%s\", penwidth=%s", RED_BORDER, SPLIT_PENWIDTH);
    else if (n->rewrites || n->rewritten_after)
        fprintf(f, ", color=\"%s\", penwidth=%s", REWRITE_BORDER, SPLIT_PENWIDTH);
    fputs("];\n", f);
}

static void put_port_cell(FILE *f, const rg_gport *p)
{
    const char *svc = p->tcp ? service_name(p->port) : NULL;
    fprintf(f, "<td bgcolor=\"%s\">", rg_dot_state_fill(p->state));
    if (svc)
        fprintf(f, "%s %s</td>", svc, p->code);
    else
        fprintf(f, "%s %s</td>", p->port_text, p->code);
}

/* Whether the reverse name is one of the target names already shown (a
 * trailing dot and letter case aside): it is not written twice. */
static bool names_have(const rg_gnode *n, const char *ptr)
{
    size_t lp = strlen(ptr);
    lp -= lp > 0 && ptr[lp - 1] == '.';
    for (size_t i = 0; i < n->nnames; i++) {
        size_t ln = strlen(n->names[i]);
        ln -= ln > 0 && n->names[i][ln - 1] == '.';
        if (ln == lp && strncasecmp(n->names[i], ptr, lp) == 0)
            return true;
    }
    return false;
}

static void put_dest_header(FILE *f, const rg_gnode *n, size_t width)
{
    char buf[RG_ADDR_STRLEN];
    fprintf(f, "<tr><td colspan=\"%zu\"><b>", width);
    put_text(f, rg_addr_format(&n->addr, buf, sizeof buf), ESC_HTML, 0);
    fputs("</b>", f);
    for (size_t i = 0; i < n->nnames; i++) {
        fputs("<br/>", f);
        put_text(f, n->names[i], ESC_HTML, MAX_NAME);
    }
    if (n->more_names)
        fprintf(f, "<br/>(+%zu more)", n->more_names);
    if (n->ptr && !names_have(n, n->ptr)) {
        fputs("<br/><i>", f);
        put_text(f, n->ptr, ESC_HTML, MAX_NAME);
        fputs("</i>", f);
    }
    if (n->nrtt) {
        fputs("<br/>", f);
        put_rtt(f, n->median_rtt_us);
    }
    fputs("</td></tr>", f);
}

/* A destination is a record of its probed ports, one coloured cell each. */
static void put_dest(FILE *f, const rg_graph *g, size_t k)
{
    const rg_gnode *n = &g->nodes[k];
    size_t width = n->nports < CELLS_PER_ROW ? n->nports : CELLS_PER_ROW;
    fputs("  ", f);
    put_node_name(f, g, k);
    fputs(" [shape=none, margin=0", f);
    put_whereabouts(f, n);
    fputs(", label=<<table border=\"", f);
    if (n->nsplits)
        fprintf(f, "2\" color=\"%s\"", RED_BORDER);
    else
        fputs("0\"", f);
    fputs(" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\" bgcolor=\"white\">", f);
    put_dest_header(f, n, width);
    for (size_t i = 0; i < n->nports; i++) {
        if (i % CELLS_PER_ROW == 0)
            fputs("<tr>", f);
        put_port_cell(f, &n->ports[i]);
        if (i % CELLS_PER_ROW == CELLS_PER_ROW - 1 || i + 1 == n->nports)
            fputs("</tr>", f);
    }
    fputs("</table>>];\n", f);
}

static bool any_rewrites(const rg_graph *g)
{
    for (size_t k = 0; k < g->nnodes; k++)
        if (g->nodes[k].rewrites || g->nodes[k].rewritten_after)
            return true;
    return false;
}

static bool any_rate_limited(const rg_graph *g)
{
    for (size_t k = 0; k < g->nnodes; k++)
        if (g->nodes[k].kind == RG_GNODE_UNK && g->nodes[k].rate_limited)
            return true;
    return false;
}

static bool any_inferred(const rg_graph *g)
{
    for (size_t i = 0; i < g->nedges; i++)
        if (g->edges[i].inferred)
            return true;
    return false;
}

static void put_unk(FILE *f, const rg_graph *g, size_t k)
{
    fputs("  ", f);
    put_node_name(f, g, k);
    /* A rate-limited router answered other probes: it is there, only
     * rationed; a silent one never answered anyone. */
    if (g->nodes[k].rate_limited)
        fputs(" [label=\"unk\\nrate-limited\", style=\"rounded,dotted\", fontcolor=\"#8a6d00\"", f);
    else
        fputs(" [label=\"unk\", style=\"rounded,dashed\", fontcolor=\"#666666\"", f);
    if (g->nodes[k].nsplits)
        fprintf(f, ", color=\"%s\", penwidth=%s", RED_BORDER, SPLIT_PENWIDTH);
    fputs("];\n", f);
}

#define END_TRACES_SHOWN 3

/* An end names the traces that ended there ("no reply\n198.19.16.9:443"),
 * so that at 30 traces one need not follow a colour to learn whose it is. */
static void put_end(FILE *f, const rg_graph *g, size_t k)
{
    const rg_gnode *n = &g->nodes[k];
    fputs("  ", f);
    put_node_name(f, g, k);
    fprintf(f, " [label=\"%s", n->reason == RG_GEND_UNREACHABLE ? "unreachable" : "no reply");
    size_t shown = 0, more = 0;
    for (size_t e = 0; e < g->nedges; e++) {
        if (g->edges[e].to != k)
            continue;
        if (shown == END_TRACES_SHOWN) {
            more++;
            continue;
        }
        fputs("\\n", f);
        put_target_port(f, &g->traces[g->edges[e].trace], ESC_DOT);
        shown++;
    }
    if (more)
        fprintf(f, "\\n(+%zu more)", more);
    fputs("\", shape=octagon, style=filled, fillcolor=\"#ff9e9e\", "
          "fontsize=9, margin=\"0.04,0.02\"];\n", f);
}

static void put_node(FILE *f, const rg_graph *g, size_t k)
{
    const rg_gnode *n = &g->nodes[k];
    switch (n->kind) {
    case RG_GNODE_ROOT: put_root(f, g); break;
    case RG_GNODE_HOST:
        if (n->nports)
            put_dest(f, g, k);
        else
            put_hop(f, g, k);
        break;
    case RG_GNODE_UNK: put_unk(f, g, k); break;
    case RG_GNODE_END: put_end(f, g, k); break;
    }
}

/* ---- clusters ---- */

static void put_cluster(FILE *f, const rg_graph *g, size_t c)
{
    const rg_gcluster *cl = &g->clusters[c];
    fprintf(f, "  subgraph \"cluster_as%u\" {\n    graph [label=\"AS%u", cl->asn, cl->asn);
    if (cl->org) {
        fputc(' ', f);
        put_text(f, cl->org, ESC_DOT, MAX_ORG);
    }
    for (size_t i = 0; i < cl->ncountries; i++) {
        fputs(i ? ", " : " (", f);
        put_text(f, cl->countries[i], ESC_DOT, 0);
    }
    if (cl->ncountries)
        fputs(cl->more_countries ? ", ...)" : ")", f);
    fprintf(f, "\", style=\"rounded,filled\", fillcolor=\"%s\", color=\"#9aa5b1\", "
               "labelloc=t, labeljust=l, fontsize=10, fontcolor=black];\n",
            cluster_fills[c % (sizeof cluster_fills / sizeof cluster_fills[0])]);
    for (size_t k = 0; k < g->nnodes; k++) {
        if (g->nodes[k].cluster != c)
            continue;
        fputs("  ", f);
        put_node(f, g, k);
    }
    fputs("  }\n", f);
}

/* ---- edges ---- */

static void put_edge_ends(FILE *f, const rg_graph *g, const rg_gedge *e)
{
    fputs("  ", f);
    put_node_name(f, g, e->from);
    fputs(" -> ", f);
    put_node_name(f, g, e->to);
}

/* Only where one split happens: several would print over each other, and
 * the legend lists them all anyway. */
static void put_split_label(FILE *f, const rg_graph *g, const rg_gedge *e)
{
    /* A taillabel, not a label: graphviz 2.42 double-frees the label nodes
     * of edges between clusters in dot_cleanup; and the tail is the split. */
    fprintf(f, ", taillabel=\":%u\", labelfontcolor=\"%s\", labelfontsize=9",
            g->traces[e->trace].port, rg_dot_trace_color(e->trace));
}

/* The first multipath edge out of a node MDA found two or more branches
 * behind at one TTL: it carries the confidence reached, once per fork. */
static bool first_fork_edge(const rg_graph *g, const rg_gedge *e)
{
    size_t n = 0;
    const rg_gedge *first = NULL;
    for (size_t i = 0; i < g->nedges; i++) {
        const rg_gedge *x = &g->edges[i];
        if (x->from != e->from || x->ttl != e->ttl || x->trace != e->trace)
            continue;
        n++;
        if (!first && x->multipath)
            first = x;
    }
    return n >= 2 && first == e;
}

static void put_edge(FILE *f, const rg_graph *g, const rg_gedge *e)
{
    put_edge_ends(f, g, e);
    fprintf(f, " [color=\"%s\", style=%s, tooltip=\"", rg_dot_trace_color(e->trace),
            e->inferred ? "dotted" : e->multipath ? "dashed" : rg_dot_trace_style(e->trace));
    put_target_port(f, &g->traces[e->trace], ESC_DOT);
    if (e->ttl)
        fprintf(f, " TTL %u%s", e->ttl, e->inferred ? " (inferred from other traces)" : "");
    if (e->multipath)
        fprintf(f, " multipath branch, MDA %u%%: %s", e->mp_confidence,
                e->mp_rule_met ? "stopping rule met" : "probe budget reached first");
    fputc('"', f);
    if (e->split && g->nodes[e->from].nsplits == 1)
        put_split_label(f, g, e);
    else if (e->multipath && first_fork_edge(g, e))
        fprintf(f, ", taillabel=\"MDA %u%%%s\", labelfontsize=9", e->mp_confidence,
                e->mp_rule_met ? "" : "?");
    fputs("];\n", f);
}

/* Many traces over one hop would fan out into a wall of arcs: from
 * RG_DOT_BUNDLE traces on, they share one edge drawn as parallel lines,
 * one per colour among them. */
static void put_bundle(FILE *f, const rg_graph *g, const rg_gedge *const *members, size_t n)
{
    bool used[RG_DOT_NCOLORS] = {false};
    const rg_gedge *split = NULL;
    put_edge_ends(f, g, members[0]);
    fputs(" [color=\"", f);
    for (size_t i = 0, shown = 0; i < n; i++) {
        size_t c = members[i]->trace % RG_DOT_NCOLORS;
        if (!split && members[i]->split && g->nodes[members[i]->from].nsplits == 1)
            split = members[i];
        if (used[c])
            continue;
        used[c] = true;
        fprintf(f, "%s%s", shown++ ? ":" : "", colors[c]);
    }
    bool inferred = true;
    for (size_t i = 0; i < n; i++)
        inferred &= members[i]->inferred;
    fprintf(f, "\", penwidth=1, tooltip=\"%zu traces%s\"%s", n,
            inferred ? ", inferred from other traces" : "", inferred ? ", style=dotted" : "");
    if (split)
        put_split_label(f, g, split);
    fputs("];\n", f);
}

static int edge_ptr_cmp(const void *a, const void *b)
{
    const rg_gedge *x = *(const rg_gedge *const *)a, *y = *(const rg_gedge *const *)b;
    if (x->from != y->from)
        return (x->from > y->from) - (x->from < y->from);
    if (x->to != y->to)
        return (x->to > y->to) - (x->to < y->to);
    return (x > y) - (x < y);
}

/* Edges in trace order; a bundle where its first member would be. */
static bool put_edges(FILE *f, const rg_graph *g)
{
    const rg_gedge **sorted = malloc((g->nedges + 1) * sizeof *sorted);
    size_t *group = malloc((g->nedges + 1) * sizeof *group); /* edge -> start in sorted */
    size_t *size = malloc((g->nedges + 1) * sizeof *size);
    bool ok = sorted && group && size;
    for (size_t i = 0; ok && i < g->nedges; i++)
        sorted[i] = &g->edges[i];
    if (ok)
        qsort(sorted, g->nedges, sizeof *sorted, edge_ptr_cmp);
    for (size_t k = 0; ok && k < g->nedges;) {
        size_t end = k + 1;
        while (end < g->nedges && sorted[end]->from == sorted[k]->from &&
               sorted[end]->to == sorted[k]->to)
            end++;
        for (size_t j = k; j < end; j++) {
            group[sorted[j] - g->edges] = k;
            size[sorted[j] - g->edges] = end - k;
        }
        k = end;
    }
    for (size_t i = 0; ok && i < g->nedges; i++) {
        if (size[i] < RG_DOT_BUNDLE)
            put_edge(f, g, &g->edges[i]);
        else if (sorted[group[i]] == &g->edges[i])
            put_bundle(f, g, sorted + group[i], size[i]);
    }
    free(sorted);
    free(group);
    free(size);
    return ok;
}

/* The path past an end node is unknown: a faint line to the destination,
 * which only pulls the destination into place when no trace reached it. */
static void put_end_link(FILE *f, const rg_graph *g, size_t k)
{
    fputs("  ", f);
    put_node_name(f, g, k);
    fputs(" -> ", f);
    put_node_name(f, g, g->nodes[k].dest);
    fprintf(f, " [style=dotted, color=\"#aaaaaa\", arrowhead=none, tooltip=\"path unknown\"%s];\n",
            g->nodes[g->nodes[k].dest].reached ? ", constraint=false" : "");
}

/* ---- legend ---- */

static void put_legend_trace(FILE *f, const rg_graph *g, size_t i)
{
    const rg_gtrace *t = &g->traces[i];
    char buf[RG_ADDR_STRLEN];
    fprintf(f, "<tr><td align=\"left\"><font color=\"%s\">%s</font> ",
            rg_dot_trace_color(i), style_glyphs[(i / RG_DOT_NCOLORS) % RG_DOT_NSTYLES]);
    put_target_port(f, t, ESC_HTML);
    rg_addr_format(&t->dst, buf, sizeof buf);
    if (strcmp(buf, t->target) != 0) {
        fputs(" <font color=\"#666666\">", f);
        put_text(f, buf, ESC_HTML, 0);
        fputs("</font>", f);
    }
    fprintf(f, "</td><td align=\"left\" bgcolor=\"%s\">%s", rg_dot_state_fill(t->state),
            rg_port_state_name(t->state));
    const char *why = rg_unknown_why_name((enum rg_unknown_why)t->unknown_why);
    if (t->state == RG_PORT_UNKNOWN && why)
        fprintf(f, " (%s)", why); /* what could not be settled */
    if (!t->reached && t->end != RG_GRAPH_NONE) {
        if (t->last == 0) {
            fputs(", nothing answered", f);
        } else {
            fputs(", last reply ", f);
            put_text(f, rg_dot_node_name(g, t->last, buf, sizeof buf), ESC_HTML, 0);
        }
    }
    fputs("</td></tr>", f);
}

/* "port 443" or "ports 80, 8080": the split note reads as a sentence. */
static void put_port_list(FILE *f, const rg_graph *g, const size_t *traces, size_t n)
{
    fputs(n == 1 ? "port " : "ports ", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%u", i ? ", " : "", g->traces[traces[i]].port);
}

static void put_legend_split(FILE *f, const rg_graph *g, const rg_gsplit *s)
{
    char buf[RG_DOT_NODE_NAMELEN];
    fputs("<tr><td align=\"left\">", f);
    put_text(f, rg_dot_node_name(g, s->dest, buf, sizeof buf), ESC_HTML, 0);
    fputs(": ", f);
    put_port_list(f, g, s->other_traces, s->nother);
    fputs(" leaves the path of ", f);
    put_port_list(f, g, s->first_traces, s->nfirst);
    fputs(" after ", f);
    put_text(f, rg_dot_node_name(g, s->at, buf, sizeof buf), ESC_HTML, 0);
    fprintf(f, " (at TTL %u)</td></tr>", s->ttl);
}

/* unknown and unreachable get their swatch only when a port has them. */
static bool any_state(const rg_graph *g, enum rg_port_state s)
{
    for (size_t i = 0; i < g->ntraces; i++)
        if (g->traces[i].state == s)
            return true;
    return false;
}

/* One column of sections; the traces in a table of their own, so the wide
 * rows below do not spread its columns apart. */
static void put_legend(FILE *f, const rg_graph *g)
{
    fputs("  \"legend\" [shape=none, margin=0, label=<<table border=\"1\" cellborder=\"0\" "
          "cellspacing=\"0\" cellpadding=\"2\" color=\"#9aa5b1\" bgcolor=\"white\">"
          "<tr><td align=\"left\"><b>traces</b></td></tr><tr><td align=\"left\">"
          "<table border=\"0\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"1\">",
          f);
    for (size_t i = 0; i < g->ntraces; i++)
        put_legend_trace(f, g, i);
    fprintf(f, "</table></td></tr><tr><td align=\"left\"><b>ports</b> "
               "<font color=\"#444444\">SA open, RA closed, !N !H !P !X !A unreachable "
               "(as traceroute marks them), - no answer</font>"
               "</td></tr><tr><td align=\"left\">"
               "<table border=\"0\" cellborder=\"1\" cellspacing=\"2\" cellpadding=\"2\"><tr>"
               "<td bgcolor=\"%s\">open</td><td bgcolor=\"%s\">closed</td>"
               "<td bgcolor=\"%s\">filtered</td>",
            rg_dot_state_fill(RG_PORT_OPEN), rg_dot_state_fill(RG_PORT_CLOSED), rg_dot_state_fill(RG_PORT_FILTERED));
    if (any_state(g, RG_PORT_UNREACHABLE))
        fprintf(f, "<td bgcolor=\"%s\">unreachable</td>", rg_dot_state_fill(RG_PORT_UNREACHABLE));
    if (any_state(g, RG_PORT_UNKNOWN))
        fprintf(f, "<td bgcolor=\"%s\">unknown</td>", rg_dot_state_fill(RG_PORT_UNKNOWN));
    fputs("</tr></table></td></tr>", f);
    fputs("<tr><td align=\"left\">octagon: a trace ended there without "
          "reaching its destination; unk: silent hop</td></tr>",
          f);
    if (any_rate_limited(g))
        fputs("<tr><td align=\"left\">unk rate-limited (dotted): a router that "
              "answered other probes, not these</td></tr>",
              f);
    if (any_inferred(g))
        fputs("<tr><td align=\"left\">dotted edge: hop inferred from other traces, "
              "not measured on this one</td></tr>",
              f);
    if (any_rewrites(g))
        fprintf(f, "<tr><td align=\"left\"><b>rewritten</b> <font color=\"%s\">(orange "
                   "border)</font>: the hop's quotes of our probes first show a field a "
                   "middlebox changed; <b>rewritten after it</b>: ICMP errors from further on "
                   "quote it changed past this hop, not used as answers</td></tr>",
                REWRITE_BORDER);
    if (g->nsplits)
        fprintf(f, "<tr><td align=\"left\"><b>paths split</b> "
                   "<font color=\"%s\">(red border)</font></td></tr>",
                RED_BORDER);
    for (size_t i = 0; i < g->nsplits; i++)
        put_legend_split(f, g, &g->splits[i]);
    fputs("</table>>];\n", f);
}

/* ---- the document ---- */

bool rg_dot_write(FILE *out, const rg_graph *g)
{
    fputs("digraph \"routegraph\" {\n"
          "  graph [rankdir=LR, nodesep=0.18, ranksep=0.5, outputorder=edgesfirst, "
          "fontname=\"" FONT "\", fontsize=10];\n"
          "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"" FONT
          "\", fontsize=10, margin=\"0.08,0.03\", height=0.3];\n"
          "  edge [arrowsize=0.6, penwidth=1.3, fontname=\"" FONT "\"];\n",
          out);
    if (g->credit) { /* the AS names shown come from data that asks for it */
        fputs("  graph [label=\"", out);
        put_text(out, g->credit, ESC_DOT, 0);
        fputs("\", labelloc=b, labeljust=r, fontsize=8, fontcolor=\"#666666\"];\n", out);
    }
    for (size_t c = 0; c < g->nclusters; c++)
        put_cluster(out, g, c);
    for (size_t k = 0; k < g->nnodes; k++)
        if (g->nodes[k].cluster == RG_GRAPH_NONE)
            put_node(out, g, k);
    bool ok = put_edges(out, g);
    for (size_t k = 0; k < g->nnodes; k++)
        if (g->nodes[k].kind == RG_GNODE_END)
            put_end_link(out, g, k);
    if (g->ntraces)
        put_legend(out, g);
    fputs("}\n", out);
    return fflush(out) == 0 && !ferror(out) && ok;
}

bool rg_dot_writer(FILE *out, const void *graph)
{
    return rg_dot_write(out, graph);
}
