#include "html.h"

#include "../model/middlebox.h"
#include "../model/unreach.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "dot.h"
#include "html_changes.h"
#include "json_stream.h"
#include "middlebox.h"
#include "report_assets.h"
#include "../util/utf8.h"

#define NONCE_BYTES 16
#define MAX_OPTION_ITEMS 32 /* list items shown per option (1024 ports would be a wall) */
#define LONG_NAME 64        /* bytes from which a name also gets a tooltip */

/* ---- text ---- */

static const char *entity(uint32_t cp)
{
    switch (cp) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

/* One code point of outside text. A control character is shown, not obeyed:
 * C0 and DEL as their Control Picture (U+2400 + c, U+2421), so a newline in
 * a PTR name is visible as such; C1 and XML's non-characters as U+FFFD. */
static void put_cp(FILE *f, const unsigned char *s, size_t n, uint32_t cp)
{
    const char *ent = entity(cp);
    if (ent)
        fputs(ent, f);
    else if (cp < 0x20)
        fprintf(f, "\xe2\x90%c", (char)(0x80 + cp));
    else if (cp == 0x7f)
        fputs("\xe2\x90\xa1", f);
    else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0xfffe || cp == 0xffff)
        fputs("\xef\xbf\xbd", f);
    else
        fwrite(s, 1, n, f);
}

/* Outside text as HTML text or attribute value; NULL writes nothing. */
static void put_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        uint32_t cp = 0;
        size_t n = rg_utf8_char(p, &cp);
        if (n)
            put_cp(f, p, n, cp);
        else
            fputs("\xef\xbf\xbd", f);
        p += n ? n : 1;
    }
}

/* A name from outside. The style clamps a long one to three lines; the
 * whole text stays in the page, and in the tooltip when it is long. */
static void put_name(FILE *f, const char *s)
{
    if (!s)
        return;
    fputs("<span class=\"name clip\"", f);
    if (strlen(s) > LONG_NAME) {
        fputs(" title=\"", f);
        put_text(f, s);
        fputc('"', f);
    }
    fputc('>', f);
    put_text(f, s);
    fputs("</span>", f);
}

/* Microseconds as a few significant digits of milliseconds, truncated
 * (as the graph labels show them). */
static void put_rtt(FILE *f, uint32_t us)
{
    if (us < 10000)
        fprintf(f, "%u.%02u&nbsp;ms", us / 1000, us % 1000 / 10);
    else if (us < 100000)
        fprintf(f, "%u.%u&nbsp;ms", us / 1000, us % 1000 / 100);
    else
        fprintf(f, "%u&nbsp;ms", us / 1000);
}

static void put_addr(FILE *f, const rg_addr *a)
{
    char buf[RG_ADDR_STRLEN];
    put_text(f, rg_addr_format(a, buf, sizeof buf));
}

/* ---- embedded JSON ---- */

/* < > & only occur inside JSON strings, where \u escapes mean the same, so
 * the text can neither end the <script> element nor open a comment in it.
 * U+2028/2029 are escaped for readers that treat the block as JavaScript. */
static bool put_json_text(void *file, const char *text, size_t len)
{
    FILE *f = file;
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    for (; p < end; p++) {
        if (*p == '<')
            fputs("\\u003c", f);
        else if (*p == '>')
            fputs("\\u003e", f);
        else if (*p == '&')
            fputs("\\u0026", f);
        else if (end - p >= 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            fputs(p[2] == 0xa8 ? "\\u2028" : "\\u2029", f);
            p += 2;
        } else
            fputc(*p, f);
    }
    return true;
}

/* The pieces come whole from json_stream (a string never split), so a
 * U+2028 is always inside one piece. With run: doc is a head whose traces
 * are built one at a time (json_stream.h). */
static bool put_json_block(FILE *f, const char *id, const json_t *doc, const rg_run *run,
                           unsigned gap)
{
    fprintf(f, "<script type=\"application/json\" id=\"%s\">", id);
    bool ok;
    if (run) {
        ok = rg_json_stream(doc, run, gap, JSON_COMPACT, put_json_text, f);
    } else {
        char *text = json_dumps(doc, JSON_COMPACT);
        ok = text && put_json_text(f, text, strlen(text));
        free(text);
    }
    fputs("</script>\n", f);
    return ok;
}

/* ---- the graph's nodes as data for the page's script ---- */

static const char *node_kind(enum rg_gnode_kind k)
{
    switch (k) {
    case RG_GNODE_ROOT: return "prober";
    case RG_GNODE_HOST: return "host";
    case RG_GNODE_UNK: return "unk";
    case RG_GNODE_END: return "end";
    }
    return "unk";
}

static bool set(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) == 0;
}

static bool append(json_t *a, json_t *v)
{
    return json_array_append_new(a, v) == 0;
}

static json_t *ports_json(const rg_gnode *n)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < n->nports; i++) {
        const rg_gport *p = &n->ports[i];
        json_t *o = json_object();
        ok = append(a, o) && set(o, "port", json_integer(p->port)) &&
             set(o, "state", json_string(rg_port_state_name(p->state))) &&
             set(o, "code", json_string(p->code)) &&
             set(o, "trace", json_integer((json_int_t)p->trace));
    }
    if (!ok)
        json_decref(a);
    return ok ? a : NULL;
}

static json_t *sources_json(const rg_graph *g)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < g->nsources; i++) {
        char buf[RG_ADDR_STRLEN];
        ok = append(a, json_string(rg_addr_format(&g->sources[i], buf, sizeof buf)));
    }
    if (!ok)
        json_decref(a);
    return ok ? a : NULL;
}

/* Everything but the traces through it; no string from outside. */
static json_t *node_json(const rg_graph *g, size_t k)
{
    const rg_gnode *n = &g->nodes[k];
    char name[RG_DOT_NODE_NAMELEN];
    json_t *o = json_object();
    bool ok = o && set(o, "name", json_string(rg_dot_node_name(g, k, name, sizeof name))) &&
              set(o, "kind", json_string(node_kind(n->kind)));
    if (ok && n->kind == RG_GNODE_ROOT)
        ok = set(o, "sources", sources_json(g));
    if (ok && n->kind == RG_GNODE_HOST) {
        ok = set(o, "address", json_string(name)) &&
             set(o, "rtt_count", json_integer((json_int_t)n->nrtt)) &&
             (!n->nrtt || set(o, "median_rtt_us", json_integer(n->median_rtt_us))) &&
             (!n->nports || set(o, "ports", ports_json(n)));
    }
    if (ok && n->kind == RG_GNODE_END)
        ok = set(o, "dest", json_string(rg_dot_node_name(g, n->dest, name, sizeof name))) &&
             set(o, "reason", json_string(n->reason == RG_GEND_UNREACHABLE ? "unreachable"
                                                                          : "silence"));
    if (!ok)
        json_decref(o);
    return ok ? o : NULL;
}

static bool add_trace_at(json_t *nodes, size_t k, size_t trace, unsigned ttl)
{
    json_t *list = json_object_get(json_array_get(nodes, k), "traces");
    json_t *pair = json_pack("[II]", (json_int_t)trace, (json_int_t)ttl);
    return append(list, pair);
}

/* Each node's traces as [trace, TTL] pairs, from the edges into it (TTL 0
 * into an end node); the prober starts every trace. */
static bool node_traces(const rg_graph *g, json_t *nodes)
{
    bool ok = true;
    for (size_t k = 0; ok && k < g->nnodes; k++)
        ok = set(json_array_get(nodes, k), "traces", json_array());
    for (size_t i = 0; ok && i < g->ntraces; i++)
        ok = add_trace_at(nodes, 0, i, 0);
    for (size_t e = 0; ok && e < g->nedges; e++)
        ok = add_trace_at(nodes, g->edges[e].to, g->edges[e].trace, g->edges[e].ttl);
    return ok;
}

static json_t *traces_look_json(const rg_graph *g)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < g->ntraces; i++)
        ok = append(a, json_pack("{ssss}", "color", rg_dot_trace_color(i), "style",
                                 rg_dot_trace_style(i)));
    if (!ok)
        json_decref(a);
    return ok ? a : NULL;
}

static json_t *graph_json(const rg_graph *g)
{
    json_t *doc = json_object(), *nodes = json_array();
    bool ok = doc && nodes && set(doc, "node_count", json_integer((json_int_t)g->nnodes)) &&
              set(doc, "legend", json_boolean(g->ntraces > 0));
    for (size_t k = 0; ok && k < g->nnodes; k++)
        ok = append(nodes, node_json(g, k));
    ok = ok && node_traces(g, nodes) && set(doc, "traces", traces_look_json(g));
    ok = ok && set(doc, "nodes", nodes);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- head ---- */

static bool make_nonce(char *hex, size_t len)
{
    unsigned char raw[NONCE_BYTES];
    if (len < 2 * NONCE_BYTES + 1 || getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return false;
    for (size_t i = 0; i < NONCE_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return true;
}

static void put_time(FILE *f, const struct timespec *ts)
{
    struct tm tm;
    char buf[40];
    if (ts->tv_sec == 0 || !gmtime_r(&ts->tv_sec, &tm) ||
        !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm)) {
        fputs("unknown time", f);
        return;
    }
    fprintf(f, "<time>%s</time>", buf);
}

static void put_head(FILE *f, const char *nonce, const rg_run *run)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; script-src 'nonce-%s'; base-uri 'none'; "
               "form-action 'none'\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<meta name=\"generator\" content=\"routegraph %s\">\n<title>routegraph report",
            nonce, RG_VERSION);
    if (run->start.tv_sec) {
        fputs(", ", f);
        put_time(f, &run->start);
    }
    fputs("</title>\n<style>\n", f);
    fputs(rg_report_css, f);
    fputs("</style>\n</head>\n", f);
}

/* ---- header: when, how, how much ---- */

static void put_json_scalar(FILE *f, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%g", json_real_value(v));
    else if (json_is_true(v))
        fputs("yes", f);
    else if (json_is_false(v))
        fputs("no", f);
    else if (json_is_string(v))
        put_text(f, json_string_value(v));
    else
        fputs("&ndash;", f);
}

static void put_json_value(FILE *f, const json_t *v)
{
    if (!json_is_array(v)) {
        put_json_scalar(f, v);
        return;
    }
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n && i < MAX_OPTION_ITEMS; i++) {
        if (i)
            fputs(", ", f);
        put_json_scalar(f, json_array_get(v, i));
    }
    if (n > MAX_OPTION_ITEMS)
        fprintf(f, " &hellip; (%zu in all)", n);
}

static void put_chip_key(FILE *f, const char *key)
{
    fputs("<span class=\"chip\"><b>", f);
    for (const char *p = key; *p; p++) {
        char one[2] = {*p == '_' ? ' ' : *p, '\0'};
        put_text(f, one);
    }
    fputs("</b>", f);
}

/* The options as the document records them, so a report rendered from a
 * saved file shows what that run used. */
static void put_options(FILE *f, const json_t *doc)
{
    const json_t *opts = json_object_get(doc, "options");
    const char *key;
    const json_t *v;
    fputs("<div class=\"chips\" id=\"rg-options\">", f);
    if (!json_is_object(opts))
        fputs("<span class=\"chip\"><b>options</b>not recorded</span>", f);
    json_object_foreach((json_t *)opts, key, v) {
        put_chip_key(f, key);
        put_json_value(f, v);
        fputs("</span>", f);
    }
    fputs("</div>\n", f);
}

static void put_stat(FILE *f, const char *name, uint64_t v, bool warn)
{
    fprintf(f, "<span class=\"chip%s\"><b>%s</b>%llu</span>", warn && v ? " warn" : "", name,
            (unsigned long long)v);
}

static void put_stats(FILE *f, const rg_run_stats *s)
{
    fputs("<div class=\"chips\" id=\"rg-stats\">", f);
    put_stat(f, "probes sent", s->probes_sent, false);
    put_stat(f, "replies matched", s->matched, false);
    put_stat(f, "unmatched", s->unmatched, false);
    put_stat(f, "duplicates", s->duplicates, false);
    put_stat(f, "malformed", s->malformed, true);
    put_stat(f, "send errors", s->send_errors, true);
    fputs("</div>\n", f);
}

static size_t count_destinations(const rg_graph *g)
{
    size_t n = 0;
    for (size_t k = 1; k <= g->nhosts; k++)
        n += g->nodes[k].nports > 0;
    return n;
}

static void put_duration(FILE *f, const rg_run *run)
{
    if (!run->start.tv_sec || !run->end.tv_sec)
        return;
    double s = (double)(run->end.tv_sec - run->start.tv_sec) +
               (double)(run->end.tv_nsec - run->start.tv_nsec) / 1e9;
    if (s >= 0)
        fprintf(f, " &middot; took %.2f s", s);
}

static void put_header(FILE *f, const rg_run *run, const rg_graph *g, const json_t *doc)
{
    size_t ndest = count_destinations(g);
    fputs("<header class=\"top\"><div class=\"inner\">\n<h1>routegraph report</h1>\n"
          "<p class=\"meta\">started ", f);
    put_time(f, &run->start);
    put_duration(f, run);
    fprintf(f, " &middot; %zu destination%s, %zu trace%s", ndest, ndest == 1 ? "" : "s",
            run->ntraces, run->ntraces == 1 ? "" : "s");
    if (run->nunresolved)
        fprintf(f, " &middot; %zu target%s not traced", run->nunresolved,
                run->nunresolved == 1 ? "" : "s");
    fputs(" &middot; routegraph " RG_VERSION "</p>\n", f);
    put_options(f, doc);
    put_stats(f, &run->stats);
    fputs("</div></header>\n", f);
}

/* ---- verdicts ---- */

static const char *state_class(enum rg_port_state s)
{
    switch (s) {
    case RG_PORT_OPEN: return "s-open";
    case RG_PORT_CLOSED: return "s-closed";
    case RG_PORT_FILTERED: return "s-filtered";
    case RG_PORT_UNREACHABLE: return "s-unreachable";
    case RG_PORT_UNKNOWN: break;
    }
    return "s-unknown";
}

static enum rg_port_state shown_state(const rg_trace *t)
{
    return t->last_ttl ? t->state : RG_PORT_UNKNOWN;
}

static void put_badge(FILE *f, const rg_trace *t)
{
    enum rg_port_state s = shown_state(t);
    fprintf(f, "<span class=\"badge %s\">%s</span>", state_class(s), rg_port_state_name(s));
}

/* The TTL whose answer explains the verdict: the destination's, else the
 * last answer (0 when nothing answered). */
static unsigned verdict_ttl(const rg_trace *t)
{
    return t->reached_ttl ? t->reached_ttl : t->last_answer_ttl;
}

/* What the badge rests on, in the words of the table's verdict lines. */
static void put_state_detail(FILE *f, const rg_trace *t)
{
    char mark[8];
    const rg_probe *u = rg_trace_unreachable(t);
    if (t->state == RG_PORT_UNREACHABLE && u)
        fprintf(f, " (%s, ICMP %u/%u)", rg_unreach_mark(u->from.family, u->icmp_type,
                                                       u->icmp_code, mark, sizeof mark),
                u->icmp_type, u->icmp_code);
    else if (t->state == RG_PORT_FILTERED)
        fprintf(f, ", no answer to %u probe%s past it", t->unanswered,
                t->unanswered == 1 ? "" : "s");
    else if (t->unknown_why == RG_WHY_LOSS)
        fprintf(f, ", silent, but the address's other ports lost %u of %u TCP probes",
                t->sibling_lost, t->sibling_sent);
    else if (t->unknown_why == RG_WHY_MAX_TTL)
        fprintf(f, ", probes expired before the destination (max TTL %u)", t->max_ttl);
    else if (t->unknown_why == RG_WHY_RST_DOUBT)
        fputs(", every RST may have reset a half-open connection of ours", f);
}

static void put_verdict_phrase(FILE *f, const rg_trace *t)
{
    unsigned ttl = verdict_ttl(t);
    if (!t->last_ttl)
        fputs("not probed", f);
    else if (t->reached_ttl && t->state == RG_PORT_UNREACHABLE)
        fprintf(f, "unreachable at the destination, hop %u", ttl);
    else if (t->reached_ttl)
        fprintf(f, "reached at hop %u", ttl);
    else if (t->stopped_by_unreachable && ttl)
        fprintf(f, "unreachable from hop %u", ttl);
    else if (ttl)
        fprintf(f, "after hop %u", ttl);
    else
        fputs("no reply at all", f);
    put_state_detail(f, t);
    if (t->incomplete)
        fputs(" (incomplete: run interrupted)", f);
}

static void put_as(FILE *f, const rg_host *h)
{
    if (!h || (!h->asn && !h->city && !h->country[0])) {
        fputs("<span class=\"muted\">&ndash;</span>", f);
        return;
    }
    /* The country alone is worth showing: an AS database may lack a block
     * the country database has. */
    if (h->asn)
        fprintf(f, "<span class=\"clip\"><span class=\"asn\">AS%u</span>", h->asn);
    else
        fputs("<span class=\"clip\"><span class=\"muted\">&ndash;</span>", f);
    if (h->as_org) {
        fputc(' ', f);
        put_text(f, h->as_org);
    }
    if (h->city || h->country[0]) {
        fputs(" <span class=\"muted\">(", f);
        put_text(f, h->city);
        fputs(h->city && h->country[0] ? ", " : "", f);
        put_text(f, h->country);
        fputs(")</span>", f);
    }
    fputs("</span>", f);
}

static void put_target(FILE *f, const rg_trace *t)
{
    char buf[RG_ADDR_STRLEN];
    rg_addr_format(&t->dst, buf, sizeof buf);
    fputs("<span class=\"mono clip\">", f);
    put_text(f, t->target);
    fputs("</span>", f);
    if (t->target && strcmp(t->target, buf) != 0) {
        fputs("<div class=\"mono muted\">", f);
        put_text(f, buf);
        fputs("</div>", f);
    }
}

/* Traces after i with the same target and destination share its cell. */
static size_t same_target_run(const rg_run *run, size_t i)
{
    const rg_trace *t = &run->traces[i];
    size_t n = 1;
    while (i + n < run->ntraces && rg_addr_equal(&run->traces[i + n].dst, &t->dst) &&
           strcmp(run->traces[i + n].target ? run->traces[i + n].target : "",
                  t->target ? t->target : "") == 0)
        n++;
    return n;
}

static void put_where(FILE *f, const rg_run *run, const rg_probe *ans)
{
    if (!ans) {
        fputs("<td><span class=\"muted\">&ndash;</span></td><td></td>", f);
        return;
    }
    const rg_host *h = rg_run_host(run, &ans->from);
    fputs("<td><span class=\"mono\">", f);
    put_addr(f, &ans->from);
    fputs("</span>", f);
    put_name(f, h ? h->ptr : NULL);
    fputs("</td><td>", f);
    put_as(f, h);
    fputs("</td>", f);
}

static void put_verdict_row(FILE *f, const rg_run *run, size_t i, size_t rowspan)
{
    const rg_trace *t = &run->traces[i];
    unsigned ttl = verdict_ttl(t);
    const rg_probe *ans = ttl ? rg_trace_answer(t, ttl) : NULL;
    fprintf(f, "<tr class=\"v-%s\"", rg_port_state_name(shown_state(t)));
    if (ans) {
        fputs(" data-node=\"", f);
        put_addr(f, &ans->from);
        fputc('"', f);
    }
    fputc('>', f);
    if (rowspan) {
        fprintf(f, "<td class=\"target\" rowspan=\"%zu\">", rowspan);
        put_target(f, t);
        fputs("</td>", f);
    }
    char port[16];
    fprintf(f, "<td class=\"num\"><a href=\"#trace-%zu\">%s</a></td><td class=\"verdict\">", i,
            rg_trace_port_text(t, port, sizeof port));
    put_badge(f, t);
    put_verdict_phrase(f, t);
    fputs("</td>", f);
    put_where(f, run, ans);
    fputs("<td class=\"num\">", f);
    if (t->reached_ttl)
        put_rtt(f, t->rtt_us);
    fputs("</td></tr>\n", f);
}

static void put_verdicts(FILE *f, const rg_run *run)
{
    fputs("<section id=\"verdicts\">\n<h2>Verdicts</h2>\n", f);
    if (!run->ntraces) {
        fputs("<p class=\"muted\">Nothing was traced.</p>\n</section>\n", f);
        return;
    }
    fputs("<table class=\"verdicts\"><colgroup><col class=\"c-target\"><col class=\"c-port\">"
          "<col class=\"c-verdict\"><col class=\"c-by\"><col><col class=\"c-vrtt\"></colgroup>"
          "<thead><tr><th>target</th><th class=\"num\">port</th><th>verdict</th>"
          "<th>answered by</th><th>AS</th><th class=\"num\">RTT</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < run->ntraces;) {
        size_t n = same_target_run(run, i);
        for (size_t k = 0; k < n; k++)
            put_verdict_row(f, run, i + k, k == 0 ? n : 0);
        i += n;
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void put_unresolved(FILE *f, const rg_run *run)
{
    if (!run->nunresolved)
        return;
    fputs("<section id=\"unresolved\">\n<h2>Not traced</h2>\n<ul class=\"plain\">\n", f);
    for (size_t i = 0; i < run->nunresolved; i++) {
        fputs("<li><span class=\"mono\">", f);
        put_text(f, run->unresolved[i].name);
        fputs("</span>: ", f);
        put_text(f, run->unresolved[i].why);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</section>\n", f);
}

/* ---- graph ---- */

/* The end of the prolog item at p (XML declaration or processing
 * instruction, comment, doctype), or NULL when p starts none or it is cut. */
static const char *prolog_item_end(const char *p, const char *end)
{
    size_t left = (size_t)(end - p);
    const char *close;
    if (left >= 2 && memcmp(p, "<?", 2) == 0)
        return (close = memmem(p, left, "?>", 2)) ? close + 2 : NULL;
    if (left >= 4 && memcmp(p, "<!--", 4) == 0)
        return (close = memmem(p + 4, left - 4, "-->", 3)) ? close + 3 : NULL;
    if (left >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0)
        return (close = memchr(p, '>', left)) ? close + 1 : NULL;
    return NULL;
}

/* The <svg root element, past whatever may come before it; NULL if the
 * text does not come to one. */
static const char *svg_root(const char *svg, size_t len)
{
    const char *p = svg, *end = svg + len;
    while (p < end) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
            p++;
            continue;
        }
        const char *next = prolog_item_end(p, end);
        if (!next)
            break;
        p = next;
    }
    if (end - p < 5 || memcmp(p, "<svg", 4) != 0)
        return NULL;
    return strchr(" \n\r\t>", p[4]) && p[4] ? p : NULL;
}

/* Graphviz never writes scripts; one here means the SVG is not graphviz's. */
static bool has_script(const char *p, size_t len)
{
    for (size_t i = 0; i + 7 <= len; i++)
        if (p[i] == '<' && strncasecmp(p + i + 1, "script", 6) == 0)
            return true;
    return false;
}

static bool put_graph(FILE *f, const char *svg, size_t svglen)
{
    fputs("<section id=\"graph\">\n<div class=\"toolbar\"><h2>Route graph</h2>", f);
    const char *root = svg ? svg_root(svg, svglen) : NULL;
    size_t len = root ? svglen - (size_t)(root - svg) : 0;
    if (svg && (!root || has_script(root, len)))
        return false;
    if (!svg) {
        fputs("</div>\n<p class=\"muted\">This report has no picture of the graph.</p>\n"
              "<aside id=\"rg-details\"></aside>\n</section>\n",
              f);
        return true;
    }
    fputs("<div class=\"zoom\"><button type=\"button\" id=\"rg-zoom-out\" title=\"zoom out\">"
          "&minus;</button><output id=\"rg-zoom\"></output><button type=\"button\" "
          "id=\"rg-zoom-in\" title=\"zoom in\">+</button><button type=\"button\" "
          "id=\"rg-zoom-fit\">fit</button><button type=\"button\" id=\"rg-zoom-1\">"
          "100%</button></div></div>\n"
          "<div class=\"graph-wrap\">\n<div class=\"graph fit\" id=\"rg-svg\">\n",
          f);
    fwrite(root, 1, len, f);
    fputs("</div>\n<aside id=\"rg-details\" aria-live=\"polite\"></aside>\n</div>\n"
          "</section>\n",
          f);
    return true;
}

/* ---- hop tables ---- */

static void put_reply_kind(FILE *f, const rg_probe *p)
{
    const char *kind = rg_reply_kind_name((enum rg_reply_kind)p->kind);
    fprintf(f, "<span class=\"k k-%s\">%s", kind, kind);
    if (p->kind == RG_REPLY_UNREACHABLE)
        fprintf(f, " (code %u)", p->icmp_code);
    fputs("</span>", f);
}

/* The answer's ICMP extensions under its kind: the MPLS label stack top
 * first, then each interface object as sent (its name escaped). */
static void put_extensions(FILE *f, const rg_icmpext *e)
{
    if (e->nlabels)
        fputs("<br/><span class=\"muted\">MPLS", f);
    for (unsigned i = 0; i < e->nlabels; i++) {
        const rg_mpls_lse *l = &e->labels[i];
        fprintf(f, "%s %lu (TC %u, S %u, TTL %u)", i ? "," : "", (unsigned long)l->label, l->tc,
                l->s, l->ttl);
    }
    if (e->nlabels)
        fputs("</span>", f);
    for (unsigned i = 0; i < e->nifs; i++) {
        const rg_ifinfo *x = &e->ifs[i];
        fprintf(f, "<br/><span class=\"muted\">%s interface",
                rg_if_role_name((enum rg_if_role)x->role));
        if (x->has & RG_IF_HAS_NAME) {
            fputs(" <span class=\"mono\">", f);
            put_text(f, x->name);
            fputs("</span>", f);
        }
        if (x->has & RG_IF_HAS_IFINDEX)
            fprintf(f, " ifIndex %lu", (unsigned long)x->ifindex);
        if (x->has & RG_IF_HAS_ADDR) {
            fputc(' ', f);
            put_addr(f, &x->addr);
        }
        if (x->has & RG_IF_HAS_MTU)
            fprintf(f, " MTU %lu", (unsigned long)x->mtu);
        fputs("</span>", f);
    }
}

/* Every attempt at this TTL: its RTT, or * when it stayed silent; a reply
 * from another address than the first answer names it. */
static void put_attempts(FILE *f, const rg_trace *t, unsigned ttl, const rg_probe *ans)
{
    unsigned sent = rg_trace_sent(t, ttl);
    for (unsigned a = 0; a < sent; a++) {
        const rg_probe *p = rg_trace_probe(t, ttl, a);
        if (a)
            fputs(" &nbsp;", f);
        if (!p || p->kind == RG_REPLY_NONE) {
            fputs("<span class=\"silent\">*</span>", f);
            continue;
        }
        put_rtt(f, p->rtt_us);
        if (ans && !rg_addr_equal(&p->from, &ans->from)) {
            fputs(" <span class=\"muted\">from ", f);
            put_addr(f, &p->from);
            fputs("</span>", f);
        }
    }
}

/* What a trace's quotes showed rewritten, for its hop rows: the changes
 * (model/middlebox.h) and the rewrites only errors that were not answers
 * showed, each on the row of the TTL that first showed it. */
typedef struct rewrites {
    rg_mbox_change *ch;
    size_t n;
} rewrites;

static bool rewrites_of(const rg_trace *t, rewrites *rw)
{
    size_t max = t->probes ? rg_middlebox_max_changes(t) : 0;
    *rw = (rewrites){0};
    if (max == 0)
        return true;
    if (!(rw->ch = malloc(max * sizeof *rw->ch)))
        return false;
    rw->n = rg_middlebox_changes(t, rw->ch, max);
    rw->n = rw->n < max ? rw->n : max;
    return true;
}

/* Our own words (no outside text), escaped all the same. */
static void put_words(FILE *f, void (*words)(FILE *, const void *, uint16_t), const void *x,
                      uint16_t what)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return;
    words(m, x, what);
    if (fclose(m) == 0)
        put_text(f, buf);
    free(buf);
}

static void change_words(FILE *m, const void *c, uint16_t what)
{
    (void)what;
    rg_middlebox_words(m, c);
}

static void evidence_words(FILE *m, const void *t, uint16_t what)
{
    rg_middlebox_evidence_words(m, t, what);
}

static void put_rewrite_notes(FILE *f, const rg_trace *t, unsigned ttl, const rewrites *rw)
{
    for (size_t i = 0; i < rw->n; i++) {
        if (rw->ch[i].ttl != ttl)
            continue;
        fputs("<br/><span class=\"rewrite\">rewritten before this hop: ", f);
        put_words(f, change_words, &rw->ch[i], 0);
        fputs("</span>", f);
    }
    const rg_rewrite_seen *d = rg_middlebox_evidence(t, RG_QC_DST);
    const rg_rewrite_seen *q = rg_middlebox_evidence(t, RG_QC_SEQ);
    const struct { unsigned ttl; uint32_t errors; const rg_addr *by; uint16_t what; } seen[] = {
        {t->nat_ttl, t->nat_errors, &t->nat_by, RG_QC_SRC},
        {d ? d->ttl : 0, d ? d->errors : 0, d ? &d->by : NULL, RG_QC_DST},
        {q ? q->ttl : 0, q ? q->errors : 0, q ? &q->by : NULL, RG_QC_SEQ}};
    for (size_t k = 0; k < sizeof seen / sizeof seen[0]; k++) {
        if (!seen[k].ttl || seen[k].ttl != ttl)
            continue;
        fputs("<br/><span class=\"rewrite\">", f);
        put_words(f, evidence_words, t, seen[k].what);
        fprintf(f, " before this hop: %lu error%s from ", (unsigned long)seen[k].errors,
                seen[k].errors == 1 ? "" : "s");
        put_addr(f, seen[k].by);
        fputs(" quoting it, not used as answers</span>", f);
    }
}

/* Closes a hop's reply cell, writes its responder's name and AS cells
 * (what annotation learnt of it: h, or nothing) and opens its RTT cell. */
static void put_host_cells(FILE *f, const rg_host *h)
{
    fputs("</td><td>", f);
    put_name(f, h ? h->ptr : NULL);
    fputs("</td><td>", f);
    put_as(f, h);
    fputs("</td><td class=\"num\">", f);
}

static void put_hop_row(FILE *f, const rg_run *run, const rg_trace *t, unsigned ttl,
                        const rewrites *rw)
{
    const rg_probe *ans = rg_trace_shown(t, ttl);
    fputs("<tr", f);
    if (ans) {
        fputs(" data-node=\"", f);
        put_addr(f, &ans->from);
        fputs("\" tabindex=\"0\"", f);
    }
    fprintf(f, "><td class=\"num\">%u</td>", ttl);
    const rg_addr *inferred = ans ? NULL : rg_trace_inferred(t, ttl);
    if (inferred) {
        /* Known from other traces; never shown as this trace's answer. */
        const rg_host *h = rg_run_host(run, inferred);
        fputs("<td class=\"mono inferred\">", f);
        put_addr(f, inferred);
        fputs("</td><td class=\"inferred\">inferred from other traces", f);
        put_rewrite_notes(f, t, ttl, rw);
        put_host_cells(f, h);
    } else if (!ans) {
        bool limited = rg_trace_silence(t, ttl) == RG_SILENCE_RATE_LIMITED;
        fprintf(f, "<td class=\"silent mono\">%s</td><td class=\"silent\">%s",
                limited ? "~" : "-",
                limited ? "no reply: rate-limited (the router answered other probes)"
                        : "no reply: silent");
        put_rewrite_notes(f, t, ttl, rw);
        fputs("</td><td></td><td></td><td class=\"num\">", f);
    } else {
        const rg_host *h = rg_run_host(run, &ans->from);
        fputs("<td class=\"mono\">", f);
        put_addr(f, &ans->from);
        fputs("</td><td>", f);
        put_reply_kind(f, ans);
        const rg_icmpext *e = rg_trace_ext(t, ans);
        if (e)
            put_extensions(f, e);
        put_rewrite_notes(f, t, ttl, rw);
        put_host_cells(f, h);
    }
    put_attempts(f, t, ttl, ans);
    fputs("</td></tr>\n", f);
}

static void put_trace_summary(FILE *f, const rg_trace *t, size_t i)
{
    const char *style = rg_dot_trace_style(i);
    fprintf(f, "<summary><span class=\"swatch\" style=\"border-top:%s %s %s\"></span>",
            strcmp(style, "bold") == 0 ? "5px" : "3px",
            strcmp(style, "bold") == 0 ? "solid" : style, rg_dot_trace_color(i));
    bool brackets = t->target && strchr(t->target, ':');
    fputs("<span class=\"mono\">", f);
    fputs(brackets ? "[" : "", f);
    put_text(f, t->target);
    char port[16];
    fprintf(f, "%s:%s</span> &nbsp;", brackets ? "]" : "", rg_trace_port_text(t, port, sizeof port));
    put_badge(f, t);
    put_verdict_phrase(f, t);
    fputs("</summary>\n", f);
}

static void put_trace(FILE *f, const rg_run *run, size_t i, bool open)
{
    const rg_trace *t = &run->traces[i];
    fprintf(f, "<details class=\"trace\" id=\"trace-%zu\"%s>\n", i, open ? " open" : "");
    put_trace_summary(f, t, i);
    fputs("<table class=\"hops\"><colgroup><col class=\"c-ttl\"><col class=\"c-addr\">"
          "<col class=\"c-reply\"><col class=\"c-name\"><col><col class=\"c-rtt\">"
          "</colgroup><thead><tr><th class=\"num\">TTL</th><th>address</th>"
          "<th>reply</th><th>name</th><th>AS</th><th class=\"num\">RTT</th></tr></thead>"
          "<tbody>\n",
          f);
    /* Every TTL probed: a port check may have gone past the destination's.
     * (Out of memory only loses the rewrite notes.) */
    rewrites rw;
    if (!rewrites_of(t, &rw))
        rw = (rewrites){0};
    for (unsigned ttl = t->min_ttl; t->last_ttl && ttl <= t->max_ttl; ttl++)
        if (rg_trace_sent(t, ttl) || rg_trace_inferred(t, ttl))
            put_hop_row(f, run, t, ttl, &rw);
    free(rw.ch);
    fputs("</tbody></table>\n</details>\n", f);
}

static void put_hop_tables(FILE *f, const rg_run *run)
{
    if (!run->ntraces)
        return;
    fputs("<section id=\"hops\">\n<h2>Hops<small>one table per trace; click a row to show "
          "its node</small></h2>\n",
          f);
    for (size_t i = 0; i < run->ntraces; i++)
        put_trace(f, run, i, run->ntraces <= 16);
    fputs("</section>\n", f);
}

/* ---- footer ---- */

/* The document's credits when it has them (a saved file may carry more
 * than this run's AS data), else the run's own. */
static void put_credits(FILE *f, const rg_run *run, const json_t *doc)
{
    const json_t *credits = json_object_get(doc, "credits");
    size_t n = json_is_array(credits) ? json_array_size(credits) : 0;
    fputs("<div id=\"rg-credits\">", f);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(credits, i));
        if (!s)
            continue;
        fputs("<p>", f);
        put_text(f, s);
        fputs("</p>", f);
    }
    const char *own[2] = {run->as_credit, run->country_credit};
    for (size_t i = 0; i < 2 && !json_is_array(credits); i++) {
        if (!own[i])
            continue;
        fputs("<p>", f);
        put_text(f, own[i]);
        fputs("</p>", f);
    }
    fputs("</div>\n", f);
}

static void put_footer(FILE *f, const rg_run *run, const json_t *doc)
{
    fputs("<footer>\n", f);
    put_credits(f, run, doc);
    fputs("<p>Made by routegraph " RG_VERSION ". This file needs no network: the complete "
          "results (schema routegraph/2) are embedded in it as JSON, in the element "
          "<span class=\"mono\">script#rg-results</span>.</p>\n</footer>\n",
          f);
}

/* ---- the document ---- */

static bool put_body(FILE *f, const rg_run *run, const rg_graph *g, const char *svg,
                     size_t svglen, const json_t *doc)
{
    fputs("<body>\n", f);
    put_header(f, run, g, doc);
    fputs("<main class=\"inner\">\n", f);
    put_verdicts(f, run);
    rg_html_changes(f, doc, put_text);
    put_unresolved(f, run);
    if (!put_graph(f, svg, svglen))
        return false;
    put_hop_tables(f, run);
    put_footer(f, run, doc);
    fputs("</main>\n", f);
    return true;
}

static bool write_report(FILE *out, const rg_run *run, const rg_graph *g, const char *svg,
                         size_t svglen, const json_t *doc, bool head_only, unsigned gap)
{
    char nonce[2 * NONCE_BYTES + 1];
    if (!out || !run || !g || !doc || !make_nonce(nonce, sizeof nonce))
        return false;
    json_t *gdoc = graph_json(g);
    if (!gdoc)
        return false;
    put_head(out, nonce, run);
    bool ok = put_body(out, run, g, svg, svglen, doc) &&
              put_json_block(out, "rg-results", doc, head_only ? run : NULL, gap) &&
              put_json_block(out, "rg-graph", gdoc, NULL, 0);
    json_decref(gdoc);
    if (ok) {
        fprintf(out, "<script nonce=\"%s\">\n", nonce);
        fputs(rg_report_js, out);
        fputs("</script>\n</body>\n</html>\n", out);
    }
    return ok && fflush(out) == 0 && !ferror(out);
}

bool rg_html_write(FILE *out, const rg_run *run, const rg_graph *g, const char *svg,
                   size_t svglen, const struct json_t *doc)
{
    return write_report(out, run, g, svg, svglen, doc, false, 0);
}

bool rg_html_writer(FILE *out, const void *report)
{
    const rg_html_report *r = report;
    return write_report(out, r->run, r->graph, r->svg, r->svglen, r->doc, r->head_only,
                        r->gap);
}
