#include "json.h"

#include "../model/middlebox.h"
#include "../model/unreach.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/utf8.h"
#include "mpath_json.h"

#ifndef RG_VERSION
#define RG_VERSION "0.0.0"
#endif

/* jansson's _new setters take the value's reference even when they fail (and
 * refuse a NULL value), so a failed constructor never leaks: callers just
 * collect the results and give up at the end. */
static bool put(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value) == 0;
}

static bool append(json_t *arr, json_t *value)
{
    return json_array_append_new(arr, value) == 0;
}

static json_t *finish(json_t *v, bool ok)
{
    if (ok)
        return v;
    json_decref(v);
    return NULL;
}

static json_t *uint_or_null(unsigned long long v)
{
    return v ? json_integer((json_int_t)v) : json_null();
}

/* jansson refuses invalid UTF-8, and target names are whatever the operator's
 * file held: replace each bad byte with U+FFFD rather than lose the trace. */
static json_t *text_json(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    size_t len = strlen(s);
    char *clean = malloc(3 * len + 1);
    if (!clean)
        return NULL;
    char *w = clean;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = rg_utf8_char(p, NULL);
        if (n == 0) {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
            p++;
            continue;
        }
        memcpy(w, p, n);
        w += n;
        p += n;
    }
    *w = '\0';
    v = json_string(clean);
    free(clean);
    return v;
}

static json_t *addr_json(const rg_addr *a)
{
    char buf[RG_ADDR_STRLEN];
    if (a->family != 4 && a->family != 6)
        return json_null();
    return json_string(rg_addr_format(a, buf, sizeof buf));
}

/* ISO 8601 UTC with microseconds; a zero time means "not known". */
static json_t *time_json(const struct timespec *ts)
{
    struct tm tm;
    char buf[64];
    time_t sec = ts->tv_sec;
    if (sec == 0 || !gmtime_r(&sec, &tm))
        return json_null();
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0)
        return json_null();
    long us = ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L ? ts->tv_nsec / 1000 : 0;
    snprintf(buf + n, sizeof buf - n, ".%06ldZ", us);
    return json_string(buf);
}

/* scapy's letters, in its order: F S R P A U E C for bits 0..7. */
static json_t *tcp_flags_json(uint8_t flags)
{
    static const char letters[] = "FSRPAUEC";
    char buf[sizeof letters];
    size_t n = 0;
    for (unsigned bit = 0; bit < 8; bit++)
        if (flags & (1u << bit))
            buf[n++] = letters[bit];
    buf[n] = '\0';
    return json_string(buf);
}

static const char *family_name(enum rg_family_pref f)
{
    switch (f) {
    case RG_FAMILY_4: return "ipv4";
    case RG_FAMILY_6: return "ipv6";
    case RG_FAMILY_BOTH: return "both";
    case RG_FAMILY_ANY: break;
    }
    return "any";
}

static json_t *options_json(const rg_config *cfg)
{
    json_t *o = json_object(), *ports = json_array();
    if (!o) {
        json_decref(ports);
        return NULL;
    }
    bool ok = put(o, "ports", ports);
    for (size_t i = 0; ok && i < cfg->nports; i++)
        ok = append(ports, json_integer(cfg->ports[i]));
    ok &= put(o, "min_ttl", json_integer(cfg->min_ttl));
    ok &= put(o, "max_ttl", json_integer(cfg->max_ttl));
    ok &= put(o, "protocol", json_string(rg_method_name(cfg->method)));
    ok &= put(o, "sport", uint_or_null(cfg->sport));
    ok &= put(o, "timeout", json_real(cfg->timeout));
    ok &= put(o, "retries", json_integer(cfg->retries));
    ok &= put(o, "rate", json_integer(cfg->rate));
    ok &= put(o, "gap", json_integer(cfg->gap));
    ok &= put(o, "stop_set", uint_or_null(cfg->stop_set));
    ok &= put(o, "multipath", uint_or_null(cfg->multipath));
    ok &= put(o, "family", json_string(family_name(cfg->family)));
    ok &= put(o, "no_dns", json_boolean(cfg->no_dns));
    return finish(o, ok);
}

static json_t *stats_json(const rg_run_stats *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "probes_sent", json_integer((json_int_t)s->probes_sent));
    ok &= put(o, "replies", json_integer((json_int_t)s->replies));
    ok &= put(o, "matched", json_integer((json_int_t)s->matched));
    ok &= put(o, "unmatched", json_integer((json_int_t)s->unmatched));
    ok &= put(o, "duplicates", json_integer((json_int_t)s->duplicates));
    ok &= put(o, "malformed", json_integer((json_int_t)s->malformed));
    ok &= put(o, "send_errors", json_integer((json_int_t)s->send_errors));
    ok &= put(o, "retries_sent", json_integer((json_int_t)s->retries_sent));
    ok &= put(o, "port_checks_sent", json_integer((json_int_t)s->port_checks_sent));
    ok &= put(o, "port_probes_sent", json_integer((json_int_t)s->port_probes_sent));
    ok &= put(o, "hops_inferred", json_integer((json_int_t)s->hops_inferred));
    return finish(o, ok);
}

static json_t *unresolved_json(const rg_run *run)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < run->nunresolved; i++) {
        json_t *u = json_object();
        ok = append(a, u);
        ok = ok && put(u, "name", text_json(run->unresolved[i].name));
        ok = ok && put(u, "error", text_json(run->unresolved[i].why));
    }
    return finish(a, ok);
}

static bool is_icmp(enum rg_reply_kind k)
{
    return k == RG_REPLY_TIME_EXCEEDED || k == RG_REPLY_UNREACHABLE || k == RG_REPLY_ECHO ||
           k == RG_REPLY_PORT_UNREACH;
}

static bool is_tcp(enum rg_reply_kind k)
{
    return k == RG_REPLY_SYNACK || k == RG_REPLY_RST;
}

static json_t *mpls_json(const rg_icmpext *e)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (unsigned i = 0; ok && i < e->nlabels; i++) {
        const rg_mpls_lse *l = &e->labels[i];
        json_t *o = json_object();
        ok = o && put(o, "label", json_integer(l->label)) &&
             put(o, "tc", json_integer(l->tc)) && put(o, "s", json_integer(l->s)) &&
             put(o, "ttl", json_integer(l->ttl));
        ok = append(a, finish(o, ok)) && ok;
    }
    return finish(a, ok);
}

/* Only what the router sent: absent keys were not in its object. */
static json_t *ifinfo_json(const rg_ifinfo *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "role", json_string(rg_if_role_name((enum rg_if_role)f->role)));
    if (f->has & RG_IF_HAS_IFINDEX)
        ok &= put(o, "ifindex", json_integer(f->ifindex));
    if (f->has & RG_IF_HAS_ADDR)
        ok &= put(o, "address", addr_json(&f->addr));
    if (f->has & RG_IF_HAS_NAME)
        ok &= put(o, "name", text_json(f->name));
    if (f->has & RG_IF_HAS_MTU)
        ok &= put(o, "mtu", json_integer(f->mtu));
    return finish(o, ok);
}

/* RFC 4884 extensions of an ICMP error (docs/json-schema.md). */
static json_t *extensions_json(const rg_icmpext *e)
{
    json_t *o = json_object(), *ifs = json_array();
    if (!o) {
        json_decref(ifs);
        return NULL;
    }
    bool ok = put(o, "layout", json_string(e->compliant ? "rfc4884" : "pre-rfc4884"));
    if (e->nlabels)
        ok &= put(o, "mpls", mpls_json(e));
    for (unsigned i = 0; ok && ifs && i < e->nifs; i++)
        ok = append(ifs, ifinfo_json(&e->ifs[i]));
    if (e->nifs)
        ok &= put(o, "interfaces", ifs);
    else
        json_decref(ifs);
    if (e->dropped)
        ok &= put(o, "dropped", json_integer(e->dropped));
    return finish(o, ok);
}

static json_t *reply_json(const rg_trace *t, const rg_probe *p)
{
    enum rg_reply_kind kind = (enum rg_reply_kind)p->kind;
    if (kind == RG_REPLY_NONE)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "from", addr_json(&p->from));
    ok &= put(o, "kind", json_string(rg_reply_kind_name(kind)));
    if (is_icmp(kind)) {
        ok &= put(o, "icmp_type", json_integer(p->icmp_type));
        ok &= put(o, "icmp_code", json_integer(p->icmp_code));
    }
    if (is_tcp(kind))
        ok &= put(o, "tcp_flags", tcp_flags_json(p->tcp_flags));
    if (is_icmp(kind) && p->quote.tcp_quoted > 0)
        ok &= put(o, "quoted_tcp_bytes", json_integer(p->quote.tcp_quoted));
    ok &= put(o, "rtt_us", json_integer(p->rtt_us));
    ok &= put(o, "reply_ttl", json_integer(p->reply_ttl));
    ok &= put(o, "received", time_json(&p->received));
    const rg_icmpext *e = rg_trace_ext(t, p);
    if (e)
        ok &= put(o, "extensions", extensions_json(e));
    return finish(o, ok);
}

static json_t *probe_json(const rg_trace *t, const rg_probe *p, unsigned attempt)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "attempt", json_integer(attempt));
    ok &= put(o, "sent", time_json(&p->sent));
    ok &= put(o, "reply", reply_json(t, p));
    if (p->duplicates)
        ok &= put(o, "duplicates", json_integer(p->duplicates));
    if (p->port_check)
        ok &= put(o, "port_check", json_true());
    return finish(o, ok);
}

static const char *as_source_name(uint8_t s)
{
    switch ((enum rg_as_source)s) {
    case RG_AS_CSV: return "offline";
    case RG_AS_MMDB: return "mmdb";
    case RG_AS_CYMRU: return "cymru";
    case RG_AS_NONE: break;
    }
    return NULL;
}

/* What annotation learnt about an address; keys are absent when unknown. */
bool rg_json_put_annotation(json_t *o, const rg_host *h)
{
    bool ok = true;
    if (!h)
        return true;
    if (h->asn) {
        ok &= put(o, "asn", json_integer(h->asn));
        if (h->as_org)
            ok &= put(o, "as_org", text_json(h->as_org));
        if (as_source_name(h->as_source))
            ok &= put(o, "as_source", json_string(as_source_name(h->as_source)));
    }
    if (h->ptr)
        ok &= put(o, "ptr", text_json(h->ptr));
    if (h->country[0]) {
        ok &= put(o, "country", text_json(h->country));
        if (as_source_name(h->geo_source))
            ok &= put(o, "country_source", json_string(as_source_name(h->geo_source)));
    }
    if (h->city)
        ok &= put(o, "city", text_json(h->city));
    return ok;
}

static json_t *hosts_json(const rg_run *run)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < run->nhosts; i++) {
        json_t *h = json_object();
        ok = append(a, h);
        ok = ok && put(h, "address", addr_json(&run->hosts[i].addr));
        ok = ok && rg_json_put_annotation(h, &run->hosts[i]);
    }
    return finish(a, ok);
}

/* The ASes the trace crossed, in order, each once per stretch; hops of
 * unknown AS are passed over. */
static json_t *as_path_json(const rg_run *run, const rg_trace *t)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    bool ok = true;
    uint32_t last = 0;
    for (unsigned ttl = t->min_ttl; ok && ttl <= t->last_ttl; ttl++) {
        const rg_probe *p = rg_trace_answer(t, ttl);
        const rg_host *h = p ? rg_run_host(run, &p->from) : NULL;
        if (!h || h->asn == 0 || h->asn == last)
            continue;
        last = h->asn;
        ok = append(a, json_integer(h->asn));
    }
    return finish(a, ok);
}

/* A value of a change as the schema has it: addresses as text, the
 * options change as a boolean, everything else a number. */
static json_t *change_value(const rg_mbox_change *c, bool after)
{
    if (c->what == RG_QC_SRC || c->what == RG_QC_DST)
        return addr_json(after ? &c->addr_to : &c->addr_from);
    if (c->what == RG_QC_OPTIONS)
        return json_boolean(after ? c->to : c->from);
    if (c->what == RG_QC_SEQ)
        return json_integer((int32_t)(after ? c->to : c->from));
    return json_integer(after ? c->to : c->from);
}

/* The changes first seen at this TTL (model/middlebox.h); NULL: none. */
static json_t *middlebox_json(const rg_mbox_change *ch, size_t n, unsigned ttl)
{
    json_t *a = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (ch[i].ttl != ttl)
            continue;
        if (!a && !(a = json_array()))
            return NULL;
        json_t *c = json_object();
        if (!c)
            return finish(a, false);
        ok = put(c, "field", json_string(rg_quote_change_name(ch[i].what)));
        ok &= put(c, "from", change_value(&ch[i], false));
        ok &= put(c, "to", change_value(&ch[i], true));
        ok &= put(c, "after_ttl", json_integer(ch[i].prev_ttl));
        ok = append(a, c) && ok;
    }
    return a ? finish(a, ok) : NULL;
}

typedef struct mbox_list {
    rg_mbox_change *ch;
    size_t n;
} mbox_list;

static json_t *hop_json(const rg_run *run, const rg_trace *t, unsigned ttl,
                        const mbox_list *mb)
{
    const rg_probe *answer = rg_trace_answer(t, ttl);
    json_t *o = json_object(), *probes = json_array();
    if (!o) {
        json_decref(probes);
        return NULL;
    }
    bool ok = put(o, "ttl", json_integer(ttl));
    ok &= put(o, "responder", answer ? addr_json(&answer->from) : json_null());
    /* Which attempt answered first: above 0, the hop needed a retry. */
    ok &= put(o, "answer_attempt", answer ? json_integer(rg_trace_answer_attempt(t, ttl))
                                          : json_null());
    const rg_addr *inferred = answer ? NULL : rg_trace_inferred(t, ttl);
    const char *silence = answer ? NULL : rg_silence_name(rg_trace_silence(t, ttl));
    /* Never in "responder": not measured on this trace's own flow. */
    if (inferred)
        ok &= put(o, "inferred_responder", addr_json(inferred));
    if (silence)
        ok &= put(o, "silence", json_string(silence));
    json_t *mbox = middlebox_json(mb->ch, mb->n, ttl);
    if (mbox)
        ok &= put(o, "middlebox", mbox);
    if (answer || inferred)
        ok &= rg_json_put_annotation(o, rg_run_host(run, answer ? &answer->from : inferred));
    ok &= put(o, "probes", probes);
    unsigned n = rg_trace_sent(t, ttl);
    if (n > t->attempts)
        n = t->attempts;
    for (unsigned a = 0; ok && a < n; a++)
        ok = append(probes, probe_json(t, rg_trace_probe(t, ttl, a), a));
    return finish(o, ok);
}

static json_t *hops_json(const rg_run *run, const rg_trace *t)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    mbox_list mb = {0};
    size_t max = rg_middlebox_max_changes(t);
    mb.ch = t->probes ? malloc(max * sizeof *mb.ch) : NULL;
    if (mb.ch)
        mb.n = rg_middlebox_changes(t, mb.ch, max);
    bool ok = !t->probes || mb.ch;
    /* Every probe sent, also past the destination's TTL: probes already in
     * flight when it answered, and port checks there (under loss the
     * destination may first answer at a higher TTL than a later answer). */
    for (unsigned ttl = t->min_ttl; ok && ttl <= t->max_ttl; ttl++)
        if (rg_trace_sent(t, ttl) > 0 || rg_trace_inferred(t, ttl))
            ok = append(a, hop_json(run, t, ttl, &mb));
    free(mb.ch);
    return finish(a, ok);
}

/* The TCP probes sent at a high TTL first, for the port's state and the
 * destination's distance (null when none was sent). */
static json_t *port_probes_json(const rg_trace *t)
{
    unsigned n = rg_trace_sent(t, RG_PORT_PROBE_TTL);
    if (n == 0)
        return json_null();
    json_t *o = json_object(), *probes = json_array();
    if (!o) {
        json_decref(probes);
        return NULL;
    }
    bool ok = put(o, "ttl", json_integer(t->port_ttl));
    ok &= put(o, "probes", probes);
    for (unsigned a = 0; ok && a < n && a < t->attempts; a++)
        ok = append(probes, probe_json(t, rg_trace_probe(t, RG_PORT_PROBE_TTL, a), a));
    return finish(o, ok);
}

/* Why the trace ended. Silence and max_ttl can both hold; the engine stops
 * on `gap` silent TTLs first, so silence wins when the gap was complete. */
static const char *stopped_by(const rg_trace *t, unsigned gap)
{
    if (t->last_ttl == 0)
        return NULL;
    if (t->incomplete)
        return "interrupted";
    if (t->stopped_by_unreachable)
        return "unreachable";
    if (t->reached_ttl)
        return "destination";
    unsigned answered = t->last_answer_ttl ? t->last_answer_ttl : t->min_ttl - 1;
    unsigned silent = t->last_ttl - answered;
    if (t->last_ttl >= t->max_ttl && (gap == 0 || silent < gap))
        return "max_ttl";
    return "silence";
}

/* What the state rests on: why unknown, how many probes met silence, the
 * unreachable's type, code and traceroute mark. Each field only when it
 * applies (routegraph/2). */

/* Rewrites seen only through errors that are not hop answers
 * (model/middlebox.h): the destination rewritten, the sequence number
 * shifted; nothing when there is no evidence worth reporting. */
static bool evidence_json(json_t *o, const rg_trace *t)
{
    bool ok = true;
    const rg_rewrite_seen *d = rg_middlebox_evidence(t, RG_QC_DST);
    const rg_rewrite_seen *q = rg_middlebox_evidence(t, RG_QC_SEQ);
    if (d)
        ok &= put(o, "destination_rewritten",
                  json_pack("{s:i,s:i,s:o,s:o,s:i,s:i}", "ttl", (json_int_t)d->ttl,
                            "after_ttl", (json_int_t)rg_middlebox_quoted_below(t, d->ttl),
                            "by", addr_json(&d->by), "quoted_destination", addr_json(&d->dst),
                            "quoted_port", (json_int_t)d->dport, "errors", (json_int_t)d->errors));
    if (q)
        ok &= put(o, "sequence_shifted",
                  json_pack("{s:i,s:i,s:o,s:I,s:i}", "ttl", (json_int_t)q->ttl,
                            "after_ttl", (json_int_t)rg_middlebox_quoted_below(t, q->ttl),
                            "by", addr_json(&q->by), "shift", (json_int_t)q->shift,
                            "errors", (json_int_t)q->errors));
    return ok;
}
static bool put_state_detail(json_t *o, const rg_trace *t)
{
    bool ok = true;
    const char *why = rg_unknown_why_name((enum rg_unknown_why)t->unknown_why);
    if (t->state == RG_PORT_UNKNOWN && why)
        ok &= put(o, "unknown_reason", json_string(why));
    if (t->state == RG_PORT_FILTERED || t->unknown_why == RG_WHY_LOSS ||
        t->unknown_why == RG_WHY_NO_ANSWER)
        ok &= put(o, "unanswered_probes", json_integer(t->unanswered));
    if (t->state == RG_PORT_FILTERED)
        ok &= put(o, "syn_last_seen_ttl", uint_or_null(rg_middlebox_syn_last_seen(t)));
    if (t->nat_ttl && t->probes)
        ok &= put(o, "source_rewritten",
                  json_pack("{s:i,s:i,s:o,s:o,s:i}", "ttl", (json_int_t)t->nat_ttl,
                            "after_ttl", (json_int_t)rg_middlebox_nat_after(t),
                            "by", addr_json(&t->nat_by), "quoted_source", addr_json(&t->nat_source),
                            "errors", (json_int_t)t->nat_errors));
    ok &= evidence_json(o, t);
    if (t->unknown_why == RG_WHY_LOSS || t->state == RG_PORT_FILTERED)
        ok &= put(o, "sibling_probes_lost", json_pack("{s:i,s:i}", "lost", (json_int_t)t->sibling_lost,
                                                       "sent", (json_int_t)t->sibling_sent));
    const rg_probe *u = rg_trace_unreachable(t);
    if (t->state == RG_PORT_UNREACHABLE && u) {
        char mark[8];
        rg_unreach_mark(u->from.family, u->icmp_type, u->icmp_code, mark, sizeof mark);
        const char *name = rg_unreach_name(u->from.family, u->icmp_type, u->icmp_code);
        json_t *x = json_object();
        bool k = x && put(x, "from", addr_json(&u->from));
        k = k && put(x, "icmp_type", json_integer(u->icmp_type));
        k = k && put(x, "icmp_code", json_integer(u->icmp_code));
        k = k && put(x, "mark", json_string(mark));
        k = k && put(x, "meaning", name ? json_string(name) : json_null());
        ok &= put(o, "unreachable", finish(x, k));
    }
    return ok;
}

static json_t *trace_json(const rg_run *run, const rg_trace *t, unsigned gap)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *stop = stopped_by(t, gap);
    bool ok = put(o, "target", text_json(t->target));
    ok &= put(o, "address", addr_json(&t->dst));
    if (t->addresses > 1)
        ok &= put(o, "addresses", json_integer(t->addresses));
    ok &= put(o, "family", json_integer(t->dst.family));
    ok &= put(o, "protocol", json_string(rg_method_name(t->method)));
    ok &= put(o, "port", t->method == RG_METHOD_ICMP ? json_null() : json_integer(t->dport));
    ok &= put(o, "source_address", addr_json(&t->src));
    ok &= put(o, "source_port", uint_or_null(t->sport));
    ok &= put(o, "state", json_string(rg_port_state_name(t->state)));
    ok &= put(o, "reached", json_boolean(t->reached_ttl != 0));
    ok &= put(o, "reached_ttl", uint_or_null(t->reached_ttl));
    ok &= put(o, "rtt_us", t->reached_ttl ? json_integer(t->rtt_us) : json_null());
    ok &= put(o, "last_answer_ttl", uint_or_null(t->last_answer_ttl));
    ok &= put(o, "stopped_by", stop ? json_string(stop) : json_null());
    ok &= put_state_detail(o, t);
    ok &= put(o, "incomplete", json_boolean(t->incomplete));
    ok &= put(o, "estimated_distance", uint_or_null(t->est_distance));
    ok &= put(o, "as_path", as_path_json(run, t));
    ok &= put(o, "port_probes", port_probes_json(t));
    ok &= put(o, "hops", hops_json(run, t));
    if (t->mpath)
        ok &= put(o, "multipath", rg_json_mpath(t->mpath));
    return finish(o, ok);
}

static json_t *traces_json(const rg_run *run, unsigned gap)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < run->ntraces; i++)
        ok = append(a, trace_json(run, &run->traces[i], gap));
    return finish(a, ok);
}

unsigned rg_json_gap(const rg_config *cfg)
{
    return cfg ? cfg->gap : 0;
}

static json_t *build(const rg_run *run, const rg_config *cfg, bool with_traces)
{
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    bool ok = put(doc, "schema", json_string(RG_JSON_SCHEMA));
    ok &= put(doc, "version", json_string(RG_VERSION));
    ok &= put(doc, "start_time", time_json(&run->start));
    ok &= put(doc, "end_time", time_json(&run->end));
    ok &= put(doc, "interrupted", json_boolean(run->interrupted));
    ok &= put(doc, "options", cfg ? options_json(cfg) : json_null());
    ok &= put(doc, "stats", stats_json(&run->stats));
    ok &= put(doc, "unresolved", unresolved_json(run));
    ok &= put(doc, "traces", with_traces ? traces_json(run, rg_json_gap(cfg)) : json_array());
    ok &= put(doc, "hosts", hosts_json(run));
    ok &= put(doc, "credits", rg_json_credits(run));
    return finish(doc, ok);
}

json_t *rg_json_build(const rg_run *run, const rg_config *cfg)
{
    return build(run, cfg, true);
}

json_t *rg_json_build_head(const rg_run *run, const rg_config *cfg)
{
    return build(run, cfg, false);
}

json_t *rg_json_credits(const rg_run *run)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    bool ok = true;
    if (run->as_credit)
        ok &= append(a, json_string(run->as_credit));
    if (run->country_credit)
        ok &= append(a, json_string(run->country_credit));
    return finish(a, ok);
}

bool rg_json_write(FILE *out, const rg_run *run, const rg_config *cfg)
{
    json_t *doc = rg_json_build(run, cfg);
    if (!doc)
        return false;
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return rc == 0 && fputc('\n', out) != EOF && fflush(out) == 0 &&
           !ferror(out);
}

json_t *rg_json_trace(const rg_run *run, const rg_trace *t, unsigned gap)
{
    return trace_json(run, t, gap);
}

json_t *rg_json_options(const rg_config *cfg)
{
    return options_json(cfg);
}

json_t *rg_json_stats(const rg_run_stats *s)
{
    return stats_json(s);
}

json_t *rg_json_unresolved(const rg_run *run)
{
    return unresolved_json(run);
}

json_t *rg_json_time(const struct timespec *ts)
{
    return time_json(ts);
}
