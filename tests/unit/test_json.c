/* The JSON document, dumped and parsed back, checked field by field against
 * docs/json-schema.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "model/result.h"
#include "output/json.h"

#define T0 1795618200 /* 2026-11-25T14:50:00Z */

static rg_trace *add_trace(rg_run *run, const char *target, const char *dst,
                           uint16_t port, unsigned min_ttl, unsigned max_ttl,
                           unsigned attempts)
{
    rg_addr a;
    assert_true(rg_addr_parse(dst, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces];
    assert_true(rg_trace_init(t, target, &a, port, min_ttl, max_ttl, attempts));
    run->ntraces++;
    return t;
}

/* Sent at T0 + ttl seconds + attempt ms + 123456789 ns, so the ISO text of
 * every probe is known and the sub-microsecond part must be truncated. */
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

static void silent(rg_trace *t, unsigned ttl, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sent(t, ttl);
}

static void answer(rg_probe *p, const char *from, enum rg_reply_kind kind,
                   uint8_t type, uint8_t code, uint32_t rtt_us)
{
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->icmp_type = type;
    p->icmp_code = code;
    p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : kind == RG_REPLY_RST ? 0x14 : 0;
    p->rtt_us = rtt_us;
    p->reply_ttl = (uint8_t)(kind == RG_REPLY_TIME_EXCEEDED ? 254 : 61);
    p->received = p->sent;
    p->received.tv_nsec += (long)rtt_us * 1000;
}

static void te(rg_trace *t, unsigned ttl, const char *from)
{
    answer(sent(t, ttl), from, RG_REPLY_TIME_EXCEEDED, 11, 0, 100 * ttl);
}

static void set_src(rg_trace *t, const char *src, uint16_t sport)
{
    assert_true(rg_addr_parse(src, &t->src));
    t->sport = sport;
}

/* The same cases as the table's mixed golden file, plus IPv6 and the ends
 * a trace can come to. */
static void build(rg_run *run)
{
    run->start = (struct timespec){T0, 5000};
    run->end = (struct timespec){T0 + 12, 999999999};
    run->stats = (rg_run_stats){.probes_sent = 61, .replies = 20, .matched = 17,
                                .unmatched = 3, .duplicates = 2, .malformed = 1,
                                .send_errors = 4};

    rg_trace *t = add_trace(run, "198.19.0.5", "198.19.0.5", 80, 1, 30, 2); /* 0 */
    set_src(t, "198.18.0.2", 40001);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.0.5", RG_REPLY_SYNACK, 0, 0, 412);

    t = add_trace(run, "198.19.0.5", "198.19.0.5", 443, 1, 30, 2); /* 1 */
    set_src(t, "198.18.0.2", 40002);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.0.5", RG_REPLY_RST, 0, 0, 1500);

    t = add_trace(run, "198.19.0.7", "198.19.0.7", 80, 1, 30, 2); /* 2 */
    set_src(t, "198.18.0.2", 40003);
    te(t, 1, "198.18.0.1");
    silent(t, 2, 2);
    sent(t, 3);
    answer(sent(t, 3), "198.18.2.3", RG_REPLY_TIME_EXCEEDED, 11, 0, 900);
    for (unsigned ttl = 4; ttl <= 8; ttl++)
        silent(t, ttl, 2);

    t = add_trace(run, "web1.h1.lab", "198.19.0.1", 80, 1, 30, 2); /* 3 */
    set_src(t, "198.18.0.2", 40004);
    te(t, 1, "198.18.0.1");
    rg_probe *p = sent(t, 2);
    answer(p, "198.19.0.1", RG_REPLY_SYNACK, 0, 0, 250);
    p->duplicates = 2;

    t = add_trace(run, "198.19.0.9", "198.19.0.9", 22, 1, 30, 2); /* 4 */
    te(t, 1, "198.18.0.1");
    answer(sent(t, 2), "198.18.1.2", RG_REPLY_UNREACHABLE, 3, 13, 300);

    t = add_trace(run, "198.19.0.11", "198.19.0.11", 80, 1, 30, 2); /* 5 */
    for (unsigned ttl = 1; ttl <= 5; ttl++)
        silent(t, ttl, 2);

    t = add_trace(run, "2001:db8:310::6", "2001:db8:310::6", 80, 1, 30, 3); /* 6 */
    set_src(t, "2001:db8:100::2", 40006);
    te(t, 1, "2001:db8:ffff:1::1");
    answer(sent(t, 2), "2001:db8:310::6", RG_REPLY_UNREACHABLE, 1, 1, 800);

    /* Answers all the way to a max_ttl of 4: the path was longer. */
    t = add_trace(run, "198.19.0.12", "198.19.0.12", 80, 1, 4, 1); /* 7 */
    for (unsigned ttl = 1; ttl <= 4; ttl++)
        te(t, ttl, "198.18.9.1");

    /* Cut short before anything went out. */
    add_trace(run, "198.19.0.13", "198.19.0.13", 80, 1, 30, 1); /* 8 */

    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_conclude(&run->traces[i]);
    assert_true(rg_run_add_unresolved(run, "nosuch.lab", "Name or service not known"));
}

static rg_config config(void)
{
    rg_config cfg = {0};
    cfg.ports[0] = 80;
    cfg.ports[1] = 443;
    cfg.ports[2] = 22;
    cfg.nports = 3;
    cfg.min_ttl = 1;
    cfg.max_ttl = 30;
    cfg.timeout = 2.5;
    cfg.retries = 1;
    cfg.rate = RG_DEFAULT_RATE;
    cfg.gap = RG_DEFAULT_GAP;
    cfg.family = RG_FAMILY_ANY;
    return cfg;
}

static char *dump(const rg_run *run, const rg_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_json_write(f, run, cfg));
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Dumps and parses back: the tests see only what a reader would. */
static json_t *roundtrip(const rg_run *run, const rg_config *cfg)
{
    char *text = dump(run, cfg);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    if (!doc)
        fail_msg("invalid JSON: %s at line %d", err.text, err.line);
    free(text);
    return doc;
}

static json_t *get(const json_t *obj, const char *key)
{
    assert_true(json_is_object(obj));
    json_t *v = json_object_get(obj, key);
    if (!v)
        fail_msg("missing key %s", key);
    return v;
}

static void expect_int(const json_t *obj, const char *key, long long want)
{
    json_t *v = get(obj, key);
    assert_true(json_is_integer(v));
    assert_int_equal(json_integer_value(v), want);
}

static void expect_str(const json_t *obj, const char *key, const char *want)
{
    json_t *v = get(obj, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    assert_string_equal(json_string_value(v), want);
}

static void expect_null(const json_t *obj, const char *key)
{
    if (!json_is_null(get(obj, key)))
        fail_msg("%s is not null", key);
}

static void expect_absent(const json_t *obj, const char *key)
{
    if (json_object_get(obj, key))
        fail_msg("%s should be absent", key);
}

static json_t *at(const json_t *arr, size_t i)
{
    assert_true(json_is_array(arr));
    assert_true(i < json_array_size(arr));
    return json_array_get(arr, i);
}

static json_t *trace_at(const json_t *doc, size_t i)
{
    return at(get(doc, "traces"), i);
}

static json_t *hop_at(const json_t *trace, size_t i)
{
    return at(get(trace, "hops"), i);
}

static json_t *probe_at(const json_t *hop, size_t i)
{
    return at(get(hop, "probes"), i);
}

static void test_top_level(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    char *text = dump(&run, &cfg);
    /* Two-space indent, keys in document order, a trailing newline. */
    const char *head = "{\n  \"schema\": \"routegraph/2\",\n  \"version\": ";
    assert_memory_equal(text, head, strlen(head));
    size_t n = strlen(text);
    assert_true(n > 2 && text[n - 1] == '\n' && text[n - 2] == '}');
    free(text);

    json_t *doc = roundtrip(&run, &cfg);
    expect_str(doc, "schema", RG_JSON_SCHEMA);
    expect_str(doc, "version", RG_VERSION);
    expect_str(doc, "start_time", "2026-11-25T14:50:00.000005Z");
    expect_str(doc, "end_time", "2026-11-25T14:50:12.999999Z");
    const char *order[] = {"schema", "version", "start_time", "end_time",
                           "interrupted", "options", "stats", "unresolved", "traces", "hosts",
                           "credits"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        assert_true(i < sizeof order / sizeof order[0]);
        assert_string_equal(key, order[i++]);
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);

    json_t *st = get(doc, "stats");
    expect_int(st, "probes_sent", 61);
    expect_int(st, "replies", 20);
    expect_int(st, "matched", 17);
    expect_int(st, "unmatched", 3);
    expect_int(st, "duplicates", 2);
    expect_int(st, "malformed", 1);
    expect_int(st, "send_errors", 4);

    json_t *un = get(doc, "unresolved");
    assert_int_equal(json_array_size(un), 1);
    expect_str(at(un, 0), "name", "nosuch.lab");
    expect_str(at(un, 0), "error", "Name or service not known");
    assert_int_equal(json_array_size(get(doc, "traces")), run.ntraces);
    json_decref(doc);
    rg_run_free(&run);
}

/* The document of the traces' compact form (the slots used, rg_trace_compact)
 * is the full traces' document, byte for byte. */
static void test_compact_traces(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    char *full = dump(&run, &cfg);
    size_t before = 0, after = 0;
    for (size_t i = 0; i < run.ntraces; i++) {
        before += rg_trace_slots(&run.traces[i]);
        assert_true(rg_trace_compact(&run.traces[i]));
        after += rg_trace_slots(&run.traces[i]);
    }
    assert_true(after < before);
    char *compact = dump(&run, &cfg);
    assert_string_equal(full, compact);
    free(full);
    free(compact);
    rg_run_free(&run);
}

static void test_options(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *o = get(doc, "options");
    json_t *ports = get(o, "ports");
    assert_int_equal(json_array_size(ports), 3);
    assert_int_equal(json_integer_value(at(ports, 0)), 80);
    assert_int_equal(json_integer_value(at(ports, 1)), 443);
    assert_int_equal(json_integer_value(at(ports, 2)), 22);
    expect_int(o, "min_ttl", 1);
    expect_int(o, "max_ttl", 30);
    expect_null(o, "sport");
    assert_true(json_is_real(get(o, "timeout")));
    assert_true(json_real_value(get(o, "timeout")) == 2.5);
    expect_int(o, "retries", 1);
    expect_int(o, "rate", RG_DEFAULT_RATE);
    expect_int(o, "gap", 5);
    expect_null(o, "stop_set");
    expect_str(o, "family", "any");
    assert_true(json_is_false(get(o, "no_dns")));
    /* An empty run still has every top-level member, times unknown. */
    expect_null(doc, "start_time");
    assert_int_equal(json_array_size(get(doc, "traces")), 0);
    assert_int_equal(json_array_size(get(doc, "unresolved")), 0);
    json_decref(doc);

    cfg.sport = 33434;
    cfg.family = RG_FAMILY_6;
    cfg.no_dns = true;
    doc = roundtrip(&run, &cfg);
    o = get(doc, "options");
    expect_int(o, "sport", 33434);
    expect_str(o, "family", "ipv6");
    assert_true(json_is_true(get(o, "no_dns")));
    json_decref(doc);

    cfg.family = RG_FAMILY_4;
    doc = roundtrip(&run, &cfg);
    expect_str(get(doc, "options"), "family", "ipv4");
    json_decref(doc);

    doc = roundtrip(&run, NULL);
    expect_null(doc, "options");
    json_decref(doc);
}

static void test_open_trace(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *t = trace_at(doc, 0);
    expect_str(t, "target", "198.19.0.5");
    expect_str(t, "address", "198.19.0.5");
    expect_int(t, "family", 4);
    expect_str(t, "protocol", "tcp");
    expect_int(t, "port", 80);
    expect_str(t, "source_address", "198.18.0.2");
    expect_int(t, "source_port", 40001);
    expect_str(t, "state", "open");
    assert_true(json_is_true(get(t, "reached")));
    expect_int(t, "reached_ttl", 3);
    expect_int(t, "rtt_us", 412);
    expect_int(t, "last_answer_ttl", 3);
    expect_str(t, "stopped_by", "destination");
    assert_int_equal(json_array_size(get(t, "hops")), 3);

    json_t *h = hop_at(t, 0);
    expect_int(h, "ttl", 1);
    expect_str(h, "responder", "198.18.0.1");
    assert_int_equal(json_array_size(get(h, "probes")), 1);
    json_t *p = probe_at(h, 0);
    expect_int(p, "attempt", 0);
    expect_str(p, "sent", "2026-11-25T14:50:01.123456Z");
    expect_absent(p, "duplicates");
    json_t *r = get(p, "reply");
    expect_str(r, "from", "198.18.0.1");
    expect_str(r, "kind", "time-exceeded");
    expect_int(r, "icmp_type", 11);
    expect_int(r, "icmp_code", 0);
    expect_absent(r, "tcp_flags");
    expect_int(r, "rtt_us", 100);
    expect_int(r, "reply_ttl", 254);
    expect_str(r, "received", "2026-11-25T14:50:01.123556Z");

    h = hop_at(t, 2);
    expect_int(h, "ttl", 3);
    expect_str(h, "responder", "198.19.0.5");
    r = get(probe_at(h, 0), "reply");
    expect_str(r, "kind", "syn-ack");
    expect_str(r, "tcp_flags", "SA");
    expect_absent(r, "icmp_type");
    expect_absent(r, "icmp_code");
    expect_int(r, "rtt_us", 412);
    expect_int(r, "reply_ttl", 61);
    json_decref(doc);
    rg_run_free(&run);
}

/* Annotation: per-hop AS, names and places where known, the AS path, the
 * host list and the data credit; hostile names pass through as text. */
static void test_annotation(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    assert_true(rg_run_collect_hosts(&run));
    rg_addr r1, dst;
    assert_true(rg_addr_parse("198.18.0.1", &r1));
    assert_true(rg_addr_parse("198.19.0.5", &dst));
    rg_host *h = rg_run_host(&run, &r1);
    assert_non_null(h);
    h->asn = 64500;
    h->as_source = RG_AS_CSV;
    assert_true(rg_host_set(&h->as_org, "RG-LAB-ACCESS \"Lab\"\n</script>"));
    assert_true(rg_host_set(&h->ptr, "r1.lab"));
    memcpy(h->country, "ZZ", 3);
    h->geo_source = RG_AS_CSV;
    assert_true(rg_host_set(&h->city, "Labville"));
    h = rg_run_host(&run, &dst);
    h->asn = 64502;
    h->as_source = RG_AS_CYMRU;
    memcpy(h->country, "NL", 3);
    h->geo_source = RG_AS_MMDB;
    run.as_credit = "AS data credit";
    run.country_credit = "country data credit";
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *t = trace_at(doc, 0);
    json_t *hop = hop_at(t, 0);
    expect_int(hop, "asn", 64500);
    expect_str(hop, "as_org", "RG-LAB-ACCESS \"Lab\"\n</script>");
    expect_str(hop, "as_source", "offline");
    expect_str(hop, "ptr", "r1.lab");
    expect_str(hop, "country", "ZZ");
    expect_str(hop, "country_source", "offline");
    expect_str(hop, "city", "Labville");
    hop = hop_at(t, 1); /* nothing known */
    expect_absent(hop, "asn");
    expect_absent(hop, "ptr");
    expect_absent(hop, "country");
    expect_absent(hop, "country_source");
    hop = hop_at(t, 2);
    expect_int(hop, "asn", 64502);
    expect_str(hop, "as_source", "cymru");
    expect_str(hop, "country", "NL");
    expect_str(hop, "country_source", "mmdb");
    expect_absent(hop, "as_org");
    json_t *path = get(t, "as_path");
    assert_int_equal(json_array_size(path), 2);
    assert_int_equal(json_integer_value(at(path, 0)), 64500);
    assert_int_equal(json_integer_value(at(path, 1)), 64502);
    json_t *hosts = get(doc, "hosts");
    assert_int_equal(json_array_size(hosts), run.nhosts);
    expect_str(at(hosts, 0), "address", "198.18.0.1");
    expect_int(at(hosts, 0), "asn", 64500);
    json_t *credits = get(doc, "credits");
    assert_int_equal(json_array_size(credits), 2);
    assert_string_equal(json_string_value(at(credits, 0)), "AS data credit");
    assert_string_equal(json_string_value(at(credits, 1)), "country data credit");
    json_decref(doc);
    rg_run_free(&run);
}

static void test_closed_and_named(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *t = trace_at(doc, 1);
    expect_int(t, "port", 443);
    expect_str(t, "state", "closed");
    assert_true(json_is_true(get(t, "reached")));
    expect_int(t, "rtt_us", 1500);
    json_t *r = get(probe_at(hop_at(t, 2), 0), "reply");
    expect_str(r, "kind", "rst");
    expect_str(r, "tcp_flags", "RA");

    t = trace_at(doc, 3);
    expect_str(t, "target", "web1.h1.lab");
    expect_str(t, "address", "198.19.0.1");
    expect_int(t, "reached_ttl", 2);
    json_t *p = probe_at(hop_at(t, 1), 0);
    expect_int(p, "duplicates", 2);
    expect_absent(probe_at(hop_at(t, 0), 0), "duplicates");
    json_decref(doc);
    rg_run_free(&run);
}

static void test_filtered_trace(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *t = trace_at(doc, 2);
    expect_str(t, "state", "filtered");
    expect_int(t, "unanswered_probes", 10); /* TTLs 4..8, two probes each */
    expect_int(get(t, "sibling_probes_lost"), "sent", 0); /* no other port to check */
    expect_absent(t, "unknown_reason");
    assert_true(json_is_false(get(t, "reached")));
    expect_null(t, "reached_ttl");
    expect_null(t, "rtt_us");
    expect_int(t, "last_answer_ttl", 3);
    expect_str(t, "stopped_by", "silence");
    /* TTLs 1..8, the silent ones included, each with every attempt. */
    assert_int_equal(json_array_size(get(t, "hops")), 8);
    for (size_t i = 0; i < 8; i++)
        expect_int(hop_at(t, i), "ttl", (long long)i + 1);
    assert_int_equal(json_array_size(get(hop_at(t, 0), "probes")), 1);

    json_t *h = hop_at(t, 1);
    expect_null(h, "responder");
    assert_int_equal(json_array_size(get(h, "probes")), 2);
    expect_null(probe_at(h, 0), "reply");
    expect_int(probe_at(h, 1), "attempt", 1);
    expect_null(probe_at(h, 1), "reply");

    /* The retry answered: the hop's responder is the first answer, not the
     * first probe. */
    h = hop_at(t, 2);
    expect_str(h, "responder", "198.18.2.3");
    expect_null(probe_at(h, 0), "reply");
    expect_str(probe_at(h, 1), "sent", "2026-11-25T14:50:03.124456Z");
    expect_str(get(probe_at(h, 1), "reply"), "from", "198.18.2.3");

    h = hop_at(t, 7);
    expect_null(h, "responder");
    assert_int_equal(json_array_size(get(h, "probes")), 2);

    t = trace_at(doc, 5);
    expect_null(t, "last_answer_ttl");
    expect_str(t, "stopped_by", "silence");
    assert_int_equal(json_array_size(get(t, "hops")), 5);
    expect_null(t, "source_address");
    expect_null(t, "source_port");
    json_decref(doc);
    rg_run_free(&run);
}

/* A run stopped by a signal: the document says so, and so does every trace
 * that had not ended, and only those. */
static void test_interrupted_run(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    assert_true(json_is_false(get(doc, "interrupted")));
    assert_true(json_is_false(get(trace_at(doc, 2), "incomplete")));
    json_decref(doc);

    run.interrupted = true;
    run.traces[2].incomplete = true;
    doc = roundtrip(&run, &cfg);
    assert_true(json_is_true(get(doc, "interrupted")));
    assert_true(json_is_true(get(trace_at(doc, 2), "incomplete")));
    expect_str(trace_at(doc, 2), "stopped_by", "interrupted");
    assert_true(json_is_false(get(trace_at(doc, 0), "incomplete")));
    expect_str(trace_at(doc, 0), "stopped_by", "destination");
    json_decref(doc);
    rg_run_free(&run);
}

static void test_unreachable_traces(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *t = trace_at(doc, 4);
    expect_str(t, "stopped_by", "unreachable");
    assert_true(json_is_false(get(t, "reached")));
    expect_str(t, "state", "unreachable");
    json_t *u = get(t, "unreachable");
    expect_str(u, "from", "198.18.1.2");
    expect_int(u, "icmp_type", 3);
    expect_int(u, "icmp_code", 13);
    expect_str(u, "mark", "!X");
    expect_str(u, "meaning", "administratively prohibited");
    expect_absent(t, "unknown_reason");
    expect_int(t, "last_answer_ttl", 2);
    json_t *r = get(probe_at(hop_at(t, 1), 0), "reply");
    expect_str(r, "kind", "unreachable");
    expect_str(r, "from", "198.18.1.2");
    expect_int(r, "icmp_type", 3);
    expect_int(r, "icmp_code", 13);
    expect_absent(r, "tcp_flags");

    /* IPv6, refused by the destination itself: reached but filtered, with
     * the ICMPv6 numbers as received. */
    t = trace_at(doc, 6);
    expect_int(t, "family", 6);
    expect_str(t, "address", "2001:db8:310::6");
    expect_str(t, "source_address", "2001:db8:100::2");
    assert_true(json_is_true(get(t, "reached")));
    expect_int(t, "reached_ttl", 2);
    expect_int(t, "rtt_us", 800);
    expect_str(t, "state", "unreachable");
    expect_str(get(t, "unreachable"), "mark", "!X");
    expect_str(t, "stopped_by", "unreachable");
    expect_str(hop_at(t, 0), "responder", "2001:db8:ffff:1::1");
    r = get(probe_at(hop_at(t, 1), 0), "reply");
    expect_int(r, "icmp_type", 1);
    expect_int(r, "icmp_code", 1);
    json_decref(doc);
    rg_run_free(&run);
}

static void test_ends(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = roundtrip(&run, &cfg);
    json_t *t = trace_at(doc, 7);
    expect_str(t, "stopped_by", "max_ttl");
    assert_int_equal(json_array_size(get(t, "hops")), 4);
    t = trace_at(doc, 8);
    expect_null(t, "stopped_by");
    expect_null(t, "last_answer_ttl");
    assert_int_equal(json_array_size(get(t, "hops")), 0);
    json_decref(doc);

    /* Silence running into max_ttl before the gap was complete: the limit
     * ended it; a complete gap that ends exactly at max_ttl is silence. */
    rg_run_free(&run);
    rg_trace *a = add_trace(&run, "198.19.0.20", "198.19.0.20", 80, 1, 4, 1);
    te(a, 1, "198.18.0.1");
    te(a, 2, "198.18.0.1");
    silent(a, 3, 1);
    silent(a, 4, 1);
    rg_trace *b = add_trace(&run, "198.19.0.21", "198.19.0.21", 80, 1, 4, 1);
    for (unsigned ttl = 1; ttl <= 4; ttl++)
        silent(b, ttl, 1);
    rg_trace_conclude(&run.traces[0]);
    rg_trace_conclude(&run.traces[1]);
    /* Only TTLs that were probed are hops. */
    rg_trace *c = add_trace(&run, "198.19.0.22", "198.19.0.22", 80, 1, 30, 1);
    te(c, 1, "198.18.0.1");
    te(c, 3, "198.18.0.3");
    for (size_t i = 0; i < run.ntraces; i++)
        rg_trace_conclude(&run.traces[i]);
    cfg.gap = 4;
    doc = roundtrip(&run, &cfg);
    expect_str(trace_at(doc, 0), "stopped_by", "max_ttl");
    expect_str(trace_at(doc, 1), "stopped_by", "silence");
    json_t *hops = get(trace_at(doc, 2), "hops");
    assert_int_equal(json_array_size(hops), 2);
    expect_int(at(hops, 0), "ttl", 1);
    expect_int(at(hops, 1), "ttl", 3);
    json_decref(doc);
    rg_run_free(&run);
}

static void test_tcp_flag_letters(void **state)
{
    (void)state;
    static const struct {
        uint8_t flags;
        const char *text;
    } cases[] = {
        {0x12, "SA"}, {0x14, "RA"}, {0x04, "R"}, {0x00, ""},
        {0x3f, "FSRPAU"}, {0xff, "FSRPAUEC"}, {0x52, "SAE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rg_run run = {0};
        rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 80, 1, 30, 1);
        rg_probe *p = sent(t, 1);
        answer(p, "198.19.0.5", RG_REPLY_SYNACK, 0, 0, 1);
        p->tcp_flags = cases[i].flags;
        rg_trace_conclude(t);
        json_t *doc = roundtrip(&run, NULL);
        json_t *r = get(probe_at(hop_at(trace_at(doc, 0), 0), 0), "reply");
        expect_str(r, "tcp_flags", cases[i].text);
        json_decref(doc);
        rg_run_free(&run);
    }
}

/* Target names are untrusted: quotes and control characters must survive
 * the round trip, and bytes that are not UTF-8 must not lose the trace. */
static void test_untrusted_names(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *nasty = "a\"b\\c\n\x01</script>\xc3\xa9";
    add_trace(&run, nasty, "198.19.0.5", 80, 1, 30, 1);
    add_trace(&run, "caf\xe9\xc0\xaf.lab", "198.19.0.6", 80, 1, 30, 1);
    rg_trace_conclude(&run.traces[0]);
    rg_trace_conclude(&run.traces[1]);
    assert_true(rg_run_add_unresolved(&run, "\xff\xfe", "bad \"name\""));
    json_t *doc = roundtrip(&run, NULL);
    expect_str(trace_at(doc, 0), "target", nasty);
    expect_str(trace_at(doc, 1), "target",
               "caf\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.lab");
    json_t *u = at(get(doc, "unresolved"), 0);
    expect_str(u, "name", "\xef\xbf\xbd\xef\xbf\xbd");
    expect_str(u, "error", "bad \"name\"");
    json_decref(doc);
    rg_run_free(&run);
}

static void test_build_and_write_error(void **state)
{
    (void)state;
    rg_run run = {0};
    build(&run);
    rg_config cfg = config();
    json_t *doc = rg_json_build(&run, &cfg);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "traces")), run.ntraces);
    json_decref(doc);
    FILE *f = fopen("/dev/null", "r");
    assert_non_null(f);
    assert_false(rg_json_write(f, &run, &cfg));
    fclose(f);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level),
        cmocka_unit_test(test_compact_traces),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_open_trace),
        cmocka_unit_test(test_closed_and_named),
        cmocka_unit_test(test_annotation),
        cmocka_unit_test(test_filtered_trace),
        cmocka_unit_test(test_unreachable_traces),
        cmocka_unit_test(test_interrupted_run),
        cmocka_unit_test(test_ends),
        cmocka_unit_test(test_tcp_flag_letters),
        cmocka_unit_test(test_untrusted_names),
        cmocka_unit_test(test_build_and_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
