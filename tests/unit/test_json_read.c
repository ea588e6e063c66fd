/* The JSON reader: a run written by rg_json_build comes back field by field;
 * malformed and hostile documents give one error line naming the JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate/annotate.h"
#include "cli/config.h"
#include "input/json_read.h"
#include "model/infer.h"
#include "model/result.h"
#include "output/json.h"

#define T0 1795618200 /* 2026-11-25T14:50:00Z */

static rg_trace *add_trace(rg_run *run, const char *target, const char *dst, uint16_t port)
{
    rg_addr a;
    assert_true(rg_addr_parse(dst, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces++];
    assert_true(rg_trace_init(t, target, &a, port, 1, 30, rg_attempts_for(1)));
    return t;
}

/* Sub-microsecond parts that the document cannot carry. */
static rg_probe *sent(rg_trace *t, unsigned ttl)
{
    unsigned a = rg_trace_sent(t, ttl);
    rg_probe *p = rg_trace_probe(t, ttl, a);
    assert_non_null(p);
    p->sent.tv_sec = T0 + ttl;
    p->sent.tv_nsec = 123456789 + (long)a * 1000000;
    rg_trace_set_sent(t, ttl, rg_trace_sent(t, ttl) + 1);
    return p;
}

static void answer(rg_probe *p, const char *from, enum rg_reply_kind kind, uint8_t type,
                   uint8_t code, uint32_t rtt_us)
{
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    if (kind == RG_REPLY_TIME_EXCEEDED || kind == RG_REPLY_UNREACHABLE) {
        p->icmp_type = type;
        p->icmp_code = code;
    } else {
        p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : 0x14;
    }
    p->rtt_us = rtt_us;
    p->reply_ttl = (uint8_t)(kind == RG_REPLY_TIME_EXCEEDED ? 254 : 61);
    p->received = p->sent;
    p->received.tv_nsec += (long)rtt_us * 1000;
}

static void te(rg_trace *t, unsigned ttl, const char *from)
{
    answer(sent(t, ttl), from, RG_REPLY_TIME_EXCEEDED, 11, 0, 100 * ttl);
}

/* The extensions a router at TTL 1 sent: a two-label stack and its
 * incoming interface. */
static void with_extensions(rg_trace *t, unsigned ttl, bool v6)
{
    rg_icmpext e;
    memset(&e, 0, sizeof e);
    e.compliant = !v6;
    if (!v6) {
        e.nlabels = 2;
        e.labels[0] = (rg_mpls_lse){24005, 0, 0, 1};
        e.labels[1] = (rg_mpls_lse){16, 5, 1, 1};
        e.dropped = 1;
    }
    e.nifs = 1;
    e.ifs[0].role = v6 ? RG_IF_OUTGOING : RG_IF_INCOMING;
    e.ifs[0].has = RG_IF_HAS_IFINDEX | RG_IF_HAS_ADDR | (v6 ? 0 : RG_IF_HAS_NAME | RG_IF_HAS_MTU);
    e.ifs[0].ifindex = 7;
    assert_true(rg_addr_parse(v6 ? "2001:db8:ffff:1::1" : "198.18.0.1", &e.ifs[0].addr));
    if (!v6) {
        strcpy(e.ifs[0].name, "ge-0/0/1.0 \"\xc3\xa9\"");
        e.ifs[0].mtu = 1500;
    }
    assert_true(rg_trace_set_ext(t, rg_trace_answer(t, ttl), &e));
}

static void build(rg_run *run)
{
    run->start = (struct timespec){T0, 5000};
    run->end = (struct timespec){T0 + 12, 999999999};
    run->stats = (rg_run_stats){.probes_sent = 61, .replies = 20, .matched = 17,
                                .unmatched = 3, .duplicates = 2, .malformed = 1};
    rg_trace *t = add_trace(run, "198.19.0.5", "198.19.0.5", 80);
    assert_true(rg_addr_parse("198.18.0.2", &t->src));
    t->sport = 40001;
    t->addresses = 1; /* a literal: not written */
    te(t, 1, "198.18.0.1");
    with_extensions(t, 1, false);
    sent(t, 2); /* silent first try */
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.0.5", RG_REPLY_SYNACK, 0, 0, 412);

    t = add_trace(run, "web1.h1.lab", "198.19.0.5", 443);
    assert_true(rg_addr_parse("198.18.0.2", &t->src));
    t->sport = 40002;
    t->addresses = 16; /* the name had 15 more, not traced */
    te(t, 1, "198.18.0.1");
    rg_probe *p = sent(t, 2);
    answer(p, "198.19.0.5", RG_REPLY_RST, 0, 0, 1500);
    p->duplicates = 3;

    t = add_trace(run, "198.19.0.7", "198.19.0.7", 80); /* silent to the end */
    t->sport = 40003;
    te(t, 1, "198.18.0.1");
    for (unsigned ttl = 2; ttl <= 6; ttl++) {
        sent(t, ttl);
        sent(t, ttl);
    }

    t = add_trace(run, "198.19.0.9", "198.19.0.9", 22); /* refused by a router */
    te(t, 1, "198.18.0.1");
    answer(sent(t, 2), "198.18.1.2", RG_REPLY_UNREACHABLE, 3, 13, 300);

    t = add_trace(run, "v6 \"name\"", "2001:db8:310::6", 80); /* refused by itself */
    assert_true(rg_addr_parse("2001:db8:100::2", &t->src));
    t->sport = 40006;
    answer(sent(t, 1), "2001:db8:ffff:1::1", RG_REPLY_TIME_EXCEEDED, 3, 0, 90);
    with_extensions(t, 1, true);
    answer(sent(t, 2), "2001:db8:310::6", RG_REPLY_UNREACHABLE, 1, 1, 800);

    add_trace(run, "198.19.0.13", "198.19.0.13", 80); /* never sent */

    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_conclude(&run->traces[i]);
    assert_true(rg_run_infer(run, RG_INFER_WITNESSES)); /* as the engine does */
    assert_true(rg_run_add_unresolved(run, "nosuch.lab", "Name or service not known"));
    assert_true(rg_run_collect_hosts(run));
    rg_host *h = &run->hosts[0]; /* 198.18.0.1 */
    h->asn = 64500;
    h->as_source = RG_AS_CSV;
    assert_true(rg_host_set(&h->as_org, "Lab \"Access\""));
    assert_true(rg_host_set(&h->ptr, "r1.lab"));
    memcpy(h->country, "DE", 3);
    h->geo_source = RG_AS_CSV;
    assert_true(rg_host_set(&h->city, "K\xc3\xb6ln"));
    h = &run->hosts[run->nhosts - 1]; /* 2001:db8:ffff:1::1 */
    h->asn = 64501;
    h->as_source = RG_AS_MMDB;
    assert_true(rg_host_set(&h->ptr, "r1.v6.lab"));
    run->as_credit = RG_ANNOTATE_ASN_CREDIT;
    run->country_credit = RG_COUNTRY_CREDIT;
}

static void same_host(const rg_host *a, const rg_host *b)
{
    assert_true(rg_addr_equal(&a->addr, &b->addr));
    assert_int_equal(a->asn, b->asn);
    assert_int_equal(a->as_source, b->as_source);
    assert_string_equal(a->country, b->country);
    assert_int_equal(a->geo_source, b->geo_source);
    if (b->as_org)
        assert_string_equal(a->as_org, b->as_org);
    else
        assert_null(a->as_org);
    if (b->ptr)
        assert_string_equal(a->ptr, b->ptr);
    else
        assert_null(a->ptr);
    if (b->city)
        assert_string_equal(a->city, b->city);
    else
        assert_null(a->city);
}

static rg_config config(void)
{
    rg_config cfg = {0};
    cfg.ports[0] = 80;
    cfg.nports = 1;
    cfg.min_ttl = 1;
    cfg.max_ttl = 30;
    cfg.timeout = 2.0;
    cfg.retries = 1;
    cfg.rate = 100;
    cfg.gap = 5;
    return cfg;
}

static char *dump(const rg_run *run, const rg_config *cfg)
{
    json_t *doc = rg_json_build(run, cfg);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    assert_non_null(text);
    return text;
}

static void same_time(const struct timespec *a, const struct timespec *b)
{
    assert_int_equal(a->tv_sec, b->tv_sec);
    assert_int_equal(a->tv_nsec, b->tv_nsec / 1000 * 1000); /* microseconds kept */
}

static void same_probe(const rg_probe *a, const rg_probe *b)
{
    same_time(&a->sent, &b->sent);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->duplicates, b->duplicates);
    if (b->kind == RG_REPLY_NONE)
        return;
    same_time(&a->received, &b->received);
    assert_true(rg_addr_equal(&a->from, &b->from));
    assert_int_equal(a->rtt_us, b->rtt_us);
    assert_int_equal(a->icmp_type, b->icmp_type);
    assert_int_equal(a->icmp_code, b->icmp_code);
    assert_int_equal(a->tcp_flags, b->tcp_flags);
    assert_int_equal(a->reply_ttl, b->reply_ttl);
}

static void same_ext(const rg_icmpext *a, const rg_icmpext *b)
{
    if (!b) {
        assert_null(a);
        return;
    }
    assert_non_null(a);
    assert_int_equal(a->compliant, b->compliant);
    assert_int_equal(a->dropped, b->dropped);
    assert_int_equal(a->nlabels, b->nlabels);
    for (unsigned i = 0; i < b->nlabels; i++) {
        assert_int_equal(a->labels[i].label, b->labels[i].label);
        assert_int_equal(a->labels[i].tc, b->labels[i].tc);
        assert_int_equal(a->labels[i].s, b->labels[i].s);
        assert_int_equal(a->labels[i].ttl, b->labels[i].ttl);
    }
    assert_int_equal(a->nifs, b->nifs);
    for (unsigned i = 0; i < b->nifs; i++) {
        const rg_ifinfo *x = &a->ifs[i], *y = &b->ifs[i];
        assert_int_equal(x->role, y->role);
        assert_int_equal(x->has, y->has);
        assert_int_equal(x->ifindex, y->ifindex);
        assert_int_equal(x->mtu, y->mtu);
        assert_true(rg_addr_equal(&x->addr, &y->addr));
        assert_string_equal(x->name, y->name);
    }
}

static void same_trace(const rg_trace *a, const rg_trace *b)
{
    assert_string_equal(a->target, b->target);
    assert_true(rg_addr_equal(&a->dst, &b->dst));
    assert_true(rg_addr_equal(&a->src, &b->src));
    assert_int_equal(a->dport, b->dport);
    assert_int_equal(a->sport, b->sport);
    assert_int_equal(a->addresses > 1 ? a->addresses : 0, b->addresses > 1 ? b->addresses : 0);
    assert_int_equal(a->min_ttl, b->min_ttl);
    assert_int_equal(a->max_ttl, b->max_ttl);
    assert_int_equal(a->attempts, b->attempts);
    for (unsigned ttl = b->min_ttl; ttl <= b->max_ttl; ttl++) {
        assert_int_equal(rg_trace_sent(a, ttl), rg_trace_sent(b, ttl));
        for (unsigned i = 0; i < b->attempts; i++) {
            same_probe(rg_trace_probe(a, ttl, i), rg_trace_probe(b, ttl, i));
            same_ext(rg_trace_ext(a, rg_trace_probe(a, ttl, i)),
                     rg_trace_ext(b, rg_trace_probe(b, ttl, i)));
        }
    }
    assert_int_equal(a->reached_ttl, b->reached_ttl);
    assert_int_equal(a->last_ttl, b->last_ttl);
    assert_int_equal(a->last_answer_ttl, b->last_answer_ttl);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->rtt_us, b->rtt_us);
    assert_int_equal(a->stopped_by_unreachable, b->stopped_by_unreachable);
    assert_int_equal(a->incomplete, b->incomplete);
}

static void test_round_trip(void **state)
{
    (void)state;
    rg_run run = {0}, back;
    rg_config cfg = config();
    build(&run);
    /* A run a signal stopped, one trace unfinished: both marks come back. */
    run.interrupted = true;
    run.traces[1].incomplete = true;
    char *text = dump(&run, &cfg);
    char err[256] = "";
    assert_true(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
    assert_string_equal(err, "");
    assert_true(back.interrupted);
    assert_true(back.traces[1].incomplete && !back.traces[0].incomplete);
    /* addresses only where the name had more than one */
    const char *many = strstr(text, "\"addresses\": 16,");
    assert_non_null(many);
    assert_null(strstr(many + 1, "\"addresses\""));
    assert_int_equal(back.traces[1].addresses, 16);

    same_time(&back.start, &run.start);
    same_time(&back.end, &run.end);
    assert_int_equal(back.stats.probes_sent, 61);
    assert_int_equal(back.stats.replies, 20);
    assert_int_equal(back.stats.matched, 17);
    assert_int_equal(back.stats.unmatched, 3);
    assert_int_equal(back.stats.duplicates, 2);
    assert_int_equal(back.stats.malformed, 1);
    assert_int_equal(back.nunresolved, 1);
    assert_string_equal(back.unresolved[0].name, "nosuch.lab");
    assert_string_equal(back.unresolved[0].why, "Name or service not known");
    assert_int_equal(back.ntraces, run.ntraces);
    for (size_t i = 0; i < run.ntraces; i++)
        same_trace(&back.traces[i], &run.traces[i]);
    /* every responder and destination, with its annotation */
    assert_int_equal(back.nhosts, 8);
    assert_int_equal(back.nhosts, run.nhosts);
    for (size_t i = 0; i < run.nhosts; i++)
        same_host(&back.hosts[i], &run.hosts[i]);
    assert_string_equal(back.as_credit, RG_ANNOTATE_ASN_CREDIT);
    assert_string_equal(back.country_credit, RG_COUNTRY_CREDIT);

    /* and writing it again gives the same document */
    char *again = dump(&back, &cfg);
    assert_string_equal(again, text);
    free(again);
    free(text);
    rg_run_free(&back);
    rg_run_free(&run);
}

/* Without options, each trace's TTL range is the one its hops need. */
static void test_no_options(void **state)
{
    (void)state;
    rg_run run = {0}, back;
    build(&run);
    char *text = dump(&run, NULL);
    char err[256];
    assert_true(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
    const rg_trace *t = &back.traces[2];
    assert_int_equal(t->min_ttl, 1);
    assert_int_equal(t->max_ttl, 6);
    assert_int_equal(t->attempts, 2);
    assert_int_equal(back.traces[3].attempts, 1);
    assert_int_equal(back.traces[5].last_ttl, 0);
    for (size_t i = 0; i < run.ntraces; i++) {
        assert_int_equal(back.traces[i].reached_ttl, run.traces[i].reached_ttl);
        assert_int_equal(back.traces[i].state, run.traces[i].state);
        assert_int_equal(back.traces[i].last_answer_ttl, run.traces[i].last_answer_ttl);
    }
    free(text);
    rg_run_free(&back);
    rg_run_free(&run);
}

/* A document from the writer with edits applied to its JSON tree. */
typedef void (*edit_fn)(json_t *doc);

static bool read_edited(edit_fn edit, char *err, size_t errlen)
{
    rg_run run = {0}, back;
    rg_config cfg = config();
    build(&run);
    json_t *doc = rg_json_build(&run, &cfg);
    rg_run_free(&run);
    edit(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    bool ok = rg_json_read_buffer(text, strlen(text), &back, err, errlen);
    free(text);
    if (ok)
        rg_run_free(&back);
    else
        assert_null(strchr(err, '\n'));
    return ok;
}

static json_t *trace(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(doc, "traces"), i);
}

static json_t *probe(json_t *doc, size_t t, size_t hop, size_t i)
{
    json_t *hops = json_object_get(trace(doc, t), "hops");
    return json_array_get(json_object_get(json_array_get(hops, hop), "probes"), i);
}

static json_t *reply_of(json_t *doc, size_t t, size_t hop, size_t i)
{
    return json_object_get(probe(doc, t, hop, i), "reply");
}

static void set(json_t *obj, const char *key, json_t *v)
{
    assert_int_equal(json_object_set_new(obj, key, v), 0);
}

static void e_schema(json_t *d) { set(d, "schema", json_string("routegraph/3")); }
static void e_no_traces(json_t *d) { json_object_del(d, "traces"); }
static void e_port0(json_t *d) { set(trace(d, 1), "port", json_integer(0)); }
static void e_port_text(json_t *d) { set(trace(d, 0), "port", json_string("80")); }
static void e_family(json_t *d) { set(trace(d, 0), "family", json_integer(6)); }
static void e_protocol(json_t *d) { set(trace(d, 0), "protocol", json_string("udp")); }
static void e_address(json_t *d) { set(trace(d, 0), "address", json_string("198.19.0.256")); }
static void e_state(json_t *d) { set(trace(d, 0), "state", json_string("ajar")); }
static void e_ttl0(json_t *d)
{
    set(json_array_get(json_object_get(trace(d, 0), "hops"), 0), "ttl", json_integer(0));
}
static void e_ttl_past_max(json_t *d)
{
    set(json_array_get(json_object_get(trace(d, 0), "hops"), 2), "ttl", json_integer(31));
}
static void e_ttl_order(json_t *d)
{
    set(json_array_get(json_object_get(trace(d, 0), "hops"), 1), "ttl", json_integer(1));
}
static void e_retries(json_t *d)
{
    set(json_object_get(d, "options"), "retries", json_integer(6));
}
static void e_max_ttl(json_t *d)
{
    set(json_object_get(d, "options"), "max_ttl", json_integer(256));
}
static void e_too_many_probes(json_t *d)
{
    json_t *probes = json_object_get(json_array_get(json_object_get(trace(d, 0), "hops"), 0),
                                     "probes");
    for (int i = 1; i < (int)rg_attempts_for(1) + 1; i++) {
        json_t *p = json_deep_copy(json_array_get(probes, 0));
        set(p, "attempt", json_integer(i));
        json_array_append_new(probes, p);
    }
}
static void e_attempt(json_t *d) { set(probe(d, 0, 1, 1), "attempt", json_integer(0)); }
static void e_kind(json_t *d) { set(reply_of(d, 0, 0, 0), "kind", json_string("echo")); }
static void e_from_v6(json_t *d) { set(reply_of(d, 0, 0, 0), "from", json_string("2001:db8::1")); }
static void e_flags(json_t *d) { set(reply_of(d, 0, 2, 0), "tcp_flags", json_string("SX")); }
static void e_flags_twice(json_t *d) { set(reply_of(d, 0, 2, 0), "tcp_flags", json_string("SS")); }
static void e_no_icmp_type(json_t *d) { json_object_del(reply_of(d, 0, 0, 0), "icmp_type"); }
static void e_rtt(json_t *d) { set(reply_of(d, 0, 0, 0), "rtt_us", json_real(1.5)); }
static void e_sent(json_t *d)
{
    set(probe(d, 0, 0, 0), "sent", json_string("2026-02-30T14:50:00.000000Z"));
}
static void e_time_format(json_t *d) { set(d, "start_time", json_string("2026-11-25 14:50:00")); }
static void e_dups(json_t *d) { set(probe(d, 0, 0, 0), "duplicates", json_integer(256)); }
static void e_stats(json_t *d) { set(json_object_get(d, "stats"), "matched", json_integer(-1)); }
static json_t *ext_of(json_t *d) { return json_object_get(reply_of(d, 0, 0, 0), "extensions"); }
static void e_ext_label(json_t *d)
{
    set(json_array_get(json_object_get(ext_of(d), "mpls"), 0), "label", json_integer(1 << 20));
}
static void e_ext_empty(json_t *d)
{
    json_object_del(ext_of(d), "mpls");
    json_object_del(ext_of(d), "interfaces");
}
static void e_ext_role(json_t *d)
{
    set(json_array_get(json_object_get(ext_of(d), "interfaces"), 0), "role", json_string("up"));
}
static void e_ext_name(json_t *d)
{
    set(json_array_get(json_object_get(ext_of(d), "interfaces"), 0), "name",
        json_string("ge\x1b[31m"));
}
static void e_ext_too_many(json_t *d)
{
    json_t *a = json_object_get(ext_of(d), "mpls");
    for (int i = 0; i < RG_ICMPEXT_MAX_LABELS; i++)
        json_array_append_new(a, json_deep_copy(json_array_get(a, 0)));
}
static void e_ext_layout(json_t *d) { set(ext_of(d), "layout", json_string("rfc9999")); }
static void e_unresolved(json_t *d)
{
    set(json_array_get(json_object_get(d, "unresolved"), 0), "error", json_integer(1));
}
static void e_target_long(json_t *d)
{
    char name[RG_JSON_READ_MAX_STRING + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    set(trace(d, 0), "target", json_string(name));
}
static void e_hops_object(json_t *d) { set(trace(d, 0), "hops", json_object()); }
static void e_trace_array(json_t *d)
{
    json_array_set_new(json_object_get(d, "traces"), 0, json_array());
}
static void e_reached(json_t *d) { set(trace(d, 0), "reached", json_string("yes")); }
static void e_no_send_errors(json_t *d) { json_object_del(json_object_get(d, "stats"), "send_errors"); }
static void e_credit_type(json_t *d)
{
    json_array_append_new(json_object_get(d, "credits"), json_integer(1));
}
static void e_credit_other(json_t *d)
{
    json_array_append_new(json_object_get(d, "credits"), json_string("<b>someone</b>"));
}
static void e_addresses0(json_t *d) { set(trace(d, 0), "addresses", json_integer(0)); }
static void e_addresses_text(json_t *d) { set(trace(d, 1), "addresses", json_string("16")); }
static void e_no_addresses(json_t *d) { json_object_del(trace(d, 1), "addresses"); }
static void e_unknown_key(json_t *d) { set(trace(d, 0), "future_key", json_string("ignored")); }
static void e_source_family(json_t *d)
{
    set(trace(d, 0), "source_address", json_string("2001:db8:100::2"));
}

static json_t *host_entry(const char *addr)
{
    json_t *h = json_object();
    set(h, "address", json_string(addr));
    set(h, "asn", json_integer(64500));
    set(h, "as_org", json_string("Lab Access"));
    set(h, "as_source", json_string("offline"));
    set(h, "ptr", json_string("r1.lab"));
    set(h, "country", json_string("de"));
    set(h, "city", json_null());
    return h;
}

static void add_hosts(json_t *d, json_t *h1, json_t *h2)
{
    json_t *a = json_array();
    json_array_append_new(a, h1);
    if (h2)
        json_array_append_new(a, h2);
    set(d, "hosts", a);
}

static void e_host_dup(json_t *d)
{
    add_hosts(d, host_entry("198.18.0.1"), host_entry("198.18.0.1"));
}
static void e_host_country(json_t *d)
{
    json_t *h = host_entry("198.18.0.1");
    set(h, "country", json_string("D1"));
    add_hosts(d, h, NULL);
}
static void e_host_asn(json_t *d)
{
    json_t *h = host_entry("198.18.0.1");
    set(h, "asn", json_integer(4294967296LL));
    add_hosts(d, h, NULL);
}
static void e_host_org(json_t *d)
{
    json_t *h = host_entry("198.51.100.1"); /* not in the run: still type-checked */
    set(h, "as_org", json_integer(5));
    add_hosts(d, h, NULL);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        edit_fn edit;
        const char *err; /* NULL: the document is accepted */
    } cases[] = {
        {e_schema, "$.schema: not routegraph/1 or routegraph/2"},
        {e_no_traces, "$.traces: missing"},
        {e_port0, "$.traces[1].port: expected an integer from 1 to 65535"},
        {e_port_text, "$.traces[0].port: expected an integer from 1 to 65535"},
        {e_family, "$.traces[0].family: expected 4"},
        {e_address, "$.traces[0].address: expected an IPv4 or IPv6 address"},
        {e_state, "$.traces[0].state: unknown value"},
        {e_ttl0, "$.traces[0].hops[0].ttl: expected an integer from 1 to 255"},
        {e_ttl_past_max, "$.traces[0].hops[2].ttl: expected an integer from 1 to 30"},
        {e_ttl_order, "$.traces[0].hops[1].ttl: expected an integer from 2 to 255"},
        {e_retries, "$.options.retries: expected an integer from 0 to 5"},
        {e_max_ttl, "$.options.max_ttl: expected an integer from 1 to 255"},
        {e_too_many_probes, "$.traces[0].hops[0].probes: expected 1 to 4 probes"},
        {e_attempt, "$.traces[0].hops[1].probes[1].attempt: expected 1"},
        {e_kind, "$.traces[0].hops[0].probes[0].reply.kind: unknown value"},
        {e_from_v6, "$.traces[0].hops[0].probes[0].reply.from: expected an IPv4 address"},
        {e_flags, "$.traces[0].hops[2].probes[0].reply.tcp_flags: expected distinct letters "
                  "of FSRPAUEC"},
        {e_flags_twice, "$.traces[0].hops[2].probes[0].reply.tcp_flags: expected distinct "
                        "letters of FSRPAUEC"},
        {e_no_icmp_type, "$.traces[0].hops[0].probes[0].reply.icmp_type: missing"},
        {e_rtt, "$.traces[0].hops[0].probes[0].reply.rtt_us: expected an integer from 0 to "
                "4294967295"},
        {e_sent, "$.traces[0].hops[0].probes[0].sent: expected a time like "
                 "2026-11-25T14:50:00.000000Z or null"},
        {e_time_format, "$.start_time: expected a time like 2026-11-25T14:50:00.000000Z or null"},
        {e_dups, "$.traces[0].hops[0].probes[0].duplicates: expected an integer from 0 to 255 "
                 "or null"},
        {e_stats, "$.stats.matched: expected an integer from 0 to 9223372036854775807"},
        {e_unresolved, "$.unresolved[0].error: expected a string"},
        {e_target_long, "$.traces[0].target: longer than 1024 bytes"},
        {e_hops_object, "$.traces[0].hops: expected an array"},
        {e_trace_array, "$.traces[0]: expected an object"},
        {e_reached, "$.traces[0].reached: expected true or false"},
        {e_source_family, "$.traces[0].source_address: expected an IPv4 address"},
        {e_host_dup, "$.hosts[1]: a second entry for the same address"},
        {e_host_country, "$.hosts[0].country: expected a two-letter country code"},
        {e_host_asn, "$.hosts[0].asn: expected an integer from 0 to 4294967295 or null"},
        {e_host_org, "$.hosts[0].as_org: expected a string or null"},
        {e_credit_type, "$.credits[2]: expected a string of at most 1024 bytes"},
        {e_credit_other, NULL}, /* type-checked, dropped */
        {e_unknown_key, NULL},
        {e_protocol, NULL}, /* an open enumeration */
        {e_no_send_errors, NULL}, /* optional: older documents lack it */
        {e_addresses0, "$.traces[0].addresses: expected an integer from 1 to 4294967295 "
                      "or null"},
        {e_addresses_text, "$.traces[1].addresses: expected an integer from 1 to 4294967295 "
                          "or null"},
        {e_no_addresses, NULL}, /* optional, as above */
        {e_ext_label, "$.traces[0].hops[0].probes[0].reply.extensions.mpls[0].label: expected "
                      "an integer from 0 to 1048575"},
        {e_ext_empty, "$.traces[0].hops[0].probes[0].reply.extensions: expected \"mpls\" or "
                      "\"interfaces\""},
        {e_ext_role, "$.traces[0].hops[0].probes[0].reply.extensions.interfaces[0].role: "
                     "unknown value"},
        {e_ext_name, "$.traces[0].hops[0].probes[0].reply.extensions.interfaces[0].name: holds "
                     "a control character (U+0000-U+001F, U+007F-U+009F)"},
        {e_ext_too_many, "$.traces[0].hops[0].probes[0].reply.extensions.mpls: expected 1 to 8 "
                         "entries"},
        {e_ext_layout, "$.traces[0].hops[0].probes[0].reply.extensions.layout: unknown value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        bool ok = read_edited(cases[i].edit, err, sizeof err);
        if (!cases[i].err) {
            assert_true(ok);
            continue;
        }
        if (ok)
            fail_msg("case %zu (%s) was accepted", i, cases[i].err);
        assert_string_equal(err, cases[i].err);
    }
}

static void test_not_json(void **state)
{
    (void)state;
    static const char *const docs[] = {"", "not json", "{\"schema\": \"routegraph/1\",}",
                                       "{\"a\": 1, \"a\": 2}", "{\"x\": \"\\u0000\"}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        rg_run run;
        char err[256];
        assert_false(rg_json_read_buffer(docs[i], strlen(docs[i]), &run, err, sizeof err));
        assert_memory_equal(err, "$: not JSON: line ", 18);
        assert_null(strchr(err, '\n'));
        assert_null(run.traces); /* left empty */
    }
    rg_run run;
    char err[256];
    assert_false(rg_json_read_buffer("[]", 2, &run, err, sizeof err));
    assert_string_equal(err, "$: expected an object");
}

static void test_hosts(void **state)
{
    (void)state;
    rg_run run = {0}, back;
    rg_config cfg = config();
    build(&run);
    json_t *doc = rg_json_build(&run, &cfg);
    rg_run_free(&run);
    json_t *r2 = host_entry("198.18.1.2");
    set(r2, "as_source", json_string("some-future-source"));
    set(r2, "ptr", json_string("r2\"]; <b>"));
    set(r2, "city", json_string("Frankfurt"));
    add_hosts(doc, host_entry("198.18.0.1"), r2);
    json_array_append_new(json_object_get(doc, "hosts"), host_entry("198.51.100.1"));
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    char err[256];
    assert_true(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
    free(text);

    rg_addr a;
    assert_true(rg_addr_parse("198.18.0.1", &a));
    const rg_host *h = rg_run_host(&back, &a);
    assert_non_null(h);
    assert_int_equal(h->asn, 64500);
    assert_string_equal(h->as_org, "Lab Access");
    assert_int_equal(h->as_source, RG_AS_CSV);
    assert_string_equal(h->ptr, "r1.lab");
    assert_string_equal(h->country, "DE");
    assert_null(h->city);
    assert_true(rg_addr_parse("198.18.1.2", &a));
    h = rg_run_host(&back, &a);
    assert_int_equal(h->as_source, RG_AS_NONE); /* unknown source: other */
    assert_string_equal(h->ptr, "r2\"]; <b>"); /* stored as is; outputs escape */
    assert_string_equal(h->city, "Frankfurt");
    assert_true(rg_addr_parse("198.51.100.1", &a));
    assert_null(rg_run_host(&back, &a)); /* not in the run: ignored */
    assert_true(rg_addr_parse("198.19.0.7", &a));
    h = rg_run_host(&back, &a);
    assert_non_null(h); /* listed, unannotated */
    assert_int_equal(h->asn, 0);
    assert_null(h->ptr);
    rg_run_free(&back);
}

/* Traces of the widest TTL range and no hops: each claims 2048 probe slots
 * from a few hundred bytes; refused once they outgrow the document. */
static char *wide_traces(size_t n, size_t *len)
{
    static const char head[] =
        "{\"schema\":\"routegraph/1\",\"version\":\"x\",\"start_time\":null,\"end_time\":null,"
        "\"options\":{\"ports\":[80],\"min_ttl\":1,\"max_ttl\":255,\"sport\":null,\"timeout\":1,"
        "\"retries\":5,\"rate\":1,\"gap\":1,\"family\":\"any\",\"no_dns\":true},"
        "\"stats\":{\"probes_sent\":0,\"replies\":0,\"matched\":0,\"unmatched\":0,"
        "\"duplicates\":0,\"malformed\":0},\"unresolved\":[],\"traces\":[";
    static const char one[] =
        "{\"target\":\"t\",\"address\":\"198.19.0.1\",\"family\":4,\"protocol\":\"tcp\","
        "\"port\":80,\"source_address\":null,\"source_port\":null,\"state\":\"unknown\","
        "\"reached\":false,\"reached_ttl\":null,\"rtt_us\":null,\"last_answer_ttl\":null,"
        "\"stopped_by\":null,\"hops\":[]}";
    char *doc = malloc(sizeof head + n * sizeof one + 4), *w = doc;
    if (!doc) {
        fail();
        return NULL;
    }
    w += sprintf(w, "%s", head);
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s%s", i ? "," : "", one);
    w += sprintf(w, "]}");
    *len = (size_t)(w - doc);
    return doc;
}

static void test_slot_limit(void **state)
{
    (void)state;
    rg_run run;
    char err[256], want[256];
    size_t len = 0, n = 40;
    char *doc = wide_traces(n, &len); /* 40 x 2048 slots: within the base allowance */
    assert_true(rg_json_read_buffer(doc, len, &run, err, sizeof err));
    assert_int_equal(run.ntraces, n);
    assert_int_equal(run.traces[0].max_ttl, 255);
    assert_int_equal(run.traces[0].attempts, rg_attempts_for(RG_MAX_RETRIES));
    rg_run_free(&run);
    free(doc);

    n = 1000; /* 1.5 M slots from about 300 KB */
    doc = wide_traces(n, &len);
    size_t max = rg_json_read_max_slots(len);
    assert_true(max < n * 2048);
    assert_false(rg_json_read_buffer(doc, len, &run, err, sizeof err));
    snprintf(want, sizeof want,
             "$.traces[%zu]: more probe slots than a document of this size may hold (%zu)",
             max / 2048, max);
    assert_string_equal(err, want);
    assert_null(run.traces);
    free(doc);

    assert_int_equal(rg_json_read_max_slots(0), RG_JSON_READ_SLOTS_BASE);
    assert_int_equal(rg_json_read_max_slots(RG_JSON_READ_MAX_BYTES), RG_JSON_READ_MAX_SLOTS);
}

static void test_file(void **state)
{
    (void)state;
    rg_run run;
    char err[512];
    assert_false(rg_json_read_file("/nonexistent/results.json", &run, err, sizeof err));
    assert_string_equal(err, "/nonexistent/results.json: No such file or directory");
    assert_true(rg_json_read_file(RG_SOURCE_ROOT "/tests/data/graph-lab.json", &run, err,
                                  sizeof err));
    assert_int_equal(run.ntraces, 8);
    rg_run_free(&run);

    char path[] = "/tmp/rg-json-read-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"schema\": 5}", f);
    fclose(f);
    assert_false(rg_json_read_file(path, &run, err, sizeof err));
    char want[600];
    snprintf(want, sizeof want, "%s: $.schema: expected a string", path);
    assert_string_equal(err, want);
    remove(path);
}

/* ---- memory budget ---- */

/* jansson's allocations, counted: in use now and the peak. Plain blocks
 * (malloc_usable_size), as code elsewhere frees json_dumps text with free. */
static size_t jansson_in_use, jansson_peak;

static void *counting_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        return NULL;
    jansson_in_use += malloc_usable_size(p);
    if (jansson_in_use > jansson_peak)
        jansson_peak = jansson_in_use;
    return p;
}

static void counting_free(void *p)
{
    if (p)
        jansson_in_use -= malloc_usable_size(p);
    free(p);
}

/* What jansson really takes to parse text: the peak of its blocks' usable
 * sizes (malloc's own 8 bytes per block not counted). */
static size_t parse_cost(const char *text, size_t len)
{
    jansson_peak = jansson_in_use;
    size_t before = jansson_in_use;
    json_t *v = json_loadb(text, len, 0, NULL);
    assert_non_null(v);
    size_t cost = jansson_peak - before;
    json_decref(v);
    return cost;
}

static char *repeat(const char *head, const char *item, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
    char *s = malloc(hl + n * (il + 1) + tl + 1);
    assert_non_null(s);
    char *w = s;
    memcpy(w, head, hl);
    w += hl;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        memcpy(w, item, il);
        w += il;
    }
    memcpy(w, tail, tl + 1);
    *len = (size_t)(w - s) + tl;
    return s;
}

/* The estimate is never below what jansson takes, for every shape. */
static void test_estimate_covers_jansson(void **state)
{
    (void)state;
    static const char *const items[] = {"{}", "[]", "1", "-1.5e3", "true", "null", "\"\"",
                                        "\"abcdefgh\"", "{\"a\":1}", "{\"k\":{\"k\":[1]}}",
                                        "[[[]]]", ("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,"
                                        "\"f\":6,\"g\":7,\"h\":8,\"i\":9}")};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        size_t len;
        char *text = repeat("[", items[i], 20000, "]", &len);
        size_t cost = parse_cost(text, len), est = rg_json_read_estimate(text, len);
        if (est < cost)
            fail_msg("%s x 20000: estimated %zu, jansson took %zu", items[i], est, cost);
        free(text);
    }
    FILE *f = fopen(RG_SOURCE_ROOT "/tests/data/graph-64.json", "rb");
    assert_non_null(f);
    static char doc[1 << 20];
    size_t len = fread(doc, 1, sizeof doc, f);
    fclose(f);
    size_t cost = parse_cost(doc, len), est = rg_json_read_estimate(doc, len);
    assert_true(est >= cost);
    assert_true(est < rg_json_read_budget(len) - RG_JSON_READ_BUDGET_BASE); /* a real run */
}

/* 6 MB of empty objects under an unknown key would take ~500 MB to parse:
 * refused before jansson allocates any of it. */
static void test_memory_budget(void **state)
{
    (void)state;
    FILE *f = fopen(RG_SOURCE_ROOT "/tests/data/graph-lab.json", "rb");
    assert_non_null(f);
    static char doc[1 << 20];
    size_t dlen = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[dlen] = '\0';
    char *close = strrchr(doc, '}');
    assert_non_null(close);
    *close = '\0';
    char head[sizeof doc + 32];
    snprintf(head, sizeof head, "%s,\"junk\":[", doc);
    size_t len;
    char *text = repeat(head, "{}", 2000000, "]}", &len);
    assert_true(len > 6000000);
    rg_run run;
    char err[256] = "";
    jansson_peak = jansson_in_use;
    size_t before = jansson_in_use;
    bool ok = rg_json_read_buffer(text, len, &run, err, sizeof err);
    if (ok)
        rg_run_free(&run);
    assert_false(ok);
    assert_non_null(strstr(err, "$: would take about "));
    assert_non_null(strstr(err, "MiB of memory"));
    assert_true(jansson_peak - before < 1024 * 1024); /* nothing was parsed */
    free(text);
}

/* C1 control characters (and DEL) reached the JSON (and the HTML's copy)
 * raw: a document holding one anywhere is refused, naming where. */
static void test_c1_refused(void **state)
{
    (void)state;
    json_t *doc = json_load_file(RG_SOURCE_ROOT "/tests/data/graph-lab.json", 0, NULL);
    assert_non_null(doc);
    static const char *const bad[] = {"r1\xc2\x85x", ("\xc2\x9b" "2J"), "a\xc2\x80", "del\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *h = json_array_get(json_object_get(doc, "hosts"), 1);
        json_object_set_new(h, "ptr", json_string(bad[i]));
        char *text = json_dumps(doc, 0);
        rg_run run;
        char err[256];
        assert_false(rg_json_read_buffer(text, strlen(text), &run, err, sizeof err));
        assert_string_equal(err, "$.hosts[1].ptr: holds a DEL or C1 control character (U+007F-U+009F)");
        free(text);
    }
    json_object_set_new(json_array_get(json_object_get(doc, "traces"), 0), "target",
                        json_string("t\xc2\x85"));
    json_object_set_new(json_array_get(json_object_get(doc, "hosts"), 1), "ptr",
                        json_string("K\xc3\xb6ln\xc2\xa0ok"));
    char *text = json_dumps(doc, 0);
    rg_run run;
    char err[256];
    assert_false(rg_json_read_buffer(text, strlen(text), &run, err, sizeof err));
    assert_string_equal(err, "$.traces[0].target: holds a DEL or C1 control character (U+007F-U+009F)");
    free(text);
    json_decref(doc);
}

/* C0 control characters (a newline, ESC, NUL's neighbours) in a name: the
 * live run keeps no such name, so a document holding one is refused, with
 * one line naming where; in any other string only DEL and C1 are. */
static void test_c0_in_names_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"r1\n<b>", "\x01", "esc\x1b[2J", "tab\t", "cr\r"};
    static const struct {
        const char *in, *key, *path;
    } where[] = {
        {"hosts", "ptr", "$.hosts[1].ptr"},
        {"hosts", "as_org", "$.hosts[1].as_org"},
        {"hosts", "city", "$.hosts[1].city"},
        {"traces", "target", "$.traces[0].target"},
    };
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            json_t *doc = json_load_file(RG_SOURCE_ROOT "/tests/data/graph-lab.json", 0, NULL);
            assert_non_null(doc);
            json_t *o = json_array_get(json_object_get(doc, where[w].in),
                                       strcmp(where[w].in, "hosts") == 0 ? 1 : 0);
            assert_non_null(o);
            json_object_set_new(o, where[w].key, json_string(bad[i]));
            char *text = json_dumps(doc, 0);
            rg_run run;
            char err[256], want[256];
            assert_false(rg_json_read_buffer(text, strlen(text), &run, err, sizeof err));
            snprintf(want, sizeof want,
                     "%s: holds a control character (U+0000-U+001F, U+007F-U+009F)",
                     where[w].path);
            assert_string_equal(err, want);
            assert_null(run.traces);
            free(text);
            json_decref(doc);
        }
    }
    /* An unresolved name too. */
    json_t *doc = json_load_file(RG_SOURCE_ROOT "/tests/data/graph-lab.json", 0, NULL);
    json_t *u = json_pack("{s:s, s:s}", "name", "bad\nname", "error", "no such host");
    json_array_append_new(json_object_get(doc, "unresolved"), u);
    char *text = json_dumps(doc, 0);
    rg_run run;
    char err[256];
    assert_false(rg_json_read_buffer(text, strlen(text), &run, err, sizeof err));
    assert_memory_equal(err, "$.unresolved[", 13);
    assert_non_null(strstr(err, "].name: holds a control character"));
    free(text);
    json_decref(doc);
    /* Names without control characters still read (UTF-8, U+00A0, markup). */
    doc = json_load_file(RG_SOURCE_ROOT "/tests/data/graph-lab.json", 0, NULL);
    json_object_set_new(json_array_get(json_object_get(doc, "hosts"), 1), "ptr",
                        json_string("K\xc3\xb6ln\xc2\xa0<b>\"x"));
    text = json_dumps(doc, 0);
    assert_true(rg_json_read_buffer(text, strlen(text), &run, err, sizeof err));
    rg_run_free(&run);
    free(text);
    json_decref(doc);
}


/* --multipath: the discovery comes back, shared by the traces to its
 * address, and writes the same member again; a bad one is one error. */
static void test_multipath_round_trip(void **state)
{
    (void)state;
    rg_run run = {0}, back;
    rg_config cfg = config();
    cfg.multipath = 99;
    add_trace(&run, "d", "198.18.9.9", 80);
    add_trace(&run, "d", "198.18.9.9", 443); /* moves the traces: t taken after */
    const rg_trace *t = &run.traces[0];
    run.mpaths = calloc(1, sizeof *run.mpaths);
    assert_non_null(run.mpaths);
    run.nmpaths = 1;
    rg_mpath *m = &run.mpaths[0];
    rg_mpath_init(m, &t->dst, 80, 99);
    m->first_ttl = 1;
    m->last_ttl = 3;
    m->probes = 17;
    m->hop_state[1] = RG_MP_HOP_ROUTE;
    m->hop_state[2] = RG_MP_HOP_LIMIT;
    m->hop_state[3] = RG_MP_HOP_RULE;
    /* the host answers a port unreachable from its link address: the
     * destination all the same, read back as such */
    rg_mp_obs end = {.flow = 5000, .ttl = 3, .kind = RG_REPLY_PORT_UNREACH};
    assert_true(rg_addr_parse("198.18.9.1", &end.from));
    assert_true(rg_mpath_add(m, &end));
    static const char *const from[] = {"198.18.1.1", "198.18.2.1", "198.18.3.1"};
    for (unsigned i = 0; i < 3; i++) {
        rg_mp_obs o = {.flow = (uint16_t)(5000 + i), .ttl = (uint8_t)(i ? 2 : 1),
                       .kind = RG_REPLY_TIME_EXCEEDED};
        assert_true(rg_addr_parse(from[i], &o.from));
        assert_true(rg_mpath_add(m, &o));
    }
    run.traces[0].mpath = run.traces[1].mpath = m;
    char *text = dump(&run, &cfg);
    char err[256] = "";
    assert_true(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
    assert_int_equal(back.nmpaths, 1);
    assert_ptr_equal(back.traces[0].mpath, &back.mpaths[0]);
    assert_ptr_equal(back.traces[1].mpath, &back.mpaths[0]);
    const rg_mpath *b = &back.mpaths[0];
    assert_int_equal(b->confidence, 99);
    assert_int_equal(b->probes, 17);
    assert_int_equal(b->first_ttl, 1);
    assert_int_equal(b->last_ttl, 3);
    assert_int_equal(b->hop_state[1], RG_MP_HOP_ROUTE);
    assert_int_equal(b->hop_state[2], RG_MP_HOP_LIMIT);
    assert_int_equal(b->nobs, 4);
    assert_true(rg_mpath_is_destination(b, 3, &end.from));
    assert_true(rg_mpath_reached(b, 3));
    json_t *d1 = rg_json_build(&run, &cfg), *d2 = rg_json_build(&back, &cfg);
    assert_non_null(d1);
    assert_non_null(d2);
    for (size_t i = 0; i < 2; i++)
        assert_true(json_equal(json_object_get(trace(d1, i), "multipath"),
                               json_object_get(trace(d2, i), "multipath")));
    json_decref(d1);
    json_decref(d2);
    rg_run_free(&back);
    /* a confidence MDA does not run at */
    char *bad = strstr(text, "\"confidence\": 99");
    assert_non_null(bad);
    memcpy(bad, "\"confidence\": 97", 16);
    assert_false(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
    assert_string_equal(err, "$.traces[0].multipath.confidence: expected 95 or 99");
    free(text);
    rg_run_free(&run);
}

int main(void)
{
    json_set_alloc_funcs(counting_malloc, counting_free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_no_options),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_slot_limit),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_estimate_covers_jansson),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_c1_refused),
        cmocka_unit_test(test_multipath_round_trip),
        cmocka_unit_test(test_c0_in_names_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
