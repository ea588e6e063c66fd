#include "middlebox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../probe/probe.h"

/* The bytes probe (ttl, attempt) of t went out with, rebuilt from the same
 * spec the engine sent (rg_trace_probe_spec): nothing is kept per probe in
 * flight. */
static size_t sent_bytes(const rg_trace *t, unsigned ttl, unsigned attempt, uint8_t *buf)
{
    rg_probe_spec spec = rg_trace_probe_spec(t, ttl, attempt);
    return rg_probe_build(&spec, buf, RG_PROBE_MAXLEN);
}

/* The sent probe's own fields, in the shape of a quote of it. */
static bool sent_fields(const rg_trace *t, unsigned ttl, unsigned attempt, rg_quote_diff *d)
{
    uint8_t pkt[RG_PROBE_MAXLEN];
    size_t len = sent_bytes(t, ttl, attempt, pkt);
    return len && rg_quote_compare(pkt, len, pkt, len, false, d);
}

bool rg_middlebox_sent(const rg_trace *t, unsigned ttl, unsigned attempt, rg_quote_diff *d)
{
    return sent_fields(t, ttl, attempt, d);
}

static const rg_probe *quoted_answer(const rg_trace *t, unsigned ttl, unsigned *attempt);

/* Copies the value of one rarer field (the IP ID varies per probe and is
 * only kept with the probe it came from). */
static void copy_rare(rg_trace *t, const rg_quote_diff *d, const rg_addr *src,
                      const rg_addr *dst, uint16_t bit)
{
    switch (bit) {
    case RG_QC_SPORT: t->rare.sport = d->sport; break;
    case RG_QC_DPORT: t->rare.dport = d->dport; break;
    case RG_QC_SEQ: t->rare.seq = d->seq; break;
    case RG_QC_FLOW: t->rare.flow = d->flow; break;
    case RG_QC_TCP: t->rare.tcp_flags = d->tcp_flags; break;
    case RG_QC_SRC: t->quoted_src = *src; break;
    case RG_QC_DST: t->quoted_dst = *dst; break;
    default: return;
    }
    t->rare.changes |= bit;
}

/* The rarer values once per trace and field, from the lowest TTL showing
 * it: a later hop may show a field an earlier one did not (a second
 * middlebox), and answers arrive in any order. */
static void keep_rare(rg_trace *t, const rg_quote_diff *d, const rg_addr *src,
                      const rg_addr *dst, unsigned ttl, unsigned attempt)
{
    if (t->rare_ttl == 0 || ttl < t->rare_ttl) {
        struct { rg_quote_diff rare; rg_addr quoted_src, quoted_dst; unsigned rare_ttl; } old =
            {t->rare, t->quoted_src, t->quoted_dst, t->rare_ttl};
        t->rare = *d;
        t->quoted_src = *src;
        t->quoted_dst = *dst;
        t->rare_ttl = ttl;
        t->rare_attempt = attempt;
        if (old.rare_ttl == 0)
            return;
        uint16_t more = old.rare.changes & (uint16_t)~d->changes & (uint16_t)~RG_QC_IPID;
        for (unsigned i = 0; i < RG_QC_KINDS; i++)
            if (more & (1u << i))
                copy_rare(t, &old.rare, &old.quoted_src, &old.quoted_dst, (uint16_t)(1u << i));
        return;
    }
    uint16_t more = d->changes & (uint16_t)~t->rare.changes & RG_QC_RARE & (uint16_t)~RG_QC_IPID;
    for (unsigned i = 0; i < RG_QC_KINDS; i++)
        if (more & (1u << i))
            copy_rare(t, d, src, dst, (uint16_t)(1u << i));
}

void rg_middlebox_note(rg_trace *t, unsigned ttl, unsigned attempt, const rg_reply *r)
{
    rg_probe *p = rg_trace_probe(t, ttl, attempt);
    if (!p || !r->quote ||
        (r->kind != RG_REPLY_TIME_EXCEEDED && r->kind != RG_REPLY_UNREACHABLE))
        return;
    uint8_t pkt[RG_PROBE_MAXLEN];
    size_t len = sent_bytes(t, ttl, attempt, pkt);
    rg_quote_diff d;
    if (!len || !rg_quote_compare(pkt, len, r->quote, r->quote_len,
                                  r->kind == RG_REPLY_TIME_EXCEEDED, &d))
        return;
    p->quote = rg_quote_brief_of(&d);
    rg_addr src, dst;
    if (!(d.changes & RG_QC_RARE) || ttl == RG_PORT_PROBE_TTL ||
        !rg_quote_addrs(r->quote, r->quote_len, &src, &dst))
        return;
    d.seq -= rg_probe_seq(t->seq_base, ttl, attempt);
    keep_rare(t, &d, &src, &dst, ttl, attempt);
}

void rg_middlebox_note_rewritten_source(rg_trace *t, unsigned ttl, const rg_reply *r)
{
    rg_addr src, dst;
    if (ttl == RG_PORT_PROBE_TTL || !r->quote ||
        !rg_quote_addrs(r->quote, r->quote_len, &src, &dst))
        return;
    if (t->nat_errors < UINT32_MAX)
        t->nat_errors++;
    if (t->nat_ttl != 0 && t->nat_ttl <= ttl)
        return;
    t->nat_ttl = ttl;
    t->nat_by = r->from;
    t->nat_source = src;
}

unsigned rg_middlebox_quoted_below(const rg_trace *t, unsigned ttl)
{
    while (t->probes && ttl-- > t->min_ttl) {
        unsigned attempt;
        if (quoted_answer(t, ttl, &attempt))
            return ttl;
    }
    return 0;
}

unsigned rg_middlebox_nat_after(const rg_trace *t)
{
    return rg_middlebox_quoted_below(t, t->nat_ttl);
}

bool rg_middlebox_note_evidence(rg_trace *t, uint16_t what, unsigned ttl,
                                const rg_reply *r, int32_t shift)
{
    if (ttl == RG_PORT_PROBE_TTL || (what != RG_QC_DST && what != RG_QC_SEQ))
        return true;
    if (!t->evidence && !(t->evidence = calloc(1, sizeof *t->evidence)))
        return false;
    rg_rewrite_seen *e = what == RG_QC_DST ? &t->evidence->dst : &t->evidence->seq;
    if (e->errors > 0 && what == RG_QC_SEQ && shift != e->shift)
        e->mixed = true;
    if (e->errors < UINT32_MAX)
        e->errors++;
    if (e->ttl != 0 && e->ttl <= ttl)
        return true;
    e->ttl = ttl;
    e->by = r->from;
    e->shift = shift;
    if (what == RG_QC_DST) {
        e->dst = r->probe_dst;
        e->dport = r->dport;
    }
    return true;
}

/* Whether some probe at or above from was answered with a quote that
 * matched ordinarily: that hop saw the probe as sent. */
static bool contradicted(const rg_trace *t, unsigned from)
{
    for (unsigned ttl = from; ttl <= t->max_ttl; ttl++) {
        unsigned attempt;
        if (quoted_answer(t, ttl, &attempt))
            return true;
    }
    return false;
}

const rg_rewrite_seen *rg_middlebox_evidence(const rg_trace *t, uint16_t what)
{
    if (!t->evidence || !t->probes)
        return NULL;
    const rg_rewrite_seen *e = what == RG_QC_DST ? &t->evidence->dst : &t->evidence->seq;
    if (e->ttl == 0 || (what == RG_QC_SEQ && e->mixed) ||
        contradicted(t, e->ttl))
        return NULL;
    return e;
}

void rg_middlebox_reset(rg_trace *t)
{
    t->nat_errors = 0;
    t->nat_ttl = 0;
    t->nat_by = t->nat_source = (rg_addr){0};
    t->rare = (rg_quote_diff){0};
    t->quoted_src = t->quoted_dst = (rg_addr){0};
    t->rare_ttl = t->rare_attempt = 0;
    free(t->evidence);
    t->evidence = NULL;
}

/* The first answer at ttl whose quote was compared, and its attempt. */
static const rg_probe *quoted_answer(const rg_trace *t, unsigned ttl, unsigned *attempt)
{
    unsigned n = rg_trace_sent(t, ttl);
    for (unsigned a = 0; a < n; a++) {
        const rg_probe *p = rg_trace_probe(t, ttl, a);
        if (p && p->quote.tcp_quoted > 0) {
            *attempt = a;
            return p;
        }
    }
    return NULL;
}

/* Whether a quote says anything about this field. */
static bool applicable(uint16_t what, const rg_probe *p, const rg_trace *t)
{
    switch (what) {
    case RG_QC_TTL:
        return p->kind == RG_REPLY_TIME_EXCEEDED;
    case RG_QC_IPID:
        return t->dst.family == 4;
    case RG_QC_FLOW:
        return t->dst.family == 6;
    case RG_QC_SEQ:
        return p->quote.tcp_quoted >= 8;
    case RG_QC_TCP:
        return p->quote.tcp_quoted >= 16;
    case RG_QC_MSS:
    case RG_QC_OPTIONS:
        return p->quote.options;
    default:
        return true;
    }
}

/* What persists of a field from hop to hop: its value (DSCP, ECN, TTL,
 * MSS), or for the rarer fields whether it was rewritten. */
static uint32_t state_of(uint16_t what, const rg_quote_brief *q)
{
    switch (what) {
    case RG_QC_DSCP: return (uint32_t)q->tos >> 2;
    case RG_QC_ECN: return q->tos & 3u;
    case RG_QC_TTL: return q->ttl <= 1 ? 1u : q->ttl;
    case RG_QC_MSS: return q->mss;
    default: return (q->changes & what) != 0;
    }
}

/* The sent and the rewritten value of a rarer field, from the trace's
 * first quote that showed one (the sequence number: 0 and the shift). */
static void rare_values(uint16_t what, const rg_trace *t, uint32_t *sent, uint32_t *quoted)
{
    rg_quote_diff s = {0};
    sent_fields(t, t->rare_ttl, t->rare_attempt, &s);
    const rg_quote_diff *q = &t->rare;
    switch (what) {
    case RG_QC_IPID: *sent = s.ip_id; *quoted = q->ip_id; break;
    case RG_QC_SPORT: *sent = s.sport; *quoted = q->sport; break;
    case RG_QC_DPORT: *sent = s.dport; *quoted = q->dport; break;
    case RG_QC_FLOW: *sent = s.flow; *quoted = q->flow; break;
    case RG_QC_TCP: *sent = s.tcp_flags; *quoted = q->tcp_flags; break;
    case RG_QC_SEQ: *sent = 0; *quoted = q->seq; break;
    default: *sent = 0; *quoted = 1; break;
    }
}

/* The values shown for a change: before (the state so far) and after; for
 * a rarer field the sent and the quoted value (swapped when it is undone). */
static void shown_values(rg_mbox_change *c, uint32_t before, uint32_t after,
                         const rg_trace *t)
{
    c->from = before;
    c->to = after;
    if ((c->what & RG_QC_RARE) && t->rare_ttl != 0) {
        uint32_t sent, quoted;
        rare_values(c->what, t, &sent, &quoted);
        c->from = after ? sent : quoted;
        c->to = after ? quoted : sent;
    }
    if (c->what == RG_QC_SRC) {
        c->addr_from = t->src;
        c->addr_to = after ? t->quoted_src : t->src;
        if (!after)
            c->addr_from = t->quoted_src;
    } else if (c->what == RG_QC_DST) {
        c->addr_from = t->dst;
        c->addr_to = after ? t->quoted_dst : t->dst;
        if (!after)
            c->addr_from = t->quoted_dst;
    }
}

typedef struct walk {
    uint32_t state[RG_QC_KINDS];
    bool known[RG_QC_KINDS];
    unsigned prev_ttl;
    size_t n;
} walk;

static void walk_hop(walk *w, const rg_trace *t, unsigned ttl, rg_mbox_change *out,
                     size_t max)
{
    unsigned attempt;
    const rg_probe *p = quoted_answer(t, ttl, &attempt);
    rg_quote_diff s;
    if (!p || !sent_fields(t, ttl, attempt, &s))
        return;
    rg_quote_brief sent = rg_quote_brief_of(&s);
    for (unsigned i = 0; i < RG_QC_KINDS; i++) {
        uint16_t what = (uint16_t)(1u << i);
        if (!applicable(what, p, t))
            continue;
        uint32_t now = state_of(what, &p->quote);
        if (!w->known[i]) {
            w->state[i] = what == RG_QC_TTL ? 1u : state_of(what, &sent);
            w->known[i] = true;
        }
        if (now == w->state[i])
            continue;
        if (w->n < max) {
            rg_mbox_change *c = &out[w->n];
            *c = (rg_mbox_change){.what = what, .ttl = ttl, .prev_ttl = w->prev_ttl,
                                  .probe = p};
            shown_values(c, w->state[i], now, t);
        }
        w->n++;
        w->state[i] = now;
    }
    w->prev_ttl = ttl;
}

size_t rg_middlebox_changes(const rg_trace *t, rg_mbox_change *out, size_t max)
{
    walk w = {0};
    if (!t->probes)
        return 0;
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++)
        walk_hop(&w, t, ttl, out, max);
    return w.n;
}

size_t rg_middlebox_max_changes(const rg_trace *t)
{
    return (size_t)(t->max_ttl - t->min_ttl + 1) * RG_QC_KINDS;
}

bool rg_middlebox_options_quoted(const rg_trace *t)
{
    if (!t->probes)
        return false;
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++) {
        unsigned attempt;
        const rg_probe *p = quoted_answer(t, ttl, &attempt);
        if (p && p->quote.options)
            return true;
    }
    return false;
}

/* A time exceeded whose quote shows the SYN as we sent it. */
static bool saw_syn(const rg_probe *p)
{
    const uint16_t identity = RG_QC_DST | RG_QC_DPORT | RG_QC_SPORT | RG_QC_TCP;
    return p->kind == RG_REPLY_TIME_EXCEEDED && p->quote.tcp_quoted > 0 &&
           !(p->quote.changes & identity);
}

unsigned rg_middlebox_syn_last_seen(const rg_trace *t)
{
    if (!t->probes)
        return 0;
    for (unsigned ttl = t->max_ttl; ttl >= t->min_ttl && ttl > 0; ttl--) {
        unsigned n = rg_trace_sent(t, ttl);
        for (unsigned a = 0; a < n; a++) {
            const rg_probe *p = rg_trace_probe(t, ttl, a);
            if (p && saw_syn(p))
                return ttl;
        }
    }
    return 0;
}

const char *rg_mbox_value(const rg_mbox_change *c, bool after, char *buf, size_t len)
{
    uint32_t v = after ? c->to : c->from;
    switch (c->what) {
    case RG_QC_SRC:
    case RG_QC_DST:
        return rg_addr_format(after ? &c->addr_to : &c->addr_from, buf, len);
    case RG_QC_IPID:
        snprintf(buf, len, "0x%04" PRIx32, v);
        break;
    case RG_QC_FLOW:
        snprintf(buf, len, "0x%05" PRIx32, v);
        break;
    case RG_QC_TCP:
        snprintf(buf, len, "flags 0x%02" PRIx32, v);
        break;
    case RG_QC_SEQ:
        snprintf(buf, len, "%+" PRId32, (int32_t)v);
        break;
    case RG_QC_OPTIONS:
        snprintf(buf, len, "%s", v ? "changed" : "as sent");
        break;
    default:
        snprintf(buf, len, "%" PRIu32, v);
        break;
    }
    return buf;
}
