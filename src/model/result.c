#include "result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_store.h"
#include "unreach.h"

/* Row of a TTL in the slot arrays: row 0 holds the port probes. */
static size_t row_of(const rg_trace *t, unsigned ttl)
{
    return ttl == RG_PORT_PROBE_TTL ? 0 : (size_t)(ttl - t->min_ttl) + 1;
}

static size_t nttl(const rg_trace *t)
{
    return (size_t)(t->max_ttl - t->min_ttl + 1);
}

bool rg_trace_init_deferred(rg_trace *t, const char *target, const rg_addr *dst,
                            uint16_t dport, unsigned min_ttl, unsigned max_ttl,
                            unsigned attempts)
{
    memset(t, 0, sizeof *t);
    if (min_ttl == 0 || max_ttl < min_ttl || attempts == 0)
        return false;
    t->target = strdup(target);
    if (!t->target)
        return false;
    t->dst = *dst;
    t->dport = dport;
    t->min_ttl = min_ttl;
    t->max_ttl = max_ttl;
    t->port_ttl = max_ttl;
    t->attempts = attempts;
    return true;
}

bool rg_trace_alloc(rg_trace *t)
{
    if (t->probes)
        return true;
    size_t n = nttl(t);
    t->probes = calloc((n + 1) * t->attempts, sizeof *t->probes);
    t->nsent = calloc(n + 1, sizeof *t->nsent);
    t->inferred = calloc(n, sizeof *t->inferred);
    t->silence = calloc(n, sizeof *t->silence);
    if (t->probes && t->nsent && t->inferred && t->silence)
        return true;
    rg_trace_release(t);
    return false;
}

size_t rg_trace_planned_slots(const rg_trace *t)
{
    return t->attempts ? (nttl(t) + 1) * t->attempts : 0;
}

bool rg_trace_init(rg_trace *t, const char *target, const rg_addr *dst,
                   uint16_t dport, unsigned min_ttl, unsigned max_ttl,
                   unsigned attempts)
{
    if (rg_trace_init_deferred(t, target, dst, dport, min_ttl, max_ttl, attempts) &&
        rg_trace_alloc(t))
        return true;
    rg_trace_free(t);
    return false;
}

void rg_trace_free(rg_trace *t)
{
    free(t->target);
    free(t->probes);
    free(t->row_start);
    free(t->nsent);
    free(t->inferred);
    free(t->silence);
    free(t->exts);
    free(t->evidence);
    memset(t, 0, sizeof *t);
}

void rg_trace_release(rg_trace *t)
{
    free(t->probes);
    free(t->row_start);
    free(t->nsent);
    free(t->inferred);
    free(t->silence);
    t->probes = NULL;
    t->row_start = NULL;
    t->nsent = NULL;
    t->inferred = NULL;
    t->silence = NULL;
    rg_trace_clear_ext(t);
}

/* Index of p among t's slots, or false. */
static bool slot_index(const rg_trace *t, const rg_probe *p, size_t *i)
{
    if (!t->probes || !p || p < t->probes || p >= t->probes + rg_trace_slots(t))
        return false;
    *i = (size_t)(p - t->probes);
    return true;
}

/* First kept entry whose slot is not below i. */
static size_t ext_lower_bound(const rg_trace *t, size_t i)
{
    size_t lo = 0, hi = t->nexts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->exts[mid].slot < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool rg_trace_set_ext(rg_trace *t, const rg_probe *p, const rg_icmpext *e)
{
    size_t i;
    if (!slot_index(t, p, &i))
        return false;
    size_t k = ext_lower_bound(t, i);
    if (k < t->nexts && t->exts[k].slot == i) {
        t->exts[k].ext = *e;
        return true;
    }
    if (t->nexts == t->exts_cap) {
        uint32_t cap = t->exts_cap ? t->exts_cap * 2 : 4;
        rg_probe_ext *n = realloc(t->exts, cap * sizeof *n);
        if (!n)
            return false;
        t->exts = n;
        t->exts_cap = cap;
    }
    memmove(&t->exts[k + 1], &t->exts[k], (t->nexts - k) * sizeof *t->exts);
    t->exts[k].slot = (uint32_t)i;
    t->exts[k].ext = *e;
    t->nexts++;
    return true;
}

const rg_icmpext *rg_trace_ext(const rg_trace *t, const rg_probe *p)
{
    size_t i;
    if (t->nexts == 0 || !slot_index(t, p, &i))
        return NULL;
    size_t k = ext_lower_bound(t, i);
    return k < t->nexts && t->exts[k].slot == i ? &t->exts[k].ext : NULL;
}

void rg_trace_clear_ext(rg_trace *t)
{
    free(t->exts);
    t->exts = NULL;
    t->nexts = t->exts_cap = 0;
}

static bool valid_ttl(const rg_trace *t, unsigned ttl)
{
    return ttl == RG_PORT_PROBE_TTL || (ttl >= t->min_ttl && ttl <= t->max_ttl);
}

rg_probe *rg_trace_probe(const rg_trace *t, unsigned ttl, unsigned attempt)
{
    if (!t->probes || !valid_ttl(t, ttl) || attempt >= t->attempts)
        return NULL;
    size_t r = row_of(t, ttl);
    if (!t->row_start)
        return &t->probes[r * t->attempts + attempt];
    size_t k = (size_t)t->row_start[r] + attempt;
    return k < t->row_start[r + 1] ? &t->probes[k] : NULL;
}

size_t rg_trace_slot_number(const rg_trace *t, unsigned ttl, unsigned attempt)
{
    return row_of(t, ttl) * t->attempts + attempt;
}

unsigned rg_trace_sent(const rg_trace *t, unsigned ttl)
{
    if (!t->nsent || !valid_ttl(t, ttl))
        return 0;
    return t->nsent[row_of(t, ttl)];
}

void rg_trace_set_sent(rg_trace *t, unsigned ttl, unsigned n)
{
    if (t->nsent && valid_ttl(t, ttl) && n <= t->attempts)
        t->nsent[row_of(t, ttl)] = (uint8_t)n;
}

size_t rg_trace_slots(const rg_trace *t)
{
    if (t->row_start)
        return t->row_start[nttl(t) + 1];
    return t->probes ? (nttl(t) + 1) * t->attempts : 0;
}

unsigned rg_trace_wire_ttl(const rg_trace *t, unsigned ttl)
{
    return ttl == RG_PORT_PROBE_TTL ? t->port_ttl : ttl;
}

rg_probe_spec rg_trace_probe_spec(const rg_trace *t, unsigned ttl, unsigned attempt)
{
    return (rg_probe_spec){
        .src = t->src, .dst = t->dst, .method = t->method, .flow = t->sport,
        .dport = t->dport, .ttl = (uint8_t)rg_trace_wire_ttl(t, ttl),
        .seq = rg_probe_seq(t->seq_base, ttl, attempt),
        .ident = rg_probe_ident(t->seq_base, ttl, attempt),
        .ip_id = rg_probe_ip_id(t->seq_base, ttl, attempt),
        .flow_label = t->flow_label,
    };
}

const rg_addr *rg_trace_inferred(const rg_trace *t, unsigned ttl)
{
    if (!t->inferred || ttl < t->min_ttl || ttl > t->max_ttl)
        return NULL;
    const rg_addr *a = &t->inferred[ttl - t->min_ttl];
    return a->family ? a : NULL;
}

enum rg_silence rg_trace_silence(const rg_trace *t, unsigned ttl)
{
    if (!t->silence || ttl < t->min_ttl || ttl > t->max_ttl)
        return RG_SILENCE_NONE;
    return (enum rg_silence)t->silence[ttl - t->min_ttl];
}

const rg_probe *rg_trace_answer(const rg_trace *t, unsigned ttl)
{
    unsigned n = rg_trace_sent(t, ttl);
    for (unsigned a = 0; a < n; a++) {
        const rg_probe *p = rg_trace_probe(t, ttl, a);
        if (p->kind != RG_REPLY_NONE)
            return p;
    }
    return NULL;
}

const rg_probe *rg_trace_shown(const rg_trace *t, unsigned ttl)
{
    const rg_probe *first = NULL;
    unsigned n = rg_trace_sent(t, ttl);
    for (unsigned a = 0; a < n; a++) {
        const rg_probe *p = rg_trace_probe(t, ttl, a);
        if (rg_probe_opens(p))
            return p;
        if (!first && p->kind != RG_REPLY_NONE)
            first = p;
    }
    return first;
}

static bool from_destination(const rg_trace *t, const rg_probe *p)
{
    return rg_addr_equal(&p->from, &t->dst);
}

int rg_trace_answer_attempt(const rg_trace *t, unsigned ttl)
{
    const rg_probe *p = rg_trace_answer(t, ttl);
    return p ? (int)(p - rg_trace_probe(t, ttl, 0)) : -1;
}

static size_t slot_count(const rg_trace *t)
{
    return rg_trace_slots(t);
}

bool rg_probe_opens(const rg_probe *p)
{
    return p->kind == RG_REPLY_SYNACK || p->kind == RG_REPLY_UDP || p->kind == RG_REPLY_ECHO;
}

/* A SYN-ACK proves the port open; a closed port never sends one, so any
 * SYN-ACK, for any probe of the trace, wins over RSTs. So does a UDP answer
 * (it carried the probe's secret back) or an echo reply. */
static const rg_probe *first_synack(const rg_trace *t)
{
    for (size_t k = 0; k < slot_count(t); k++)
        if (rg_probe_opens(&t->probes[k]))
            return &t->probes[k];
    return NULL;
}

/* UDP: port unreachable is the closed port's answer. Only the host a
 * datagram is for says so (a router never does for transit traffic), but
 * maybe from another of its addresses: Linux answers for an address of a
 * prefix routed to it locally from its interface's IPv6 address. The
 * reply named our probe and its secret, so it counts wherever it came from. */
static bool closes(const rg_trace *t, const rg_probe *p)
{
    (void)t;
    return p->kind == RG_REPLY_PORT_UNREACH;
}

static const rg_probe *first_closing(const rg_trace *t)
{
    for (size_t k = 0; k < slot_count(t); k++)
        if (closes(t, &t->probes[k]))
            return &t->probes[k];
    return NULL;
}

bool rg_trace_has_synack(const rg_trace *t)
{
    return first_synack(t) != NULL;
}

const rg_probe *rg_trace_deciding(const rg_trace *t)
{
    const rg_probe *sa = t->state == RG_PORT_OPEN ? first_synack(t) : NULL;
    if (sa)
        return sa;
    if (t->reached_ttl)
        return rg_trace_answer(t, t->reached_ttl);
    if (t->state != RG_PORT_CLOSED)
        return NULL;
    /* Closed on the port probes alone: their trusted RST (UDP: port
     * unreachable from the destination). */
    for (unsigned a = 0; a < rg_trace_sent(t, RG_PORT_PROBE_TTL); a++) {
        const rg_probe *p = rg_trace_probe(t, RG_PORT_PROBE_TTL, a);
        if ((p->kind == RG_REPLY_RST && rg_trace_rst_trusted(t, p)) || closes(t, p))
            return p;
    }
    return NULL;
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec != b->tv_sec ? a->tv_sec < b->tv_sec : a->tv_nsec < b->tv_nsec;
}

/* The destination lies beyond every router that said time exceeded. */
static unsigned destination_floor(const rg_trace *t, uint64_t *visits)
{
    unsigned floor = t->min_ttl;
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++)
        for (unsigned a = 0; a < rg_trace_sent(t, ttl); a++) {
            ++*visits;
            if (rg_trace_probe(t, ttl, a)->kind == RG_REPLY_TIME_EXCEEDED && ttl + 1 > floor)
                floor = ttl + 1;
        }
    return floor;
}

/* The latest send time of an RST (not p) that came back before p left, or
 * NULL: a probe sent before that time left nothing at the destination that
 * was still there when p arrived (that RST ended it). One pass. */
static const struct timespec *last_reset_before(const rg_trace *t, const rg_probe *p,
                                                uint64_t *visits)
{
    const struct timespec *latest = NULL;
    for (size_t k = 0; k < slot_count(t); k++) {
        const rg_probe *r = &t->probes[k];
        ++*visits;
        if (r != p && r->kind == RG_REPLY_RST && !ts_before(&p->sent, &r->received) &&
            (!latest || ts_before(latest, &r->sent)))
            latest = &r->sent;
    }
    return latest;
}

/* Linear in the trace's slots: an RST sent after q that came back before p
 * left exists exactly when q was sent before the latest such RST. */
bool rg_trace_rst_trusted_counted(const rg_trace *t, const rg_probe *p, uint64_t *visits)
{
    uint64_t ignored = 0;
    if (!visits)
        visits = &ignored;
    if (p->kind != RG_REPLY_RST)
        return false;
    const struct timespec *reset = last_reset_before(t, p, visits);
    unsigned floor = destination_floor(t, visits);
    /* Port probes (TTL 0) first, then the hops from the floor up. */
    for (unsigned ttl = RG_PORT_PROBE_TTL; ttl <= t->max_ttl;
         ttl = ttl == RG_PORT_PROBE_TTL ? (floor > t->min_ttl ? floor : t->min_ttl) : ttl + 1) {
        if (rg_trace_wire_ttl(t, ttl) < floor)
            continue;
        for (unsigned a = 0; a < rg_trace_sent(t, ttl); a++) {
            const rg_probe *q = rg_trace_probe(t, ttl, a);
            ++*visits;
            if (q == p || q->kind != RG_REPLY_NONE || q->sent.tv_sec == 0 ||
                !ts_before(&q->sent, &p->sent))
                continue;
            if (!reset || !ts_before(&q->sent, reset))
                return false;
        }
    }
    return true;
}

bool rg_trace_rst_trusted(const rg_trace *t, const rg_probe *p)
{
    return rg_trace_rst_trusted_counted(t, p, NULL);
}

static bool any_trusted_rst(const rg_trace *t)
{
    for (size_t k = 0; k < slot_count(t); k++)
        if (t->probes[k].kind == RG_REPLY_RST && rg_trace_rst_trusted(t, &t->probes[k]))
            return true;
    return false;
}

unsigned rg_distance_from_reply_ttl(unsigned reply_ttl)
{
    static const unsigned initial[] = {64, 128, 255};
    for (size_t i = 0; i < sizeof initial / sizeof initial[0]; i++)
        if (reply_ttl > 0 && reply_ttl <= initial[i])
            return initial[i] - reply_ttl + 1 <= 64 ? initial[i] - reply_ttl + 1 : 0;
    return 0;
}

/* The destination's own answer to the probe: SYN-ACK / RST, a UDP answer
 * or port unreachable, an echo reply. */
static bool destination_answer(const rg_trace *t, const rg_probe *p)
{
    return closes(t, p) || ((p->kind == RG_REPLY_SYNACK || p->kind == RG_REPLY_RST ||
                             rg_probe_opens(p)) && from_destination(t, p));
}

/* What the port probes showed: the distance their first TCP answer
 * suggests, and how many went unanswered. */
static void conclude_port_probes(rg_trace *t)
{
    t->est_distance = 0;
    t->port_probes_sent = rg_trace_sent(t, RG_PORT_PROBE_TTL);
    t->port_probes_lost = 0;
    for (unsigned a = 0; a < t->port_probes_sent; a++) {
        const rg_probe *p = rg_trace_probe(t, RG_PORT_PROBE_TTL, a);
        if (p->kind == RG_REPLY_NONE)
            t->port_probes_lost++;
        else if (!t->est_distance && destination_answer(t, p))
            t->est_distance = rg_distance_from_reply_ttl(p->reply_ttl);
    }
}

bool rg_trace_port_in_doubt(const rg_trace *t)
{
    bool rst = false;
    for (size_t k = 0; k < slot_count(t); k++)
        rst |= t->probes[k].kind == RG_REPLY_RST;
    return rst && !rg_trace_has_synack(t) && !any_trusted_rst(t);
}

/* The answer that ends a trace at the destination: TCP's, or for the other
 * methods an opening answer or the destination's port unreachable. */
static bool is_tcp(const rg_trace *t, const rg_probe *p)
{
    return p->kind == RG_REPLY_SYNACK || p->kind == RG_REPLY_RST || rg_probe_opens(p) ||
           closes(t, p);
}

/* An unreachable that is not a port's answer. */
static bool is_unreach(const rg_trace *t, const rg_probe *p)
{
    return p->kind == RG_REPLY_UNREACHABLE || (p->kind == RG_REPLY_PORT_UNREACH && !closes(t, p));
}

/* The port's state from every TCP answer of the trace, hops and port
 * probes alike: any SYN-ACK opens it, a trusted RST closes it, RSTs all in
 * doubt leave it unknown; no TCP answer at all is decided by the caller. */
static bool tcp_state(const rg_trace *t, enum rg_port_state *s)
{
    if (rg_trace_has_synack(t)) {
        *s = RG_PORT_OPEN;
        return true;
    }
    if (first_closing(t)) {
        *s = RG_PORT_CLOSED;
        return true;
    }
    bool rst = false;
    for (size_t k = 0; k < slot_count(t); k++)
        rst |= t->probes[k].kind == RG_REPLY_RST;
    if (!rst)
        return false;
    *s = any_trusted_rst(t) ? RG_PORT_CLOSED : RG_PORT_UNKNOWN;
    return true;
}

static unsigned unanswered_at(const rg_trace *t, unsigned ttl)
{
    unsigned n = 0;
    for (unsigned a = 0; a < rg_trace_sent(t, ttl) && a < t->attempts; a++)
        n += rg_trace_probe(t, ttl, a)->kind == RG_REPLY_NONE;
    return n;
}

/* Probes past the last answer (port probes included) that got none. */
static unsigned unanswered_past(const rg_trace *t, unsigned last)
{
    unsigned n = unanswered_at(t, RG_PORT_PROBE_TTL);
    for (unsigned ttl = last + 1 > t->min_ttl ? last + 1 : t->min_ttl; ttl <= t->max_ttl; ttl++)
        n += unanswered_at(t, ttl);
    return n;
}

/* On a trace the destination answered in TCP: the probes that must have
 * reached it (the port probes, and those at the TTL it answered at) and
 * how many of them got no answer. Routers do not rate-limit TCP answers,
 * so such a loss is loss on the path. */
static void tcp_loss(const rg_trace *t, unsigned *sent, unsigned *lost)
{
    *sent = rg_trace_sent(t, RG_PORT_PROBE_TTL);
    *lost = unanswered_at(t, RG_PORT_PROBE_TTL);
    if (t->reached_ttl) {
        *sent += rg_trace_sent(t, t->reached_ttl);
        *lost += unanswered_at(t, t->reached_ttl);
    }
}

const rg_probe *rg_trace_unreachable(const rg_trace *t)
{
    if (t->stopped_by_unreachable)
        return rg_trace_answer(t, t->last_answer_ttl);
    for (unsigned a = 0; a < rg_trace_sent(t, RG_PORT_PROBE_TTL) && a < t->attempts; a++) {
        const rg_probe *p = rg_trace_probe(t, RG_PORT_PROBE_TTL, a);
        if (is_unreach(t, p))
            return p;
    }
    return NULL;
}

static bool port_probes_expired(const rg_trace *t)
{
    for (unsigned a = 0; a < rg_trace_sent(t, RG_PORT_PROBE_TTL) && a < t->attempts; a++)
        if (rg_trace_probe(t, RG_PORT_PROBE_TTL, a)->kind == RG_REPLY_TIME_EXCEEDED)
            return true;
    return false;
}

static bool any_answer(const rg_trace *t)
{
    for (size_t k = 0; k < slot_count(t); k++)
        if (t->probes[k].kind != RG_REPLY_NONE)
            return true;
    return false;
}

/* No TCP answer came: an unreachable says so; silence past the last answer
 * is filtered only if the probes could have got there. */
static void silent_state(rg_trace *t)
{
    t->unanswered = unanswered_past(t, t->last_answer_ttl);
    if (rg_trace_unreachable(t)) {
        t->state = RG_PORT_UNREACHABLE;
        return;
    }
    t->state = RG_PORT_UNKNOWN;
    if (t->last_ttl == 0 && t->port_probes_sent == 0)
        t->unknown_why = RG_WHY_NOT_PROBED;
    else if (port_probes_expired(t) || t->unanswered == 0)
        t->unknown_why = RG_WHY_MAX_TTL;
    else if (!any_answer(t))
        t->unknown_why = RG_WHY_NO_ANSWER;
    else if (t->method == RG_METHOD_UDP)
        t->unknown_why = RG_WHY_OPEN_FILTERED;
    else
        t->state = RG_PORT_FILTERED;
}

/* reached_ttl, last_ttl, last_answer_ttl and the unreachable from the hops. */
static void conclude_hops(rg_trace *t)
{
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++) {
        if (rg_trace_sent(t, ttl) == 0)
            continue;
        t->last_ttl = ttl;
        const rg_probe *p = rg_trace_answer(t, ttl);
        if (!p)
            continue;
        t->last_answer_ttl = ttl;
        if (is_tcp(t, p)) {
            t->reached_ttl = ttl;
            t->rtt_us = p->rtt_us;
            return;
        }
        if (is_unreach(t, p)) {
            /* The destination itself refusing (e.g. admin-prohibited) counts as
             * reached; a router refusing ends the trace short of it. */
            if (from_destination(t, p)) {
                t->reached_ttl = ttl;
                t->rtt_us = p->rtt_us;
            }
            t->stopped_by_unreachable = true;
            return;
        }
    }
    /* Not reached on the hops: the port probes' RTT, when they answered. */
    const rg_probe *d = rg_trace_deciding(t);
    if (d)
        t->rtt_us = d->rtt_us;
}

void rg_trace_conclude(rg_trace *t)
{
    t->reached_ttl = 0;
    t->last_ttl = 0;
    t->last_answer_ttl = 0;
    t->rtt_us = 0;
    t->stopped_by_unreachable = false;
    t->unknown_why = RG_WHY_NONE;
    t->unanswered = t->sibling_lost = t->sibling_sent = 0;
    conclude_port_probes(t);
    enum rg_port_state s = RG_PORT_UNKNOWN;
    bool tcp = tcp_state(t, &s);
    t->state = s; /* before the hops: rg_trace_deciding reads it */
    conclude_hops(t);
    if (!tcp) {
        silent_state(t);
        return;
    }
    if (s == RG_PORT_UNKNOWN)
        t->unknown_why = RG_WHY_RST_DOUBT;
    unsigned sent;
    tcp_loss(t, &sent, &t->unanswered);
}

typedef struct by_addr {
    rg_trace *t;
    size_t index;
} by_addr;

static int by_addr_cmp(const void *a, const void *b)
{
    const by_addr *x = a, *y = b;
    int c = rg_addr_compare(&x->t->dst, &y->t->dst);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* One address's traces [k, end): a filtered port whose siblings lost TCP
 * probes on the way is unknown, its silence may be loss too. */
static void settle_address(by_addr *k, size_t n)
{
    unsigned sent = 0, lost = 0;
    for (size_t i = 0; i < n; i++) {
        const rg_trace *t = k[i].t;
        if (!t->probes) /* released after streaming: its verdict stands */
            continue;
        if (t->state == RG_PORT_FILTERED || t->state == RG_PORT_UNREACHABLE ||
            (t->state == RG_PORT_UNKNOWN && t->unknown_why != RG_WHY_RST_DOUBT))
            continue;
        unsigned s, l;
        tcp_loss(t, &s, &l);
        sent += s;
        lost += l;
    }
    for (size_t i = 0; i < n; i++) {
        rg_trace *t = k[i].t;
        if (t->state != RG_PORT_FILTERED || !t->probes)
            continue;
        /* What the silence was checked against (sent 0: nothing to check). */
        t->sibling_lost = lost;
        t->sibling_sent = sent;
        if (!lost)
            continue;
        t->state = RG_PORT_UNKNOWN;
        t->unknown_why = RG_WHY_LOSS;
    }
}

bool rg_traces_settle(rg_trace *const *traces, size_t n)
{
    by_addr *k = malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return false;
    for (size_t i = 0; i < n; i++)
        k[i] = (by_addr){traces[i], i};
    settle_address(k, n);
    free(k);
    return true;
}

void rg_run_conclude(rg_run *run)
{
    /* A trace dropped once written (trace_store.h) is not even read. */
    for (size_t i = 0; i < run->ntraces; i++)
        if (!rg_trace_store_dropped(run, i) &&
            run->traces[i].probes) /* a trace released after streaming keeps its own */
            rg_trace_conclude(&run->traces[i]);
    by_addr *k = malloc((run->ntraces ? run->ntraces : 1) * sizeof *k);
    if (!k)
        return; /* the per-trace verdicts stand; only the loss check is skipped */
    size_t n = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        if (!rg_trace_store_dropped(run, i))
            k[n++] = (by_addr){&run->traces[i], i};
    qsort(k, n, sizeof *k, by_addr_cmp);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && rg_addr_equal(&k[j].t->dst, &k[i].t->dst); j++)
            ;
        settle_address(k + i, j - i);
    }
    free(k);
}

typedef struct dedupe_key {
    const rg_trace *t;
    size_t index;
} dedupe_key;

static int dedupe_cmp(const void *a, const void *b)
{
    const dedupe_key *x = a, *y = b;
    int c = rg_addr_compare(&x->t->dst, &y->t->dst);
    if (c == 0)
        c = (x->t->dport > y->t->dport) - (x->t->dport < y->t->dport);
    if (c == 0)
        c = (x->index > y->index) - (x->index < y->index);
    return c;
}

bool rg_run_dedupe(rg_run *run)
{
    size_t n = run->ntraces;
    if (n < 2)
        return true;
    dedupe_key *k = malloc(n * sizeof *k);
    bool *drop = calloc(n, sizeof *drop);
    if (!k || !drop) {
        free(k);
        free(drop);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (dedupe_key){&run->traces[i], i};
    qsort(k, n, sizeof *k, dedupe_cmp);
    for (size_t i = 1; i < n; i++)
        if (rg_addr_equal(&k[i].t->dst, &k[i - 1].t->dst) &&
            k[i].t->dport == k[i - 1].t->dport)
            drop[k[i].index] = true;
    free(k);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop[i])
            rg_trace_free(&run->traces[i]);
        else
            run->traces[w++] = run->traces[i];
    }
    run->ntraces = w;
    free(drop);
    return true;
}

bool rg_run_add_unresolved(rg_run *run, const char *name, const char *why)
{
    rg_unresolved *u = realloc(run->unresolved,
                               (run->nunresolved + 1) * sizeof *u);
    if (!u)
        return false;
    run->unresolved = u;
    u[run->nunresolved].name = strdup(name);
    u[run->nunresolved].why = strdup(why);
    if (!u[run->nunresolved].name || !u[run->nunresolved].why) {
        free(u[run->nunresolved].name);
        free(u[run->nunresolved].why);
        return false;
    }
    run->nunresolved++;
    return true;
}

static void host_free(rg_host *h)
{
    free(h->as_org);
    free(h->ptr);
    free(h->city);
}

static int host_cmp(const void *a, const void *b)
{
    return rg_addr_compare(&((const rg_host *)a)->addr, &((const rg_host *)b)->addr);
}

static void hosts_clear(rg_run *run)
{
    for (size_t i = 0; i < run->nhosts; i++)
        host_free(&run->hosts[i]);
    free(run->hosts);
    run->hosts = NULL;
    run->nhosts = 0;
}

void rg_run_free_hosts(rg_run *run)
{
    hosts_clear(run);
}

/* The n entries of run->hosts sorted by address, each address once. */
static void hosts_sort(rg_run *run, size_t n)
{
    qsort(run->hosts, n, sizeof *run->hosts, host_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || !rg_addr_equal(&run->hosts[u - 1].addr, &run->hosts[i].addr))
            run->hosts[u++] = run->hosts[i];
    run->nhosts = u;
}

bool rg_run_collect_hosts(rg_run *run)
{
    hosts_clear(run);
    size_t cap = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        cap += 1 + rg_trace_slots(t);
    }
    for (size_t i = 0; i < run->nmpaths; i++)
        cap += run->mpaths[i].nobs;
    run->hosts = calloc(cap ? cap : 1, sizeof *run->hosts);
    if (!run->hosts)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        run->hosts[n++].addr = t->dst;
        for (size_t k = 0; k < rg_trace_slots(t); k++)
            if (t->probes[k].kind != RG_REPLY_NONE)
                run->hosts[n++].addr = t->probes[k].from;
    }
    for (size_t i = 0; i < run->nmpaths; i++) /* --multipath's branches */
        for (size_t k = 0; k < run->mpaths[i].nobs; k++)
            if (run->mpaths[i].obs[k].from.family)
                run->hosts[n++].addr = run->mpaths[i].obs[k].from;
    hosts_sort(run, n);
    return true;
}

bool rg_run_set_hosts(rg_run *run, const rg_addr *addrs, size_t n)
{
    hosts_clear(run);
    run->hosts = calloc(n ? n : 1, sizeof *run->hosts);
    if (!run->hosts)
        return false;
    for (size_t i = 0; i < n; i++)
        run->hosts[i].addr = addrs[i];
    hosts_sort(run, n);
    return true;
}

rg_host *rg_run_host(const rg_run *run, const rg_addr *a)
{
    rg_host key = {.addr = *a};
    if (!run->hosts)
        return NULL;
    return bsearch(&key, run->hosts, run->nhosts, sizeof key, host_cmp);
}

bool rg_host_set(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return false;
    free(*field);
    *field = copy;
    return true;
}

void rg_run_free(rg_run *run)
{
    hosts_clear(run);
    rg_trace_store_close(run);
    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_free(&run->traces[i]);
    free(run->traces);
    for (size_t i = 0; i < run->nunresolved; i++) {
        free(run->unresolved[i].name);
        free(run->unresolved[i].why);
    }
    free(run->unresolved);
    for (size_t i = 0; i < run->nmpaths; i++)
        rg_mpath_free(&run->mpaths[i]);
    free(run->mpaths);
    memset(run, 0, sizeof *run);
}

const char *rg_reply_kind_name(enum rg_reply_kind k)
{
    switch (k) {
    case RG_REPLY_TIME_EXCEEDED: return "time-exceeded";
    case RG_REPLY_UNREACHABLE: return "unreachable";
    case RG_REPLY_SYNACK: return "syn-ack";
    case RG_REPLY_RST: return "rst";
    case RG_REPLY_UDP: return "udp";
    case RG_REPLY_ECHO: return "echo-reply";
    case RG_REPLY_PORT_UNREACH: return "port-unreachable";
    case RG_REPLY_NONE: break;
    }
    return "none";
}

const char *rg_silence_name(enum rg_silence s)
{
    switch (s) {
    case RG_SILENCE_SILENT: return "silent";
    case RG_SILENCE_RATE_LIMITED: return "rate-limited";
    case RG_SILENCE_NONE: break;
    }
    return NULL;
}

const char *rg_port_state_name(enum rg_port_state s)
{
    switch (s) {
    case RG_PORT_OPEN: return "open";
    case RG_PORT_CLOSED: return "closed";
    case RG_PORT_FILTERED: return "filtered";
    case RG_PORT_UNREACHABLE: return "unreachable";
    case RG_PORT_UNKNOWN: break;
    }
    return "unknown";
}

const char *rg_unknown_why_name(enum rg_unknown_why w)
{
    switch (w) {
    case RG_WHY_RST_DOUBT: return "rst-in-doubt";
    case RG_WHY_NO_ANSWER: return "no-answer";
    case RG_WHY_LOSS: return "probes-lost";
    case RG_WHY_MAX_TTL: return "max-ttl";
    case RG_WHY_NOT_PROBED: return "not-probed";
    case RG_WHY_OPEN_FILTERED: return "open-or-filtered";
    case RG_WHY_NONE: break;
    }
    return NULL;
}

const char *rg_trace_port_text(const rg_trace *t, char *buf, size_t len)
{
    if (t->method == RG_METHOD_ICMP)
        snprintf(buf, len, "icmp");
    else
        snprintf(buf, len, t->method == RG_METHOD_UDP ? "%u/udp" : "%u", (unsigned)t->dport);
    return buf;
}

const char *rg_probe_code(const rg_probe *p, char *buf, size_t len)
{
    const char *code = "-";
    if (p) {
        switch ((enum rg_reply_kind)p->kind) {
        case RG_REPLY_TIME_EXCEEDED: code = "11"; break;
        case RG_REPLY_UNREACHABLE:
            return rg_unreach_mark(p->from.family, p->icmp_type, p->icmp_code, buf,
                                   (unsigned)len);
        case RG_REPLY_SYNACK: code = "SA"; break;
        case RG_REPLY_RST: code = "RA"; break;
        case RG_REPLY_UDP: code = "U"; break;
        case RG_REPLY_ECHO: code = "0"; break;
        case RG_REPLY_PORT_UNREACH: code = "3"; break;
        case RG_REPLY_NONE: break;
        }
    }
    snprintf(buf, len, "%s", code);
    return buf;
}
