#include "paths.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

bool rg_paths_wanted(const rg_run *run)
{
    for (size_t i = 0; i < run->nhosts; i++)
        if (run->hosts[i].asn || run->hosts[i].ptr)
            return true;
    for (size_t i = 0; i < run->ntraces; i++)
        if (run->traces[i].nexts)
            return true; /* MPLS labels or interfaces to show */
    return false;
}

size_t rg_paths_as_path(const rg_run *run, const rg_trace *t, uint32_t *as, size_t max)
{
    size_t n = 0;
    for (unsigned ttl = t->min_ttl; ttl <= t->last_ttl && n < max; ttl++) {
        const rg_probe *p = rg_trace_answer(t, ttl);
        const rg_host *h = p ? rg_run_host(run, &p->from) : NULL;
        if (!h || h->asn == 0 || (n > 0 && as[n - 1] == h->asn))
            continue;
        as[n++] = h->asn;
    }
    return n;
}

/* ---- the AS path of each trace, ports of a target merged ---- */

#define MAX_AS 64 /* one per TTL at most */
#define MAX_MERGE_TRIES 16 /* distinct paths of one target compared against */

typedef struct as_path {
    uint32_t as[MAX_AS];
    size_t n;
} as_path;

static bool same_path(const as_path *a, const as_path *b)
{
    return a->n == b->n && memcmp(a->as, b->as, a->n * sizeof a->as[0]) == 0;
}

/* Traces of one target (same name, same address) come one after another. */
static bool same_target(const rg_trace *a, const rg_trace *b)
{
    return rg_addr_equal(&a->dst, &b->dst) && a->target && b->target &&
           strcmp(a->target, b->target) == 0;
}

/* "198.19.0.5:80,443", "[2001:db8::1]:80", "web.lab:80,443 (198.19.0.5)":
 * the members of leader's group (leader[j] == i); out NULL only counts. */
static size_t put_group_label(FILE *out, const rg_run *run, const size_t *leader, size_t i)
{
    const rg_trace *t = &run->traces[i];
    char a[RG_ADDR_STRLEN], port[24], text[16];
    rg_addr_format(&t->dst, a, sizeof a);
    bool named = t->target && strcmp(t->target, a) != 0, v6 = t->dst.family == 6;
    size_t n = named ? rg_text_clean(out, t->target)
                     : rg_text_put(out, v6 ? "[" : "") + rg_text_put(out, a) +
                           rg_text_put(out, v6 ? "]" : "");
    for (size_t j = i; j < run->ntraces && same_target(t, &run->traces[j]); j++) {
        if (leader[j] != i)
            continue;
        snprintf(port, sizeof port, "%s%s", j == i ? ":" : ",",
                 rg_trace_port_text(&run->traces[j], text, sizeof text));
        n += rg_text_put(out, port);
    }
    if (named)
        n += rg_text_put(out, " (") + rg_text_put(out, a) + rg_text_put(out, ")");
    return n;
}

static void put_path(FILE *out, const as_path *p)
{
    if (p->n == 0) {
        fputs("(no AS known)", out);
        return;
    }
    for (size_t k = 0; k < p->n; k++)
        fprintf(out, "%sAS%lu", k ? " -> " : "", (unsigned long)p->as[k]);
}

/* Each AS named on the paths once, with its organisation. */
static void put_as_names(FILE *out, const rg_run *run)
{
    uint32_t *seen = calloc(run->nhosts + 1, sizeof *seen);
    size_t nseen = 0;
    for (size_t i = 0; seen && i < run->nhosts; i++) {
        const rg_host *h = &run->hosts[i];
        bool dup = false;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == h->asn;
        if (!h->asn || !h->as_org || dup)
            continue;
        seen[nseen++] = h->asn;
        fprintf(out, "  AS%lu  ", (unsigned long)h->asn);
        rg_text_clean(out, h->as_org);
        fputc('\n', out);
    }
    free(seen);
}

static bool write_as_paths(FILE *out, const rg_run *run)
{
    as_path *paths = calloc(run->ntraces ? run->ntraces : 1, sizeof *paths);
    size_t *leader = calloc(run->ntraces ? run->ntraces : 1, sizeof *leader);
    if (!paths || !leader) {
        free(paths);
        free(leader);
        return false;
    }
    size_t w = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        paths[i].n = rg_paths_as_path(run, &run->traces[i], paths[i].as, MAX_AS);
        leader[i] = i;
        /* Against the target's first few distinct paths only: linear in
         * the run however many ports (1024) a target has. */
        size_t tried = 0;
        for (size_t j = i; j-- > 0 && tried < MAX_MERGE_TRIES &&
                           same_target(&run->traces[j], &run->traces[i]);) {
            if (leader[j] != j)
                continue;
            tried++;
            if (same_path(&paths[j], &paths[i])) {
                leader[i] = j; /* leaders' paths differ: one matches at most */
                break;
            }
        }
    }
    for (size_t i = 0; i < run->ntraces; i++) {
        size_t n = leader[i] == i ? put_group_label(NULL, run, leader, i) : 0;
        w = n > w ? n : w;
    }
    fputs("\nAS paths\n", out);
    for (size_t i = 0; i < run->ntraces; i++) {
        if (leader[i] != i)
            continue;
        size_t n = put_group_label(out, run, leader, i);
        fprintf(out, "%*s", (int)(w - n + 2), "");
        put_path(out, &paths[i]);
        fputc('\n', out);
    }
    put_as_names(out, run);
    free(paths);
    free(leader);
    return true;
}

/* ---- the hops of each trace, in aligned columns ---- */

typedef struct hop_cells {
    char addr[RG_ADDR_STRLEN + 8];
    const char *name;         /* untrusted: escaped when written */
    char as[16];
    const char *country;
    char rtt[32];
} hop_cells;

static void fill_host(hop_cells *c, const rg_host *h)
{
    c->name = h && h->ptr ? h->ptr : "";
    if (h && h->asn)
        snprintf(c->as, sizeof c->as, "AS%lu", (unsigned long)h->asn);
    else
        snprintf(c->as, sizeof c->as, "%s", h ? "AS???" : "");
    c->country = h && h->country[0] ? h->country : "";
}

/* The same symbols as the table: - silent, ~ rate-limited; an inferred hop
 * is said so and has no RTT of its own. */
static void hop_row(const rg_run *run, const rg_trace *t, unsigned ttl, hop_cells *c)
{
    const rg_probe *p = rg_trace_answer(t, ttl);
    const rg_addr *inferred = p ? NULL : rg_trace_inferred(t, ttl);
    memset(c, 0, sizeof *c);
    c->name = c->country = "";
    if (p || inferred) {
        const rg_addr *a = p ? &p->from : inferred;
        rg_addr_format(a, c->addr, sizeof c->addr);
        fill_host(c, rg_run_host(run, a));
        if (p)
            snprintf(c->rtt, sizeof c->rtt, "%u.%03u ms", p->rtt_us / 1000, p->rtt_us % 1000);
        else
            snprintf(c->rtt, sizeof c->rtt, "inferred");
        return;
    }
    bool limited = rg_trace_silence(t, ttl) == RG_SILENCE_RATE_LIMITED;
    snprintf(c->addr, sizeof c->addr, "%s", limited ? "~" : "-");
    snprintf(c->rtt, sizeof c->rtt, "%s", limited ? "rate-limited" : "silent");
}

static bool shown_ttl(const rg_trace *t, unsigned ttl)
{
    return rg_trace_sent(t, ttl) > 0 || rg_trace_inferred(t, ttl);
}

static void put_cell(FILE *out, const char *s, size_t width, bool clean)
{
    size_t n = clean ? rg_text_clean(out, s) : rg_text_put(out, s);
    fprintf(out, "%*s", (int)(width - n + 2), "");
}

/* The hop's ICMP extensions under its row, like mtr -e: the label stack
 * top first, then each interface object with what the router sent (its
 * name is outside text: escaped). */
static void put_extensions(FILE *out, const rg_icmpext *e)
{
    if (e->nlabels)
        fputs("       MPLS", out);
    for (unsigned i = 0; i < e->nlabels; i++) {
        const rg_mpls_lse *l = &e->labels[i];
        fprintf(out, "%s label %lu TC %u S %u TTL %u", i ? "," : "", (unsigned long)l->label,
                l->tc, l->s, l->ttl);
    }
    if (e->nlabels)
        fputc('\n', out);
    for (unsigned i = 0; i < e->nifs; i++) {
        const rg_ifinfo *f = &e->ifs[i];
        const char *sep = ":";
        fprintf(out, "       %s interface", rg_if_role_name((enum rg_if_role)f->role));
        if (f->has & RG_IF_HAS_IFINDEX) {
            fprintf(out, "%s ifIndex %lu", sep, (unsigned long)f->ifindex);
            sep = ",";
        }
        if (f->has & RG_IF_HAS_ADDR) {
            char a[RG_ADDR_STRLEN];
            fprintf(out, "%s %s", sep, rg_addr_format(&f->addr, a, sizeof a));
            sep = ",";
        }
        if (f->has & RG_IF_HAS_NAME) {
            fprintf(out, "%s name ", sep);
            rg_text_clean(out, f->name);
            sep = ",";
        }
        if (f->has & RG_IF_HAS_MTU)
            fprintf(out, "%s MTU %lu", sep, (unsigned long)f->mtu);
        fputc('\n', out);
    }
}

static void write_hops(FILE *out, const rg_run *run, const rg_trace *t)
{
    size_t wa = strlen("Address"), wn = strlen("Name"), ws = strlen("AS");
    hop_cells c;
    for (unsigned ttl = t->min_ttl; ttl <= t->last_ttl; ttl++) {
        if (!shown_ttl(t, ttl))
            continue;
        hop_row(run, t, ttl, &c);
        size_t a = strlen(c.addr), n = rg_text_clean(NULL, c.name), s = strlen(c.as);
        wa = a > wa ? a : wa;
        wn = n > wn ? n : wn;
        ws = s > ws ? s : ws;
    }
    fputc('\n', out);
    rg_text_label(out, t);
    fprintf(out, "\n  Hop  %-*s  %-*s  %-*s  Country  RTT\n", (int)wa, "Address", (int)wn,
            "Name", (int)ws, "AS");
    for (unsigned ttl = t->min_ttl; ttl <= t->last_ttl; ttl++) {
        if (!shown_ttl(t, ttl))
            continue;
        hop_row(run, t, ttl, &c);
        fprintf(out, "  %3u  ", ttl);
        put_cell(out, c.addr, wa, false);
        put_cell(out, c.name, wn, true);
        put_cell(out, c.as, ws, false);
        put_cell(out, c.country, strlen("Country"), true);
        fprintf(out, "%s\n", c.rtt);
        const rg_icmpext *e = rg_trace_ext(t, rg_trace_answer(t, ttl));
        if (e)
            put_extensions(out, e);
    }
}

bool rg_paths_write(FILE *out, const rg_run *run)
{
    if (!write_as_paths(out, run))
        return false;
    for (size_t i = 0; i < run->ntraces; i++)
        write_hops(out, run, &run->traces[i]);
    if (run->as_credit)
        fprintf(out, "\n%s\n", run->as_credit);
    if (run->country_credit)
        fprintf(out, "%s%s\n", run->as_credit ? "" : "\n", run->country_credit);
    return fflush(out) == 0 && !ferror(out);
}
