#include "multipath.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../probe/probe.h"
#include "../probe/reply.h"
#include "mda_rule.h"
#include "pace.h"
#include "route.h"

#define NS 1000000000ull
#define MS 1000000ull
#define MP_MAX_FLOWS 1024u     /* flows per destination */
#define MP_MAX_ADDRS 250u      /* distinct responders per destination */
#define MP_TRIES 2u            /* a flow's probe at a TTL, and one retry */
#define MP_BUDGET_MARGIN 8u    /* a branch's budget: 2 n_k + this */
#define MP_MAX_ROUNDS 4000u
#define MP_WAIT_FLOOR_NS (150 * MS) /* a probe is given up after 8 RTTs, not sooner */
#define MP_WAIT_FACTOR 8u
#define MP_MAX_VERTICES 64u    /* branches looked after per TTL */
#define RX_BUF 4096
#define MP_IDENTS 65534u       /* UDP/ICMP identities: 1..65534 (never 0 or 0xffff) */

/* resp[] values besides an index into addrs */
enum { R_UNPROBED = -1, R_FLIGHT = -2, R_LOST = -3 };
#define R_SILENT 0 /* addrs[0]: the silent next hop (no answer on any flow) */
#define V_START (-10) /* the prober: every flow passes it */
enum { P_NONE = -1, P_MANY = -4 }; /* pred_of[] besides a branch */

enum { P_FLIGHT = 1, P_ANSWERED, P_LOST };

typedef struct mp_group {
    rg_mpath *out;
    const rg_trace *t;
    unsigned min_ttl, end_ttl, ttl; /* ttl: the TTL being explored */
    size_t nttl, nflows, capflows;
    int16_t *resp;      /* [flow * nttl + ttl - min_ttl] */
    uint8_t *tries;     /* the same shape: probes sent */
    rg_addr addrs[MP_MAX_ADDRS];
    size_t naddrs;
    bool final[MP_MAX_ADDRS]; /* addrs[i] answered as the destination does */
    bool limited, done;
    bool first_single;  /* the routing table gives the first TTL one next hop */
    /* MDA-Lite at the TTL being explored (infer_preds): the one branch
     * before each next hop seen, from flows probed at both TTLs; P_NONE
     * or P_MANY otherwise. meshed: some next hop has two. */
    int16_t pred_of[MP_MAX_ADDRS];
    unsigned pred_ttl;
    bool meshed;
    bool routed;        /* the TTL being explored was settled by the routing table */
    rg_addr scope;      /* the destination's /24 or /48 */
    size_t leader;      /* the first group of that scope (maybe this one) */
} mp_group;

/* What a destination's discovery proved, for the others of its /24 or
 * /48: behind `from` at ttl - 1 (family 0: the prober) the single next
 * hop `to`, the stopping rule met. */
typedef struct mp_fact {
    rg_addr scope, from, to;
    unsigned ttl;
} mp_fact;

typedef struct mp_probe {
    uint64_t sent_ns;
    uint32_t group;
    uint16_t flow;
    uint8_t ttl, state;
    rg_pacer *pacer;
} mp_probe;

typedef struct mp_want {
    uint32_t group;
    uint16_t flow;
    uint8_t ttl;
    int16_t via;        /* the branch at ttl - 1 (pacing key) */
} mp_want;

typedef struct mp_run {
    rg_run *run;
    const rg_sockets *socks;
    const rg_mp_opts *o;
    mp_group *groups;
    size_t ngroups;
    mp_probe *probes;
    size_t nprobes, capprobes;
    mp_want *want;
    size_t nwant, capwant;
    uint32_t seq_base;
    mp_fact *facts;
    size_t nfacts, capfacts;
    rg_pace pace;
    uint64_t max_rtt_ns, next_send_ns, spacing_ns;
} mp_run;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* The one place a flow is varied: the trace's flow id (the source port for
 * TCP and UDP, the echo identifier, and with it the checksum, for ICMP)
 * plus the flow's number. Flow 0 is the trace's own, so the ordinary run's
 * answers are flow 0's. */
static uint16_t mp_flow_id(const rg_trace *t, unsigned flow)
{
    uint32_t v = (uint32_t)t->sport + flow;
    /* past 65535, on from 1024: never port 0, and no flow of this trace
     * there (its flows start above 64511) */
    return (uint16_t)(v > 0xffffu ? v - 0x10000u + 1024u : v);
}

uint16_t rg_mp_ident(uint32_t idx)
{
    return (uint16_t)(1u + idx % MP_IDENTS);
}

rg_probe_spec rg_mp_probe_spec(const rg_trace *t, unsigned flow, unsigned ttl,
                               uint32_t seq_base, uint32_t idx)
{
    return (rg_probe_spec){.src = t->src, .dst = t->dst, .method = t->method,
                           .flow = mp_flow_id(t, flow), .dport = t->dport,
                           .ttl = (uint8_t)ttl, .seq = seq_base + idx,
                           .ident = rg_mp_ident(idx), .ip_id = (uint16_t)idx,
                           .flow_label = t->flow_label};
}

static int16_t *resp_at(mp_group *g, size_t flow, unsigned ttl)
{
    return &g->resp[flow * g->nttl + (ttl - g->min_ttl)];
}

static uint8_t *tries_at(mp_group *g, size_t flow, unsigned ttl)
{
    return &g->tries[flow * g->nttl + (ttl - g->min_ttl)];
}

/* Index of a in addrs, added when new; -1 when the table is full. */
static int16_t intern(mp_group *g, const rg_addr *a)
{
    for (size_t i = 1; i < g->naddrs; i++)
        if (rg_addr_equal(&g->addrs[i], a))
            return (int16_t)i;
    if (g->naddrs == MP_MAX_ADDRS)
        return -1;
    g->addrs[g->naddrs] = *a;
    return (int16_t)g->naddrs++;
}

/* Whether branch v is the destination (it answered as a destination does:
 * rg_mp_obs_final); nothing lies behind it. */
static bool is_final(const mp_group *g, int16_t v)
{
    return v > 0 && (size_t)v < g->naddrs && g->final[v];
}

static bool add_flow(mp_group *g)
{
    if (g->nflows == MP_MAX_FLOWS)
        return false;
    if (g->nflows == g->capflows) {
        size_t cap = g->capflows ? g->capflows * 2 : 32;
        int16_t *r = realloc(g->resp, cap * g->nttl * sizeof *r);
        if (!r)
            return false;
        g->resp = r;
        uint8_t *tr = realloc(g->tries, cap * g->nttl);
        if (!tr)
            return false;
        g->tries = tr;
        g->capflows = cap;
    }
    for (size_t i = 0; i < g->nttl; i++) {
        g->resp[g->nflows * g->nttl + i] = R_UNPROBED;
        g->tries[g->nflows * g->nttl + i] = 0;
    }
    g->nflows++;
    return true;
}

static bool record_obs(mp_group *g, size_t flow, unsigned ttl, const rg_addr *from,
                       uint8_t kind)
{
    rg_mp_obs ob = {.from = *from, .flow = mp_flow_id(g->t, (unsigned)flow),
                    .ttl = (uint8_t)ttl, .kind = kind};
    int16_t i = *resp_at(g, flow, ttl);
    if (i > 0 && rg_mp_obs_final(g->out, &ob))
        g->final[i] = true;
    return rg_mpath_add(g->out, &ob);
}

/* Flow 0 is the trace itself: its answers are measurements of flow 0. */
static bool seed_from_trace(mp_group *g)
{
    if (!add_flow(g))
        return false;
    for (unsigned ttl = g->min_ttl; ttl <= g->end_ttl; ttl++) {
        const rg_probe *p = rg_trace_answer(g->t, ttl);
        if (!p)
            continue;
        int16_t i = intern(g, &p->from);
        if (i < 0)
            continue;
        *resp_at(g, 0, ttl) = i;
        if (!record_obs(g, 0, ttl, &p->from, p->kind))
            return false;
    }
    return true;
}

static unsigned end_ttl_of(const rg_trace *t)
{
    unsigned end = t->reached_ttl ? t->reached_ttl + 2 : t->last_answer_ttl + 1;
    if (end > t->max_ttl)
        end = t->max_ttl;
    return end < t->min_ttl ? t->min_ttl : end;
}

static bool group_init(mp_group *g, rg_mpath *out, const rg_trace *t)
{
    memset(g, 0, sizeof *g);
    g->out = out;
    g->t = t;
    g->min_ttl = t->min_ttl;
    g->end_ttl = end_ttl_of(t);
    g->ttl = g->min_ttl;
    g->nttl = g->end_ttl - g->min_ttl + 1;
    g->naddrs = 1; /* addrs[0]: R_SILENT */
    out->first_ttl = g->min_ttl;
    return seed_from_trace(g);
}

/* The branch flow took at ttl - 1: V_START at the first TTL, the single
 * branch when there is one, else what it answered; for a flow sent
 * straight to the TTL being explored, the one branch its next hop was seen
 * behind while no next hop has two (MDA-Lite; infer_preds). Negative:
 * unknown. */
static int16_t via_of(mp_group *g, size_t flow, unsigned ttl, const int16_t *vs, size_t nv)
{
    if (ttl == g->min_ttl)
        return V_START;
    int16_t r = *resp_at(g, flow, ttl - 1);
    if (r >= 0)
        return r;
    if (nv == 1)
        return vs[0];
    int16_t w = *resp_at(g, flow, ttl);
    if (r == R_UNPROBED && ttl == g->pred_ttl && !g->meshed && w > 0 && g->pred_of[w] > 0)
        return g->pred_of[w];
    return R_UNPROBED;
}

/* The branches before each next hop at ttl, from the flows answered at
 * both ttl - 1 and ttl (the silent next hop and the destination apart). */
static void infer_preds(mp_group *g, unsigned ttl)
{
    for (size_t i = 0; i < g->naddrs; i++)
        g->pred_of[i] = P_NONE;
    g->pred_ttl = ttl;
    g->meshed = false;
    if (ttl == g->min_ttl)
        return;
    for (size_t f = 0; f < g->nflows; f++) {
        int16_t v = *resp_at(g, f, ttl - 1), w = *resp_at(g, f, ttl);
        if (v <= 0 || w <= 0 || is_final(g, w))
            continue;
        if (g->pred_of[w] == P_NONE)
            g->pred_of[w] = v;
        else if (g->pred_of[w] != v)
            g->pred_of[w] = P_MANY;
        g->meshed |= g->pred_of[w] == P_MANY;
    }
}

/* Whether flows may go straight to ttl (MDA-Lite): every branch before
 * it (but the silent one and the destination) has a next hop seen behind
 * it alone, and no next hop was seen behind two (where branches meet, or
 * a mesh, a next hop does not tell the branch). */
static bool lite_ok(const mp_group *g, unsigned ttl, const int16_t *vs, size_t nv)
{
    if (ttl != g->pred_ttl || g->meshed)
        return false;
    for (size_t i = 0; i < nv; i++) {
        if (vs[i] <= 0 || is_final(g, vs[i]))
            continue;
        bool seen = false;
        for (size_t w = 1; w < g->naddrs && !seen; w++)
            seen = g->pred_of[w] == vs[i];
        if (!seen)
            return false;
    }
    return true;
}

/* The distinct branches at ttl (answers and the silent next hop). */
static size_t vertices(mp_group *g, unsigned ttl, int16_t *vs, size_t max)
{
    if (ttl < g->min_ttl) {
        vs[0] = V_START;
        return 1;
    }
    size_t n = 0;
    for (size_t f = 0; f < g->nflows; f++) {
        int16_t r = *resp_at(g, f, ttl);
        bool seen = r < 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = vs[i] == r;
        if (!seen && n < max)
            vs[n++] = r;
    }
    return n;
}

static bool want_probe(mp_run *m, size_t gi, size_t flow, unsigned ttl, int16_t via)
{
    if (m->nwant == m->capwant) {
        size_t cap = m->capwant ? m->capwant * 2 : 256;
        mp_want *w = realloc(m->want, cap * sizeof *w);
        if (!w)
            return false;
        m->want = w;
        m->capwant = cap;
    }
    m->want[m->nwant++] = (mp_want){.group = (uint32_t)gi, .flow = (uint16_t)flow,
                                    .ttl = (uint8_t)ttl, .via = via};
    *resp_at(&m->groups[gi], flow, ttl) = R_FLIGHT;
    return true;
}

/* What the flows through branch v say at ttl. */
typedef struct vstat {
    unsigned answered, flight, lost, tried, k;
    int16_t only;       /* the next hop when k == 1 */
    bool dst;           /* some flow through v reached the destination */
} vstat;

static vstat stat_of(mp_group *g, unsigned ttl, int16_t v, const int16_t *vs, size_t nv)
{
    vstat s = {.only = -1};
    int16_t seen[MP_MAX_VERTICES];
    for (size_t f = 0; f < g->nflows; f++) {
        if (via_of(g, f, ttl, vs, nv) != v)
            continue;
        int16_t r = *resp_at(g, f, ttl);
        s.tried += *tries_at(g, f, ttl) > 0;
        if (r == R_FLIGHT)
            s.flight++;
        if (r == R_LOST)
            s.lost++;
        if (r < 0)
            continue;
        s.answered++;
        s.dst |= is_final(g, r);
        bool dup = false;
        for (unsigned i = 0; i < s.k && !dup; i++)
            dup = seen[i] == r;
        if (!dup && s.k < MP_MAX_VERTICES)
            seen[s.k++] = r;
    }
    if (s.k == 1)
        s.only = seen[0];
    return s;
}

/* A branch whose every flow stayed silent at ttl has the silent next hop. */
static void mark_silent(mp_group *g, unsigned ttl, int16_t v, const int16_t *vs, size_t nv)
{
    for (size_t f = 0; f < g->nflows; f++)
        if (via_of(g, f, ttl, vs, nv) == v && *resp_at(g, f, ttl) == R_LOST)
            *resp_at(g, f, ttl) = R_SILENT;
}

/* Asks for the probes branch v needs at ttl; false when out of memory.
 * *busy is set when v is not done yet. */
static bool plan_vertex(mp_run *m, size_t gi, unsigned ttl, int16_t v, const int16_t *vs,
                        size_t nv, bool *busy)
{
    mp_group *g = &m->groups[gi];
    vstat s = stat_of(g, ttl, v, vs, nv);
    if (s.dst)
        return true; /* v hands the destination to its own link: nothing else */
    unsigned need = rg_mda_probes(s.k ? s.k : 1, m->o->confidence);
    if (v == V_START && g->first_single) {
        need = 1; /* the routing table's single next hop: one answer names it */
        g->routed = true;
    }
    if (need == 0 || s.answered >= need)
        return true; /* the rule is met (or the branch is too wide to rule on) */
    if (s.k == 0 && s.lost >= need && s.flight == 0) {
        mark_silent(g, ttl, v, vs, nv);
        return true;
    }
    if (s.tried >= 2 * need + MP_BUDGET_MARGIN || g->nflows == MP_MAX_FLOWS) {
        g->limited = s.flight == 0 ? true : g->limited;
        *busy |= s.flight > 0;
        return true;
    }
    *busy = true;
    unsigned go = need > s.answered + s.flight ? need - s.answered - s.flight : 0;
    /* Where the destination may answer, one flow first: if it does, v is
     * done with that one probe. */
    if (s.answered == 0 && g->t->reached_ttl && ttl >= g->t->reached_ttl)
        go = s.flight ? 0 : 1;
    /* retries first, then flows known to pass v, then new flows */
    unsigned known = 0;
    for (size_t f = 0; f < g->nflows && go; f++) {
        if (via_of(g, f, ttl, vs, nv) != v)
            continue;
        int16_t r = *resp_at(g, f, ttl);
        bool retry = r == R_LOST && *tries_at(g, f, ttl) < MP_TRIES;
        if (r != R_UNPROBED && !retry)
            continue;
        if (!want_probe(m, gi, f, ttl, v))
            return false;
        go--;
        known++;
    }
    /* A new flow passes v when v is the TTL's only branch. Else, where
     * each next hop names one branch (lite_ok), it goes straight to ttl
     * and counts behind the branch its next hop names (MDA-Lite); else it
     * is first sent to ttl - 1 alone, to learn its branch, and goes to
     * ttl in a later round only if that branch still needs flows (node
     * control, without a probe to ttl wasted on a branch already done). */
    bool single = nv == 1, lite = !single && lite_ok(g, ttl, vs, nv);
    if (!single && !lite && known && s.answered == 0)
        return true; /* v's first next hops decide whether new flows may go straight */
    while (go && g->nflows < MP_MAX_FLOWS) {
        if (!add_flow(g))
            return false;
        size_t f = g->nflows - 1;
        if (!want_probe(m, gi, f, single || lite ? ttl : ttl - 1, single ? v : R_UNPROBED))
            return false;
        go--;
    }
    return true;
}

static rg_addr vertex_addr(const mp_group *g, int16_t v)
{
    rg_addr none = {0};
    return v > 0 ? g->addrs[v] : none;
}

static bool add_fact(mp_run *m, const mp_fact *f)
{
    if (m->nfacts == m->capfacts) {
        size_t cap = m->capfacts ? m->capfacts * 2 : 64;
        mp_fact *n = realloc(m->facts, cap * sizeof *n);
        if (!n)
            return false;
        m->facts = n;
        m->capfacts = cap;
    }
    m->facts[m->nfacts++] = *f;
    return true;
}

/* After a TTL met the rule: every branch before it with one next hop. */
static bool learn_facts(mp_run *m, mp_group *g, const int16_t *vs, size_t nv)
{
    for (size_t i = 0; i < nv; i++) {
        vstat s = stat_of(g, g->ttl, vs[i], vs, nv);
        if (s.k != 1 || s.only <= 0 || is_final(g, s.only) ||
            s.answered < rg_mda_probes(1, m->o->confidence))
            continue;
        mp_fact f = {.scope = g->scope, .from = vertex_addr(g, vs[i]),
                     .to = g->addrs[s.only], .ttl = g->ttl};
        if (!add_fact(m, &f))
            return false;
    }
    return true;
}

/* Branch v's single next hop at the group's TTL, when another destination
 * of the scope proved it (the stopping rule met there) and a flow of this
 * one met it too, with none elsewhere: the flows through v not probed at
 * that TTL are taken to follow it, unprobed. */
static bool shared_vertex(const mp_run *m, mp_group *g, int16_t v, const int16_t *vs, size_t nv)
{
    vstat s = stat_of(g, g->ttl, v, vs, nv);
    if (s.k != 1 || s.only <= 0 || is_final(g, s.only) || s.flight)
        return false;
    rg_addr from = vertex_addr(g, v);
    bool proved = false;
    for (size_t i = 0; i < m->nfacts && !proved; i++) {
        const mp_fact *f = &m->facts[i];
        proved = f->ttl == g->ttl && rg_addr_equal(&f->scope, &g->scope) &&
                 rg_addr_equal(&f->from, &from) && rg_addr_equal(&f->to, &g->addrs[s.only]);
    }
    if (!proved)
        return false;
    for (size_t f = 0; f < g->nflows; f++)
        if (via_of(g, f, g->ttl, vs, nv) == v && *resp_at(g, f, g->ttl) == R_UNPROBED)
            *resp_at(g, f, g->ttl) = s.only;
    return true;
}

/* Flows sent straight to the TTL whose next hop names no single branch
 * before it (a new next hop, or a mesh found): each is sent to the TTL
 * before once, to learn its branch there. */
static bool resolve_direct(mp_run *m, size_t gi, const int16_t *vs, size_t nv)
{
    mp_group *g = &m->groups[gi];
    for (size_t f = 0; f < g->nflows; f++) {
        int16_t w = *resp_at(g, f, g->ttl);
        if (w <= 0 || is_final(g, w) || *resp_at(g, f, g->ttl - 1) != R_UNPROBED ||
            via_of(g, f, g->ttl, vs, nv) >= 0)
            continue;
        if (!want_probe(m, gi, f, g->ttl - 1, R_UNPROBED))
            return false;
    }
    return true;
}

/* Plans the group's next probes; moves on while a TTL is complete. */
static bool plan_group(mp_run *m, size_t gi)
{
    mp_group *g = &m->groups[gi];
    while (!g->done) {
        int16_t vs[MP_MAX_VERTICES];
        size_t nv = vertices(g, g->ttl - 1, vs, MP_MAX_VERTICES);
        const mp_group *lead = &m->groups[g->leader];
        if (lead != g && !lead->done && lead->ttl <= g->ttl)
            return true; /* follow the scope's first destination one TTL behind */
        bool busy = false, shared = false;
        size_t before = m->nwant;
        infer_preds(g, g->ttl);
        if (nv > 1 && !resolve_direct(m, gi, vs, nv))
            return false;
        for (size_t i = 0; i < nv; i++) {
            if (is_final(g, vs[i]))
                continue; /* nothing lies behind the destination */
            if (lead != g && shared_vertex(m, g, vs[i], vs, nv)) {
                shared = true;
                continue;
            }
            if (!plan_vertex(m, gi, g->ttl, vs[i], vs, nv, &busy))
                return false;
        }
        if (busy || m->nwant > before)
            return true;
        g->out->hop_state[g->ttl] = shared      ? RG_MP_HOP_SHARED
                                    : g->limited ? RG_MP_HOP_LIMIT
                                    : g->routed  ? RG_MP_HOP_ROUTE
                                                 : RG_MP_HOP_RULE;
        g->routed = false;
        g->out->last_ttl = g->ttl;
        if (!g->limited && !shared && !learn_facts(m, g, vs, nv))
            return false;
        g->limited = false;
        int16_t next[MP_MAX_VERTICES];
        size_t nn = vertices(g, g->ttl, next, MP_MAX_VERTICES);
        bool all_dst = nn > 0;
        for (size_t i = 0; i < nn; i++)
            all_dst &= is_final(g, next[i]);
        if (all_dst || nn == 0 || g->ttl >= g->end_ttl)
            g->done = true;
        else
            g->ttl++;
    }
    return true;
}

static rg_pacer *pacer_for(mp_run *m, const mp_want *w, uint64_t now)
{
    mp_group *g = &m->groups[w->group];
    if (w->via != R_UNPROBED) {
        int16_t vs[MP_MAX_VERTICES];
        size_t nv = vertices(g, w->ttl - 1, vs, MP_MAX_VERTICES);
        vstat s = stat_of(g, w->ttl, w->via, vs, nv);
        if (s.k == 1 && s.only > 0 && !is_final(g, s.only))
            return rg_pace_get(&m->pace, &g->addrs[s.only], now);
    }
    rg_addr key = rg_pace_position_key(w->ttl, &g->t->dst);
    return rg_pace_get(&m->pace, &key, now);
}

static bool send_one(mp_run *m, const mp_want *w, rg_pacer *c, uint64_t now)
{
    if (m->nprobes == m->capprobes) {
        size_t cap = m->capprobes ? m->capprobes * 2 : 1024;
        mp_probe *p = realloc(m->probes, cap * sizeof *p);
        if (!p)
            return false;
        m->probes = p;
        m->capprobes = cap;
    }
    mp_group *g = &m->groups[w->group];
    const rg_trace *t = g->t;
    uint32_t idx = (uint32_t)m->nprobes;
    rg_probe_spec spec = rg_mp_probe_spec(t, w->flow, w->ttl, m->seq_base, idx);
    uint8_t pkt[RG_PROBE_MAXLEN];
    size_t len = rg_probe_build(&spec, pkt, sizeof pkt);
    int err = len ? rg_sockets_send(m->socks, &t->dst, pkt, len) : 1;
    if (err) {
        m->run->stats.send_errors++;
        m->run->stats.last_send_error = err;
    }
    m->probes[m->nprobes++] = (mp_probe){.sent_ns = now, .group = w->group, .flow = w->flow,
                                         .ttl = w->ttl, .state = P_FLIGHT, .pacer = c};
    (*tries_at(g, w->flow, w->ttl))++;
    rg_pace_sent(c);
    g->out->probes++;
    m->run->stats.probes_sent++;
    m->next_send_ns = now + m->spacing_ns;
    return true;
}

/* Whether the reply names probe idx: its addresses, its flow's id and
 * port, and the 32-bit seq whenever the reply carries it. */
static bool names_probe(const mp_run *m, const rg_reply *r, size_t idx)
{
    const mp_probe *p = &m->probes[idx];
    const rg_trace *t = m->groups[p->group].t;
    if (r->has_seq && r->seq != m->seq_base + (uint32_t)idx)
        return false;
    return rg_addr_equal(&r->probe_dst, &t->dst) && rg_addr_equal(&r->probe_src, &t->src) &&
           r->sport == mp_flow_id(t, p->flow) && r->dport == t->dport &&
           p->state != P_ANSWERED;
}

/* The probe a reply answers; -1 when none. TCP: seq - base. UDP and ICMP:
 * the 16-bit ident names the index modulo MP_IDENTS; of the probes it may
 * name, the latest whose addresses and flow match. */
static long probe_of(const mp_run *m, const rg_reply *r)
{
    if (r->probe_proto == 6) {
        uint32_t idx = r->seq - m->seq_base;
        return r->has_seq && idx < m->nprobes && names_probe(m, r, idx) ? (long)idx : -1;
    }
    if (!r->has_ident || r->ident == 0 || r->ident > MP_IDENTS || m->nprobes == 0)
        return -1;
    size_t first = (size_t)r->ident - 1;
    if (first >= m->nprobes)
        return -1;
    size_t idx = first + (m->nprobes - 1 - first) / MP_IDENTS * MP_IDENTS;
    for (;; idx -= MP_IDENTS) {
        if (names_probe(m, r, idx))
            return (long)idx;
        if (idx < first + MP_IDENTS)
            return -1;
    }
}

static void record(mp_run *m, const rg_reply *r, uint64_t now)
{
    long found = probe_of(m, r);
    if (found < 0)
        return;
    mp_probe *p = &m->probes[found];
    mp_group *g = &m->groups[p->group];
    m->run->stats.matched++;
    p->state = P_ANSWERED;
    int16_t *slot = resp_at(g, p->flow, p->ttl);
    int16_t i = intern(g, &r->from);
    if (i < 0 || *slot >= 0)
        return; /* full, or this flow's TTL is already known */
    *slot = i;
    rg_pace_answered(p->pacer);
    if (now - p->sent_ns > m->max_rtt_ns)
        m->max_rtt_ns = now - p->sent_ns;
    (void)record_obs(g, p->flow, p->ttl, &r->from, r->kind);
}

static void receive_all(mp_run *m)
{
    uint8_t buf[RX_BUF];
    rg_rx_meta meta;
    for (int w = 0; w < RG_RX_COUNT; w++) {
        for (int i = 0; i < 256; i++) {
            long n = rg_sockets_recv(m->socks, (enum rg_rx)w, buf, sizeof buf, &meta);
            if (n <= 0)
                break;
            rg_reply r;
            enum rg_parse_status st =
                (w == RG_RX_ICMP4 || w == RG_RX_L4_4)
                    ? rg_reply_parse_packet(buf, (size_t)n, &r)
                    : rg_reply_parse_l4(w == RG_RX_ICMP6 ? 58 : m->socks->l4proto, buf,
                                        (size_t)n, &meta.src, &meta.dst, meta.hlim, &r);
            if (st == RG_PARSE_OK) {
                m->run->stats.replies++;
                record(m, &r, mono_ns());
            }
        }
    }
}

static void wait_packets(const rg_sockets *s, uint64_t ns)
{
    struct pollfd pfd[RG_RX_COUNT];
    nfds_t n = 0;
    for (int i = 0; i < RG_RX_COUNT; i++)
        if (s->rx[i] >= 0)
            pfd[n++] = (struct pollfd){.fd = s->rx[i], .events = POLLIN};
    uint64_t ms = (ns + MS - 1) / MS;
    poll(pfd, n, (int)(ms > 100 ? 100 : ms));
}

static uint64_t give_up_ns(const mp_run *m)
{
    uint64_t w = m->max_rtt_ns * MP_WAIT_FACTOR;
    uint64_t cap = (uint64_t)(m->o->timeout * (double)NS);
    if (w < MP_WAIT_FLOOR_NS)
        w = MP_WAIT_FLOOR_NS;
    return w < cap ? w : cap;
}

/* Sends the round's probes, each when the global rate and its pacer allow. */
static bool send_round(mp_run *m, volatile sig_atomic_t *stop)
{
    for (size_t i = 0; i < m->nwant && !(stop && *stop);) {
        uint64_t now = mono_ns(), wake = UINT64_MAX;
        rg_pacer *c = pacer_for(m, &m->want[i], now);
        if (now >= m->next_send_ns && rg_pace_ready(c, now, &wake)) {
            if (!send_one(m, &m->want[i], c, now))
                return false;
            i++;
            continue;
        }
        if (m->next_send_ns > now && m->next_send_ns < wake)
            wake = m->next_send_ns;
        receive_all(m);
        wait_packets(m->socks, wake > now ? wake - now : 0);
    }
    return true;
}

/* Waits for the round's answers; what is still out then is lost. */
static void finish_round(mp_run *m, size_t first, volatile sig_atomic_t *stop)
{
    for (;;) {
        receive_all(m);
        uint64_t now = mono_ns(), last = 0;
        bool out = false;
        for (size_t i = first; i < m->nprobes; i++) {
            if (m->probes[i].state != P_FLIGHT)
                continue;
            out = true;
            if (m->probes[i].sent_ns > last)
                last = m->probes[i].sent_ns;
        }
        if (!out || now >= last + give_up_ns(m) || (stop && *stop))
            break;
        wait_packets(m->socks, last + give_up_ns(m) - now);
    }
    for (size_t i = first; i < m->nprobes; i++) {
        mp_probe *p = &m->probes[i];
        if (p->state != P_FLIGHT)
            continue;
        p->state = P_LOST;
        rg_pace_lost(p->pacer);
        int16_t *r = resp_at(&m->groups[p->group], p->flow, p->ttl);
        if (*r == R_FLIGHT)
            *r = R_LOST;
    }
}

static uint32_t random32(void)
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint32_t)mono_ns() * 2654435761u;
    return v;
}

/* One group per destination address, led by its first trace with slots. */
static bool make_groups(mp_run *m)
{
    rg_run *run = m->run;
    run->mpaths = calloc(run->ntraces ? run->ntraces : 1, sizeof *run->mpaths);
    m->groups = calloc(run->ntraces ? run->ntraces : 1, sizeof *m->groups);
    if (!run->mpaths || !m->groups)
        return false;
    for (size_t i = 0; i < run->ntraces; i++) {
        rg_trace *t = &run->traces[i];
        if (!t->probes)
            continue; /* released after streaming */
        size_t j = 0;
        while (j < run->nmpaths && !rg_addr_equal(&run->mpaths[j].dst, &t->dst))
            j++;
        if (j == run->nmpaths) {
            rg_mpath_init(&run->mpaths[j], &t->dst, t->dport, m->o->confidence);
            run->mpaths[j].method = t->method;
            run->nmpaths++;
            if (!group_init(&m->groups[j], &run->mpaths[j], t))
                return false;
            mp_group *g = &m->groups[j];
            g->first_single = t->min_ttl == 1 && m->o->route_paths &&
                              m->o->route_paths(&t->src, &t->dst) == RG_ROUTE_SINGLE;
            g->scope = rg_pace_position_key(0, &t->dst);
            g->leader = j;
            for (size_t k = 0; k < j && g->leader == j; k++)
                if (rg_addr_equal(&m->groups[k].scope, &g->scope))
                    g->leader = k;
            m->ngroups++;
        }
        t->mpath = &run->mpaths[j];
    }
    return true;
}

static void mp_free(mp_run *m)
{
    for (size_t i = 0; i < m->ngroups; i++) {
        free(m->groups[i].resp);
        free(m->groups[i].tries);
    }
    free(m->groups);
    free(m->probes);
    free(m->want);
    free(m->facts);
    rg_pace_free(&m->pace);
}

bool rg_multipath_run(rg_run *run, const rg_sockets *socks, const rg_mp_opts *o,
                      volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    mp_run m = {.run = run, .socks = socks, .o = o, .seq_base = random32(),
                .spacing_ns = o->rate ? NS / o->rate : 0};
    bool ok = rg_pace_init(&m.pace, 1024) && make_groups(&m);
    for (unsigned round = 0; ok && round < MP_MAX_ROUNDS && !(stop && *stop); round++) {
        m.nwant = 0;
        for (size_t g = 0; g < m.ngroups && ok; g++)
            ok = plan_group(&m, g);
        if (!ok || m.nwant == 0)
            break;
        size_t first = m.nprobes;
        ok = send_round(&m, stop);
        finish_round(&m, first, stop);
    }
    receive_all(&m);
    clock_gettime(CLOCK_REALTIME, &run->end);
    mp_free(&m);
    if (!ok)
        snprintf(err, errlen, "out of memory in multipath discovery");
    return ok;
}
