#include "render.h"

#include <gvc.h>
#include <stdlib.h>
#include <string.h>

#include "dot.h"
#include "svgcheck.h"

/* cgraph reports through a process-wide hook, in pieces ("Error", ": ",
 * the message); the pieces of the last report are kept for err. */
static char gv_msg[512];
static size_t gv_msg_len;

static int collect_msg(char *piece)
{
    size_t n = strlen(piece);
    if (n > sizeof gv_msg - 1 - gv_msg_len)
        n = sizeof gv_msg - 1 - gv_msg_len;
    memcpy(gv_msg + gv_msg_len, piece, n);
    gv_msg_len += n;
    gv_msg[gv_msg_len] = '\0';
    return 0;
}

/* The collected message as one line: newlines become spaces, trimmed. */
static const char *gv_message(void)
{
    for (char *p = gv_msg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    while (gv_msg_len && gv_msg[gv_msg_len - 1] == ' ')
        gv_msg[--gv_msg_len] = '\0';
    const char *m = gv_msg;
    if (strncmp(m, "Error: ", 7) == 0)
        m += 7;
    else if (strncmp(m, "Warning: ", 9) == 0)
        m += 9;
    return *m ? m : "no detail";
}

static void gv_reset(void)
{
    gv_msg[0] = '\0';
    gv_msg_len = 0;
}

/* One context for the life of the process, never freed: the pango plugin
 * caches a pointer to the last font name, which lives in the context, so
 * freeing a context and making another one reads freed memory (graphviz
 * 2.42). Reachable, so leak checkers do not count it. */
static GVC_t *shared_context(void)
{
    static GVC_t *gvc;
    if (!gvc)
        gvc = gvContext();
    return gvc;
}

static char *dot_text(rg_dot_fn write, const void *graph)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    bool ok = write(f, graph);
    if (fclose(f) != 0 || !ok) {
        free(text);
        return NULL;
    }
    return text;
}

static bool render_one(GVC_t *gvc, Agraph_t *ag, rg_render_out *o, char *err, size_t errlen)
{
    char *data = NULL;
    unsigned int len = 0;
    gv_reset();
    if (gvRenderData(gvc, ag, o->format, &data, &len) != 0 || !data) {
        snprintf(err, errlen, "graph: cannot render %s: %s", o->format, gv_message());
        if (data)
            gvFreeRenderData(data);
        return false;
    }
    o->data = malloc((size_t)len + 1);
    if (o->data) {
        memcpy(o->data, data, len);
        o->data[len] = '\0';
        o->len = len;
    }
    gvFreeRenderData(data);
    if (!o->data) {
        snprintf(err, errlen, "graph: out of memory rendering %s", o->format);
        return false;
    }
    /* graphviz decodes and passes on character references: what it wrote
     * is checked before any of it leaves the process. */
    char why[128];
    if (strcmp(o->format, "svg") == 0 && !rg_svg_check(o->data, o->len, why, sizeof why)) {
        snprintf(err, errlen, "graph: graphviz wrote an SVG that is not clean XML (%s)", why);
        return false;
    }
    return true;
}

static bool layout_and_render(GVC_t *gvc, const char *text, rg_render_out *outs,
                              size_t nouts, char *err, size_t errlen)
{
    gv_reset();
    Agraph_t *ag = agmemread(text);
    if (!ag) {
        snprintf(err, errlen, "graph: DOT text does not parse: %s", gv_message());
        return false;
    }
    /* dot's layout grows much faster than the graph (48,000 nodes: minutes);
     * the graph as graphviz would lay it out is counted first. */
    int nodes = agnnodes(ag), edges = agnedges(ag);
    if (nodes > RG_RENDER_MAX_NODES || edges > RG_RENDER_MAX_EDGES) {
        snprintf(err, errlen,
                 "graph: too large to draw (%d nodes, %d edges; at most %d and %d): "
                 "use --format dot, json or table for a run this size",
                 nodes, edges, RG_RENDER_MAX_NODES, RG_RENDER_MAX_EDGES);
        agclose(ag);
        return false;
    }
    /* Cairo bitmaps end at 32767 pixels (340 inches at 96 dpi); past that
     * the plugin scales down anyway, but first prints "(null): graph is too
     * large" to stderr. A size limit makes graphviz scale quietly. */
    agsafeset(ag, "size", "340,340", "");
    /* Past a few hundred edges, network simplex and crossing minimisation
     * are what take the time, and cairo the PNG's pixels: bounded, at some
     * cost in straightness and scale. */
    if (edges > RG_RENDER_BOUNDED_EDGES) {
        agsafeset(ag, "nslimit", "1", "");
        agsafeset(ag, "nslimit1", "1", "");
        agsafeset(ag, "mclimit", "0.1", "");
        agsafeset(ag, "size", "120,120", ""); /* a PNG of 11520 pixels at most */
    }
    gv_reset();
    bool ok = gvLayout(gvc, ag, "dot") == 0;
    if (!ok)
        snprintf(err, errlen, "graph: layout failed: %s", gv_message());
    for (size_t i = 0; ok && i < nouts; i++)
        ok = render_one(gvc, ag, &outs[i], err, errlen);
    gvFreeLayout(gvc, ag); /* a no-op where the layout did not get far */
    agclose(ag);
    return ok;
}

bool rg_render(const rg_graph *g, rg_render_out *outs, size_t nouts, char *err,
               size_t errlen)
{
    return rg_render_with(rg_dot_writer, g, outs, nouts, err, errlen);
}

bool rg_render_with(rg_dot_fn write, const void *graph, rg_render_out *outs, size_t nouts,
                    char *err, size_t errlen)
{
    for (size_t i = 0; i < nouts; i++) {
        outs[i].data = NULL;
        outs[i].len = 0;
    }
    char *text = dot_text(write, graph);
    if (!text) {
        snprintf(err, errlen, "graph: out of memory writing the DOT text");
        return false;
    }
    agusererrf previous = agseterrf(collect_msg);
    agerrlevel_t level = agseterr(AGERR); /* warnings are not failures */
    GVC_t *gvc = shared_context();
    bool ok = gvc != NULL;
    if (!ok)
        snprintf(err, errlen, "graph: cannot start graphviz (libgvc)");
    else
        ok = layout_and_render(gvc, text, outs, nouts, err, errlen);
    agseterr(level);
    agseterrf(previous);
    free(text);
    for (size_t i = 0; !ok && i < nouts; i++) {
        free(outs[i].data);
        outs[i].data = NULL;
        outs[i].len = 0;
    }
    return ok;
}

bool rg_render_writer(FILE *out, const void *render_out)
{
    const rg_render_out *o = render_out;
    return fwrite(o->data, 1, o->len, out) == o->len && fflush(out) == 0 && !ferror(out);
}
