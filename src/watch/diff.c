#include "diff.h"

#include <string.h>

static bool is_dst(const rg_trace *t, const rg_addr *a)
{
    return rg_addr_equal(&t->dst, a);
}

static void as_path(const rg_run *run, rg_path *p, const rg_addr *dst)
{
    p->nas = 0;
    for (unsigned i = 0; i <= p->len && i < RG_MAX_TTL; i++) {
        const rg_addr *a = i < p->len ? &p->hop[i] : (p->reached ? dst : NULL);
        if (!a || a->family == 0)
            continue;
        const rg_host *h = rg_run_host(run, a);
        if (!h || !h->asn || (p->nas && p->as[p->nas - 1] == h->asn))
            continue;
        p->as[p->nas++] = h->asn;
    }
}

void rg_path_of(const rg_run *run, const rg_trace *t, rg_path *p)
{
    memset(p, 0, sizeof *p);
    p->reached = t->reached_ttl != 0;
    p->state = (uint8_t)t->state;
    unsigned top = t->reached_ttl ? t->reached_ttl - 1 : t->last_answer_ttl;
    if (top > RG_MAX_TTL)
        top = RG_MAX_TTL;
    for (unsigned ttl = 1; ttl <= top; ttl++) {
        if (ttl < t->min_ttl || ttl > t->max_ttl)
            continue;
        const rg_probe *pr = rg_trace_shown(t, ttl);
        const rg_addr *inf = rg_trace_inferred(t, ttl);
        if (pr && !is_dst(t, &pr->from))
            p->hop[ttl - 1] = pr->from;
        else if (!pr && inf)
            p->hop[ttl - 1] = *inf;
    }
    p->len = top;
    as_path(run, p, &t->dst);
}

static bool hop_match(const rg_addr *a, const rg_addr *b)
{
    return a->family == 0 || b->family == 0 || rg_addr_equal(a, b);
}

static bool same_path(const rg_path *a, const rg_path *b)
{
    if (a->len != b->len)
        return false;
    for (unsigned i = 0; i < a->len; i++)
        if (!hop_match(&a->hop[i], &b->hop[i]))
            return false;
    return true;
}

static bool same_as_path(const rg_path *a, const rg_path *b)
{
    if (a->nas == 0 || b->nas == 0)
        return true; /* not annotated: nothing to compare */
    return a->nas == b->nas && memcmp(a->as, b->as, a->nas * sizeof a->as[0]) == 0;
}

/* Leaves k and joins it again at a later TTL, the same length. */
static bool branch_of(const rg_path *k, const rg_path *p)
{
    if (k->len != p->len)
        return false;
    unsigned first = 0, last = 0;
    bool differs = false;
    for (unsigned i = 0; i < p->len; i++)
        if (!hop_match(&k->hop[i], &p->hop[i])) {
            if (!differs)
                first = i;
            differs = true;
            last = i;
        }
    return differs && first > 0 && last + 1 < p->len;
}

static void remember(rg_service *s, const rg_path *p)
{
    for (unsigned i = 0; i < s->nknown; i++)
        if (same_path(&s->known[i], p))
            return;
    s->known[s->next] = *p;
    s->next = (s->next + 1) % RG_DIFF_MAX_PATHS;
    if (s->nknown < RG_DIFF_MAX_PATHS)
        s->nknown++;
}

void rg_service_init(rg_service *s, const rg_run *old, const rg_trace *t)
{
    memset(s, 0, sizeof *s);
    s->dst = t->dst;
    s->port = t->dport;
    rg_path p;
    for (size_t i = 0; i < old->ntraces; i++) {
        const rg_trace *o = &old->traces[i];
        if (!rg_addr_equal(&o->dst, &t->dst) || o->incomplete)
            continue;
        rg_path_of(old, o, &p);
        if (o->dport == t->dport && !s->have_ref) {
            s->ref = p;
            s->have_ref = true;
        }
        if (p.reached || p.len)
            remember(s, &p);
    }
}

static void where_parted(const rg_path *old, const rg_path *now, rg_change_event *ev)
{
    unsigned n = old->len > now->len ? old->len : now->len;
    for (unsigned i = 0; i < n; i++) {
        const rg_addr *a = i < old->len ? &old->hop[i] : NULL;
        const rg_addr *b = i < now->len ? &now->hop[i] : NULL;
        if (a && b && hop_match(a, b))
            continue;
        ev->part_ttl = i + 1;
        if (a)
            ev->old_hop = *a;
        if (b)
            ev->new_hop = *b;
        for (unsigned k = i; k-- > 0;)
            if (now->hop[k].family) {
                ev->after = now->hop[k];
                break;
            }
        return;
    }
}

static enum rg_change classify(const rg_service *s, const rg_path *now)
{
    const rg_path *ref = &s->ref;
    if (ref->reached && !now->reached)
        return RG_CHANGE_LOST;
    if (!ref->reached && now->reached)
        return RG_CHANGE_REGAINED;
    if (ref->state != now->state)
        return RG_CHANGE_PORT;
    for (unsigned i = 0; i < s->nknown; i++)
        if (same_path(&s->known[i], now))
            return RG_CHANGE_NONE;
    if (!same_as_path(ref, now))
        return RG_CHANGE_AS_PATH;
    for (unsigned i = 0; i < s->nknown; i++)
        if (branch_of(&s->known[i], now))
            return RG_CHANGE_NEW_BRANCH;
    return RG_CHANGE_HOPS;
}

enum rg_change rg_service_update(rg_service *s, const rg_run *run, const rg_path *now,
                                 rg_change_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (!s->have_ref) {
        s->ref = *now;
        s->have_ref = true;
        remember(s, now);
        ev->kind = RG_CHANGE_ADDED;
        ev->new_state = now->state;
        return RG_CHANGE_ADDED;
    }
    ev->kind = classify(s, now);
    ev->old_state = s->ref.state;
    ev->new_state = now->state;
    if (ev->kind == RG_CHANGE_NONE)
        return RG_CHANGE_NONE;
    where_parted(&s->ref, now, ev);
    const rg_host *h = ev->after.family ? rg_run_host(run, &ev->after) : NULL;
    ev->after_as = h ? h->asn : 0;
    s->ref = *now;
    remember(s, now);
    return ev->kind;
}

const char *rg_change_name(enum rg_change c)
{
    static const char *const names[] = {"unchanged", "hops changed", "AS path changed",
                                        "new ECMP branch", "port state changed",
                                        "destination lost", "destination regained",
                                        "not in the baseline"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

const char *rg_change_key(enum rg_change c)
{
    static const char *const keys[] = {"unchanged", "hops", "as-path", "new-branch",
                                       "port-state", "lost", "regained", "added"};
    return (unsigned)c < sizeof keys / sizeof keys[0] ? keys[c] : "?";
}
