#include "table.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "../model/unreach.h"

/* --multipath: a cell lists at most this many branches, then "+N". */
#define TABLE_MAX_BRANCHES 8u
/* An address (at most RG_ADDR_STRLEN - 1 chars) in brackets plus ":65535",
 * or a cell: up to TABLE_MAX_BRANCHES addresses joined by '/'. */
#define RG_CELL_LEN (TABLE_MAX_BRANCHES * RG_ADDR_STRLEN + 32)

/* Padding is owed rather than written, so that a line never ends in spaces
 * however many blank cells close it. */
typedef struct rg_line {
    FILE *out;
    size_t pending;
} rg_line;

static void line_put(rg_line *l, const char *text, size_t width)
{
    size_t n = strlen(text);
    if (n > 0) {
        fprintf(l->out, "%*s%s", (int)l->pending, "", text);
        l->pending = 0;
    }
    l->pending += width > n ? width - n : 0;
}

static void line_sep(rg_line *l)
{
    l->pending++;
}

static void line_end(rg_line *l)
{
    fputc('\n', l->out);
    l->pending = 0;
}

static const char *header_text(const rg_trace *t, char *buf, size_t len)
{
    char port[16];
    /* As targets are written: 192.0.2.1:80, [2001:db8::1]:80; the other
     * methods' 192.0.2.1:53/udp, 192.0.2.1:icmp. */
    if (t->method == RG_METHOD_TCP)
        return rg_addr_format_endpoint(&t->dst, t->dport, buf, len);
    char a[RG_ADDR_STRLEN];
    rg_addr_format(&t->dst, a, sizeof a);
    rg_trace_port_text(t, port, sizeof port);
    snprintf(buf, len, t->dst.family == 6 ? "[%s]:%s" : "%s:%s", a, port);
    return buf;
}

/* Answered by a retry only: the first probe at that TTL went unanswered. */
static bool retried(const rg_trace *t, unsigned ttl)
{
    return rg_trace_answer_attempt(t, ttl) > 0;
}

/* An RST that may be the reset of a half-open connection of ours. */
static bool doubtful(const rg_trace *t, const rg_probe *p)
{
    return p->kind == RG_REPLY_RST && !rg_trace_rst_trusted(t, p);
}

/* The highest TTL the trace sent anything at: past last_ttl when probes
 * were in flight above the destination, or port checks went there. */
static unsigned last_sent(const rg_trace *t)
{
    for (unsigned ttl = t->max_ttl; ttl >= t->min_ttl && ttl > 0; ttl--)
        if (rg_trace_sent(t, ttl) || rg_trace_inferred(t, ttl))
            return ttl;
    return 0;
}

/* What the answer's ICMP extensions add to its code: M an MPLS label
 * stack (RFC 4950), I interface information (RFC 5837). */
static const char *ext_mark(const rg_trace *t, const rg_probe *p)
{
    const rg_icmpext *e = rg_trace_ext(t, p);
    if (!e)
        return "";
    return e->nlabels ? (e->nifs ? "MI" : "M") : (e->nifs ? "I" : "");
}

/* --multipath: the branches found at ttl joined by '/' into buf, when
 * there are two or more; false (buf untouched) otherwise. */
static bool branches_text(const rg_trace *t, unsigned ttl, char *buf, size_t len)
{
    rg_addr b[TABLE_MAX_BRANCHES];
    size_t n = t->mpath ? rg_mpath_branches(t->mpath, ttl, b, TABLE_MAX_BRANCHES) : 0;
    if (n < 2)
        return false;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < TABLE_MAX_BRANCHES && used < len; i++) {
        char a[RG_ADDR_STRLEN];
        int w = snprintf(buf + used, len - used, "%s%s", i ? "/" : "",
                         b[i].family ? rg_addr_format(&b[i], a, sizeof a) : "*");
        used += w > 0 ? (size_t)w : 0;
    }
    if (n > TABLE_MAX_BRANCHES && used < len)
        snprintf(buf + used, len - used, "/+%zu", n - TABLE_MAX_BRANCHES);
    return true;
}

static const char *cell_text(const rg_trace *t, unsigned ttl, char *buf,
                             size_t len)
{
    char a[RG_ADDR_STRLEN], code[8];
    const rg_probe *p = rg_trace_shown(t, ttl);
    char many[RG_CELL_LEN];
    if (branches_text(t, ttl, many, sizeof many)) {
        snprintf(buf, len, "%s %s", many, p ? rg_probe_code(p, code, sizeof code) : "11");
        return buf;
    }
    const rg_addr *inferred = rg_trace_inferred(t, ttl);
    if (!p && inferred) {
        /* Known from other traces, not measured on this one's flow. */
        snprintf(buf, len, "%-15s (11)", rg_addr_format(inferred, a, sizeof a));
        return buf;
    }
    if (rg_trace_sent(t, ttl) == 0) {
        snprintf(buf, len, "%s", "");
        return buf;
    }
    if (!p) {
        snprintf(buf, len, "%s", rg_trace_silence(t, ttl) == RG_SILENCE_RATE_LIMITED ? "~" : "-");
        return buf;
    }
    snprintf(buf, len, "%-15s %s%s%s%s", rg_addr_format(&p->from, a, sizeof a),
             rg_probe_code(p, code, sizeof code), ext_mark(t, p), doubtful(t, p) ? "?" : "",
             retried(t, ttl) ? "*" : "");
    return buf;
}

/* TTLs from the lowest first TTL to the highest TTL any trace probed; false
 * when no trace sent anything, so there are no rows. */
static bool row_range(const rg_run *run, unsigned *lo, unsigned *hi)
{
    *lo = UINT_MAX;
    *hi = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        if (t->min_ttl < *lo)
            *lo = t->min_ttl;
        unsigned last = last_sent(t);
        if (last > *hi)
            *hi = last;
    }
    return *hi != 0 && *hi >= *lo;
}

static size_t column_width(const rg_trace *t, bool rows, unsigned lo,
                           unsigned hi)
{
    char buf[RG_CELL_LEN];
    size_t w = strlen(header_text(t, buf, sizeof buf));
    for (unsigned ttl = lo; rows && ttl <= hi; ttl++) {
        size_t n = strlen(cell_text(t, ttl, buf, sizeof buf));
        if (n > w)
            w = n;
    }
    return w;
}

/* The highest TTL with a cell in traces [from, to). */
static unsigned block_hi(const rg_run *run, size_t from, size_t to)
{
    unsigned hi = 0;
    for (size_t i = from; i < to; i++) {
        unsigned last = last_sent(&run->traces[i]);
        hi = last > hi ? last : hi;
    }
    return hi;
}

/* Columns [from, to): a header line, then one line per TTL. */
static void write_block(FILE *out, const rg_run *run, const size_t *widths, size_t label_w,
                        size_t from, size_t to, unsigned lo, unsigned hi)
{
    char buf[RG_CELL_LEN];
    rg_line l = {out, 0};
    line_put(&l, "", label_w);
    for (size_t i = from; i < to; i++) {
        line_sep(&l);
        line_put(&l, header_text(&run->traces[i], buf, sizeof buf), widths[i]);
    }
    line_end(&l);
    for (unsigned ttl = lo; ttl <= hi; ttl++) {
        char label[16];
        snprintf(label, sizeof label, "%u", ttl);
        line_put(&l, label, label_w);
        for (size_t i = from; i < to; i++) {
            line_sep(&l);
            line_put(&l, cell_text(&run->traces[i], ttl, buf, sizeof buf), widths[i]);
        }
        line_end(&l);
    }
}

/* The end of the block that starts at from: as many columns as fit. */
static size_t block_end(const size_t *widths, size_t n, size_t label_w, size_t from,
                        size_t width)
{
    size_t used = label_w + 1 + widths[from], to = from + 1;
    while (width && to < n && used + 1 + widths[to] <= width)
        used += 1 + widths[to++];
    return width ? to : n;
}

static bool write_grid(FILE *out, const rg_run *run, size_t width)
{
    unsigned lo, hi;
    bool rows = row_range(run, &lo, &hi);
    size_t *widths = calloc(run->ntraces, sizeof *widths);
    if (!widths)
        return false;
    for (size_t i = 0; i < run->ntraces; i++)
        widths[i] = column_width(&run->traces[i], rows, lo, hi);
    size_t label_w = rows ? (size_t)snprintf(NULL, 0, "%u", hi) : 0;
    for (size_t from = 0, to; from < run->ntraces; from = to) {
        to = block_end(widths, run->ntraces, label_w, from, width);
        if (from > 0)
            fputc('\n', out);
        unsigned bhi = width ? block_hi(run, from, to) : hi;
        write_block(out, run, widths, label_w, from, to, lo, rows ? bhi : 0);
    }
    free(widths);
    return true;
}

/* "!N, ICMP 3/0 network unreachable" */
static void put_unreachable(FILE *out, const rg_probe *p)
{
    char mark[8];
    int fam = p->from.family;
    const char *name = rg_unreach_name(fam, p->icmp_type, p->icmp_code);
    fprintf(out, "%s, ICMP%s %u/%u", rg_unreach_mark(fam, p->icmp_type, p->icmp_code, mark,
                                                     sizeof mark),
            fam == 6 ? "v6" : "", p->icmp_type, p->icmp_code);
    if (name)
        fprintf(out, " %s", name);
}

static void put_rtt(FILE *out, uint32_t us)
{
    fprintf(out, "rtt %lu.%03lu ms", (unsigned long)(us / 1000),
            (unsigned long)(us % 1000));
}

static void put_unreachable_verdict(FILE *out, const rg_trace *t)
{
    char a[RG_ADDR_STRLEN];
    const rg_probe *p = rg_trace_unreachable(t);
    if (t->reached_ttl) {
        fprintf(out, "reached at hop %u, port unreachable (", t->reached_ttl);
        put_unreachable(out, p);
        fputs(") from the destination, ", out);
        put_rtt(out, t->rtt_us);
        return;
    }
    fputs("not reached, port unreachable (", out);
    put_unreachable(out, p);
    fprintf(out, ") from %s", rg_addr_format(&p->from, a, sizeof a));
    if (t->stopped_by_unreachable)
        fprintf(out, " at hop %u", t->last_answer_ttl);
    else
        fputs(" on the port probe", out);
}

static void put_last_answer(FILE *out, const rg_trace *t)
{
    char a[RG_ADDR_STRLEN];
    const rg_probe *last = rg_trace_answer(t, t->last_answer_ttl);
    if (last)
        fprintf(out, ", last answer at hop %u from %s", t->last_answer_ttl,
                rg_addr_format(&last->from, a, sizeof a));
}

/* Silence: filtered (the probes could have arrived) or unknown, and why. */
static void put_silent_verdict(FILE *out, const rg_trace *t)
{
    unsigned n = t->unanswered;
    const char *s = n == 1 ? "" : "s";
    fprintf(out, "not reached, port %s", rg_port_state_name(t->state));
    switch ((enum rg_unknown_why)t->unknown_why) {
    case RG_WHY_NO_ANSWER:
        fprintf(out, ": no answer at all to %u probe%s", n, s);
        return;
    case RG_WHY_NOT_PROBED:
        fputs(": nothing was sent", out);
        return;
    case RG_WHY_MAX_TTL:
        fprintf(out, ": the probes expired before the destination (max TTL %u)", t->max_ttl);
        put_last_answer(out, t);
        return;
    case RG_WHY_LOSS:
        put_last_answer(out, t);
        fprintf(out, ", no answer to the %u probe%s past it; the address's other ports lost "
                "%u of %u TCP probes, so this silence may be loss", n, s, t->sibling_lost,
                t->sibling_sent);
        return;
    case RG_WHY_OPEN_FILTERED:
        put_last_answer(out, t);
        fprintf(out, ", no answer to the %u UDP probe%s past it: open|filtered (an open "
                "port that does not answer our payload is silent too)", n, s);
        return;
    case RG_WHY_RST_DOUBT:
    case RG_WHY_NONE:
        break;
    }
    put_last_answer(out, t);
    fprintf(out, ", no answer to the %u probe%s past it", n, s);
    if (t->state == RG_PORT_FILTERED && t->sibling_sent == 0)
        fputs(" (no other port of the address answered: loss not ruled out)", out);
}

static void put_verdict(FILE *out, const rg_trace *t)
{
    char code[8];
    const char *state = rg_port_state_name(t->state);
    if (t->state == RG_PORT_UNREACHABLE) {
        put_unreachable_verdict(out, t);
        return;
    }
    if (t->reached_ttl) {
        fprintf(out, "reached at hop %u, port %s (%s%s), ", t->reached_ttl, state,
                rg_probe_code(rg_trace_deciding(t), code, sizeof code),
                t->state == RG_PORT_UNKNOWN ? ", maybe resetting a half-open connection of ours"
                                            : "");
        put_rtt(out, t->rtt_us);
        return;
    }
    const rg_probe *deciding = rg_trace_deciding(t);
    if (deciding) {
        /* The port probes answered; the hops did not get that far. */
        fprintf(out, "not reached by the hops, port %s (%s) on the port probe", state,
                rg_probe_code(deciding, code, sizeof code));
        if (t->est_distance)
            fprintf(out, ", about %u hops away", t->est_distance);
        fputs(", ", out);
        put_rtt(out, t->rtt_us);
        return;
    }
    put_silent_verdict(out, t);
}

static void write_summary(FILE *out, const rg_run *run)
{
    size_t w = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        size_t n = rg_text_label(NULL, &run->traces[i]);
        if (n > w)
            w = n;
    }
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        size_t n = rg_text_label(out, t);
        fprintf(out, "%*s", (int)(w - n + 2), "");
        put_verdict(out, t);
        if (t->incomplete)
            fputs(" [incomplete: run interrupted]", out);
        fputc('\n', out);
    }
}

typedef struct marks {
    size_t retried, doubts, inferred, limited, unreachable, mpls, ifinfo;
} marks;

/* How many cells carry each mark (*, ?, (11), ~), for the footer's key. */
static void count_marks(const rg_run *run, marks *m)
{
    *m = (marks){0};
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++) {
            const rg_probe *p = rg_trace_shown(t, ttl);
            m->retried += retried(t, ttl);
            m->doubts += p && doubtful(t, p);
            m->unreachable += p && p->kind == RG_REPLY_UNREACHABLE;
            const rg_icmpext *e = p ? rg_trace_ext(t, p) : NULL;
            m->mpls += e && e->nlabels;
            m->ifinfo += e && e->nifs;
            m->inferred += !p && rg_trace_inferred(t, ttl);
            m->limited += !p && !rg_trace_inferred(t, ttl) &&
                          rg_trace_silence(t, ttl) == RG_SILENCE_RATE_LIMITED;
        }
    }
}

static void write_footer(FILE *out, const rg_run *run)
{
    for (size_t i = 0; i < run->nunresolved; i++) {
        rg_text_clean(out, run->unresolved[i].name);
        fputs(": not traced: ", out);
        rg_text_clean(out, run->unresolved[i].why);
        fputc('\n', out);
    }
    marks m;
    count_marks(run, &m);
    if (m.retried)
        fprintf(out, "%zu hop%s answered only a retry (marked *)\n", m.retried,
                m.retried == 1 ? "" : "s");
    if (m.doubts)
        fprintf(out, "%zu RST%s may be the reset of a half-open connection left by a lost "
                "SYN-ACK (marked ?)\n", m.doubts, m.doubts == 1 ? "" : "s");
    if (m.inferred)
        fprintf(out, "%zu hop%s inferred from other traces, not measured on %s own flow "
                "(marked (11))\n", m.inferred, m.inferred == 1 ? "" : "s",
                m.inferred == 1 ? "its" : "their");
    if (m.unreachable)
        fprintf(out, "%zu hop%s answered destination unreachable (marked as traceroute does: "
                "!N network, !H host, !P protocol or port, !A/!X administratively prohibited, "
                "!<code> other)\n", m.unreachable, m.unreachable == 1 ? "" : "s");
    if (m.mpls)
        fprintf(out, "%zu hop%s answered with an MPLS label stack (RFC 4950, marked M; the "
                "labels are in the AS-path view and the JSON)\n", m.mpls, m.mpls == 1 ? "" : "s");
    if (m.ifinfo)
        fprintf(out, "%zu hop%s named %s interface (RFC 5837, marked I)\n", m.ifinfo,
                m.ifinfo == 1 ? "" : "s", m.ifinfo == 1 ? "its" : "their");
    if (m.limited)
        fprintf(out, "%zu hop%s unanswered where the router answered other probes: "
                "rate-limited (marked ~)\n", m.limited, m.limited == 1 ? "" : "s");
    unsigned long long n = run->stats.unmatched;
    if (n == 1)
        fputs("1 reply matched no probe and was ignored\n", out);
    else if (n > 1)
        fprintf(out, "%llu replies matched no probe and were ignored\n", n);
    /* Cut-short or inconsistent packets (forged ones among them) are never
     * matched either; say so, as for replies that matched no probe. */
    unsigned long long bad = run->stats.malformed;
    if (bad)
        fprintf(out, "%llu malformed packet%s ignored\n", bad, bad == 1 ? " was" : "s were");
}

/* The grid's cells (TTL rows x traces), or 0 when it has no rows. */
static size_t grid_cells(const rg_run *run)
{
    unsigned lo, hi;
    return row_range(run, &lo, &hi) ? (size_t)(hi - lo + 1) * run->ntraces : 0;
}

bool rg_table_write(FILE *out, const rg_run *run)
{
    return rg_table_write_width(out, run, 0);
}

bool rg_table_write_width(FILE *out, const rg_run *run, size_t width)
{
    size_t cells = run->ntraces > 0 ? grid_cells(run) : 0;
    if (cells > RG_TABLE_MAX_CELLS) {
        fprintf(out, "(TTL-by-trace grid left out: %zu traces over %zu TTLs is more than "
                "%u cells; the lines below and the JSON have every verdict and hop)\n\n",
                run->ntraces, cells / run->ntraces, RG_TABLE_MAX_CELLS);
        write_summary(out, run);
    } else if (run->ntraces > 0) {
        if (!write_grid(out, run, width))
            return false;
        fputc('\n', out);
        write_summary(out, run);
    }
    write_footer(out, run);
    return fflush(out) == 0 && !ferror(out);
}
